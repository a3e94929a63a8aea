package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/storage"
)

// applyTrends records, in the transaction of a batch, what the trends read
// (migration 0004): the analysts' feedback, the engine's counts per day
// (ch.Stats, already zeroed by applyTx for a batch applied twice), and each
// incident flattened with the moments it was reopened. applyTx calls it
// once per batch.
func applyTrends(ctx context.Context, tx *sql.Tx, cp storage.Checkpoint, ch *correlate.Changes) error {
	if err := applyFeedback(ctx, tx, ch.Feedback); err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	if err := applyActivity(ctx, tx, cp.Clock, ch.Stats); err != nil {
		return fmt.Errorf("daily activity: %w", err)
	}
	if err := applyIncidentTrends(ctx, tx, ch.Incidents, ch.Events); err != nil {
		return fmt.Errorf("incident trends: %w", err)
	}
	return nil
}

// feedbackKey identifies a feedback entry, so that a batch applied twice
// stores it once: one incident gets one decision of a kind by one actor at
// one moment.
func feedbackKey(f *correlate.Feedback) string {
	return f.IncidentID + "@" + strconv.FormatInt(f.At.UnixNano(), 10) + "/" + f.Decision + "/" + f.Actor +
		"/" + strconv.Itoa(f.Alerts)
}

// applyFeedback appends the analysts' decisions and corrections.
func applyFeedback(ctx context.Context, tx *sql.Tx, fbs []correlate.Feedback) error {
	if len(fbs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO feedback(feedback_key, at, actor, incident_id, method, rule, decision, reason, alerts)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(feedback_key) DO NOTHING`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range fbs {
		f := &fbs[i]
		if _, err := stmt.ExecContext(ctx, feedbackKey(f), f.At.UnixNano(), f.Actor, f.IncidentID, f.Method, f.Rule,
			f.Decision, f.Reason, f.Alerts); err != nil {
			return fmt.Errorf("%s on %s: %w", f.Decision, f.IncidentID, err)
		}
	}
	return nil
}

const nanosPerDay = int64(24 * time.Hour)

// dayOf returns the UTC day number (days since 1970-01-01) of t.
func dayOf(t time.Time) int64 {
	n := t.UnixNano()
	d := n / nanosPerDay
	if n%nanosPerDay < 0 {
		d--
	}
	return d
}

// applyActivity adds a batch's engine counts to the day of its clock. A
// batch without a clock counts in the totals only.
func applyActivity(ctx context.Context, tx *sql.Tx, clock time.Time, st correlate.Stats) error {
	if st == (correlate.Stats{}) || clock.IsZero() {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO activity_daily(day, deliveries, alerts, repeats, suppressed) VALUES (?, ?, ?, ?, ?)
ON CONFLICT(day) DO UPDATE SET deliveries = deliveries + excluded.deliveries, alerts = alerts + excluded.alerts,
 repeats = repeats + excluded.repeats, suppressed = suppressed + excluded.suppressed`,
		dayOf(clock), st.Deliveries, st.Alerts, st.Repeats, st.Suppressed)
	return err
}
