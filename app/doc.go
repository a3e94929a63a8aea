// Package app wires Vigia's components together for the commands of
// cmd/vigia: serve, replay and export. It owns construction order and
// teardown order; the components themselves start nothing until run.
package app
