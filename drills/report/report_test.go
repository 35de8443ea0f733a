package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/drover-dev/drover/drills"
)

const (
	ok        = drills.OutcomeSucceeded
	failed    = drills.OutcomeFailed
	skipped   = drills.OutcomeSkipped
	cancelled = drills.OutcomeCancelled
)

// spec describes one component of a fixture record.
type spec struct {
	phase, step string
	// at is when the action started, in seconds after the record started.
	at, seconds float64
	outcome     string
}

// record builds a record whose components follow specs; a component that
// did not succeed has no HealthyAt.
func record(id string, started time.Time, wall float64, specs ...spec) drills.Record {
	r := drills.Record{
		ID:         id,
		App:        "shop",
		Kind:       drills.KindDrill,
		WorkflowID: "drill-shop-" + started.Format("2006"),
		RunID:      "run-" + id,
		Started:    started,
		Ended:      started.Add(secs(wall)),
		Outcome:    ok,
	}
	for _, s := range specs {
		kind, name, _ := strings.Cut(s.step, ":")
		c := drills.Component{
			Phase:         s.phase,
			Step:          s.step,
			Component:     name,
			Kind:          kind,
			Region:        "us-west-2",
			ActionStarted: started.Add(secs(s.at)),
			Seconds:       s.seconds,
			Outcome:       s.outcome,
		}
		if s.outcome == ok {
			c.HealthyAt = c.ActionStarted.Add(secs(s.seconds))
		}
		r.Components = append(r.Components, c)
	}
	return r
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }

func fp(x float64) *float64 { return &x }

// rounded rounds the floats of a row, so that rows computed with float
// arithmetic compare equal to rows written by hand.
func rounded(r Row) Row {
	round := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		return fp(math.Round(*p*1e6) / 1e6)
	}
	r.Seconds = math.Round(r.Seconds*1e6) / 1e6
	r.Improvement = round(r.Improvement)
	for _, c := range []**Change{&r.Previous, &r.Baseline} {
		if *c != nil {
			cp := **c
			cp.Delta, cp.Percent = round(cp.Delta), round(cp.Percent)
			*c = &cp
		}
	}
	return r
}

func TestCompareComponent(t *testing.T) {
	const key = "failover/promote-database:orders"
	step := func(seconds float64, outcome string) []spec {
		return []spec{{drills.PhaseFailover, "promote-database:orders", 0, seconds, outcome}}
	}
	other := []spec{{drills.PhaseFailover, "scale-service:web", 0, 10, ok}}
	row := func(seconds float64, outcome string, prev, base *Change, impr *float64,
		status string) Row {
		return Row{
			Key: key, Phase: drills.PhaseFailover, Step: "promote-database:orders",
			Component: "orders", Kind: "promote-database", Present: true,
			Seconds: seconds, Outcome: outcome, Previous: prev, Baseline: base,
			Improvement: impr, Status: status,
		}
	}
	change := func(seconds float64, outcome string, delta, percent *float64) *Change {
		return &Change{Seconds: seconds, Outcome: outcome, Delta: delta, Percent: percent}
	}

	tests := []struct {
		name       string
		now        []spec
		prev, base []spec // nil: no such record
		target     float64
		wantTarget float64
		want       Row
	}{
		{
			name: "faster and met",
			now:  step(60, ok), prev: step(80, ok), base: step(100, ok),
			wantTarget: 0.3,
			want: row(60, ok, change(80, ok, fp(-20), fp(-25)),
				change(100, ok, fp(-40), fp(-40)), fp(0.4), StatusMet),
		},
		{
			name: "exactly on the target",
			now:  step(70, ok), base: step(100, ok), prev: step(70, ok),
			wantTarget: 0.3,
			want: row(70, ok, change(70, ok, fp(0), fp(0)),
				change(100, ok, fp(-30), fp(-30)), fp(0.3), StatusMet),
		},
		{
			name: "on the target despite float rounding",
			// (30.4 - 21.28) / 30.4 computes to 0.29999999999999993.
			now: step(21.28, ok), base: step(30.4, ok), prev: []spec{},
			wantTarget: 0.3,
			want: row(21.28, ok, nil, change(30.4, ok, fp(-9.12), fp(-30)),
				fp(0.3), StatusMet),
		},
		{
			name: "faster but short of the target",
			now:  step(70.1, ok), base: step(100, ok), prev: step(90, ok),
			wantTarget: 0.3,
			want: row(70.1, ok, change(90, ok, fp(-19.9), fp(-22.111111)),
				change(100, ok, fp(-29.9), fp(-29.9)), fp(0.299), StatusMissed),
		},
		{
			name: "slower",
			now:  step(60, ok), prev: step(50, ok), base: step(40, ok),
			wantTarget: 0.3,
			want: row(60, ok, change(50, ok, fp(10), fp(20)),
				change(40, ok, fp(20), fp(50)), fp(-0.5), StatusMissed),
		},
		{
			name: "equal",
			now:  step(50, ok), prev: step(50, ok), base: step(50, ok),
			wantTarget: 0.3,
			want: row(50, ok, change(50, ok, fp(0), fp(0)),
				change(50, ok, fp(0), fp(0)), fp(0), StatusMissed),
		},
		{
			name: "custom target",
			now:  step(60, ok), base: step(100, ok),
			target: 0.5, wantTarget: 0.5,
			want: row(60, ok, nil, change(100, ok, fp(-40), fp(-40)), fp(0.4), StatusMissed),
		},
		{
			name: "new component",
			now:  step(30, ok), prev: step(40, ok), base: other,
			wantTarget: 0.3,
			want:       row(30, ok, change(40, ok, fp(-10), fp(-25)), nil, nil, StatusNew),
		},
		{
			name: "failed component is never met",
			now:  step(20, failed), prev: step(80, ok), base: step(100, ok),
			wantTarget: 0.3,
			want: row(20, failed, change(80, ok, nil, nil), change(100, ok, nil, nil),
				nil, StatusFailed),
		},
		{
			name: "cancelled component counts as failed",
			now:  step(5, cancelled), base: step(100, ok),
			wantTarget: 0.3,
			want:       row(5, cancelled, nil, change(100, ok, nil, nil), nil, StatusFailed),
		},
		{
			name: "skipped component",
			now:  step(0, skipped), base: step(100, ok),
			wantTarget: 0.3,
			want:       row(0, skipped, nil, change(100, ok, nil, nil), nil, StatusSkipped),
		},
		{
			name: "zero baseline",
			now:  step(10, ok), prev: step(0, ok), base: step(0, ok),
			wantTarget: 0.3,
			want: row(10, ok, change(0, ok, fp(10), nil), change(0, ok, fp(10), nil),
				nil, StatusBaselineUnusable),
		},
		{
			name: "zero now and zero baseline",
			now:  step(0, ok), base: step(0, ok),
			wantTarget: 0.3,
			want:       row(0, ok, nil, change(0, ok, fp(0), nil), nil, StatusBaselineUnusable),
		},
		{
			name: "baseline failed",
			now:  step(50, ok), base: step(100, failed),
			wantTarget: 0.3,
			want:       row(50, ok, nil, change(100, failed, nil, nil), nil, StatusBaselineUnusable),
		},
		{
			name:       "no previous and no baseline",
			now:        step(50, ok),
			wantTarget: 0.3,
			want:       row(50, ok, nil, nil, nil, StatusNoBaseline),
		},
		{
			name: "previous only",
			now:  step(50, ok), prev: step(100, ok),
			target: math.NaN(), wantTarget: 0.3,
			want: row(50, ok, change(100, ok, fp(-50), fp(-50)), nil, nil, StatusNoBaseline),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := day(2026, 3, 3)
			current := record("now", start, 600, tt.now...)
			var prev, base *drills.Record
			if tt.prev != nil {
				r := record("prev", start.AddDate(-1, 0, 0), 600, tt.prev...)
				prev = &r
			}
			if tt.base != nil {
				r := record("base", start.AddDate(-2, 0, 0), 600, tt.base...)
				base = &r
			}

			got := Compare(current, prev, base, tt.target)

			require.Equal(t, tt.wantTarget, got.Target)
			var rows []Row
			for _, r := range got.Components {
				if r.Key == key {
					rows = append(rows, rounded(r))
				}
			}
			require.Equal(t, []Row{tt.want}, rows)
		})
	}
}

func TestCompareOrderAndSummary(t *testing.T) {
	start := day(2026, 3, 3)
	current := record("now", start, 900,
		spec{drills.PhaseFailback, "flip-dns:shop", 500, 40, ok},
		spec{drills.PhaseFailover, "scale-service:web", 0, 30, ok},
		spec{"verify", "check:orders", 700, 5, ok},
		spec{drills.PhaseRestore, "restore-database:orders", 800, 90, failed},
		spec{drills.PhaseFailover, "promote-database:orders", 0, 50, ok},
		spec{drills.PhaseFailover, "promote-database:orders", 0, 999, ok}, // duplicate
		spec{drills.PhaseFailover, "flip-dns:shop", 60, 20, ok},
	)
	baseline := record("base", start.AddDate(-2, 0, 0), 1200,
		spec{drills.PhaseFailover, "promote-database:orders", 0, 100, ok},
		spec{drills.PhaseFailover, "drain:legacy", 0, 10, ok},
		spec{drills.PhaseFailover, "flip-dns:shop", 100, 25, ok},
		spec{drills.PhaseFailover, "scale-service:web", 0, 0, ok},
		spec{drills.PhaseFailback, "flip-dns:shop", 500, 60, ok},
	)
	previous := record("prev", start.AddDate(-1, 0, 0), 1000,
		spec{drills.PhaseFailback, "old:step", 0, 10, ok},
		spec{"zeta", "z:z", 0, 1, ok},
	)

	got := Compare(current, &previous, &baseline, 0)

	var keys, statuses []string
	for _, r := range got.Components {
		keys = append(keys, r.Key)
		statuses = append(statuses, r.Status)
	}
	require.Equal(t, []string{
		"failover/scale-service:web",
		"failover/promote-database:orders",
		"failover/flip-dns:shop",
		"failover/drain:legacy",
		"failback/flip-dns:shop",
		"failback/old:step",
		"restore/restore-database:orders",
		"verify/check:orders",
		"zeta/z:z",
	}, keys)
	require.Equal(t, []string{
		StatusBaselineUnusable, StatusMet, StatusMissed, StatusRemoved,
		StatusMet, StatusRemoved, StatusFailed, StatusNew, StatusRemoved,
	}, statuses)
	require.Equal(t, 50.0, got.Components[1].Seconds, "the first of duplicate entries counts")
	require.Equal(t, Summary{
		Components: 6, Met: 2, Missed: 1, Failed: 1, New: 1, BaselineUnusable: 1, Removed: 3,
	}, got.Summary)
	require.Equal(t, &Ref{ID: "base", Kind: drills.KindDrill, Started: baseline.Started},
		got.Baseline)
	require.Equal(t, "now", got.Current)
}

func TestCompareTotals(t *testing.T) {
	start := day(2026, 3, 3)
	specs := func(promote, flip, back float64, backOutcome string) []spec {
		return []spec{
			{drills.PhaseFailover, "promote-database:orders", 0, promote, ok},
			{drills.PhaseFailover, "flip-dns:shop", promote, flip, ok},
			{drills.PhaseFailback, "flip-dns:shop", 600, back, backOutcome},
		}
	}
	current := record("now", start, 700, specs(50, 20, 30, ok)...)
	previous := record("prev", start.AddDate(-1, 0, 0), 800, specs(60, 20, 40, failed)...)
	baseline := record("base", start.AddDate(-2, 0, 0), 1000, specs(100, 30, 50, ok)...)

	tests := []struct {
		name     string
		prev     *drills.Record
		base     *drills.Record
		outcome  string
		wantRows []Row
	}{
		{
			name: "against previous and baseline",
			prev: &previous, base: &baseline, outcome: ok,
			wantRows: []Row{
				{
					Key: "total:failover", Phase: drills.PhaseFailover,
					Component: "sum of failover components", Kind: "total", Present: true,
					Seconds: 70, Outcome: ok,
					Previous: &Change{Seconds: 80, Outcome: ok, Delta: fp(-10), Percent: fp(-12.5)},
					Baseline: &Change{Seconds: 130, Outcome: ok, Delta: fp(-60),
						Percent: fp(-46.153846)},
					Improvement: fp(0.461538), Status: StatusMet,
				},
				{
					Key: "total:failback", Phase: drills.PhaseFailback,
					Component: "sum of failback components", Kind: "total", Present: true,
					Seconds: 30, Outcome: ok,
					Previous:    &Change{Seconds: 40, Outcome: failed},
					Baseline:    &Change{Seconds: 50, Outcome: ok, Delta: fp(-20), Percent: fp(-40)},
					Improvement: fp(0.4), Status: StatusMet,
				},
				{
					Key: "total:wall", Component: "wall time", Kind: "total", Present: true,
					Seconds: 700, Outcome: ok,
					Previous: &Change{Seconds: 800, Outcome: ok, Delta: fp(-100),
						Percent: fp(-12.5)},
					Baseline: &Change{Seconds: 1000, Outcome: ok, Delta: fp(-300),
						Percent: fp(-30)},
					Improvement: fp(0.3), Status: StatusMet,
				},
			},
		},
		{
			name:    "failed drill, no references",
			outcome: failed,
			wantRows: []Row{
				{
					Key: "total:failover", Phase: drills.PhaseFailover,
					Component: "sum of failover components", Kind: "total", Present: true,
					Seconds: 70, Outcome: ok, Status: StatusNoBaseline,
				},
				{
					Key: "total:failback", Phase: drills.PhaseFailback,
					Component: "sum of failback components", Kind: "total", Present: true,
					Seconds: 30, Outcome: ok, Status: StatusNoBaseline,
				},
				{
					Key: "total:wall", Component: "wall time", Kind: "total", Present: true,
					Seconds: 700, Outcome: failed, Status: StatusFailed,
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := current
			cur.Outcome = tt.outcome

			got := Compare(cur, tt.prev, tt.base, 0)

			var rows []Row
			for _, r := range got.Totals {
				rows = append(rows, rounded(r))
			}
			require.Equal(t, tt.wantRows, rows)
		})
	}
}

func TestPhaseTotalOutcome(t *testing.T) {
	tests := []struct {
		name     string
		outcomes []string
		want     string
	}{
		{"all succeeded", []string{ok, ok}, ok},
		{"one skipped", []string{ok, skipped}, skipped},
		{"one failed", []string{ok, failed, skipped}, failed},
		{"skipped after failed", []string{failed, skipped}, failed},
		{"one cancelled", []string{cancelled, ok}, failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var specs []spec
			for i, o := range tt.outcomes {
				specs = append(specs, spec{drills.PhaseFailover, "s:" + string(rune('a'+i)), 0, 10, o})
			}
			r := record("r", day(2026, 1, 1), 100, specs...)

			got := phaseTotal(&r, drills.PhaseFailover)

			require.Equal(t, measure{found: true, seconds: float64(10 * len(specs)), outcome: tt.want},
				got)
		})
	}
}

// history is a fixture of three annual drills and an incident, the
// latest drill last.
func history() []drills.Record {
	drill := func(id string, at time.Time, promote, web, dns, back float64,
		backOutcome string, extra ...spec) drills.Record {
		specs := []spec{
			{drills.PhaseFailover, "promote-database:orders", 0, promote, ok},
			{drills.PhaseFailover, "scale-service:web", 0, web, ok},
			{drills.PhaseFailover, "flip-dns:shop", promote, dns, ok},
			{drills.PhaseFailback, "flip-dns:shop", 1800, back, backOutcome},
		}
		r := record(id, at, 2000, append(specs, extra...)...)
		r.Purpose, r.Mode, r.From, r.To = "practice", "graceful", "us-east-1", "us-west-2"
		r.StartedBy, r.Reason = "schedule", "annual drill"
		return r
	}
	restore := spec{drills.PhaseRestore, "restore-database:orders", 1900, 420, ok}

	base := drill("drill-2024", day(2024, 3, 5), 300, 120, 60, 55, ok)
	prev := drill("drill-2025", day(2025, 3, 4), 240, 100, 50, 50, ok, restore)
	incident := record("incident-2025", day(2025, 8, 19), 400,
		spec{drills.PhaseFailover, "promote-database:orders", 0, 280, ok},
		spec{drills.PhaseFailover, "flip-dns:shop", 280, 45, ok})
	incident.Kind = drills.KindIncident
	cur := drill("drill-2026", day(2026, 3, 3), 150, 60, 40, 70, failed, restore,
		spec{drills.PhaseFailover, "scale-service:worker", 5, 75, ok})
	cur.ScheduleID = "shop-annual-drill"
	cur.StartedBy = "schedule:shop-annual-drill"
	cur.Reason = `yearly <evidence> & "audit" | SOC 2`
	cur.Outcome = failed
	cur.Message = "failback of flip-dns:shop failed"
	cur.Approvals = []drills.Approval{
		{Phase: drills.PhaseFailover, Step: "promote-database:orders", By: "alice@example.com",
			At: cur.Started.Add(30 * time.Second)},
	}
	cur.Cleanup = []drills.Cleanup{
		{Region: "us-west-2", Resource: "rds instance drill-shop-orders-0303",
			Action: "deleted", Outcome: ok, At: cur.Started.Add(1990 * time.Second)},
		{Region: "us-west-2", Resource: "ecs service scratch", Action: "deleted",
			Outcome: failed, At: cur.Started.Add(1995 * time.Second), Detail: "access denied"},
	}
	return []drills.Record{base, prev, incident, cur}
}

func exampleData() Data {
	h := history()
	cur := h[len(h)-1]
	return Data{
		App:        "shop",
		Record:     cur,
		Comparison: Compare(cur, &h[1], &h[0], 0),
		History:    h,
		Generated:  time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC),
	}
}

// node is an element of a page read back with encoding/xml.
type node struct {
	name     string
	attr     map[string]string
	children []*node
	text     string
}

// parseXML reads b with a strict XML decoder, which fails on any element
// left open, on unquoted attributes and on undeclared entities.
func parseXML(t *testing.T, b []byte) *node {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	root := &node{name: "#document"}
	stack := []*node{root}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the HTML must be well-formed XML")
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attr: map[string]string{}}
			for _, a := range tok.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.text += string(tok)
		}
	}
	require.Len(t, stack, 1, "every element is closed")
	return root
}

func (n *node) all(match func(*node) bool) []*node {
	var out []*node
	for _, c := range n.children {
		if match(c) {
			out = append(out, c)
		}
		out = append(out, c.all(match)...)
	}
	return out
}

func (n *node) textContent() string {
	s := n.text
	for _, c := range n.children {
		s += c.textContent()
	}
	return s
}

func hasClass(n *node, class string) bool {
	return slices.Contains(strings.Fields(n.attr["class"]), class)
}

func renderString(t *testing.T, format string, data Data) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, format, data))
	return buf.String()
}

func TestHTMLChartSeries(t *testing.T) {
	data := exampleData()
	doc := parseXML(t, []byte(renderString(t, FormatHTML, data)))

	series := doc.all(func(n *node) bool { _, ok := n.attr["data-component"]; return ok })
	got := map[string]int{}
	var order []string
	for _, s := range series {
		require.Equal(t, "g", s.name)
		require.True(t, hasClass(s, "series"))
		require.NotEmpty(t, s.all(func(n *node) bool { return n.name == "title" }))
		key := s.attr["data-component"]
		require.NotContains(t, got, key, "one series per component")
		got[key] = len(s.all(func(n *node) bool { return hasClass(n, "point") }))
		order = append(order, key)
	}

	require.Equal(t, map[string]int{
		"failover/promote-database:orders": 4,
		"failover/scale-service:web":       3,
		"failover/scale-service:worker":    1,
		"failover/flip-dns:shop":           4,
		"failback/flip-dns:shop":           3,
		"restore/restore-database:orders":  2,
	}, got)
	require.Equal(t, []string{
		"failover/promote-database:orders",
		"failover/scale-service:web",
		"failover/flip-dns:shop",
		"failover/scale-service:worker",
		"failback/flip-dns:shop",
		"restore/restore-database:orders",
	}, order)
	for key, n := range got {
		var want int
		for _, r := range data.History {
			if _, found := findComponent(r, key); found {
				want++
			}
		}
		require.Equal(t, want, n, "points of %s", key)
	}

	failedPoints := doc.all(func(n *node) bool {
		return hasClass(n, "point") && hasClass(n, "failed")
	})
	require.Len(t, failedPoints, 1, "the failed failback is drawn as a cross")
	require.Equal(t, "path", failedPoints[0].name)
	require.Equal(t, "drill-2026", failedPoints[0].attr["data-drill"])
}

func TestHTMLSeriesWithAnHTMLParser(t *testing.T) {
	page := renderString(t, FormatHTML, exampleData())

	doc, err := html.Parse(strings.NewReader(page))
	require.NoError(t, err)

	got := map[string]int{}
	var walk func(n *html.Node, series string)
	walk = func(n *html.Node, series string) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "data-component" {
					series = a.Val
					got[series] += 0
				}
				if a.Key == "class" && slices.Contains(strings.Fields(a.Val), "point") {
					require.NotEmpty(t, series, "a point sits inside its series")
					got[series]++
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, series)
		}
	}
	walk(doc, "")

	require.Equal(t, map[string]int{
		"failover/promote-database:orders": 4,
		"failover/scale-service:web":       3,
		"failover/scale-service:worker":    1,
		"failover/flip-dns:shop":           4,
		"failback/flip-dns:shop":           3,
		"restore/restore-database:orders":  2,
	}, got)
}

func TestHTMLSelfContained(t *testing.T) {
	page := renderString(t, FormatHTML, exampleData())
	doc := parseXML(t, []byte(page))

	external := regexp.MustCompile(`(?i)^\s*(https?:|//|ftp:|file:|data:)`)
	for _, n := range doc.all(func(*node) bool { return true }) {
		require.NotContains(t, []string{"script", "link", "img", "iframe", "object", "embed",
			"image", "use", "foreignObject"}, n.name, "no embedded or linked content")
		for name, value := range n.attr {
			if name == "src" || name == "href" || name == "action" || name == "srcset" {
				require.NotRegexp(t, external, value, "<%s %s>", n.name, name)
			}
			require.False(t, strings.HasPrefix(name, "on"), "no event handlers: %s", name)
		}
	}
	require.NotRegexp(t, `(?i)(src|href)\s*=\s*["']?\s*(https?:|//)`, page)
	require.NotRegexp(t, `(?i)url\(|@import`, page)
	require.NotContains(t, strings.ToLower(page), "<script")
}

func TestHTMLEvidence(t *testing.T) {
	data := exampleData()
	doc := parseXML(t, []byte(renderString(t, FormatHTML, data)))

	tables := doc.all(func(n *node) bool { return n.name == "table" && hasClass(n, "evidence") })
	require.Len(t, tables, 1)
	fields := map[string]string{}
	for _, tr := range tables[0].all(func(n *node) bool { return n.name == "tr" }) {
		require.Len(t, tr.children, 2)
		fields[tr.children[0].textContent()] = tr.children[1].textContent()
	}

	tests := []struct{ label, want string }{
		{"Application", "shop"},
		{"Record", "drill-2026"},
		{"Kind", "drill"},
		{"Workflow ID", "drill-shop-2026"},
		{"Run ID", "run-drill-2026"},
		{"Schedule ID", "shop-annual-drill"},
		{"Started by", "schedule:shop-annual-drill"},
		{"Reason", `yearly <evidence> & "audit" | SOC 2`},
		{"Purpose", "practice"},
		{"Mode", "graceful"},
		{"Regions", "us-east-1 → us-west-2"},
		{"Started", "2026-03-03 09:00:00Z"},
		{"Ended", "2026-03-03 09:33:20Z"},
		{"Duration", "2000.0 s (33m20s)"},
		{"Outcome", "✗ failed"},
		{"Message", "failback of flip-dns:shop failed"},
		{"Previous drill", "drill-2025 (drill, started 2025-03-04 09:00:00Z)"},
		{"Baseline drill", "drill-2024 (drill, started 2024-03-05 09:00:00Z)"},
		{"Target", "30% faster than the baseline"},
		{"Report generated", "2026-03-03 10:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			require.Equal(t, tt.want, fields[tt.label])
		})
	}
	require.Len(t, fields, len(tests))

	rowsOf := func(class string) [][]string {
		var rows [][]string
		table := doc.all(func(n *node) bool { return n.name == "table" && hasClass(n, class) })
		require.Len(t, table, 1, class)
		for _, tr := range table[0].all(func(n *node) bool { return n.name == "tr" })[1:] {
			var cells []string
			for _, td := range tr.children {
				cells = append(cells, td.textContent())
			}
			rows = append(rows, cells)
		}
		return rows
	}
	require.Equal(t, [][]string{
		{"failover", "promote-database:orders", "alice@example.com", "2026-03-03 09:00:30Z"},
	}, rowsOf("approvals"))
	require.Equal(t, [][]string{
		{"us-west-2", "rds instance drill-shop-orders-0303", "deleted", "✓ succeeded",
			"2026-03-03 09:33:10Z", "—"},
		{"us-west-2", "ecs service scratch", "deleted", "✗ failed",
			"2026-03-03 09:33:15Z", "access denied"},
	}, rowsOf("cleanup"))
}

func TestHTMLComparisonTable(t *testing.T) {
	doc := parseXML(t, []byte(renderString(t, FormatHTML, exampleData())))

	rows := map[string][]*node{}
	for _, tr := range doc.all(func(n *node) bool { _, ok := n.attr["data-row"]; return ok }) {
		rows[tr.attr["data-row"]] = tr.children
	}

	tests := []struct {
		key, now, prevChange, baseChange, status, class string
	}{
		{"failover/promote-database:orders", "150.0 s", "-90.0 s (-37.5%)", "-150.0 s (-50.0%)",
			"✓ met (50% faster vs baseline, target 30%)", "met"},
		{"failover/flip-dns:shop", "40.0 s", "-10.0 s (-20.0%)", "-20.0 s (-33.3%)",
			"✓ met (33.3% faster vs baseline, target 30%)", "met"},
		{"failover/scale-service:web", "60.0 s", "-40.0 s (-40.0%)", "-60.0 s (-50.0%)",
			"✓ met (50% faster vs baseline, target 30%)", "met"},
		{"failover/scale-service:worker", "75.0 s", "—", "—",
			"– new: not in the baseline", "new"},
		{"failback/flip-dns:shop", "70.0 s (failed)", "—", "—",
			"✗ failed in this drill", "failed"},
		{"restore/restore-database:orders", "420.0 s", "±0 s (±0%)", "—",
			"– new: not in the baseline", "new"},
		{"total:wall", "2000.0 s (failed)", "—", "—", "✗ failed in this drill", "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			cells := rows[tt.key]
			require.Len(t, cells, 7)
			require.Equal(t, tt.now, cells[1].textContent())
			require.Equal(t, tt.prevChange, cells[3].textContent())
			require.Equal(t, tt.baseChange, cells[5].textContent())
			require.Equal(t, tt.status, cells[6].textContent())
			require.True(t, hasClass(cells[6], tt.class))
		})
	}
}

func TestHTMLTimeline(t *testing.T) {
	data := exampleData()
	doc := parseXML(t, []byte(renderString(t, FormatHTML, data)))

	timelines := doc.all(func(n *node) bool { return n.name == "svg" && hasClass(n, "timeline") })
	var phases []string
	for _, tl := range timelines {
		phase := tl.attr["data-phase"]
		phases = append(phases, phase)
		var want []string
		for _, c := range data.Record.Components {
			if c.Phase == phase {
				want = append(want, c.Key())
			}
		}
		var steps []string
		for _, g := range tl.all(func(n *node) bool { return hasClass(n, "step") }) {
			steps = append(steps, g.attr["data-step"])
			require.Len(t, g.all(func(n *node) bool { return n.name == "rect" }), 1)
		}
		require.Equal(t, want, steps, phase)
	}
	require.Equal(t, []string{drills.PhaseFailover, drills.PhaseFailback, drills.PhaseRestore},
		phases)

	bad := doc.all(func(n *node) bool { return hasClass(n, "step") && hasClass(n, "bad") })
	require.Len(t, bad, 1)
	require.Contains(t, bad[0].textContent(), "✗ failed", "failure is written, not only coloured")
}

func TestHTMLEscapesAndStaysWellFormed(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Data)
		check func(t *testing.T, doc *node)
	}{
		{
			name: "markup in a reason",
			edit: func(d *Data) { d.Record.Reason = `<script>alert("x")</script>` },
			check: func(t *testing.T, doc *node) {
				require.Empty(t, doc.all(func(n *node) bool { return n.name == "script" }))
				require.Contains(t, doc.textContent(), `<script>alert("x")</script>`)
			},
		},
		{
			name: "markup in a step id",
			edit: func(d *Data) {
				d.Record.Components[0].Step = `x"/><b>y</b>`
				d.History[len(d.History)-1] = d.Record
				d.Comparison = Compare(d.Record, &d.History[1], &d.History[0], 0)
			},
			check: func(t *testing.T, doc *node) {
				require.Empty(t, doc.all(func(n *node) bool { return n.name == "b" }))
				require.NotEmpty(t, doc.all(func(n *node) bool {
					return n.attr["data-component"] == `failover/x"/><b>y</b>`
				}))
			},
		},
		{
			name: "control characters and invalid UTF-8",
			edit: func(d *Data) { d.Record.Message = "bell\x07 and \xff byte" },
			check: func(t *testing.T, doc *node) {
				require.Contains(t, doc.textContent(), "bell\uFFFD and \uFFFD byte")
			},
		},
		{
			name: "no history and no components",
			edit: func(d *Data) {
				d.History = nil
				d.Record.Components = nil
				d.Comparison = Compare(d.Record, nil, nil, 0)
			},
			check: func(t *testing.T, doc *node) {
				require.Empty(t, doc.all(func(n *node) bool { return hasClass(n, "series") }))
				require.Contains(t, doc.textContent(), "No component timings have been recorded")
			},
		},
		{
			name: "a component that never started",
			edit: func(d *Data) {
				d.Record.Components[0].ActionStarted = time.Time{}
				d.Record.Components[0].Outcome = skipped
			},
			check: func(t *testing.T, doc *node) {
				steps := doc.all(func(n *node) bool {
					return n.attr["data-step"] == "failover/promote-database:orders"
				})
				require.Len(t, steps, 1)
				require.Empty(t, steps[0].all(func(n *node) bool { return n.name == "rect" }))
				require.Contains(t, steps[0].textContent(), "skipped")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := exampleData()
			tt.edit(&data)

			doc := parseXML(t, []byte(renderString(t, FormatHTML, data)))

			tt.check(t, doc)
		})
	}
}

func TestMarkdown(t *testing.T) {
	md := renderString(t, FormatMarkdown, exampleData())

	tests := []struct{ name, line string }{
		{"title", "# Recovery drill report: shop\n"},
		{"evidence", "| Workflow ID | drill-shop-2026 |\n"},
		{"escaped reason", `| Reason | yearly \<evidence\> \& "audit" \| SOC 2 |` + "\n"},
		{"met", "| failover/promote-database:orders | promote-database | 150.0 s | 240.0 s " +
			"| -90.0 s (-37.5%) | 300.0 s | -150.0 s (-50.0%) " +
			"| ✓ met (50% faster vs baseline, target 30%) |\n"},
		{"new", "| failover/scale-service:worker | scale-service | 75.0 s | — | — | — | — " +
			"| – new: not in the baseline |\n"},
		{"failed", "| failback/flip-dns:shop | flip-dns | 70.0 s (failed) | 50.0 s | — " +
			"| 55.0 s | — | ✗ failed in this drill |\n"},
		{"phase total", "| Total failover (sum of components) | total | 325.0 s | 390.0 s " +
			"| -65.0 s (-16.7%) | 480.0 s | -155.0 s (-32.3%) " +
			"| ✓ met (32.3% faster vs baseline, target 30%) |\n"},
		{"wall time", "| Wall time | total | 2000.0 s (failed) | 2000.0 s | — | 2000.0 s | — " +
			"| ✗ failed in this drill |\n"},
		{"summary", "**Target:** 3 of 6 components met the target of 30% faster than the " +
			"baseline; 1 failed, 2 new since the baseline.\n"},
		{"approval", "| failover | promote-database:orders | alice@example.com " +
			"| 2026-03-03 09:00:30Z |\n"},
		{"cleanup", "| us-west-2 | ecs service scratch | deleted | ✗ failed " +
			"| 2026-03-03 09:33:15Z | access denied |\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, md, tt.line)
		})
	}

	components := strings.Index(md, "## Components")
	totals := strings.Index(md, "## Totals")
	require.True(t, 0 < components && components < totals, "components come before totals")
}

func TestMarkdownCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a|b", `a\|b`},
		{"two\nlines\r\tend", "two lines  end"},
		{"*bold* _it_ `code` [l](u) <b> #1 !x ~s~ &amp;", `\*bold\* \_it\_ \` + "`" +
			`code\` + "`" + ` \[l\](u) \<b\> \#1 \!x \~s\~ \&amp;`},
		{`back\slash`, `back\\slash`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, mdCell(tt.in))
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	data := exampleData()
	out := renderString(t, FormatJSON, data)

	var got Data
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Equal(t, data, got)

	var generic map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &generic))
	require.ElementsMatch(t, []string{"app", "record", "comparison", "history", "generated"},
		keysOf(generic))
	cmp := generic["comparison"].(map[string]any)
	require.ElementsMatch(t, []string{"current", "previous", "baseline", "target",
		"components", "totals", "summary"}, keysOf(cmp))
	row := cmp["components"].([]any)[0].(map[string]any)
	require.ElementsMatch(t, []string{"key", "phase", "step", "component", "kind", "present",
		"seconds", "outcome", "previous", "baseline", "improvement", "status"}, keysOf(row))
	require.Equal(t, StatusMet, row["status"])
	require.Contains(t, out, "\n  \"record\": {\n", "indented")
}

func keysOf(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func TestRenderFormats(t *testing.T) {
	tests := []struct {
		format  string
		prefix  string
		wantErr string
	}{
		{format: FormatHTML, prefix: "<!DOCTYPE html>\n"},
		{format: FormatMarkdown, prefix: "# Recovery drill report: shop"},
		{format: FormatJSON, prefix: "{\n"},
		{format: "pdf", wantErr: `unknown report format "pdf": use one of html, md, json`},
		{format: "HTML", wantErr: `unknown report format "HTML"`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			data := exampleData()
			data.App = "" // falls back to the record's app

			err := Render(&buf, tt.format, data)

			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Zero(t, buf.Len(), "nothing written on error")
				return
			}
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(buf.String(), tt.prefix), buf.String()[:40])
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderWriteError(t *testing.T) {
	err := Render(failingWriter{}, FormatMarkdown, exampleData())

	require.ErrorContains(t, err, "write md report: disk full")
}

// TestExampleReportFile writes an example report to a file, as a user
// would open it. Set DROVER_REPORT_DIR to keep the files for a look.
func TestExampleReportFile(t *testing.T) {
	dir := os.Getenv("DROVER_REPORT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, format := range Formats() {
		path := filepath.Join(dir, "drill-report."+format)
		f, err := os.Create(path)
		require.NoError(t, err)
		require.NoError(t, Render(f, format, exampleData()))
		require.NoError(t, f.Close())

		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Contains(t, string(b), "drill-shop-2026")
		if format == FormatHTML {
			parseXML(t, b)
		}
	}
}
