package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/drover-dev/drover/drills"
)

// Report formats.
const (
	// FormatHTML is one self-contained page with charts, for auditors.
	FormatHTML = "html"
	// FormatMarkdown is a summary for tickets.
	FormatMarkdown = "md"
	// FormatJSON is Data as indented JSON, for machines.
	FormatJSON = "json"
)

// Formats lists the formats Render accepts.
func Formats() []string { return []string{FormatHTML, FormatMarkdown, FormatJSON} }

// Data is what a report shows.
type Data struct {
	// App is the application; when empty, the record's app is shown.
	App string `json:"app"`
	// Record is the drill or recovery reported on.
	Record     drills.Record `json:"record"`
	Comparison Comparison    `json:"comparison"`
	// History holds every record of the app, oldest first, for the
	// charts. Record is charted as well when History lacks it.
	History []drills.Record `json:"history"`
	// Generated is when the report was made; shown when set.
	Generated time.Time `json:"generated,omitzero"`
}

// Render writes the report in the given format to w. Nothing is written
// when rendering fails.
func Render(w io.Writer, format string, data Data) error {
	if data.App == "" {
		data.App = data.Record.App
	}

	var buf bytes.Buffer
	var err error
	switch format {
	case FormatHTML:
		err = renderHTML(&buf, data)
	case FormatMarkdown:
		renderMarkdown(&buf, data)
	case FormatJSON:
		err = renderJSON(&buf, data)
	default:
		return fmt.Errorf("unknown report format %q: use one of %s",
			format, strings.Join(Formats(), ", "))
	}
	if err != nil {
		return fmt.Errorf("render %s report: %w", format, err)
	}

	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return nil
}

func renderJSON(buf *bytes.Buffer, data Data) error {
	enc := json.NewEncoder(buf)
	enc.SetIndent("", "  ")
	return enc.Encode(data)
}

// The helpers below put numbers, times and statuses into words; the HTML
// and the Markdown reports share them.

const timeLayout = "2006-01-02 15:04:05Z07:00"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(timeLayout)
}

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return "undated"
	}
	return t.UTC().Format("2006-01-02")
}

func fmtSeconds(s float64) string { return fmt.Sprintf("%.1f s", s) }

// fmtDuration gives the seconds and, past a minute, hours and minutes.
func fmtDuration(s float64) string {
	if math.Abs(s) < 60 {
		return fmtSeconds(s)
	}
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%s (%s)", fmtSeconds(s), d)
}

func fmtSigned(x float64, unit string) string {
	if x == 0 {
		return "±0" + unit
	}
	return fmt.Sprintf("%+.1f%s", x, unit)
}

// fmtNow describes a row's value in the current drill.
func fmtNow(r Row) string {
	if !r.Present {
		return "—"
	}
	return withOutcome(r.Seconds, r.Outcome)
}

// fmtRef describes a row's value in a reference drill.
func fmtRef(c *Change) string {
	if c == nil {
		return "—"
	}
	return withOutcome(c.Seconds, c.Outcome)
}

func withOutcome(seconds float64, outcome string) string {
	if outcome == drills.OutcomeSucceeded {
		return fmtSeconds(seconds)
	}
	if outcome == "" {
		outcome = "no outcome"
	}
	return fmtSeconds(seconds) + " (" + outcome + ")"
}

// fmtChange describes the change against a reference: "-12.0 s (-20.0%)".
func fmtChange(c *Change) string {
	if c == nil || c.Delta == nil {
		return "—"
	}
	s := fmtSigned(*c.Delta, " s")
	if c.Percent != nil {
		s += " (" + fmtSigned(*c.Percent, "%") + ")"
	}
	return s
}

// changeClass names the direction of a change: faster, slower or same.
func changeClass(c *Change) string {
	switch {
	case c == nil || c.Delta == nil:
		return "none"
	case *c.Delta < 0:
		return "faster"
	case *c.Delta > 0:
		return "slower"
	}
	return "same"
}

// statusMark is the sign shown beside a status, so that colour is never
// the only signal.
func statusMark(status string) string {
	switch status {
	case StatusMet:
		return "✓"
	case StatusMissed, StatusFailed:
		return "✗"
	}
	return "–"
}

// fmtStatus puts a row's status against the target into words.
func fmtStatus(r Row, target float64) string {
	mark := statusMark(r.Status)
	switch r.Status {
	case StatusMet, StatusMissed:
		return fmt.Sprintf("%s %s (%s vs baseline, target %s)",
			mark, r.Status, fmtImprovement(*r.Improvement), fmtPercent(target))
	case StatusFailed:
		return mark + " failed in this drill"
	case StatusSkipped:
		return mark + " skipped in this drill"
	case StatusNew:
		return mark + " new: not in the baseline"
	case StatusNoBaseline:
		return mark + " no baseline drill"
	case StatusBaselineUnusable:
		if r.Baseline != nil && r.Baseline.Outcome != drills.OutcomeSucceeded {
			return mark + " baseline " + r.Baseline.Outcome + ": not comparable"
		}
		return mark + " baseline took no time: not comparable"
	case StatusRemoved:
		return mark + " not in this drill"
	}
	return mark + " " + r.Status
}

// fmtImprovement says how much faster (or slower) a fraction is.
func fmtImprovement(f float64) string {
	switch {
	case f > 0:
		return fmtPercent(f) + " faster"
	case f < 0:
		return fmtPercent(-f) + " slower"
	}
	return "no change"
}

func fmtPercent(f float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", f*100), ".0") + "%"
}

// fmtSummary sums up the components against the target in one sentence.
func fmtSummary(c Comparison) string {
	s := c.Summary
	if c.Baseline == nil {
		return fmt.Sprintf("No baseline drill: none of the %d components can be held "+
			"against the %s target.", s.Components, fmtPercent(c.Target))
	}
	text := fmt.Sprintf("%d of %d components met the target of %s faster than the baseline",
		s.Met, s.Components, fmtPercent(c.Target))
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{
		{s.Missed, "missed it"},
		{s.Failed, "failed"},
		{s.Skipped, "skipped"},
		{s.New, "new since the baseline"},
		{s.BaselineUnusable, "not comparable with the baseline"},
		{s.Removed, "in an earlier drill only"},
	} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) > 0 {
		text += "; " + strings.Join(parts, ", ")
	}
	return text + "."
}

// fmtRefLine names a reference drill: "id (kind, started 2025-03-01)".
func fmtRefLine(r *Ref) string {
	if r == nil {
		return "none"
	}
	return fmt.Sprintf("%s (%s, started %s)", r.ID, r.Kind, fmtTime(r.Started))
}

// rowLabel names a row for people.
func rowLabel(r Row) string {
	if r.Kind == "total" {
		if r.Phase == "" {
			return "Wall time"
		}
		return "Total " + r.Phase + " (sum of components)"
	}
	return r.Key
}

// field is one labelled piece of evidence.
type field struct {
	Label, Value string
}

// evidence lists the facts about a record that an auditor asks for.
func evidence(app string, r drills.Record, c Comparison, generated time.Time) []field {
	orNone := func(s string) string {
		if s == "" {
			return "—"
		}
		return s
	}
	fields := []field{
		{"Application", app},
		{"Record", orNone(r.ID)},
		{"Kind", orNone(r.Kind)},
		{"Workflow ID", orNone(r.WorkflowID)},
		{"Run ID", orNone(r.RunID)},
		{"Schedule ID", orNone(r.ScheduleID)},
		{"Started by", orNone(r.StartedBy)},
		{"Reason", orNone(r.Reason)},
		{"Purpose", orNone(r.Purpose)},
		{"Mode", orNone(r.Mode)},
		{"Regions", orNone(r.From) + " → " + orNone(r.To)},
		{"Started", fmtTime(r.Started)},
		{"Ended", fmtTime(r.Ended)},
		{"Duration", fmtDuration(r.Total())},
		{"Outcome", statusMarkOutcome(r.Outcome)},
	}
	if r.Message != "" {
		fields = append(fields, field{"Message", r.Message})
	}
	fields = append(fields,
		field{"Previous drill", fmtRefLine(c.Previous)},
		field{"Baseline drill", fmtRefLine(c.Baseline)},
		field{"Target", fmtPercent(c.Target) + " faster than the baseline"},
	)
	if !generated.IsZero() {
		fields = append(fields, field{"Report generated", fmtTime(generated)})
	}
	return fields
}

func statusMarkOutcome(outcome string) string {
	switch outcome {
	case drills.OutcomeSucceeded:
		return "✓ " + outcome
	case "":
		return "— (none recorded)"
	case drills.OutcomeSkipped:
		return "– " + outcome
	}
	return "✗ " + outcome
}
