package ingest

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestArrayLen(t *testing.T) {
	for _, c := range []struct {
		body string
		want int
	}{
		{`{"alerts":[]}`, 0},
		{`{"alerts":[{}]}`, 1},
		{`{"alerts":[{},{},{}]}`, 3},
		{` { "alerts" : [ 1 , "a,]}" , [1,[2]], {"alerts":[1,2,3,4,5]}, null ] }`, 5},
		{`{"x":{"alerts":[1,2,3]},"alerts":[1]}`, 1},
		{`{"x":"alerts","y":[1,2,3]}`, 0},
		{`{"ALERTS":[1,2]}`, 2},
		{`{"\u0061lerts":[1,2]}`, 2},
		{`{"alerts":[1,2],"Alerts":[1,2,3]}`, 3},
		{`{"alert\"s":[1,2]}`, 0},
		{`{"alerts":"[1,2,3]"}`, 0},
		{`{"alerts":[1,2,3`, 3},
		{`[{"alerts":[1,2]}]`, 0},
		{`{"alerts":[` + strings.Repeat("{},", 100) + `{}]}`, 6}, // stops past the limit
	} {
		if got := arrayLen([]byte(c.body), "alerts", 5); got != c.want {
			t.Errorf("arrayLen(%s) = %d, want %d", c.body, got, c.want)
		}
	}
}

// TestManyTinyAlertsRefusedEarly: a body of millions of empty alerts is
// refused by the count, before encoding/json builds them.
func TestManyTinyAlertsRefusedEarly(t *testing.T) {
	body := `{"version":"4","status":"firing","alerts":[` + strings.Repeat("{},", 1<<20) + `{}]}`
	allocs := testing.AllocsPerRun(1, func() {
		_, err := Decode("alertmanager", []byte(body), testNow, Limits{})
		if fe, ok := err.(*FieldError); !ok || fe.Field != "alerts" || fe.reason != reasonLimit {
			t.Fatalf("err = %v, want a limit error on alerts", err)
		}
	})
	if allocs > 20 {
		t.Errorf("%v allocations to refuse the body, want a handful", allocs)
	}
}

// FuzzArrayLen: the count never falls short of what encoding/json decodes,
// so no body gets past it with more entries than the limit.
func FuzzArrayLen(f *testing.F) {
	f.Add([]byte(`{"alerts":[{},{"a":[1,2]},"x"]}`))
	f.Add([]byte(`{"Alerts":[1],"alerts":[1,2,3,4]}`))
	f.Add([]byte(`{"al\u0065rts":[0,0,0,0,0,0,0,0]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var m struct {
			Alerts []json.RawMessage `json:"alerts"`
		}
		if json.Unmarshal(body, &m) != nil {
			return
		}
		const limit = 4
		got := arrayLen(body, "alerts", limit)
		if min(got, limit+1) < min(len(m.Alerts), limit+1) {
			t.Fatalf("arrayLen = %d, encoding/json decodes %d entries", got, len(m.Alerts))
		}
	})
}
