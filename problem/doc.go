// Package problem will hold the problem-management model: incident
// signatures, recurrence detection, candidate problems and the known-error
// database. It is a pure domain package: types and logic, no goroutines and
// no I/O, importing nothing internal.
package problem
