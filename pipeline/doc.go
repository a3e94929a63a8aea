// Package pipeline drives the correlation engine from the journal: it reads
// durable records in order, feeds them to the engine, and writes the
// resulting changes to the store together with the journal offset they
// correspond to, so that a restart resumes exactly after the last applied
// record, with nothing lost and nothing counted twice.
//
// A Pipeline's Run owns the engine; Applied and Backlog are goroutine-safe.
package pipeline
