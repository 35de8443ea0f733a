package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/drills/ledger"
	"github.com/drover-dev/drover/drills/report"
)

// defaultReportDir is where reports go when --out does not say.
const defaultReportDir = ".drover/reports"

// drillHistoryOptions are the flags of `drover drill history`.
type drillHistoryOptions struct {
	app    string
	kind   string
	ledger string
}

func newDrillHistoryCommand(g *globals) *cobra.Command {
	o := &drillHistoryOptions{}
	cmd := &cobra.Command{
		Use:   "history --app APP [--kind drill|incident]",
		Short: "List an application's drills and recoveries from the ledger",
		Long: `List the drills and the standalone failovers and failbacks (incidents) of an
application that the ledger holds, oldest first: when each started, its
outcome, who ran it, its wall time, and the sum of its components' recovery
times in each phase. The ID column is what --drill takes elsewhere.

It reads the ledger only; it needs neither Temporal nor AWS.`,
		Example: `  drover drill history --app shop
  drover drill history --app shop --kind incident --output json
  drover drill history --app shop --ledger postgres://drover@db.internal/drover`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.ledger = g.ledgerDSN(cmd, o.ledger)
			return o.run(cmd.Context(), cmd.OutOrStdout(), g)
		},
	}
	f := cmd.Flags()
	bindApp(f, &o.app)
	f.StringVar(&o.kind, "kind", "", "only drill or only incident records; both when empty")
	bindLedger(f, &o.ledger)
	return cmd
}

// historyEntry is one row of `drill history --output json`.
type historyEntry struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Outcome    string    `json:"outcome"`
	Message    string    `json:"message,omitempty"`
	StartedBy  string    `json:"startedBy"`
	Reason     string    `json:"reason,omitempty"`
	ScheduleID string    `json:"scheduleId,omitempty"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended"`
	// Seconds is the wall time; Phases the sum of each phase's
	// components' recovery times.
	Seconds  float64            `json:"seconds"`
	Phases   map[string]float64 `json:"phases"`
	Baseline bool               `json:"baseline,omitempty"`
}

func (o *drillHistoryOptions) run(ctx context.Context, stdout io.Writer, g *globals) error {
	if err := checkApp(o.app); err != nil {
		return err
	}
	if o.kind != "" && o.kind != drills.KindDrill && o.kind != drills.KindIncident {
		return fmt.Errorf("--kind %q: want %s or %s, or leave it out for both", o.kind,
			drills.KindDrill, drills.KindIncident)
	}
	l, err := openLedgerToRead(ctx, o.ledger)
	if err != nil {
		return err
	}
	defer l.Close()

	recs, err := l.List(ctx, o.app, o.kind)
	if err != nil {
		return err
	}
	base, haveBase, err := l.Baseline(ctx, o.app)
	if err != nil {
		return err
	}

	entries := make([]historyEntry, 0, len(recs))
	for _, r := range recs {
		entries = append(entries, historyEntry{
			ID: r.ID, Kind: r.Kind, Outcome: r.Outcome, Message: r.Message,
			StartedBy: r.StartedBy, Reason: r.Reason, ScheduleID: r.ScheduleID,
			Started: r.Started, Ended: r.Ended, Seconds: r.Total(), Phases: phaseSums(r),
			Baseline: haveBase && base.ID == r.ID,
		})
	}
	if g.output == outputJSON {
		return json.NewEncoder(stdout).Encode(entries)
	}

	what := "drill or recovery"
	if o.kind != "" {
		what = o.kind
	}
	if len(recs) == 0 {
		_, err := fmt.Fprintf(stdout, "The ledger %s holds no %s of %s yet.\n",
			shownDSN(o.ledger), what, o.app)
		return err
	}
	fmt.Fprintf(stdout, "Drills and recoveries of %s in the ledger %s, oldest first:\n\n",
		o.app, shownDSN(o.ledger))
	phases := phasesOf(recs)
	tw := newTable(stdout)
	head := []string{"ID", "STARTED (UTC)", "KIND", "OUTCOME", "BY", "TOTAL"}
	for _, p := range phases {
		head = append(head, strings.ToUpper(p))
	}
	fmt.Fprintln(tw, strings.Join(append(head, "NOTE"), "\t"))
	for i, r := range recs {
		cells := []string{shortID(r), r.Started.UTC().Format("2006-01-02 15:04"), r.Kind,
			r.Outcome, r.StartedBy, fmtDuration(r.Ended.Sub(r.Started))}
		for _, p := range phases {
			s, ok := entries[i].Phases[p]
			if !ok {
				cells = append(cells, "-")
				continue
			}
			cells = append(cells, fmtDuration(secondsDuration(s)))
		}
		var notes []string
		if entries[i].Baseline {
			notes = append(notes, "baseline")
		}
		if r.ScheduleID != "" {
			notes = append(notes, "scheduled")
		}
		fmt.Fprintln(tw, strings.Join(append(cells, strings.Join(notes, ", ")), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "\nTOTAL is the wall time; each phase column sums its "+
		"components' recovery times.\nA report: drover drill report --app %s --drill ID\n",
		o.app)
	return err
}

// phaseSums adds up each phase's components' recovery times.
func phaseSums(r drills.Record) map[string]float64 {
	sums := map[string]float64{}
	for _, c := range r.Components {
		sums[c.Phase] += c.Seconds
	}
	return sums
}

// phasesOf lists the phases the records have, in the order a drill runs
// them.
func phasesOf(recs []drills.Record) []string {
	order := []string{drills.PhaseFailover, drills.PhaseFailback, drills.PhaseRestore}
	var out []string
	for _, r := range recs {
		for _, c := range r.Components {
			if !slices.Contains(out, c.Phase) {
				out = append(out, c.Phase)
			}
		}
	}
	rank := func(p string) int {
		if i := slices.Index(order, p); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

func secondsDuration(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}

// drillReportOptions are the flags of `drover drill report`.
type drillReportOptions struct {
	app    string
	drill  string
	format string
	out    string
	target float64
	ledger string
}

func newDrillReportCommand(g *globals) *cobra.Command {
	o := &drillReportOptions{}
	cmd := &cobra.Command{
		Use:   "report --app APP [--drill ID] [--format html|md|json] [--out FILE]",
		Short: "Write a drill's evidence: its times against the previous drill and the baseline",
		Long: `Write the report of a drill (the latest unless --drill names one): each
component's recovery time, its change since the previous drill and since the
baseline drill, and whether it met the improvement target (--target, 30%
faster than the baseline by default); who ran the drill and why, its
approvals and its cleanup.

html is one self-contained page (no external assets, it opens offline) with a
chart of each component's time across all drills and a timeline of this one;
md is Markdown for a ticket; json is for machines. Without --out, HTML goes to
.drover/reports/<app>-<start>.html (the drill's start, in UTC) when stdout is a terminal; anything else
goes to stdout. '--out -' always writes to stdout.

It reads the ledger only; it needs neither Temporal nor AWS.`,
		Example: `  drover drill report --app shop
  drover drill report --app shop --format md > drill.md
  drover drill report --app shop --drill 0198c3a1 --format html --out shop-2025.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.ledger = g.ledgerDSN(cmd, o.ledger)
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	bindApp(f, &o.app)
	f.StringVar(&o.drill, "drill", "", "the record to report on, as `drill history` shows "+
		"its ID; the latest drill when empty")
	f.StringVar(&o.format, "format", report.FormatHTML, "html, md or json")
	f.StringVar(&o.out, "out", "", "the file to write; - for stdout")
	f.Float64Var(&o.target, "target", report.DefaultTarget,
		"the improvement over the baseline that counts as met, as a fraction: 0.3 is 30% faster")
	bindLedger(f, &o.ledger)
	return cmd
}

func (o *drillReportOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	if err := checkApp(o.app); err != nil {
		return err
	}
	if !slices.Contains(report.Formats(), o.format) {
		return fmt.Errorf("--format %q: want %s", o.format, strings.Join(report.Formats(), ", "))
	}
	// The comparison reads zero as "the default", so it is refused here
	// rather than silently replaced.
	if !(o.target > 0 && o.target < 1) {
		return fmt.Errorf("--target %g: want a fraction between 0 and 1, such as 0.3 for 30%% "+
			"faster than the baseline", o.target)
	}
	l, err := openLedgerToRead(ctx, o.ledger)
	if err != nil {
		return err
	}
	defer l.Close()

	rec, err := findRecord(ctx, l, o.app, o.drill)
	if err != nil {
		return err
	}
	data, err := reportData(ctx, l, rec, o.target)
	if err != nil {
		return err
	}

	path := o.out
	if path == "" && o.format == report.FormatHTML && isTerminal(stdout) {
		path = reportPath(defaultReportDir, rec, o.format)
		if err := os.MkdirAll(defaultReportDir, 0o755); err != nil {
			return fmt.Errorf("create the report folder: %w; pass --out FILE", err)
		}
	}
	if path == "" || path == "-" {
		return report.Render(stdout, o.format, data)
	}
	if err := writeReport(path, o.format, data); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "Wrote the %s report of the %s of %s started %s to %s\n",
		o.format, rec.Kind, o.app, rec.Started.UTC().Format("2006-01-02 15:04 UTC"), path)
	return err
}

// reportData gathers what the report of rec shows: the comparison with the
// previous record of its kind and with the baseline, and the history of
// that kind for the charts.
func reportData(ctx context.Context, l *ledger.Ledger, rec drills.Record,
	target float64) (report.Data, error) {
	history, err := l.List(ctx, rec.App, rec.Kind)
	if err != nil {
		return report.Data{}, err
	}
	var previous *drills.Record
	for i := range history {
		if history[i].ID != rec.ID && history[i].Started.Before(rec.Started) {
			previous = &history[i]
		}
	}
	var baseline *drills.Record
	base, ok, err := l.Baseline(ctx, rec.App)
	if err != nil {
		return report.Data{}, err
	}
	if ok {
		baseline = &base
	}
	return report.Data{
		App:        rec.App,
		Record:     rec,
		Comparison: report.Compare(rec, previous, baseline, target),
		History:    history,
		Generated:  time.Now().UTC(),
	}, nil
}

// reportPath names a report file in dir after the application and the
// time the drill started, in UTC to the second: two drills of a day, as a
// rehearsal and its rerun often are, keep a report each, and the names
// sort in the order the drills ran.
func reportPath(dir string, rec drills.Record, format string) string {
	name := fmt.Sprintf("%s-%s.%s", rec.App, rec.Started.UTC().Format("2006-01-02-150405Z"), format)
	return filepath.Join(dir, name)
}

// writeReport renders a report into a file, which is left alone when
// rendering fails.
func writeReport(path, format string, data report.Data) error {
	var buf bytes.Buffer
	if err := report.Render(&buf, format, data); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the report: %w; choose another file with --out", err)
	}
	return nil
}

// drillBaselineOptions are the flags of `drover drill baseline`.
type drillBaselineOptions struct {
	app    string
	drill  string
	ledger string
}

func newDrillBaselineCommand(g *globals) *cobra.Command {
	o := &drillBaselineOptions{}
	cmd := &cobra.Command{
		Use:   "baseline --app APP [--drill ID]",
		Short: "Choose the drill that later drills are held against, or show it",
		Long: `Choose the baseline drill of an application: reports count a component as having
met the target when it recovered at least --target (30% by default) faster
than in the baseline. Without --drill, show the current baseline.`,
		Example: `  drover drill baseline --app shop --drill 0198c3a1
  drover drill baseline --app shop`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.ledger = g.ledgerDSN(cmd, o.ledger)
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g)
		},
	}
	f := cmd.Flags()
	bindApp(f, &o.app)
	f.StringVar(&o.drill, "drill", "", "the drill, as `drill history` shows its ID")
	bindLedger(f, &o.ledger)
	return cmd
}

func (o *drillBaselineOptions) run(ctx context.Context, stdout, stderr io.Writer,
	g *globals) error {
	if err := checkApp(o.app); err != nil {
		return err
	}
	l, err := openLedgerToRead(ctx, o.ledger)
	if err != nil {
		return err
	}
	defer l.Close()

	if o.drill == "" {
		base, ok, err := l.Baseline(ctx, o.app)
		if err != nil {
			return err
		}
		if g.output == outputJSON {
			if !ok {
				return json.NewEncoder(stdout).Encode(nil)
			}
			return json.NewEncoder(stdout).Encode(base)
		}
		if !ok {
			_, err := fmt.Fprintf(stdout, "%s has no baseline drill; choose one with "+
				"`drover drill baseline --app %s --drill ID`\n", o.app, o.app)
			return err
		}
		_, err = fmt.Fprintf(stdout, "The baseline of %s is %s\n", o.app, describeRecord(base))
		return err
	}

	rec, err := findRecord(ctx, l, o.app, o.drill)
	if err != nil {
		return err
	}
	if err := l.SetBaseline(ctx, o.app, rec.ID); err != nil {
		return err
	}
	if rec.Outcome != drills.OutcomeSucceeded {
		fmt.Fprintf(stderr, "Note: that %s %s; its components that did not recover cannot "+
			"be compared with.\n", rec.Kind, rec.Outcome)
	}
	if g.output == outputJSON {
		return json.NewEncoder(stdout).Encode(rec)
	}
	_, err = fmt.Fprintf(stdout, "The baseline of %s is now %s\n", o.app, describeRecord(rec))
	return err
}

// describeRecord names a record for people: its ID, kind, date and who ran
// it.
func describeRecord(r drills.Record) string {
	return fmt.Sprintf("%s %s (%s, started %s by %s)", r.Kind, shortID(r), r.ID,
		r.Started.UTC().Format("2006-01-02 15:04 UTC"), r.StartedBy)
}
