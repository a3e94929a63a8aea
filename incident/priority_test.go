package incident

import (
	"encoding/json"
	"testing"
)

func TestDefaultMatrix(t *testing.T) {
	m := DefaultMatrix()
	want := map[[2]Level]Priority{
		{High, High}: P1, {High, Medium}: P2, {High, Low}: P3,
		{Medium, High}: P2, {Medium, Medium}: P3, {Medium, Low}: P4,
		{Low, High}: P3, {Low, Medium}: P4, {Low, Low}: P5,
	}
	for k, p := range want {
		if got := m.Priority(k[0], k[1]); got != p {
			t.Errorf("urgency %s impact %s: %s, want %s", k[0], k[1], got, p)
		}
	}
	if m.Priority(0, 0) != P3 {
		t.Error("unset levels are not medium")
	}
	if err := m.Validate(); err != nil {
		t.Error(err)
	}
	m.Low.Low = 0
	if err := m.Validate(); err == nil {
		t.Error("empty cell accepted")
	}
}

func TestUrgencyImpact(t *testing.T) {
	c := DefaultConfig()
	for sev, want := range map[string]Level{"critical": High, "CRITICAL": High, "warning": Medium, "info": Low, "": Medium, "zzz": Medium} {
		if got := c.Urgency.Urgency(sev); got != want {
			t.Errorf("urgency(%q) = %s, want %s", sev, got, want)
		}
	}
	for _, x := range []struct {
		cis, services int
		want          Level
	}{{0, 0, Medium}, {1, 0, Low}, {3, 0, Medium}, {10, 0, High}, {1, 1, Medium}, {1, 2, High}} {
		if got := c.Impact.Impact(x.cis, x.services); got != x.want {
			t.Errorf("impact(%d, %d) = %s, want %s", x.cis, x.services, got, x.want)
		}
	}
	w := mustWorkflow(t, c)
	if p, u, i := w.Priority("critical", 1, 2); p != P1 || u != High || i != High {
		t.Errorf("critical on two services: %s %s %s", p, u, i)
	}
	if p, _, _ := w.Priority("critical", 1, 0); p != P3 {
		t.Errorf("critical on one host: %s", p)
	}
	if p, _, _ := w.Priority("info", 1, 0); p != P5 {
		t.Errorf("info on one host: %s", p)
	}
}

func TestLevelsText(t *testing.T) {
	for _, l := range SupportLevels() {
		b, _ := json.Marshal(l)
		var back SupportLevel
		if err := json.Unmarshal(b, &back); err != nil || back != l {
			t.Errorf("%s: %s %v", l, b, err)
		}
	}
	if L0.String() != "L0" || L4.String() != "L4" || SupportLevel(0).Valid() {
		t.Error("support level names")
	}
	if _, err := ParseSupportLevel("L5"); err == nil {
		t.Error("L5 accepted")
	}
	for _, l := range []Level{High, Medium, Low} {
		b, _ := json.Marshal(l)
		var back Level
		if err := json.Unmarshal(b, &back); err != nil || back != l {
			t.Errorf("%s: %s %v", l, b, err)
		}
	}
}
