package problem

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestNextEveryPair(t *testing.T) {
	const x = Status(0) // invalid transition
	C, F, R, K, S, Z := StatusCandidate, StatusConfirmed, StatusRejected, StatusKnownError, StatusResolved, StatusClosed
	// Columns: confirm, reject, known_error, resolve, close, reopen, set_priority.
	want := map[Status][7]Status{
		C: {F, R, K, x, x, x, C},
		F: {x, R, K, S, Z, x, F},
		R: {x, x, x, x, x, C, x},
		K: {x, x, K, S, Z, x, K},
		S: {x, x, x, x, Z, F, x},
		Z: {x, x, x, x, x, F, x},
	}
	if len(want) != len(Statuses()) {
		t.Fatalf("table covers %d statuses, want %d", len(want), len(Statuses()))
	}
	for _, from := range Statuses() {
		row := want[from]
		var allowed []ActionKind
		for i, a := range ActionKinds() {
			to, err := Next(from, a)
			if row[i] == x {
				if !errors.Is(err, ErrInvalidTransition) {
					t.Errorf("Next(%s, %s) = %s, %v; want ErrInvalidTransition", from, a, to, err)
				}
				continue
			}
			allowed = append(allowed, a)
			if err != nil || to != row[i] {
				t.Errorf("Next(%s, %s) = %s, %v; want %s", from, a, to, err, row[i])
			}
		}
		if got := Allowed(from); !slices.Equal(got, allowed) {
			t.Errorf("Allowed(%s) = %v, want %v", from, got, allowed)
		}
	}
	if _, err := Next(Status(0), ActConfirm); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("Next from invalid status: %v", err)
	}
	if _, err := Next(StatusCandidate, ActionKind(99)); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("Next with invalid action: %v", err)
	}
}

func TestNamesRoundTrip(t *testing.T) {
	for _, s := range Statuses() {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Status
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("status %s: %s -> %v, %v", s, b, back, err)
		}
	}
	wantStatus := []string{"candidate", "confirmed", "rejected", "known_error", "resolved", "closed"}
	for i, s := range Statuses() {
		if s.String() != wantStatus[i] {
			t.Errorf("status %d = %q, want %q", i, s, wantStatus[i])
		}
	}
	wantAction := []string{"confirm", "reject", "known_error", "resolve", "close", "reopen", "set_priority"}
	for i, a := range ActionKinds() {
		if a.String() != wantAction[i] {
			t.Errorf("action %d = %q, want %q", i, a, wantAction[i])
		}
		b, _ := json.Marshal(a)
		var back ActionKind
		if err := json.Unmarshal(b, &back); err != nil || back != a {
			t.Errorf("action %s: %s -> %v, %v", a, b, back, err)
		}
	}
	for _, k := range []Kind{KindSignature, KindClass, KindCI} {
		b, _ := json.Marshal(k)
		var back Kind
		if err := json.Unmarshal(b, &back); err != nil || back != k {
			t.Errorf("kind %s: %s -> %v, %v", k, b, back, err)
		}
	}
	for p := P1; p <= P5; p++ {
		b, _ := json.Marshal(p)
		var back Priority
		if err := json.Unmarshal(b, &back); err != nil || back != p {
			t.Errorf("priority %s: %s -> %v, %v", p, b, back, err)
		}
	}
	var s Status
	if err := json.Unmarshal([]byte(`"open"`), &s); err == nil {
		t.Error("unknown status accepted")
	}
	if _, err := json.Marshal(Status(0)); err == nil {
		t.Error("invalid status marshalled")
	}
	if _, err := ParseActionKind("merge"); err == nil {
		t.Error("unknown action accepted")
	}
}
