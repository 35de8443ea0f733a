package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/drills/ledger"
	"github.com/drover-dev/drover/drills/report"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/infra/devserver"
	"github.com/drover-dev/drover/infra/sandbox"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
	"github.com/drover-dev/drover/workflows"
)

// devOptions are the flags of `drover dev`.
type devOptions struct {
	once      bool
	topology  string
	simAddr   string
	timeScale float64
	uiPort    int
	workDir   string
	noDrill   bool
	soak      time.Duration
	restore   string
}

// devOperator is who the sandbox's runs are recorded as requested and
// approved by.
const devOperator = "drover dev"

func newDevCommand(g *globals) *cobra.Command {
	o := &devOptions{}
	cmd := &cobra.Command{
		Use:   "dev [--once]",
		Short: "Run the whole sandbox and rehearse a timed drill in it",
		Long: `Run drover on this machine with no AWS account: simulated AWS regions seeded
with the example application, a Temporal dev server with its web UI, and the
workers of every region, which keep the drill ledger in <work-dir>/ledger.db.

Then run a drill: a practice failover to the standby, a failback, and a restore
of a database from its latest snapshot into a scratch instance that is verified
and deleted. Its approval steps are approved by "drover dev" through the
approve update, as an operator would. When it ends, each component's recovery
time is printed with its change since the previous drill in the ledger, and
the HTML and Markdown reports are written to <work-dir>/reports. The ledger is
kept from one run to the next (the simulated regions start afresh), so the
second run's report compares against the first.

Without --once the sandbox keeps running until Ctrl-C, so you can start more
runs from the web UI or from another shell. With --once it exits, non-zero
unless the drill succeeded. --no-drill runs a separate practice failover and
failback instead of a drill, and writes no report.

Progress goes to stderr; results go to stdout. The Temporal frontend listens
on --temporal-address (default 127.0.0.1:7233).`,
		Example: `  drover dev
  drover dev --once --time-scale 600
  drover dev --soak 30s --restore orders@us-west-2
  drover dev --ui-port 8080 --temporal-address 127.0.0.1:7300 --sim-addr 127.0.0.1:4600`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.once, "once", false, "exit after the drill, with its status")
	f.StringVar(&o.topology, "topology", "examples/shop.yaml", "the application to seed and move")
	f.StringVar(&o.simAddr, "sim-addr", "127.0.0.1:4566",
		"loopback host:port of the simulated AWS regions; port 0 picks a free one")
	f.Float64Var(&o.timeScale, "time-scale", sandbox.DefaultTimeScale,
		"divide every AWS duration by this (60: a minute on AWS is a second here)")
	f.IntVar(&o.uiPort, "ui-port", devserver.DefaultUIPort,
		"port of the Temporal web UI; 0 turns it off")
	f.StringVar(&o.workDir, "work-dir", ".drover",
		"where the sandbox keeps its files: the ledger, the reports, the topology's copy")
	f.BoolVar(&o.noDrill, "no-drill", false,
		"run a practice failover and a failback on their own instead of a drill")
	f.DurationVar(&o.soak, "soak", 0,
		"how long the drill stays in the standby before failing back")
	f.StringVar(&o.restore, "restore", "", "DATABASE[@REGION] the drill restores; the "+
		"topology's first database when empty, none with --restore none")
	return cmd
}

// devResult is what `drover dev --output json` prints: the drill, its
// comparison and reports, or with --no-drill the two runs.
type devResult struct {
	Simulator  string                `json:"simulator"`
	Temporal   string                `json:"temporal"`
	UI         string                `json:"ui,omitempty"`
	Ledger     string                `json:"ledger"`
	Drill      *drillResult          `json:"drill,omitempty"`
	Comparison *report.Comparison    `json:"comparison,omitempty"`
	Reports    []string              `json:"reports,omitempty"`
	Runs       []*workflows.Progress `json:"runs,omitempty"`
}

func (o *devOptions) run(ctx context.Context, stdout, stderr io.Writer, g *globals) error {
	if err := o.check(g); err != nil {
		return err
	}
	profile := awssim.DefaultProfile()
	profile.TimeScale = o.timeScale

	sb, err := sandbox.Start(ctx, sandbox.Options{
		Topology:  o.topology,
		WorkDir:   o.workDir,
		LedgerDSN: filepath.Join(o.workDir, "ledger.db"),
		SimAddr:   o.simAddr,
		Profile:   &profile,
		DevServer: devserver.Options{
			Address: g.temporalAddress, UIPort: o.uiPort, Namespace: g.namespace,
			Logger: log.NewStructuredLogger(slog.New(quietLogs{
				slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
			})),
		},
		Progress: stderr,
	})
	if err != nil {
		return fmt.Errorf("start the sandbox: %w", err)
	}
	defer sb.Close()

	res := devResult{Simulator: sb.Sim.URL, Temporal: sb.Temporal.Address(),
		UI: browserURL(sb.Temporal.UIURL()), Ledger: sb.LedgerDSN}
	fmt.Fprintf(stderr, "Temporal at %s; web UI: %s\n\n", res.Temporal, orOff(res.UI))

	hint := hinter{app: sb.Topology.App}
	if res.Temporal != devserver.DefaultAddress {
		hint.conn = " --temporal-address " + res.Temporal
	}
	var runErr error
	if o.noDrill {
		runErr = o.rehearseSwitches(ctx, sb, stderr, hint, &res)
	} else {
		runErr = o.drill(ctx, sb, stderr, hint, &res)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "Interrupted; stopping the sandbox.")
		if o.once {
			return errors.New("interrupted before the rehearsal finished")
		}
		return nil
	}

	switch {
	case g.output == outputJSON:
		err = json.NewEncoder(stdout).Encode(res)
	case o.noDrill:
		err = o.reportSwitches(stdout, sb, res, hint)
	default:
		err = o.reportDrill(stdout, sb, res, hint)
	}
	if err != nil {
		return err
	}
	if o.once {
		return runErr
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "\n%v\nThe sandbox keeps running so that you can look into it.\n",
			runErr)
	}
	fmt.Fprintln(stderr, "\nPress Ctrl-C to stop everything.")
	<-ctx.Done()
	fmt.Fprintln(stderr, "Stopping the sandbox.")
	return nil
}

// check refuses what would fail halfway through starting, such as a port
// that something else holds.
func (o *devOptions) check(g *globals) error {
	if o.timeScale <= 0 {
		return fmt.Errorf("--time-scale %g: want a positive number", o.timeScale)
	}
	if o.uiPort < 0 || o.uiPort > 65535 {
		return fmt.Errorf("--ui-port %d: want a port from 1 to 65535, or 0 for no web UI",
			o.uiPort)
	}
	t, err := topology.Load(o.topology)
	if err != nil {
		return fmt.Errorf("--topology %s: %w", o.topology, err)
	}
	if o.soak < 0 {
		return fmt.Errorf("--soak %s: want a duration of zero or more", o.soak)
	}
	if _, err := o.restoreExercise(t); err != nil {
		return err
	}
	if err := portFree(o.simAddr, "the simulated AWS regions", "--sim-addr"); err != nil {
		return err
	}
	if err := portFree(g.temporalAddress, "the Temporal frontend",
		"--temporal-address"); err != nil {
		return err
	}
	if o.uiPort != 0 {
		host, _, _ := net.SplitHostPort(g.temporalAddress)
		ui := net.JoinHostPort(host, strconv.Itoa(o.uiPort))
		if err := portFree(ui, "the Temporal web UI", "--ui-port"); err != nil {
			return err
		}
	}
	return nil
}

// portFree fails when addr's port is taken, naming the flag that moves it.
func portFree(addr, what, flag string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: want host:port, such as 127.0.0.1:4566", flag, addr)
	}
	if port == "0" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("port %s on %s, wanted for %s, is in use (is another drover dev "+
			"running?); pick another with %s", port, host, what, flag)
	}
	return ln.Close()
}

// restoreExercise is the database the drill restores, from --restore.
func (o *devOptions) restoreExercise(t *topology.Topology) (*workflows.RestoreExercise, error) {
	switch {
	case o.restore == "none":
		return nil, nil
	case o.restore != "":
		return parseRestoreExercise(t, o.restore)
	case len(t.Databases) > 0:
		return parseRestoreExercise(t, t.Databases[0].Name)
	}
	return nil, nil
}

// drill runs the sandbox's drill to its end, approving its approval steps
// as an operator would, then writes its reports.
func (o *devOptions) drill(ctx context.Context, sb *sandbox.Sandbox, progress io.Writer,
	hint hinter, res *devResult) error {
	t := sb.Topology
	restore, err := o.restoreExercise(t)
	if err != nil {
		return err
	}
	in := workflows.DrillInput{
		App: t.App, To: t.Standbys()[0].Name, Mode: plan.Graceful,
		Soak: topology.Duration(o.soak), Restore: restore,
		RequestedBy: devOperator, Reason: "sandbox drill",
	}
	// Capture first, as a schedule would have: the restore exercise then
	// copies the database's settings from the ledger as in production.
	if err := captureOnce(ctx, sb, progress); err != nil {
		fmt.Fprintf(progress, "The capture before the drill failed: %v\n", err)
	}
	ref, err := startDrill(ctx, sb.Client, in, "drill of "+t.App+" by "+devOperator, hint)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "Drill of %s: workflow %s, run %s\n", t.App, ref.WorkflowID,
		ref.RunID)

	w := &drillWatcher{c: sb.Client, ref: ref, out: progress, live: isTerminal(progress),
		hint: hint}
	w.approve = func(ctx context.Context, run runRef, step string) string {
		answer, err := sendUpdate(ctx, sb.Client, run, workflows.UpdateApprove,
			workflows.ApproveRequest{Step: step, By: devOperator})
		if err != nil {
			return fmt.Sprintf("%s could not approve %s: %v", devOperator, step, err)
		}
		return fmt.Sprintf("%s %s through the approve update, as you would with: %s",
			devOperator, answer, hint.cmd("approve", "--step", step))
	}
	dr, err := w.watch(ctx)
	if err != nil {
		return err
	}
	res.Drill = dr
	fmt.Fprintln(progress)
	if dr.Record != nil {
		if err := o.writeReports(ctx, sb, *dr.Record, progress, res); err != nil {
			fmt.Fprintf(progress, "The drill's reports were not written: %v\n", err)
		}
	}
	return dr.err()
}

// captureOnce runs the Capture workflow of the sandbox's application to its
// end and says what it saved.
func captureOnce(ctx context.Context, sb *sandbox.Sandbox, progress io.Writer) error {
	app := sb.Topology.App
	run, err := sb.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.CaptureWorkflowID(app), TaskQueue: activities.WorkflowTaskQueue,
	}, workflows.CaptureWorkflowName, workflows.CaptureInput{App: app})
	if err != nil {
		return err
	}
	var sum workflows.CaptureSummary
	if err := run.Get(ctx, &sum); err != nil {
		return err
	}
	fmt.Fprintf(progress, "Captured %d definitions of %s into the ledger (%d failed)\n",
		len(sum.Captured), app, len(sum.Failed))
	return nil
}

// writeReports writes the drill's HTML and Markdown reports, compared
// with the previous drill and the baseline in the ledger.
func (o *devOptions) writeReports(ctx context.Context, sb *sandbox.Sandbox,
	rec drills.Record, progress io.Writer, res *devResult) error {
	l, err := ledger.Open(ctx, sb.LedgerDSN)
	if err != nil {
		return err
	}
	defer l.Close()
	if stored, err := l.Get(ctx, rec.ID); err == nil {
		rec = stored
	} else {
		fmt.Fprintf(progress, "The drill is not in the ledger (%v); its reports come from "+
			"Temporal's copy of its record.\n", err)
	}
	data, err := reportData(ctx, l, rec, report.DefaultTarget)
	if err != nil {
		return err
	}
	res.Comparison = &data.Comparison

	dir := filepath.Join(o.workDir, "reports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the report folder: %w", err)
	}
	for _, format := range []string{report.FormatHTML, report.FormatMarkdown} {
		path := reportPath(dir, rec, format)
		if err := writeReport(path, format, data); err != nil {
			return err
		}
		res.Reports = append(res.Reports, path)
	}
	return nil
}

// reportDrill prints each component's recovery time and its change since
// the previous drill, where the reports are, and how to go on.
func (o *devOptions) reportDrill(w io.Writer, sb *sandbox.Sandbox, res devResult,
	hint hinter) error {
	app := sb.Topology.App
	if d := res.Drill; d != nil {
		if err := writeDrillHead(w, d); err != nil {
			return err
		}
	}
	if c := res.Comparison; c != nil {
		fmt.Fprintln(w, "\nRecovery time of each component, from its first recovery action to "+
			"its")
		fmt.Fprintf(w, "healthy state observed (the simulator runs %gx faster than AWS):\n\n",
			o.timeScale)
		if err := o.writeComponents(w, *c, res.Drill); err != nil {
			return err
		}
		fmt.Fprintln(w)
		writeComparisonNote(w, app, *c, res)
	}
	if len(res.Reports) > 0 {
		fmt.Fprintln(w, "\nReports:")
		for _, p := range res.Reports {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	fmt.Fprintf(w, "Ledger: %s (%s)\n", res.Ledger, ledgerCmd(app, res.Ledger, "history"))

	o.writeAddresses(w, sb, res, workflows.DrillWorkflowID(app))
	if o.once {
		return nil
	}
	restore := ""
	if r := res.Drill; r != nil && r.Record != nil {
		for _, c := range r.Record.Components {
			if c.Phase == drills.PhaseRestore {
				restore = c.Component
			}
		}
	}
	run := []string{"--skip-approvals", "--wait", "--topologies", sb.TopologyDir}
	if restore != "" {
		run = append([]string{"--restore", restore}, run...)
	}
	fmt.Fprintf(w, "\nStart more from another shell:\n  %s\n  %s\n  %s\n",
		hint.cmd("drill run", run...), ledgerCmd(app, res.Ledger, "report")+" --format md",
		hint.cmd("failover", "--practice", "--wait", "--topologies", sb.TopologyDir))
	if res.UI != "" {
		input := workflows.DrillInput{App: app, SkipApprovals: true}
		if restore != "" {
			input.Restore = &workflows.RestoreExercise{Database: restore}
		}
		js, _ := json.Marshal(input)
		fmt.Fprintf(w, "or from the web UI, in the start form (Workflow Type %s) with the "+
			"input %s:\n  %s\n", workflows.DrillWorkflowName, js,
			startFormURL(sb, res.UI, workflows.DrillWorkflowID(app), workflows.DrillWorkflowName))
	}
	return nil
}

// writeDrillHead says how the drill ended.
func writeDrillHead(w io.Writer, d *drillResult) error {
	head := fmt.Sprintf("Drill of %s %s", d.App, d.Status)
	if d.Record != nil {
		head += " in " + fmtDuration(d.Record.Ended.Sub(d.Record.Started))
	}
	if d.Message != "" {
		head += ": " + d.Message
	}
	_, err := fmt.Fprintln(w, head+".")
	return err
}

// writeComponents is the table of the drill's components.
func (o *devOptions) writeComponents(w io.Writer, c report.Comparison, d *drillResult) error {
	regions := map[string]string{}
	if d != nil && d.Record != nil {
		for _, comp := range d.Record.Components {
			regions[comp.Key()] = comp.Region
		}
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "PHASE\tSTEP\tREGION\tTIME\tAT AWS SPEED\tVS PREVIOUS DRILL")
	for _, row := range c.Components {
		if !row.Present {
			continue
		}
		d := secondsDuration(row.Seconds)
		at, aws := fmtDuration(d), fmtDuration(time.Duration(float64(d)*o.timeScale))
		if row.Outcome != drills.OutcomeSucceeded {
			at, aws = row.Outcome, "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", row.Phase, row.Step, orDash(regions[row.Key]),
			at, aws, fmtChange(row.Previous))
	}
	return tw.Flush()
}

// fmtChange shows a change against a reference drill: "-0.2s (-4.8%)".
func fmtChange(c *report.Change) string {
	switch {
	case c == nil:
		return "-"
	case c.Delta == nil:
		return "not comparable (" + c.Outcome + " then)"
	}
	s := fmtDelta(*c.Delta)
	if c.Percent != nil {
		s += fmt.Sprintf(" (%+.1f%%)", *c.Percent)
	}
	return s
}

// fmtDelta shows a change in seconds with its sign, to the millisecond
// below a second.
func fmtDelta(seconds float64) string {
	ms := math.Round(seconds * 1000)
	switch {
	case ms == 0:
		return "±0ms"
	case math.Abs(ms) < 1000:
		return fmt.Sprintf("%+.0fms", ms)
	case ms < 0:
		return "-" + fmtDuration(secondsDuration(-seconds))
	}
	return "+" + fmtDuration(secondsDuration(seconds))
}

// writeComparisonNote says what the drill was compared with, in words.
func writeComparisonNote(w io.Writer, app string, c report.Comparison, res devResult) {
	if c.Previous == nil {
		fmt.Fprintf(w, "This is the first drill of %s in the ledger %s, so there is no "+
			"previous one to compare with.\nRun `make run` (or `drover dev`) again: the next "+
			"drill is compared with this one, component by component.\n", app, res.Ledger)
		return
	}
	faster, slower, compared := 0, 0, 0
	for _, row := range c.Components {
		if row.Previous == nil || row.Previous.Delta == nil {
			continue
		}
		compared++
		switch {
		case *row.Previous.Delta < 0:
			faster++
		case *row.Previous.Delta > 0:
			slower++
		}
	}
	fmt.Fprintf(w, "Compared with the previous drill of %s (%s, started %s): %d of %d "+
		"components recovered faster, %d slower. The reports show each change.\n", app,
		c.Previous.ID,
		c.Previous.Started.UTC().Format("2006-01-02 15:04:05 UTC"), faster, compared, slower)
	if c.Baseline == nil {
		fmt.Fprintf(w, "To hold later drills against the %.0f%% target, choose a baseline: "+
			"%s --drill %s\n", c.Target*100, ledgerCmd(app, res.Ledger, "baseline"),
			shortOf(res.Drill))
		return
	}
	fmt.Fprintf(w, "Against the baseline drill (%s): %d of %d components met the target of "+
		"%.0f%% faster.\n", c.Baseline.ID, c.Summary.Met, c.Summary.Components, c.Target*100)
}

// shortOf is the drill's ID as --drill takes it.
func shortOf(d *drillResult) string {
	if d == nil || d.Record == nil {
		return "ID"
	}
	return shortID(*d.Record)
}

// ledgerCmd is a `drover drill` command that reads the given ledger.
func ledgerCmd(app, dsn, name string) string {
	cmd := fmt.Sprintf("drover drill %s --app %s", name, app)
	if filepath.Clean(dsn) != filepath.Clean(ledger.DefaultPath) {
		cmd += " --ledger " + dsn
	}
	return cmd
}

// writeAddresses prints where the web UI and the simulator are.
func (o *devOptions) writeAddresses(w io.Writer, sb *sandbox.Sandbox, res devResult,
	workflowID string) {
	fmt.Fprintf(w, "\nTemporal web UI: %s", orOff(res.UI))
	if res.UI != "" {
		fmt.Fprintf(w, " (workflow %s)", workflowID)
	}
	fmt.Fprintf(w, "\nSimulated AWS:   %s (state at %s/_sim/state)\n", res.Simulator,
		res.Simulator)
}

// startFormURL opens the web UI's start form with the workflow's id, task
// queue and type filled in.
func startFormURL(sb *sandbox.Sandbox, ui, workflowID, workflowType string) string {
	form := url.Values{
		"workflowId":   {workflowID},
		"taskQueue":    {activities.WorkflowTaskQueue},
		"workflowType": {workflowType},
	}
	return fmt.Sprintf("%s/namespaces/%s/workflows/start-workflow?%s", ui,
		url.PathEscape(sb.Temporal.Namespace()), form.Encode())
}

// browserURL shows a loopback URL as localhost, the address a browser
// and the Temporal documentation use.
func browserURL(u string) string {
	if u == "" {
		return ""
	}
	for _, host := range []string{"http://127.0.0.1:", "http://[::1]:"} {
		if port, ok := strings.CutPrefix(u, host); ok {
			return "http://localhost:" + port
		}
	}
	return u
}

func orOff(u string) string {
	if u == "" {
		return "off (--ui-port 0)"
	}
	return u
}

// quietLogs drops the SDK's failed-poll log lines, which would only alarm
// someone trying drover out: the SDK retries them, and a sandbox stopping
// its workers cuts every poll short, which would end each session with a
// screenful of them.
type quietLogs struct{ slog.Handler }

// Handle passes on every record but failed polls.
func (q quietLogs) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "Failed to poll for task." {
		return nil
	}
	return q.Handler.Handle(ctx, r)
}

// WithAttrs keeps the filter on loggers derived with fields.
func (q quietLogs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietLogs{q.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the filter on loggers derived with a group.
func (q quietLogs) WithGroup(name string) slog.Handler {
	return quietLogs{q.Handler.WithGroup(name)}
}
