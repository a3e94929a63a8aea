// Package correlate owns the live correlation state: active alert episodes,
// open incident groups and the clock of event time.
//
// It defines the normalized alert record that ingest produces ([Alert],
// [Delivery]) and the [Engine] that turns deliveries into alert episodes
// (deduplication on fingerprint and startsAt) and groups episodes into
// incidents, recording for every membership why the episode joined.
//
// The Engine is not goroutine-safe: exactly one goroutine drives it (the
// pipeline in serve mode, the replay loop in replay mode). It performs no I/O;
// every call returns the [Changes] that the caller persists.
package correlate
