package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/drover-dev/drover/drills"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"time":    fmtTime,
	"outcome": statusMarkOutcome,
	"orDash":  orDash,
	"n":       func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
}).Parse(htmlSource))

// renderHTML writes one self-contained page: inline CSS, inline SVG drawn
// here, no scripts and no references to anything outside the file. The
// page is also well-formed XML, so that XML tools can read the evidence.
func renderHTML(buf *bytes.Buffer, data Data) error {
	var out bytes.Buffer
	if err := htmlTemplate.Execute(&out, newPage(data)); err != nil {
		return err
	}
	buf.WriteString(strings.Map(xmlChar, out.String()))
	return nil
}

// xmlChar replaces the characters that XML 1.0 forbids (control
// characters, which html/template passes through) with U+FFFD.
func xmlChar(r rune) rune {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return r
	case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r < 0xE000:
		return utf8.RuneError
	}
	return r
}

// page is what the HTML template shows.
type page struct {
	Title     string
	Evidence  []field
	Approvals []drills.Approval
	Cleanup   []drills.Cleanup
	Rows      []rowView
	Totals    []rowView
	Summary   string
	Chart     chart
	Timelines []timeline
	History   []historyRow
}

type rowView struct {
	Key, Label, Sub            string
	Now, Previous, Baseline    string
	PrevChange, BaseChange     string
	PrevClass, BaseClass       string
	Status, StatusClass, Title string
}

type historyRow struct {
	Date, ID, Kind, Outcome, Wall string
	Current                       bool
}

func newPage(data Data) page {
	r, c := data.Record, data.Comparison
	p := page{
		Title:     fmt.Sprintf("Recovery %s report: %s", orDash(r.Kind), data.App),
		Evidence:  evidence(data.App, r, c, data.Generated),
		Approvals: r.Approvals,
		Cleanup:   r.Cleanup,
		Rows:      rowViews(c.Components, c.Target),
		Totals:    rowViews(c.Totals, c.Target),
		Summary:   fmtSummary(c),
	}

	records := chartRecords(data)
	p.Chart = newChart(records, r)
	p.Timelines = newTimelines(r)
	for _, h := range records {
		p.History = append(p.History, historyRow{
			Date:    fmtTime(h.Started),
			ID:      h.ID,
			Kind:    h.Kind,
			Outcome: statusMarkOutcome(h.Outcome),
			Wall:    fmtDuration(h.Total()),
			Current: h.ID == r.ID,
		})
	}
	return p
}

func rowViews(rows []Row, target float64) []rowView {
	views := make([]rowView, 0, len(rows))
	for _, r := range rows {
		sub := r.Kind
		if r.Component != "" && r.Kind != "total" {
			sub = r.Kind + " · " + r.Component
		}
		views = append(views, rowView{
			Key:         r.Key,
			Label:       rowLabel(r),
			Sub:         sub,
			Now:         fmtNow(r),
			Previous:    fmtRef(r.Previous),
			Baseline:    fmtRef(r.Baseline),
			PrevChange:  fmtChange(r.Previous),
			BaseChange:  fmtChange(r.Baseline),
			PrevClass:   changeClass(r.Previous),
			BaseClass:   changeClass(r.Baseline),
			Status:      fmtStatus(r, target),
			StatusClass: r.Status,
		})
	}
	return views
}

// chartRecords returns the history, oldest first, with the reported
// record added when the history lacks it.
func chartRecords(data Data) []drills.Record {
	records := slices.Clone(data.History)
	if data.Record.ID != "" && !slices.ContainsFunc(records, func(h drills.Record) bool {
		return h.ID == data.Record.ID
	}) {
		records = append(records, data.Record)
	}
	slices.SortStableFunc(records, func(a, b drills.Record) int {
		return a.Started.Compare(b.Started)
	})
	return records
}

// Geometry of the trend chart, in SVG user units.
const (
	chartWidth  = 880
	chartHeight = 340
	chartLeft   = 72
	chartRight  = 24
	chartTop    = 20
	chartBottom = 64
	// maxDateLabels keeps the dates under the chart from overlapping.
	maxDateLabels = 12
)

// palette and dashes tell series apart; the dash pattern changes each
// time the colours come round again.
var (
	palette = []string{"#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c",
		"#0e7490", "#a16207", "#be185d", "#4d7c0f", "#475569"}
	dashes = []string{"none", "6 3", "2 3", "8 3 2 3"}
)

type chart struct {
	Width, Height int
	// Axes and their labels.
	XAxis, YAxis        line
	XLabel, YLabel      text
	XTicks, YTicks      []tick
	Series              []series
	Empty               bool
	PlotLeft, PlotRight float64
}

type line struct {
	Class          string
	X1, Y1, X2, Y2 float64
}

type text struct {
	X, Y float64
	Text string
}

type tick struct {
	Line  line
	Label text
}

type series struct {
	Key, Title  string
	Color, Dash string
	Points      string
	HasLine     bool
	DataPoints  []point
}

type point struct {
	X, Y    float64
	Failed  bool
	Path    string
	Title   string
	DrillID string
}

// newChart draws each component's recovery time across the records: one
// series per component key, one point per record that has it. Records
// sit at equal spacing in time order, so that years and incidents close
// together stay readable; the dates are written under them.
func newChart(records []drills.Record, current drills.Record) chart {
	c := chart{Width: chartWidth, Height: chartHeight}
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	bottom := float64(chartHeight - chartBottom)
	c.PlotLeft, c.PlotRight = chartLeft, chartLeft+plotW
	c.XAxis = line{"axis", chartLeft, bottom, chartLeft + plotW, bottom}
	c.YAxis = line{"axis", chartLeft, chartTop, chartLeft, bottom}
	c.XLabel = text{chartLeft + plotW/2, chartHeight - 8, "drill start date (UTC)"}
	c.YLabel = text{18, chartTop + plotH/2, "recovery time (seconds)"}

	keys := chartKeys(current, records)
	c.Empty = len(keys) == 0

	var most float64
	for _, r := range records {
		for _, comp := range r.Components {
			most = max(most, comp.Seconds)
		}
	}
	top := niceCeil(most)
	x := func(i int) float64 { return chartLeft + plotW*(float64(i)+0.5)/float64(len(records)) }
	y := func(v float64) float64 { return bottom - plotH*max(v, 0)/top }

	for i := 0; i <= 5; i++ {
		v := top * float64(i) / 5
		c.YTicks = append(c.YTicks, tick{
			Line:  line{"grid", chartLeft - 5, y(v), chartLeft + plotW, y(v)},
			Label: text{chartLeft - 8, y(v) + 4, fmtTick(v)},
		})
	}
	every := (len(records) + maxDateLabels - 1) / maxDateLabels
	for i, r := range records {
		if i%every != 0 {
			continue
		}
		label := fmtDate(r.Started)
		if r.Kind == drills.KindIncident {
			label += " (incident)"
		}
		c.XTicks = append(c.XTicks, tick{
			Line:  line{"axis", x(i), bottom, x(i), bottom + 5},
			Label: text{x(i), bottom + 20, label},
		})
	}

	for n, key := range keys {
		s := series{
			Key:   key,
			Color: palette[n%len(palette)],
			Dash:  dashes[(n/len(palette))%len(dashes)],
		}
		var pts []string
		for i, r := range records {
			comp, ok := findComponent(r, key)
			if !ok {
				continue
			}
			p := point{
				X:       x(i),
				Y:       y(comp.Seconds),
				DrillID: r.ID,
				Failed:  comp.Outcome != drills.OutcomeSucceeded,
				Title: fmt.Sprintf("%s, %s: %s, %s", key, fmtDate(r.Started),
					fmtSeconds(comp.Seconds), orDash(comp.Outcome)),
			}
			if p.Failed {
				// A cross marks a recovery that did not succeed: its
				// time is shown but kept off the line.
				p.Path = fmt.Sprintf("M%.1f %.1fl12 12m0 -12l-12 12", p.X-6, p.Y-6)
			} else {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", p.X, p.Y))
			}
			s.DataPoints = append(s.DataPoints, p)
		}
		s.Points = strings.Join(pts, " ")
		s.HasLine = len(pts) > 1
		s.Title = fmt.Sprintf("%s: %d drills", key, len(s.DataPoints))
		c.Series = append(c.Series, s)
	}
	return c
}

// chartKeys lists the component keys in the records in report order:
// by phase, then as the current record lists them, then as first seen.
func chartKeys(current drills.Record, records []drills.Record) []string {
	all := []*drills.Record{&current}
	for i := range records {
		all = append(all, &records[len(records)-1-i])
	}
	keys, _ := orderedKeys(all)
	return keys
}

func findComponent(r drills.Record, key string) (drills.Component, bool) {
	for _, c := range r.Components {
		if c.Key() == key {
			return c, true
		}
	}
	return drills.Component{}, false
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, and to at least 1.
func niceCeil(v float64) float64 {
	if v <= 1 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*pow {
			return m * pow
		}
	}
	return 10 * pow
}

func fmtTick(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// Geometry of a timeline, in SVG user units.
const (
	timelineWidth  = 880
	timelineLabels = 280
	timelineRight  = 110
	timelineRow    = 24
	timelineTop    = 12
	timelineBottom = 44
	labelRunes     = 40
)

type timeline struct {
	Phase         string
	Width, Height int
	Caption       string
	Bars          []bar
	Ticks         []tick
	Axis          line
	AxisLabel     text
	Start, End    string
}

type bar struct {
	Label        text
	FullLabel    string
	X, Y, W, H   float64
	HasBar       bool
	Note         text
	Title, Class string
}

// newTimelines draws, per phase, each component's recovery from the start
// of its action to the observation of its healthy state. Each phase has
// its own time axis, since a soak of hours can separate the phases.
func newTimelines(r drills.Record) []timeline {
	byPhase := map[string][]drills.Component{}
	var phases []string
	for _, c := range r.Components {
		if _, ok := byPhase[c.Phase]; !ok {
			phases = append(phases, c.Phase)
		}
		byPhase[c.Phase] = append(byPhase[c.Phase], c)
	}
	rank := phaseRanks(phases)
	slices.SortStableFunc(phases, func(a, b string) int { return rank[a] - rank[b] })

	var out []timeline
	for _, phase := range phases {
		out = append(out, newTimeline(phase, byPhase[phase]))
	}
	return out
}

func newTimeline(phase string, comps []drills.Component) timeline {
	var t0, t1 time.Time
	for _, c := range comps {
		start, end, ok := span(c)
		if !ok {
			continue
		}
		if t0.IsZero() || start.Before(t0) {
			t0 = start
		}
		if end.After(t1) {
			t1 = end
		}
	}
	total := niceCeil(t1.Sub(t0).Seconds())

	plotW := float64(timelineWidth - timelineLabels - timelineRight)
	bottom := float64(timelineTop + timelineRow*len(comps))
	x := func(at time.Time) float64 {
		return timelineLabels + plotW*at.Sub(t0).Seconds()/total
	}
	t := timeline{
		Phase:   phase,
		Width:   timelineWidth,
		Height:  int(bottom) + timelineBottom,
		Caption: fmt.Sprintf("%s: from the start of each action to its healthy state", phase),
		Axis:    line{"axis", timelineLabels, bottom, timelineLabels + plotW, bottom},
		AxisLabel: text{timelineLabels + plotW/2, bottom + 36,
			"seconds after " + fmtTime(t0)},
	}
	for i := 0; i <= 5; i++ {
		v := total * float64(i) / 5
		px := timelineLabels + plotW*float64(i)/5
		t.Ticks = append(t.Ticks, tick{
			Line:  line{"grid", px, timelineTop, px, bottom + 5},
			Label: text{px, bottom + 18, fmtTick(v)},
		})
	}

	for i, c := range comps {
		y := float64(timelineTop + timelineRow*i)
		b := bar{
			Label:     text{timelineLabels - 8, y + timelineRow/2 + 4, shorten(c.Step)},
			FullLabel: c.Key(),
			Y:         y + 4,
			H:         timelineRow - 8,
			Class:     "ok",
		}
		if c.Outcome != drills.OutcomeSucceeded {
			b.Class = "bad"
		}
		start, end, ok := span(c)
		note := fmtSeconds(c.Seconds)
		if c.Outcome != drills.OutcomeSucceeded {
			note = statusMarkOutcome(c.Outcome)
			if ok {
				note = fmtSeconds(c.Seconds) + " " + note
			}
		}
		if ok {
			b.HasBar = true
			b.X, b.W = x(start), max(x(end)-x(start), 1)
			b.Title = fmt.Sprintf("%s (%s in %s): %s → %s, %s, %s", c.Key(), c.Kind,
				orDash(c.Region), fmtTime(start), fmtTime(end), fmtSeconds(c.Seconds),
				orDash(c.Outcome))
			b.Note = text{b.X + b.W + 6, y + timelineRow/2 + 4, note}
		} else {
			b.Title = fmt.Sprintf("%s: not started, %s", c.Key(), orDash(c.Outcome))
			b.Note = text{timelineLabels + 6, y + timelineRow/2 + 4, note}
		}
		t.Bars = append(t.Bars, b)
	}
	if !t0.IsZero() {
		t.Start, t.End = fmtTime(t0), fmtTime(t1)
	}
	return t
}

// span returns when a component's action started and when it was seen
// healthy; a component that never became healthy ends at start + Seconds.
func span(c drills.Component) (start, end time.Time, ok bool) {
	if c.ActionStarted.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	end = c.HealthyAt
	if end.IsZero() || end.Before(c.ActionStarted) {
		end = c.ActionStarted.Add(time.Duration(max(c.Seconds, 0) * float64(time.Second)))
	}
	return c.ActionStarted, end, true
}

// shorten keeps a label within the label column; the full text is in
// the element's title.
func shorten(s string) string {
	if utf8.RuneCountInString(s) <= labelRunes {
		return s
	}
	return string([]rune(s)[:labelRunes-1]) + "…"
}
