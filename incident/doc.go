// Package incident holds the incident model of Vigia: statuses and their
// allowed transitions, ITIL priorities, the explanation recorded for every
// alert membership, and the append-only timeline.
//
// It is a pure domain package: types and logic only, no goroutines and no
// I/O, and it imports nothing internal.
package incident
