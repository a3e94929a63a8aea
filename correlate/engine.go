package correlate

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/suppress"
	"github.com/vigia-noc/vigia/topology"
)

// Stats counts what the engine has seen, for noise-reduction figures.
type Stats struct {
	Deliveries int64 `json:"deliveries"`
	Alerts     int64 `json:"alerts"`
	// Repeats are notifications of an episode already known.
	Repeats int64 `json:"repeats"`
	// Suppressed are new episodes a suppression kept out of incidents.
	Suppressed int64 `json:"suppressed"`
}

// Changes is what one or more Process/Advance calls changed: the rows a
// store must upsert, and the timeline events it must append.
type Changes struct {
	Episodes  []Episode
	Incidents []incident.Incident
	Events    []incident.Event
	Feedback  []Feedback
	// Stats are deltas since the last Flush.
	Stats Stats
}

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	return len(c.Episodes) == 0 && len(c.Incidents) == 0 && len(c.Events) == 0 && len(c.Feedback) == 0 && c.Stats == (Stats{})
}

// State is what the engine needs to resume after a restart.
type State struct {
	Clock           time.Time
	NextIncidentSeq int64
	NextEpisodeID   int64
	// Episodes are the firing ones and those resolved within the dedup retention.
	Episodes []Episode
	// Incidents are the open ones and those resolved within the reopen window.
	Incidents []incident.Incident
}

// Options configure an Engine.
type Options struct {
	Config Config
	// Topology is the CI graph; nil until one is loaded.
	Topology *topology.Topology
	// Workflow is the incident lifecycle, priority and SLA policy; nil
	// uses the defaults.
	Workflow *incident.Workflow
	// Suppressions keep matching alerts out of incidents.
	Suppressions *suppress.Set
	// Signer computes problem signatures for known-error matching; nil
	// uses the defaults.
	Signer *problem.Signer
	Logger *slog.Logger
}

// Grouping methods, as recorded in explanations and on incidents.
const (
	MethodRule       = "rule"
	MethodTopology   = "topology"
	MethodSimilarity = "similarity"
	MethodFlapping   = "flapping"
	MethodRepeat     = "repeat"
)

// Engine deduplicates alerts into episodes and groups episodes into
// incidents on event time. It is not goroutine-safe: one goroutine drives it.
type Engine struct {
	cfg    *compiled
	logger *slog.Logger

	clock     time.Time
	nextInc   int64
	nextEp    int64
	episodes  map[EpisodeKey]*Episode
	incidents map[string]*incident.Incident
	groups    map[string]*incident.Incident // group key -> latest incident
	// pending are incidents with no firing alert, waiting to resolve.
	pending map[string]*incident.Incident
	// lastSweep and lastSlowSweep are the clocks of the last eviction
	// sweeps of episodes (every minute) and of the rest (every 15 minutes).
	lastSweep     time.Time
	lastSlowSweep time.Time
	// expiring queues resolved episodes until the dedup retention ends.
	expiring []expiring

	topo *topology.Topology
	wf   *incident.Workflow
	supp *suppress.Set
	// aux holds per-incident grouping state for the incidents in memory.
	aux map[string]*incAux
	// members maps an alerting CI to the topology incidents it belongs to;
	// under maps an ancestor CI to the topology incidents with alerting
	// CIs below it (within max hops) and their alert names.
	members map[string]map[string]time.Time
	// sameKind maps a CI and whether an alert is a symptom to the topology
	// incidents with such alerts on it.
	sameKind map[string]map[string]time.Time
	under    map[string]map[string]map[string]time.Time
	// simIdx maps a similarity block (alertname) to similarity incidents.
	simIdx map[string]map[string]struct{}
	// fps is the state-change history of each alert, for flapping.
	fps map[string]*fpState
	// symptomCache caches which alert names are symptoms.
	symptomCache map[string]bool
	// kedb maps problem signatures to known errors.
	kedb   map[string]KnownError
	signer *problem.Signer

	dirtyEp map[*Episode]struct{}
	// repeated are episodes whose only change is a repeat notification;
	// they are written at most RepeatFlush of processing time later.
	repeated        map[*Episode]struct{}
	lastRepeatFlush time.Time
	flushRepeats    bool
	dirtyInc        map[*incident.Incident]struct{}
	events          []incident.Event
	feedback        []Feedback
	stats           Stats
}

// New returns an engine with empty state.
func New(opts Options) (*Engine, error) {
	cfg, err := opts.Config.compile()
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	signer := opts.Signer
	if signer == nil {
		if signer, err = problem.NewSigner(problem.DefaultConfig()); err != nil {
			return nil, err
		}
	}
	wf := opts.Workflow
	if wf == nil {
		if wf, err = incident.NewWorkflow(incident.DefaultConfig()); err != nil {
			return nil, err
		}
	}
	return &Engine{
		cfg:          cfg,
		wf:           wf,
		topo:         opts.Topology,
		supp:         opts.Suppressions,
		signer:       signer,
		aux:          map[string]*incAux{},
		members:      map[string]map[string]time.Time{},
		sameKind:     map[string]map[string]time.Time{},
		under:        map[string]map[string]map[string]time.Time{},
		simIdx:       map[string]map[string]struct{}{},
		fps:          map[string]*fpState{},
		symptomCache: map[string]bool{},
		logger:       logger.With("component", "correlate"),
		nextInc:      1,
		nextEp:       1,
		episodes:     map[EpisodeKey]*Episode{},
		incidents:    map[string]*incident.Incident{},
		groups:       map[string]*incident.Incident{},
		pending:      map[string]*incident.Incident{},
		dirtyEp:      map[*Episode]struct{}{},
		repeated:     map[*Episode]struct{}{},
		dirtyInc:     map[*incident.Incident]struct{}{},
	}, nil
}

// Retention returns how far back a State must reach: episodes resolved and
// incidents resolved after clock minus these durations are needed.
func (e *Engine) Retention() (episodes, incidents time.Duration) {
	return max(e.cfg.retention, e.cfg.flapWindow), e.cfg.reopenWindow + max(e.cfg.resolveDelay, e.cfg.flapHold)
}

// Restore loads state saved by a store. Call it before any Process.
func (e *Engine) Restore(s State) {
	e.clock = s.Clock
	e.lastSweep, e.lastSlowSweep = s.Clock, s.Clock
	if s.NextIncidentSeq > e.nextInc {
		e.nextInc = s.NextIncidentSeq
	}
	if s.NextEpisodeID > e.nextEp {
		e.nextEp = s.NextEpisodeID
	}
	for i := range s.Incidents {
		in := s.Incidents[i]
		e.incidents[in.ID] = &in
		if cur := e.groups[in.GroupKey]; cur == nil || cur.Seq < in.Seq {
			e.groups[in.GroupKey] = &in
		}
		if in.Status.Open() && in.FiringCount == 0 {
			e.pending[in.ID] = &in
		}
	}
	for id := range e.incidents {
		e.aux[id] = &incAux{}
	}
	sort.Slice(s.Episodes, func(i, j int) bool { return s.Episodes[i].ID < s.Episodes[j].ID })
	for i := range s.Episodes {
		ep := s.Episodes[i]
		e.episodes[ep.Key()] = &ep
		e.recordChange(&ep, ep.StartsAt, true)
		if !ep.Firing() {
			e.recordChange(&ep, ep.EndsAt, false)
			e.queueExpiry(&ep)
		}
		if in := e.incidents[ep.IncidentID]; in != nil {
			e.fpIncident(&ep, in)
			e.memberJoined(in, &ep)
		}
	}
}

// SetSuppressions replaces the suppressions applied to new alerts.
func (e *Engine) SetSuppressions(s *suppress.Set) { e.supp = s }

// SetTopology replaces the CI graph used for new alerts.
func (e *Engine) SetTopology(t *topology.Topology) { e.topo = t }

// Clock returns the engine's processing time: the latest received_at or tick.
func (e *Engine) Clock() time.Time { return e.clock }

// ActiveEpisodes returns how many episodes the engine holds in memory.
func (e *Engine) ActiveEpisodes() int { return len(e.episodes) }

// OpenByStatusPriority counts the open incidents by status and priority.
func (e *Engine) OpenByStatusPriority() map[[2]string]int {
	out := map[[2]string]int{}
	for _, in := range e.incidents {
		if in.Status.Open() {
			out[[2]string{in.Status.String(), in.Priority.String()}]++
		}
	}
	return out
}

// OpenIncidents returns how many incidents the engine holds in memory.
func (e *Engine) OpenIncidents() int { return len(e.incidents) }

// Process applies one delivery. Its ReceivedAt advances the clock.
func (e *Engine) Process(d *Delivery) {
	e.advance(d.ReceivedAt)
	e.stats.Deliveries++
	for i := range d.Alerts {
		e.processAlert(d, &d.Alerts[i])
	}
}

// Advance moves the clock to now (if later) and resolves the incidents
// whose resolve delay has passed.
func (e *Engine) Advance(now time.Time) { e.advance(now) }

// RepeatFlush bounds how long the repeat counters of an episode may wait
// to be written: repeats are most notifications, so writing each would
// rewrite the episode for nothing but a counter.
const RepeatFlush = 10 * time.Second

// FlushRepeats makes the next Flush include every pending repeat counter.
func (e *Engine) FlushRepeats() { e.flushRepeats = true }

// Drain resolves every incident whose alerts have all resolved, as if the
// resolve delay (or flapping hold) had passed: the end of a replay.
func (e *Engine) Drain() {
	e.flushRepeats = true
	e.advance(e.clock.Add(max(e.cfg.resolveDelay, e.cfg.flapHold)))
}

// Flush returns the changes since the last Flush.
func (e *Engine) Flush() Changes {
	ch := Changes{Events: e.events, Feedback: e.feedback, Stats: e.stats}
	if len(e.repeated) > 0 && (e.flushRepeats || e.clock.Sub(e.lastRepeatFlush) >= RepeatFlush) {
		for ep := range e.repeated {
			e.dirtyEp[ep] = struct{}{}
		}
		clear(e.repeated)
		e.lastRepeatFlush = e.clock
	}
	e.flushRepeats = false
	if len(e.dirtyEp) > 0 {
		ch.Episodes = make([]Episode, 0, len(e.dirtyEp))
		for ep := range e.dirtyEp {
			ch.Episodes = append(ch.Episodes, *ep)
		}
		sort.Slice(ch.Episodes, func(i, j int) bool { return ch.Episodes[i].ID < ch.Episodes[j].ID })
		clear(e.dirtyEp)
	}
	if len(e.dirtyInc) > 0 {
		ch.Incidents = make([]incident.Incident, 0, len(e.dirtyInc))
		for in := range e.dirtyInc {
			ch.Incidents = append(ch.Incidents, *in)
		}
		sort.Slice(ch.Incidents, func(i, j int) bool { return ch.Incidents[i].Seq < ch.Incidents[j].Seq })
		clear(e.dirtyInc)
	}
	e.events, e.feedback = nil, nil
	e.stats = Stats{}
	return ch
}

// NextIDs returns the sequences a store must persist to resume numbering.
func (e *Engine) NextIDs() (incidentSeq, episodeID int64) { return e.nextInc, e.nextEp }

func (e *Engine) advance(now time.Time) {
	if now.After(e.clock) {
		e.clock = now
	}
	for id, in := range e.pending {
		if in.FiringCount > 0 || !in.Status.Open() {
			delete(e.pending, id)
			continue
		}
		delay := e.cfg.resolveDelay
		if in.Flapping {
			delay = max(delay, e.cfg.flapHold)
		}
		if !e.clock.Before(in.LastEventAt.Add(delay)) {
			e.resolve(in)
			delete(e.pending, id)
		}
	}
	if e.clock.Sub(e.lastSweep) >= time.Minute {
		e.sweep()
		e.lastSweep = e.clock
	}
}

// sweep forgets resolved episodes past the dedup retention and incidents
// past the reopen window.
func (e *Engine) sweep() {
	// Resolved episodes wait in a queue ordered (nearly) by expiry; one
	// seen again since it was queued goes back with its new expiry.
	for len(e.expiring) > 0 {
		x := e.expiring[0]
		if x.at.After(e.clock) {
			break
		}
		e.expiring = e.expiring[1:]
		ep := e.episodes[x.key]
		if ep == nil || ep.Firing() {
			continue
		}
		if at := e.expiry(ep); at.After(e.clock) {
			e.expiring = append(e.expiring, expiring{x.key, at})
			continue
		}
		delete(e.episodes, x.key)
		if aux := e.aux[ep.IncidentID]; aux != nil {
			delete(aux.episodes, ep)
		}
	}
	if e.clock.Sub(e.lastSlowSweep) < 15*time.Minute {
		return
	}
	e.lastSlowSweep = e.clock
	for _, in := range e.incidents {
		if in.Status.Open() {
			continue
		}
		if in.Status == incident.StatusResolved && in.ResolvedAt != nil && e.clock.Sub(*in.ResolvedAt) <= e.cfg.reopenWindow {
			continue
		}
		e.forget(in)
	}
	for fp, st := range e.fps {
		if e.clock.Sub(time.Unix(0, st.last)) > max(e.cfg.flapWindow, e.cfg.flapHold, e.cfg.reopenWindow, e.cfg.retention) {
			delete(e.fps, fp)
		}
	}
}

// expiring is a resolved episode and when it may leave memory.
type expiring struct {
	key EpisodeKey
	at  time.Time
}

// expiry is when a resolved episode may leave memory: the dedup retention
// after both its end and its latest notification.
func (e *Engine) expiry(ep *Episode) time.Time {
	at := ep.EndsAt
	if ep.LastSeen.After(at) {
		at = ep.LastSeen
	}
	return at.Add(e.cfg.retention)
}

// queueExpiry queues a resolved episode for eviction.
func (e *Engine) queueExpiry(ep *Episode) {
	e.expiring = append(e.expiring, expiring{ep.Key(), e.expiry(ep)})
}

// forget drops an incident from memory and from every index.
func (e *Engine) forget(in *incident.Incident) {
	delete(e.incidents, in.ID)
	delete(e.pending, in.ID)
	if e.groups[in.GroupKey] == in {
		delete(e.groups, in.GroupKey)
	}
	e.unindex(in)
	delete(e.aux, in.ID)
}

func (e *Engine) processAlert(d *Delivery, a *Alert) {
	e.stats.Alerts++
	key := a.Key()
	ep := e.episodes[key]
	if ep != nil {
		e.stats.Repeats++
		ep.Notifications++
		if d.ReceivedAt.After(ep.LastSeen) {
			ep.LastSeen = d.ReceivedAt
		}
		ep.Version++
		if ep.Firing() && a.Status == StatusResolved {
			e.dirtyEp[ep] = struct{}{}
			e.resolveEpisode(ep, a.EndsAt)
		} else {
			// A plain repeat changes only counters: it is written with
			// the next batch at most RepeatFlush later.
			e.repeated[ep] = struct{}{}
		}
		// A firing notification of a resolved episode is a late re-send:
		// a new firing period always has a new startsAt.
		return
	}
	ep = &Episode{
		ID:            e.nextEp,
		Fingerprint:   a.Fingerprint,
		StartsAt:      a.StartsAt,
		StartsAtRaw:   a.StartsAtRaw,
		Status:        StatusFiring,
		Source:        d.Source,
		Labels:        a.Labels,
		Annotations:   a.Annotations,
		GeneratorURL:  a.GeneratorURL,
		Extra:         a.Extra,
		FirstSeen:     d.ReceivedAt,
		LastSeen:      d.ReceivedAt,
		Notifications: 1,
		Version:       1,
	}
	if e.topo != nil {
		ep.CI, _ = e.topo.MapWith(e.cfg.topoLabels, ep.Labels)
	}
	e.nextEp++
	e.episodes[key] = ep
	e.dirtyEp[ep] = struct{}{}
	e.recordChange(ep, ep.StartsAt, true)
	if id := e.supp.Match(ep.Labels, ep.StartsAt); id != "" {
		ep.Suppressed = id
		e.stats.Suppressed++
	} else {
		e.group(ep)
	}
	if in := e.incidents[ep.IncidentID]; in != nil {
		e.fpIncident(ep, in)
	}
	if a.Status == StatusResolved {
		e.resolveEpisode(ep, a.EndsAt)
	}
}

func (e *Engine) resolveEpisode(ep *Episode, endsAt time.Time) {
	ep.Status = StatusResolved
	ep.EndsAt = endsAt
	if ep.EndsAt.IsZero() || ep.EndsAt.Before(ep.StartsAt) {
		ep.EndsAt = ep.StartsAt
	}
	e.recordChange(ep, ep.EndsAt, false)
	e.queueExpiry(ep)
	in := e.incidents[ep.IncidentID]
	if in == nil {
		return
	}
	in.FiringCount--
	if in.FiringCount < 0 {
		in.FiringCount = 0
	}
	if ep.EndsAt.After(in.LastEventAt) {
		in.LastEventAt = ep.EndsAt
	}
	e.touch(in)
	if in.FiringCount == 0 && in.Status.Open() {
		e.pending[in.ID] = in
	}
}

// group assigns a new episode to an incident and records why. The methods
// are tried in order of precedence: the same alert firing again (repeat or
// flapping), explicit rules, topology, similarity.
func (e *Engine) group(ep *Episode) {
	if e.groupRepeat(ep) {
		return
	}
	for _, r := range e.cfg.rules {
		if r.matches(ep.Labels) {
			e.groupRule(r, ep)
			return
		}
	}
	if ep.CI != "" {
		if e.groupTopology(ep) {
			return
		}
		if !e.cfg.simCIAlerts {
			e.openTopology(ep)
			return
		}
	}
	e.groupSimilarity(ep)
}

// groupRule groups by an explicit rule: the rule's group_by values form the
// group key; a window on event time bounds the group.
func (e *Engine) groupRule(r *rule, ep *Episode) {
	if !r.open {
		return
	}
	shared := make(map[string]string, len(r.groupBy))
	var kb strings.Builder
	kb.WriteString(r.name)
	for _, name := range r.groupBy {
		v := ep.Labels[name]
		if v != "" {
			shared[name] = v
		}
		kb.WriteByte(0xff)
		kb.WriteString(v)
	}
	key := kb.String()
	t := ep.StartsAt
	expl := &incident.Explanation{Method: MethodRule, Rule: r.name, Window: formatWindow(r.window), SharedLabels: shared, Score: 1}
	in := e.groups[key]
	switch {
	case in != nil && in.Status.Open() && e.inWindow(in, t, r.window):
		expl.Reason = fmt.Sprintf("joined %s: same %s as the incident, within the %s window of rule %q",
			in.ID, describeLabels(r.groupBy, shared), expl.Window, r.name)
	case in != nil && e.reopenable(in):
		e.reopen(in)
		expl.Reason = fmt.Sprintf("reopened %s: same %s fired again within the %s reopen window",
			in.ID, describeLabels(r.groupBy, shared), formatWindow(e.cfg.reopenWindow))
	default:
		in = e.open(ep, MethodRule, r.name, e.ruleTitle(r, ep, shared), shared)
		in.GroupKey = key
		e.aux[in.ID].fixedPriority = r.priority
		e.groups[key] = in
		expl.Reason = fmt.Sprintf("opened %s: first alert with %s under rule %q", in.ID, describeLabels(r.groupBy, shared), r.name)
	}
	e.join(in, ep, expl)
}

// inWindow reports whether event time t lies within w of the incident's events.
func (e *Engine) inWindow(in *incident.Incident, t time.Time, w time.Duration) bool {
	return !t.After(in.LastEventAt.Add(w)) && !t.Before(in.FirstEventAt.Add(-w))
}

// reopenable reports whether a resolved incident may still be reopened.
func (e *Engine) reopenable(in *incident.Incident) bool {
	return in.Status == incident.StatusResolved && in.ResolvedAt != nil &&
		!e.clock.After(in.ResolvedAt.Add(e.cfg.reopenWindow))
}

// join adds an episode to an incident.
func (e *Engine) join(in *incident.Incident, ep *Episode, expl *incident.Explanation) {
	if !in.Status.Open() && e.reopenable(in) {
		e.reopen(in)
	}
	ep.IncidentID = in.ID
	ep.JoinedAt = e.clock
	ep.Explanation = expl
	in.AlertCount++
	in.FiringCount++
	delete(e.pending, in.ID)
	if et := ep.EventTime(); et.After(in.LastEventAt) {
		in.LastEventAt = et
	}
	if ep.StartsAt.Before(in.FirstEventAt) {
		in.FirstEventAt = ep.StartsAt
	}
	e.memberJoined(in, ep)
	e.prioritize(in, ep)
	if in.AlertCount == 1 {
		e.emit(in, e.wf.Init(in, ep.Labels, e.clock)...)
		e.matchKnownError(in, ep)
	}
	e.touch(in)
}

// prioritize sets the incident's priority from the ITIL matrix: urgency
// from its most urgent severity, impact from the CIs and business services
// its alerts touch. A rule's fixed priority wins.
func (e *Engine) prioritize(in *incident.Incident, ep *Episode) {
	aux := e.aux[in.ID]
	sev := ep.Labels["severity"]
	changed := in.Priority == 0
	if in.Severity == "" || e.wf.Config().Urgency.Urgency(sev) < e.wf.Config().Urgency.Urgency(in.Severity) {
		if sev != "" {
			in.Severity = sev
			changed = true
		}
	}
	if ep.CI != "" {
		if aux.allCIs == nil {
			aux.allCIs, aux.services = map[string]struct{}{}, map[string]struct{}{}
		}
		if _, ok := aux.allCIs[ep.CI]; !ok {
			aux.allCIs[ep.CI] = struct{}{}
			changed = true
			if svc := e.topo.Services(ep.CI); svc != "" {
				aux.services[svc] = struct{}{}
			}
		}
	}
	if !changed {
		return
	}
	if aux.fixedPriority != 0 {
		e.emit(in, e.wf.SetPriority(in, aux.fixedPriority, e.clock)...)
		return
	}
	e.emit(in, e.wf.Prioritize(in, in.Severity, len(aux.allCIs), len(aux.services), e.clock)...)
}

func (e *Engine) open(ep *Episode, method, rule, title string, shared map[string]string) *incident.Incident {
	seq := e.nextInc
	e.nextInc++
	in := &incident.Incident{
		ID:           incident.FormatID(seq),
		Seq:          seq,
		Status:       incident.StatusNew,
		Title:        title,
		Method:       method,
		Rule:         rule,
		GroupKey:     method + ":" + incident.FormatID(seq),
		Labels:       shared,
		OpenedAt:     e.clock,
		FirstEventAt: ep.StartsAt,
		LastEventAt:  ep.StartsAt,
	}
	e.incidents[in.ID] = in
	e.aux[in.ID] = &incAux{}
	comment := "opened by " + method
	if rule != "" {
		comment = fmt.Sprintf("opened by %s %q", method, rule)
	}
	e.event(in, incident.Event{Kind: "opened", To: incident.StatusNew.String(), Comment: comment})
	return in
}

func (e *Engine) reopen(in *incident.Incident) {
	evs, err := e.wf.ApplyAuto(in, incident.TriggerAlertsFiring, e.clock)
	if err != nil {
		e.logger.Warn("cannot reopen incident", "incident", in.ID, "err", err)
		return
	}
	e.emit(in, evs...)
}

func (e *Engine) resolve(in *incident.Incident) {
	at := in.LastEventAt
	if at.Before(in.OpenedAt) {
		at = in.OpenedAt
	}
	evs, err := e.wf.ApplyAuto(in, incident.TriggerAlertsResolved, at)
	if err != nil {
		return
	}
	e.emit(in, evs...)
}

// emit appends timeline events that carry their own time and actor.
func (e *Engine) emit(in *incident.Incident, evs ...incident.Event) {
	for _, ev := range evs {
		ev.IncidentID = in.ID
		if ev.At.IsZero() {
			ev.At = e.clock
		}
		if ev.Actor == "" {
			ev.Actor = incident.ActorSystem
		}
		e.events = append(e.events, ev)
	}
	if len(evs) > 0 {
		e.touch(in)
	}
}

func (e *Engine) touch(in *incident.Incident) {
	in.UpdatedAt = e.clock
	in.Version++
	e.dirtyInc[in] = struct{}{}
}

func (e *Engine) event(in *incident.Incident, ev incident.Event) {
	ev.IncidentID = in.ID
	ev.At = e.clock
	ev.Actor = incident.ActorSystem
	e.events = append(e.events, ev)
	e.touch(in)
}

func (e *Engine) ruleTitle(r *rule, ep *Episode, shared map[string]string) string {
	d := TitleData{Alertname: ep.Labels["alertname"], Labels: ep.Labels, Annotations: ep.Annotations,
		GroupLabels: shared, Rule: r.name}
	if r.title != nil {
		if s, err := renderTitle(r.title, d); err == nil && s != "" {
			return s
		} else if err != nil {
			e.logger.Warn("title template failed", "rule", r.name, "err", err)
		}
	}
	return defaultTitle(ep, shared)
}

// defaultTitle is "<alertname> on k=v, …" or "<alertname>: <summary>".
func defaultTitle(ep *Episode, shared map[string]string) string {
	d := TitleData{Alertname: ep.Labels["alertname"]}
	var parts []string
	for _, n := range SortedLabelNames(shared) {
		if n != "alertname" {
			parts = append(parts, n+"="+shared[n])
		}
	}
	title := d.Alertname
	if title == "" {
		title = "Alert"
	}
	if len(parts) > 0 {
		return title + " on " + strings.Join(parts, ", ")
	}
	if s := ep.Annotations["summary"]; s != "" {
		return title + ": " + s
	}
	return title
}

func describeLabels(groupBy []string, shared map[string]string) string {
	if len(groupBy) == 0 {
		return "rule"
	}
	parts := make([]string, 0, len(groupBy))
	for _, n := range groupBy {
		parts = append(parts, fmt.Sprintf("%s=%q", n, shared[n]))
	}
	return strings.Join(parts, ", ")
}

func formatWindow(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return "0s"
	}
	return s
}
