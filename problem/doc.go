// Package problem is Vigia's problem management: it notices incidents that
// keep recurring and proposes them as problems, carries the problem through
// its ITIL lifecycle, and keeps the known-error database.
//
//   - Signatures ([Signature], [ClassSignature], [CISignature], [Signer]):
//     a stable, explainable key for an incident — its alert names and the
//     scope they fired on (root-cause CI, with the CIs it was inferred from
//     when it raised no alert itself; CIs; or normalized identifying
//     labels), with volatile values such as pod hashes, ports, UUIDs and
//     timestamps replaced by "*".
//   - Recurrence detection ([Detect]): a pure function over incident
//     [Occurrence]s and the stored problems, called by the scheduled job and
//     at the end of a replay. It proposes candidate problems for
//     signatures, classes and CIs with at least MinIncidents occurrences
//     within a rolling Window (incidents of one signature open at the same
//     time are one occurrence), adds new incidents to existing problems,
//     reopens resolved problems that recur, and proposes rejected ones
//     again after their quiet period (or sooner when they recur markedly
//     more).
//   - The lifecycle ([Status], [ActionKind], [Next], [Allowed],
//     [Problem.Apply]): candidate, confirmed, known_error, resolved, closed,
//     and rejected, every change on the problem's timeline with actor and
//     time.
//   - Priority ([Assess], [PriorityOf]): urgency (frequency) x impact (the
//     member incidents' priorities and breadth), overridable by the
//     problem manager.
//   - The known-error database ([MatchKnownError], [Search]).
//
// It is a pure domain package: types and functions only, no goroutines, no
// I/O, no clock (every function takes "now"), and it imports nothing
// internal — callers map incidents to [SignatureInput] and [Occurrence]. It
// holds no state: the caller owns the problems and persists what [Detect]
// and [Problem.Apply] return. Every function is safe for concurrent use on
// distinct values; a [Signer] is immutable and may be shared.
package problem
