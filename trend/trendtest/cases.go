package trendtest

import (
	"github.com/vigia-noc/vigia/trend"
)

// Case is one trend query over the seeded history with its expected table,
// computed by hand (the arithmetic is in the comments).
type Case struct {
	Name    string
	Query   trend.Query
	Columns []string
	Rows    [][]string
	// Series, when set, are the expected points of some series by key
	// ("" for null).
	Series map[string][]string
	// Models, when set, are the expected projection models.
	Models []trend.Model
}

// The March weeks: W1 = [Mar 2, Mar 9), W2 = [Mar 9, Mar 16),
// W3 = [Mar 16, Mar 23), W4 = [Mar 23, Mar 30).
var (
	w1, w2, w3, w4 = "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z", "2026-03-23T00:00:00Z"
	march          = "2026-03-01T00:00:00Z"
)

func weeks(name string, by trend.Dimension) trend.Query {
	return trend.Query{Name: name, From: tm("2026-03-02 00:00"), To: tm("2026-03-30 00:00"), Step: trend.Week, By: by, Now: Now}
}

func marchQuery(name string, by trend.Dimension) trend.Query {
	return trend.Query{Name: name, From: tm("2026-03-01 00:00"), To: tm("2026-04-01 00:00"), Step: trend.Month, By: by, Now: Now}
}

var f64 = func(v float64) *float64 { return &v }

// Cases are the expectations every store's trend reads must reproduce.
var Cases = []Case{
	{
		// Moments per week (see History):
		//   opened       W1 1001 1002 1003 1004; W2 1005 1006; W3 1007 1008; W4 1009
		//   confirmed    W1 1001 1002 1003; W2 1006; W3 1008; W4 1009 (1010, 1011 earlier)
		//   rejected     W1 1004 (1009's rejection was undone)
		//   acknowledged W1 1001 1002 1003; W2 1006; W3 1008
		//   resolved     W1 1001 (Mar 2) 1002 (Mar 4) 1010 (Mar 6); W2 1003 (Mar 10); W3 1008
		//   closed       W1 1001; reopened W1 1003 (Mar 5; undoing 1009's rejection is no reopen)
		// Open at the end (Mar 9, 16, 23, 30): W1 1003 1011 = 2; W2 1005 1006 1011 = 3 (1003 resolved
		// Mar 10); W3 the same 3 (1007 merged, 1008 resolved); W4 + 1009 = 4. Check: 2 open before W1
		// (1010, 1011) + 4 opened - 4 ended (1001 1002 1004 1010) = 2.
		// Pending: 1006 paused from Mar 11 (W2..W4); 1009's pause ended Mar 28. Awaiting: 1005 from W2.
		// reopen_rate_pct: W1 0 of 3; W2 1003 was reopened: 1 of 1; W3 0 of 1; W4 nothing resolved.
		Name:    "incidents/week",
		Query:   weeks(trend.NameIncidents, trend.None),
		Columns: []string{"t", "opened", "confirmed", "rejected", "acknowledged", "resolved", "closed", "reopened", "open", "pending", "awaiting", "reopen_rate_pct"},
		Rows: [][]string{
			{w1, "4", "3", "1", "3", "3", "1", "1", "2", "0", "0", "0"},
			{w2, "2", "1", "0", "1", "1", "0", "0", "3", "1", "1", "100"},
			{w3, "2", "1", "0", "1", "1", "0", "0", "3", "1", "1", "0"},
			{w4, "1", "1", "0", "0", "0", "0", "0", "4", "1", "1", ""},
		},
		Series: map[string][]string{"opened": {"4", "2", "2", "1"}, "open": {"2", "3", "3", "4"}},
	},
	{
		// By day around 1009, with the request on Mar 27 12:00: open is taken at Mar 26 00:00,
		// Mar 27 00:00, then at the request (Mar 27 12:00); Mar 28 is in the future.
		//   open 1005 1006 1009 1011 = 4 each time; pending 1006, and 1009 too at Mar 27 12:00
		//   (paused from 10:00); awaiting 1005, and 1009 at Mar 26 00:00 (confirmed at 00:10).
		Name:    "incidents/day-now",
		Query:   trend.Query{Name: trend.NameIncidents, From: tm("2026-03-25 00:00"), To: tm("2026-03-29 00:00"), Step: trend.Day, Now: tm("2026-03-27 12:00")},
		Columns: []string{"t", "opened", "confirmed", "rejected", "acknowledged", "resolved", "closed", "reopened", "open", "pending", "awaiting", "reopen_rate_pct"},
		Rows: [][]string{
			{"2026-03-25T00:00:00Z", "1", "0", "0", "0", "0", "0", "0", "4", "1", "2", ""},
			{"2026-03-26T00:00:00Z", "0", "1", "0", "0", "0", "0", "0", "4", "1", "1", ""},
			{"2026-03-27T00:00:00Z", "0", "0", "0", "0", "0", "0", "0", "4", "2", "1", ""},
			{"2026-03-28T00:00:00Z", "0", "0", "0", "0", "0", "0", "0", "", "", "", ""},
		},
	},
	{
		// By service in March, limit 2. Relevant incidents per service: web 1001 1002 1005 1008 1010
		// (5), db 1003 1004 1009 (3), api 1006 1007 (2), net 1011 (1): web, db, then (other) = api+net.
		//   web: opened 1001 1002 1005 1008; confirmed and acknowledged 1001 1002 1008; resolved
		//        1001 1002 1008 1010; closed 1001; open at Apr 1: 1005, also awaiting.
		//   db: opened 1003 1004 1009; confirmed 1003 1009; rejected 1004; acknowledged, resolved and
		//       reopened 1003 (reopen rate 1 of 1); open 1009 (its pause ended Mar 28).
		//   (other): opened 1006 1007; confirmed, acknowledged 1006; open 1006 1011; pending 1006.
		Name: "incidents/service-limit",
		Query: func() trend.Query {
			q := marchQuery(trend.NameIncidents, trend.Service)
			q.Limit = 2
			return q
		}(),
		Columns: []string{"t", "service", "opened", "confirmed", "rejected", "acknowledged", "resolved", "closed", "reopened", "open", "pending", "awaiting", "reopen_rate_pct"},
		Rows: [][]string{
			{march, "web", "4", "3", "0", "3", "4", "1", "0", "1", "0", "1", "0"},
			{march, "db", "3", "2", "1", "1", "1", "0", "1", "1", "0", "0", "100"},
			{march, "(other)", "2", "1", "0", "1", "0", "0", "0", "2", "1", "0", ""},
		},
		Series: map[string][]string{"(other)/open": {"2"}, "web/resolved": {"4"}},
	},
	{
		// MTTA = acknowledged_at - opened_at, by week of acknowledged_at:
		//   W1 1001 10m = 600, 1002 1h = 3600, 1003 20m = 1200: mean 1800, p50 (rank 2 of 3) 1200,
		//   p90 (rank 3) 3600; W2 1006 40m = 2400; W3 1008 15m = 900; W4 none.
		Name:    "mtta/week",
		Query:   weeks(trend.NameMTTA, trend.None),
		Columns: []string{"t", "count", "mean_seconds", "p50_seconds", "p90_seconds", "max_seconds"},
		Rows: [][]string{
			{w1, "3", "1800", "1200", "3600", "3600"},
			{w2, "1", "2400", "2400", "2400", "2400"},
			{w3, "1", "900", "900", "900", "900"},
			{w4, "0", "", "", "", ""},
		},
	},
	{
		// MTTR = resolved_at - opened_at of the incidents resolved in March, by priority:
		//   P1 1001 2h10m = 7800; P2 1003 Mar 3 09:00 -> Mar 10 08:00 = 6d23h = 601200;
		//   P3 1002 48h = 172800, 1008 2h = 7200, 1010 14d = 1209600: mean 1389600/3 = 463200,
		//   p50 172800, p90 1209600.
		// Groups ranked by relevant incidents: P3 5, P2 2 (1003 1006), P4 2 (1004 1011), P1 1, P5 1.
		Name:    "mttr/priority",
		Query:   marchQuery(trend.NameMTTR, trend.Priority),
		Columns: []string{"t", "priority", "count", "mean_seconds", "p50_seconds", "p90_seconds", "max_seconds"},
		Rows: [][]string{
			{march, "P3", "3", "463200", "172800", "1209600", "1209600"},
			{march, "P2", "1", "601200", "601200", "601200", "601200"},
			{march, "P4", "0", "", "", "", ""},
			{march, "P1", "1", "7800", "7800", "7800", "7800"},
			{march, "P5", "0", "", "", "", ""},
		},
	},
	{
		// SLA (rejected 1004 and merged 1007 have none). Respond: W1 met 1001 1003, breached 1002;
		// W2 met 1006, breached 1005; W3 met 1008 (1009 still running). Resolve: W1 met 1001,
		// breached 1002 (Mar 3); W2 met 1003; W3 met 1008; 1010 breached in February, outside.
		Name:    "sla/week",
		Query:   weeks(trend.NameSLA, trend.None),
		Columns: []string{"t", "respond_met", "respond_breached", "respond_compliance_pct", "resolve_met", "resolve_breached", "resolve_compliance_pct"},
		Rows: [][]string{
			{w1, "2", "1", "66.67", "1", "1", "50"},
			{w2, "1", "1", "50", "1", "0", "100"},
			{w3, "1", "0", "100", "1", "0", "100"},
			{w4, "0", "0", "", "0", "0", ""},
		},
	},
	{
		// Resolved in March by level: L1 1002 1003 1010 (3 of 5 = 60%; 1003 escalated once and
		// bounced once; MTTR (172800 + 601200 + 1209600) / 3 = 661200), L2 1001 (escalated once,
		// 7800), L3 1008 (escalated twice, 7200).
		Name:    "levels/month",
		Query:   marchQuery(trend.NameLevels, trend.None),
		Columns: []string{"t", "level", "resolved", "share_pct", "escalated", "escalations", "bounces", "mttr_mean_seconds"},
		Rows: [][]string{
			{march, "L1", "3", "60", "1", "1", "1", "661200"},
			{march, "L2", "1", "20", "1", "1", "0", "7800"},
			{march, "L3", "1", "20", "1", "2", "0", "7200"},
		},
	},
	{
		// Per analyst in March. Weights (incidents assigned, plus decisions in March by someone
		// else): (none) 1004 1005 1007 1009 = 4, bob 1002 1006 1010 + decided 1009 = 4, ana 1001
		// 1008 + decided 1004 = 3, carla 1003 1011 = 2, vigia decided 1006 = 1; ties by name.
		//   (none): opened 1004 1005 1007 1009; open 1005 1009.
		//   bob: opened 1002 1006; acknowledged 1002 (3600) 1006 (2400): mean 3000; resolved 1002
		//        (172800) 1010 (1209600): mean 691200; open 1006; confirmed 1002 1009.
		//   ana: opened, acknowledged (600, 900), resolved (7800, 7200) 1001 1008; confirmed 1001
		//        1008; rejected 1004.
		//   carla: opened, acknowledged (1200), resolved (601200), confirmed 1003; open 1011.
		//   vigia: confirmed 1006.
		Name:    "analysts/month",
		Query:   marchQuery(trend.NameAnalysts, trend.None),
		Columns: []string{"t", "analyst", "opened", "acknowledged", "resolved", "open", "confirmed", "rejected", "mtta_mean_seconds", "mttr_mean_seconds"},
		Rows: [][]string{
			{march, "(none)", "4", "0", "0", "2", "0", "0", "", ""},
			{march, "bob", "2", "2", "2", "1", "2", "0", "3000", "691200"},
			{march, "ana", "2", "2", "2", "0", "2", "1", "750", "7500"},
			{march, "carla", "1", "1", "1", "1", "1", "0", "1200", "601200"},
			{march, "vigia", "0", "0", "0", "0", "1", "0", "", ""},
		},
	},
	{
		// Engine counts: W1 Mar 2 + Mar 3 = 14 deliveries, 33 alerts, 18 repeats, 15 episodes, 2
		// suppressed; W2 (Mar 10, its batch applied twice but counted once) 6, 9, 4, 5, 1; W3 2, 2,
		// 0, 2, 0. Incidents opened: W1 4 (confirmed 1001 1002 1003, rejected 1004), W2 2
		// (confirmed 1006), W3 2 (confirmed 1008, merged 1007), W4 1 (confirmed 1009).
		//   W1 dedup 18/33 = 54.55%, suppressed 2/15 = 13.33%, (15-2)/4 = 3.25 episodes per
		//      incident, reduction 1 - 4/33 = 87.88%, confirmed 3/4 = 75%.
		//   W2 4/9 = 44.44%, 1/5 = 20%, (5-1)/2 = 2, 1 - 2/9 = 77.78%, 50%.
		//   W3 0%, 0%, 2/2 = 1, 1 - 2/2 = 0%, 50%.
		//   W4 no alerts: dedup, suppressed and reduction undefined; 0 episodes for 1 incident; 100%.
		Name:    "noise/week",
		Query:   weeks(trend.NameNoise, trend.None),
		Columns: []string{"t", "deliveries", "alerts", "repeats", "episodes", "suppressed", "incidents", "confirmed", "rejected", "merged", "dedup_pct", "suppressed_pct", "episodes_per_incident", "reduction_pct", "confirmed_pct"},
		Rows: [][]string{
			{w1, "14", "33", "18", "15", "2", "4", "3", "1", "0", "54.55", "13.33", "3.25", "87.88", "75"},
			{w2, "6", "9", "4", "5", "1", "2", "1", "0", "0", "44.44", "20", "2", "77.78", "50"},
			{w3, "2", "2", "0", "2", "0", "2", "1", "0", "1", "0", "0", "1", "0", "50"},
			{w4, "0", "0", "0", "0", "0", "1", "1", "0", "0", "", "", "0", "", "100"},
		},
	},
	{
		// Per rule in March (1010's confirmation was in February). Weights (incidents opened +
		// feedback): rule/by-service 4 + 3, topology 2 + 4, rule/by-host 2 + 1, similarity 1 + 1.
		//   rule/by-service: confirmed 1001 1002 1008: precision 100%.
		//   topology: confirmed 1003, and 1009 (rejected then confirmed: its last decision counts);
		//             1 move of 1 alert.
		//   rule/by-host: no decision (1006 was auto-confirmed): precision undefined; merge of 2 alerts.
		//   similarity: rejected 1004: 0%.
		Name:    "rules/month",
		Query:   marchQuery(trend.NameRules, trend.None),
		Columns: []string{"t", "method", "rule", "incidents", "confirmed", "rejected", "precision_pct", "merges", "moves", "alerts_moved"},
		Rows: [][]string{
			{march, "rule", "by-service", "4", "3", "0", "100", "0", "0", "0"},
			{march, "topology", "", "2", "2", "0", "100", "0", "1", "1"},
			{march, "rule", "by-host", "2", "0", "0", "", "1", "0", "2"},
			{march, "similarity", "", "1", "0", "1", "0", "0", "0", "0"},
		},
	},
	{
		// Members opened in March: PRB-000001 4 (1001 1002 1005 1008; 1010 in February), PRB-000002
		// 3, PRB-000004 2, PRB-000003 none. Limit 2. Weekly: PRB-000001 W1 1001 1002, W2 1005, W3
		// 1008; PRB-000002 W1 1003 1004, W4 1009.
		Name: "problems/top",
		Query: func() trend.Query {
			q := weeks(trend.NameProblems, trend.None)
			q.Limit = 2
			return q
		}(),
		Columns: []string{"problem_id", "status", "kind", "signature", "incidents", "incidents_total", "first_seen", "last_seen", "recurrences", "known_error"},
		Rows: [][]string{
			{"PRB-000001", "candidate", "signature", "HighCPU @ service=web", "4", "5", "2026-02-20T10:00:00Z", "2026-03-17T14:00:00Z", "0", "false"},
			{"PRB-000002", "known_error", "ci", "DiskFull @ ci=db-1", "3", "3", "2026-03-03T09:00:00Z", "2026-03-25T23:30:00Z", "0", "true"},
		},
		Series: map[string][]string{"PRB-000001": {"2", "1", "1", "0"}, "PRB-000002": {"2", "0", "0", "1"}},
	},
	{
		// Monthly counts March 2025..February 2026: y = 5 6 8 7 9 10 9 11 12 12 14 15 at x = 0..11.
		// x̄ = 5.5, ȳ = 118/12; Sxx = 143; Sxy = Σxy - 12 x̄ ȳ = 769 - 649 = 120; slope = 120/143 =
		// 0.83916; intercept = 118/12 - 5.5 x 0.83916 = 5.21795. Fitted 5.22 6.06 6.90 7.74 8.57
		// 9.41 10.25 11.09 11.93 12.77 13.61 14.45; projected (x = 12, 13, 14) 15.29 16.13 16.97.
		// R² = 1 - SSres/SStot = 0.953; MAE 0.521. Seasonal naive: data starts January 2025, so
		// January 2026 <- 4 and February 2026 <- 5 (MAE (10 + 10) / 2 = 10 over 2 months);
		// projected March..May 2026 <- 5, 6, 8.
		Name:    "projection/month",
		Query:   trend.Query{Name: trend.NameProjection, From: tm("2025-03-01 00:00"), To: tm("2026-03-01 00:00"), Now: Now},
		Columns: []string{"t", "kind", "actual", "trend", "seasonal_naive"},
		Rows: [][]string{
			{"2025-03-01T00:00:00Z", "history", "5", "5.22", ""},
			{"2025-04-01T00:00:00Z", "history", "6", "6.06", ""},
			{"2025-05-01T00:00:00Z", "history", "8", "6.9", ""},
			{"2025-06-01T00:00:00Z", "history", "7", "7.74", ""},
			{"2025-07-01T00:00:00Z", "history", "9", "8.57", ""},
			{"2025-08-01T00:00:00Z", "history", "10", "9.41", ""},
			{"2025-09-01T00:00:00Z", "history", "9", "10.25", ""},
			{"2025-10-01T00:00:00Z", "history", "11", "11.09", ""},
			{"2025-11-01T00:00:00Z", "history", "12", "11.93", ""},
			{"2025-12-01T00:00:00Z", "history", "12", "12.77", ""},
			{"2026-01-01T00:00:00Z", "history", "14", "13.61", "4"},
			{"2026-02-01T00:00:00Z", "history", "15", "14.45", "5"},
			{"2026-03-01T00:00:00Z", "projection", "", "15.29", "5"},
			{"2026-04-01T00:00:00Z", "projection", "", "16.13", "6"},
			{"2026-05-01T00:00:00Z", "projection", "", "16.97", "8"},
		},
		Models: []trend.Model{{Months: 12, From: tm("2025-03-01 00:00"), To: tm("2026-03-01 00:00"),
			Intercept: 5.2179, SlopePerMonth: 0.8392, R2: f64(0.953), MAETrend: 0.521, MAESeasonalNaive: f64(10), SeasonalMonths: 2}},
	},
}
