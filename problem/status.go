package problem

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrNotFound is for stores and the API: no problem has the id.
	ErrNotFound = errors.New("problem not found")
	// ErrInvalidTransition is returned when an action is not allowed from
	// the problem's status; [Allowed] lists the actions that are.
	ErrInvalidTransition = errors.New("invalid problem transition")
	// ErrInvalidAction is returned when an action lacks a required field
	// (a reject without reason, a close without closure code, …).
	ErrInvalidAction = errors.New("invalid problem action")
)

// Status is a problem's lifecycle state (contract §5). It reads and writes
// as its name in JSON.
type Status int

// Problem statuses.
const (
	// StatusCandidate: proposed by recurrence detection, awaiting review.
	StatusCandidate Status = iota + 1
	// StatusConfirmed: accepted as a problem, under investigation.
	StatusConfirmed
	// StatusRejected: not a problem; quiet until QuietUntil.
	StatusRejected
	// StatusKnownError: root cause and workaround recorded.
	StatusKnownError
	// StatusResolved: a permanent fix was applied; recurrences reopen it.
	StatusResolved
	// StatusClosed: final, with a closure code.
	StatusClosed
)

var statusNames = [...]string{
	StatusCandidate:  "candidate",
	StatusConfirmed:  "confirmed",
	StatusRejected:   "rejected",
	StatusKnownError: "known_error",
	StatusResolved:   "resolved",
	StatusClosed:     "closed",
}

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{StatusCandidate, StatusConfirmed, StatusRejected, StatusKnownError, StatusResolved, StatusClosed}
}

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool { return s >= StatusCandidate && s <= StatusClosed }

func (s Status) String() string {
	if s.Valid() {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Active reports whether the problem still collects the incidents of its
// signature: candidate, confirmed and known_error.
func (s Status) Active() bool {
	return s == StatusCandidate || s == StatusConfirmed || s == StatusKnownError
}

// ParseStatus parses a status name such as "known_error".
func ParseStatus(name string) (Status, error) {
	for _, s := range Statuses() {
		if statusNames[s] == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown problem status %q", name)
}

// MarshalText writes the status name (JSON and YAML use it).
func (s Status) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invalid problem status %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a status name.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ActionKind names what a problem manager (or Vigia itself) does to a
// problem. The names are the API's action path segments (contract §6).
type ActionKind int

// Actions.
const (
	ActConfirm     ActionKind = iota + 1 // candidate -> confirmed
	ActReject                            // with reason and quiet_for
	ActKnownError                        // with root_cause and workaround
	ActResolve                           // a permanent fix was applied
	ActClose                             // with closure_code
	ActReopen                            // resolved/closed -> confirmed, rejected -> candidate
	ActSetPriority                       // manual priority; status unchanged
)

var actionNames = [...]string{
	ActConfirm:     "confirm",
	ActReject:      "reject",
	ActKnownError:  "known_error",
	ActResolve:     "resolve",
	ActClose:       "close",
	ActReopen:      "reopen",
	ActSetPriority: "set_priority",
}

// ActionKinds lists every action.
func ActionKinds() []ActionKind {
	return []ActionKind{ActConfirm, ActReject, ActKnownError, ActResolve, ActClose, ActReopen, ActSetPriority}
}

// Valid reports whether a is one of the defined actions.
func (a ActionKind) Valid() bool { return a >= ActConfirm && a <= ActSetPriority }

func (a ActionKind) String() string {
	if a.Valid() {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// ParseActionKind parses an action name such as "known_error".
func ParseActionKind(name string) (ActionKind, error) {
	for _, a := range ActionKinds() {
		if actionNames[a] == name {
			return a, nil
		}
	}
	return 0, fmt.Errorf("unknown problem action %q", name)
}

// MarshalText writes the action name.
func (a ActionKind) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, fmt.Errorf("invalid problem action %d", int(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText reads an action name.
func (a *ActionKind) UnmarshalText(b []byte) error {
	v, err := ParseActionKind(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// transitions is the lifecycle: from -> action -> to. Anything absent is
// ErrInvalidTransition.
var transitions = map[Status]map[ActionKind]Status{
	StatusCandidate: {
		ActConfirm:     StatusConfirmed,
		ActReject:      StatusRejected,
		ActKnownError:  StatusKnownError,
		ActSetPriority: StatusCandidate,
	},
	StatusConfirmed: {
		ActReject:      StatusRejected,
		ActKnownError:  StatusKnownError,
		ActResolve:     StatusResolved,
		ActClose:       StatusClosed,
		ActSetPriority: StatusConfirmed,
	},
	StatusKnownError: {
		ActKnownError:  StatusKnownError, // update root cause or workaround
		ActResolve:     StatusResolved,
		ActClose:       StatusClosed,
		ActSetPriority: StatusKnownError,
	},
	StatusResolved: {
		ActClose:  StatusClosed,
		ActReopen: StatusConfirmed,
	},
	StatusClosed: {
		ActReopen: StatusConfirmed,
	},
	StatusRejected: {
		ActReopen: StatusCandidate,
	},
}

// Next returns the status that action a leads to from status from, or an
// error wrapping ErrInvalidTransition.
func Next(from Status, a ActionKind) (Status, error) {
	if to, ok := transitions[from][a]; ok {
		return to, nil
	}
	return 0, fmt.Errorf("%w: %s from %s", ErrInvalidTransition, a, from)
}

// Allowed lists the actions allowed from status from, in ActionKinds order
// (the API's 409 reply names them).
func Allowed(from Status) []ActionKind {
	var out []ActionKind
	for _, a := range ActionKinds() {
		if _, ok := transitions[from][a]; ok {
			out = append(out, a)
		}
	}
	return out
}

// Kind says what groups a problem's incidents.
type Kind int

// Problem kinds, from the most specific to the coarsest.
const (
	// KindSignature: the same alert names on the same scope (see [Signature]).
	KindSignature Kind = iota + 1
	// KindClass: the same alert names on CIs of the same type, across CIs
	// (see [ClassSignature]).
	KindClass
	// KindCI: the same CI, whatever the alerts (see [CISignature]).
	KindCI
)

var kindNames = [...]string{KindSignature: "signature", KindClass: "class", KindCI: "ci"}

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool { return k >= KindSignature && k <= KindCI }

func (k Kind) String() string {
	if k.Valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ParseKind parses "signature", "class" or "ci".
func ParseKind(name string) (Kind, error) {
	for k := KindSignature; k <= KindCI; k++ {
		if kindNames[k] == name {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown problem kind %q", name)
}

// MarshalText writes the kind name.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("invalid problem kind %d", int(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
