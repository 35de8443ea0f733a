// Package report compares a drill with the previous drill and with a
// baseline drill the team chose, and renders the result as evidence: a
// self-contained HTML page with charts, Markdown for tickets and JSON for
// machines.
package report

import (
	"math"
	"slices"
	"time"

	"github.com/drover-dev/drover/drills"
)

// DefaultTarget is the improvement over the baseline that a component is
// expected to make when no target is given: 30% faster.
const DefaultTarget = 0.30

// tolerance absorbs floating-point rounding, so that a component exactly
// on the target (100 s then, 70 s now) meets it.
const tolerance = 1e-9

// Statuses of a row against the improvement target. Only StatusMet means
// the target was met.
const (
	// StatusMet: succeeded, and at least Target faster than the baseline.
	StatusMet = "met"
	// StatusMissed: succeeded, but less than Target faster (or slower).
	StatusMissed = "missed"
	// StatusFailed: did not recover in this drill (failed or cancelled).
	StatusFailed = "failed"
	// StatusSkipped: skipped in this drill.
	StatusSkipped = "skipped"
	// StatusNew: the baseline drill does not have the component.
	StatusNew = "new"
	// StatusNoBaseline: no baseline drill was chosen.
	StatusNoBaseline = "no-baseline"
	// StatusBaselineUnusable: the baseline's component did not succeed or
	// took no measurable time, so no improvement can be computed.
	StatusBaselineUnusable = "baseline-unusable"
	// StatusRemoved: the previous or baseline drill has the component but
	// this drill does not.
	StatusRemoved = "removed"
)

// phaseOrder is the order in which phases are reported; other phases
// follow in the order they were first seen.
var phaseOrder = []string{drills.PhaseFailover, drills.PhaseFailback, drills.PhaseRestore}

// Comparison is a drill compared with the previous drill and a baseline.
type Comparison struct {
	// Current is the ID of the compared record.
	Current  string `json:"current"`
	Previous *Ref   `json:"previous,omitempty"`
	Baseline *Ref   `json:"baseline,omitempty"`
	// Target is the improvement over the baseline that counts as met, as
	// a fraction: 0.3 is 30% faster.
	Target     float64 `json:"target"`
	Components []Row   `json:"components"`
	// Totals holds one row per phase (the sum of its components' seconds)
	// and one for the record's wall time, compared like components.
	Totals  []Row   `json:"totals"`
	Summary Summary `json:"summary"`
}

// Ref names a record that a drill is compared with.
type Ref struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	Started time.Time `json:"started"`
}

// Row compares one component, or one total, across the three drills.
type Row struct {
	// Key is Component.Key() for components; "total:<phase>" for a
	// phase's sum and "total:wall" for the wall time.
	Key       string `json:"key"`
	Phase     string `json:"phase,omitempty"`
	Step      string `json:"step,omitempty"`
	Component string `json:"component,omitempty"`
	Kind      string `json:"kind,omitempty"`
	// Present is false for a row that only the reference drills have.
	Present bool    `json:"present"`
	Seconds float64 `json:"seconds"`
	Outcome string  `json:"outcome,omitempty"`
	// Previous and Baseline are absent when there is no such drill or it
	// does not have the row.
	Previous *Change `json:"previous,omitempty"`
	Baseline *Change `json:"baseline,omitempty"`
	// Improvement is (baseline - now) / baseline: the fraction of the
	// baseline's time saved. It is absent when Baseline has no Percent.
	Improvement *float64 `json:"improvement,omitempty"`
	Status      string   `json:"status"`
}

// Change is a row's value in a reference drill and the change since.
type Change struct {
	Seconds float64 `json:"seconds"`
	Outcome string  `json:"outcome"`
	// Delta is now minus the reference, in seconds: negative is faster.
	// It is absent when either side did not succeed, since the seconds of
	// a failed recovery are not a recovery time.
	Delta *float64 `json:"delta,omitempty"`
	// Percent is Delta as a percentage of the reference's seconds. It is
	// absent with Delta, and when the reference took no time.
	Percent *float64 `json:"percent,omitempty"`
}

// Summary counts the components of the current drill by status; the
// counts other than Removed add up to Components.
type Summary struct {
	Components       int `json:"components"`
	Met              int `json:"met"`
	Missed           int `json:"missed"`
	Failed           int `json:"failed"`
	Skipped          int `json:"skipped"`
	New              int `json:"new"`
	NoBaseline       int `json:"noBaseline"`
	BaselineUnusable int `json:"baselineUnusable"`
	Removed          int `json:"removed"`
}

// measure is one row's value in one record.
type measure struct {
	found   bool
	seconds float64
	outcome string
	meta    drills.Component
}

// Compare compares current with the previous record and the baseline,
// either of which may be nil. A target of zero (or NaN) means
// DefaultTarget. Rows are ordered by phase (failover, failback, restore,
// then any other) and, within a phase, in the order the current record
// lists its steps, followed by steps only the baseline or the previous
// record has. When a record lists a key twice, its first entry counts.
func Compare(current drills.Record, previous, baseline *drills.Record, target float64) Comparison {
	if target == 0 || math.IsNaN(target) {
		target = DefaultTarget
	}

	cmp := Comparison{
		Current:  current.ID,
		Previous: refOf(previous),
		Baseline: refOf(baseline),
		Target:   target,
	}

	records := []*drills.Record{&current, baseline, previous}
	keys, phases := orderedKeys(records)
	now, prev, base := componentsOf(&current), componentsOf(previous), componentsOf(baseline)
	for _, key := range keys {
		row := compareRow(now[key], prev[key], base[key], baseline != nil, target)
		cmp.Components = append(cmp.Components, row)
		cmp.Summary.add(row)
	}

	for _, phase := range phases {
		row := compareRow(phaseTotal(&current, phase), phaseTotal(previous, phase),
			phaseTotal(baseline, phase), baseline != nil, target)
		row.Key, row.Phase = "total:"+phase, phase
		row.Component, row.Kind = "sum of "+phase+" components", "total"
		cmp.Totals = append(cmp.Totals, row)
	}
	wall := compareRow(wallTime(&current), wallTime(previous), wallTime(baseline),
		baseline != nil, target)
	wall.Key, wall.Component, wall.Kind = "total:wall", "wall time", "total"
	cmp.Totals = append(cmp.Totals, wall)

	return cmp
}

func refOf(r *drills.Record) *Ref {
	if r == nil {
		return nil
	}
	return &Ref{ID: r.ID, Kind: r.Kind, Started: r.Started}
}

// orderedKeys returns the component keys of the records, and their
// phases, in report order.
func orderedKeys(records []*drills.Record) (keys, phases []string) {
	seen := map[string]bool{}
	phaseOf := map[string]string{}
	for _, r := range records {
		if r == nil {
			continue
		}
		for _, c := range r.Components {
			if !seen[c.Key()] {
				seen[c.Key()] = true
				keys = append(keys, c.Key())
				phaseOf[c.Key()] = c.Phase
			}
			if !slices.Contains(phases, c.Phase) {
				phases = append(phases, c.Phase)
			}
		}
	}

	rank := phaseRanks(phases)
	slices.SortStableFunc(phases, func(a, b string) int { return rank[a] - rank[b] })
	slices.SortStableFunc(keys, func(a, b string) int {
		return rank[phaseOf[a]] - rank[phaseOf[b]]
	})
	return keys, phases
}

// phaseRanks ranks the known phases first and the others, given in the
// order first seen, after them.
func phaseRanks(seen []string) map[string]int {
	rank := map[string]int{}
	for i, p := range phaseOrder {
		rank[p] = i
	}
	for _, p := range seen {
		if _, ok := rank[p]; !ok {
			rank[p] = len(rank)
		}
	}
	return rank
}

func componentsOf(r *drills.Record) map[string]measure {
	out := map[string]measure{}
	if r == nil {
		return out
	}
	for _, c := range r.Components {
		if _, dup := out[c.Key()]; !dup {
			out[c.Key()] = measure{found: true, seconds: c.Seconds, outcome: c.Outcome, meta: c}
		}
	}
	return out
}

// phaseTotal sums the seconds of a phase's components. The sum succeeded
// when every component did; it failed when any failed or was cancelled.
func phaseTotal(r *drills.Record, phase string) measure {
	var m measure
	if r == nil {
		return m
	}
	for _, c := range r.Components {
		if c.Phase != phase {
			continue
		}
		if !m.found {
			m.found, m.outcome = true, drills.OutcomeSucceeded
		}
		m.seconds += c.Seconds
		switch {
		case c.Outcome == drills.OutcomeSucceeded:
		case c.Outcome == drills.OutcomeSkipped && m.outcome == drills.OutcomeSucceeded:
			m.outcome = drills.OutcomeSkipped
		case c.Outcome != drills.OutcomeSkipped:
			m.outcome = drills.OutcomeFailed
		}
	}
	return m
}

func wallTime(r *drills.Record) measure {
	if r == nil {
		return measure{}
	}
	return measure{found: true, seconds: r.Total(), outcome: r.Outcome}
}

func compareRow(now, prev, base measure, haveBaseline bool, target float64) Row {
	meta := now.meta
	if !now.found {
		meta = base.meta
		if !base.found {
			meta = prev.meta
		}
	}
	row := Row{
		Key:       meta.Key(),
		Phase:     meta.Phase,
		Step:      meta.Step,
		Component: meta.Component,
		Kind:      meta.Kind,
		Present:   now.found,
		Seconds:   now.seconds,
		Outcome:   now.outcome,
		Previous:  changeOf(now, prev),
		Baseline:  changeOf(now, base),
	}
	if row.Baseline != nil && row.Baseline.Percent != nil {
		row.Improvement = finite((base.seconds - now.seconds) / base.seconds)
	}

	switch {
	case !now.found:
		row.Status = StatusRemoved
	case now.outcome == drills.OutcomeSkipped:
		row.Status = StatusSkipped
	case now.outcome != drills.OutcomeSucceeded:
		row.Status = StatusFailed
	case !haveBaseline:
		row.Status = StatusNoBaseline
	case !base.found:
		row.Status = StatusNew
	case row.Improvement == nil:
		row.Status = StatusBaselineUnusable
	case *row.Improvement >= target-tolerance:
		row.Status = StatusMet
	default:
		row.Status = StatusMissed
	}
	return row
}

func changeOf(now, ref measure) *Change {
	if !ref.found {
		return nil
	}
	c := &Change{Seconds: ref.seconds, Outcome: ref.outcome}
	if !now.found || now.outcome != drills.OutcomeSucceeded ||
		ref.outcome != drills.OutcomeSucceeded {
		return c
	}
	c.Delta = finite(now.seconds - ref.seconds)
	if c.Delta != nil && ref.seconds > 0 {
		c.Percent = finite(*c.Delta / ref.seconds * 100)
	}
	return c
}

// finite returns a pointer to x, or nil when x is not a finite number.
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func (s *Summary) add(row Row) {
	if row.Present {
		s.Components++
	}
	switch row.Status {
	case StatusMet:
		s.Met++
	case StatusMissed:
		s.Missed++
	case StatusFailed:
		s.Failed++
	case StatusSkipped:
		s.Skipped++
	case StatusNew:
		s.New++
	case StatusNoBaseline:
		s.NoBaseline++
	case StatusBaselineUnusable:
		s.BaselineUnusable++
	case StatusRemoved:
		s.Removed++
	}
}
