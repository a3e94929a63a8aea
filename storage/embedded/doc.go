// Package embedded is Vigia's default store: a pure-Go SQLite database
// (modernc.org/sqlite, no cgo) in the data directory. It keeps alert
// episodes, incidents with their memberships and explanations, the
// timeline, and the journal offset that the state corresponds to, all
// written in one transaction per batch so that a restart resumes exactly
// where the last committed batch ended.
//
// A Store is safe for concurrent use: one writer (the pipeline) and any
// number of readers (the API, exports).
package embedded
