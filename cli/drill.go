package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
	"github.com/drover-dev/drover/workflows"
)

func newDrillCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Run timed drills, schedule them, and report on their record",
		Long: `A drill rehearses an application's whole recovery and times it: a practice
failover to the standby, a soak, a failback, and optionally a database restored
from its latest snapshot into a scratch instance that is verified and deleted.
Everything the drill creates is removed again, also when it fails, and the
record (who, why, each component's recovery time, approvals, cleanup) goes to
the drill ledger that the workers hold.

'drill run' starts one and 'drill cancel' stops it; 'drill history' and
'drill report' read the ledger; 'drill baseline' chooses the drill that later
ones must beat; 'drill schedule' keeps a yearly drill on a Temporal Schedule.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		newDrillRunCommand(g),
		newDrillCancelCommand(g),
		newDrillHistoryCommand(g),
		newDrillReportCommand(g),
		newDrillBaselineCommand(g),
		newDrillScheduleCommand(g),
	)
	return cmd
}

// drillOptions are the flags that describe a drill, shared by `drill run`
// and `drill schedule set`.
type drillOptions struct {
	app           string
	topologies    string
	to            string
	mode          string
	ungraceful    bool
	soak          time.Duration
	restore       string
	skipApprovals bool
	reason        string
	by            string
}

func (o *drillOptions) bind(f *pflag.FlagSet) {
	bindApp(f, &o.app)
	bindTopologies(f, &o.topologies)
	f.StringVar(&o.to, "to", "", "standby to fail over to; needed only when there are several")
	bindMode(f, &o.mode, &o.ungraceful)
	f.DurationVar(&o.soak, "soak", 0,
		"how long the application serves from the standby before the failback, such as 10m")
	f.StringVar(&o.restore, "restore", "",
		"DATABASE[@REGION]: also restore this database from its latest snapshot into a "+
			"scratch instance, verify it and delete it (region: the primary)")
	f.BoolVar(&o.skipApprovals, "skip-approvals", false,
		"run the steps the topology gates on approval without waiting for one")
	f.StringVar(&o.reason, "reason", "", "why, recorded with the drill")
}

// drillPlan is what a drill's input was checked against.
type drillPlan struct {
	topo     *topology.Topology
	failover *plan.Plan
}

// input checks the flags against the topology and returns the drill's
// input. Nothing has been sent yet.
func (o *drillOptions) input(cmd *cobra.Command, g *globals) (workflows.DrillInput,
	drillPlan, error) {
	var in workflows.DrillInput
	t, err := loadApp(o.topologies, o.app)
	if err != nil {
		return in, drillPlan{}, err
	}
	mode, err := resolveMode(cmd, o.mode, o.ungraceful)
	if err != nil {
		return in, drillPlan{}, err
	}
	if o.soak < 0 {
		return in, drillPlan{}, fmt.Errorf("--soak %s: want a duration of zero or more", o.soak)
	}
	p, err := buildPlan(t, plan.Request{Kind: plan.Failover, To: o.to, Mode: mode,
		SkipApprovals: o.skipApprovals})
	if err != nil {
		return in, drillPlan{}, err
	}
	restore, err := parseRestoreExercise(t, o.restore)
	if err != nil {
		return in, drillPlan{}, err
	}

	in = workflows.DrillInput{
		App: t.App, To: p.To, Mode: mode, Soak: topology.Duration(o.soak), Restore: restore,
		SkipApprovals: o.skipApprovals, RequestedBy: oneLine(o.by), Reason: oneLine(o.reason),
	}
	return in, drillPlan{topo: t, failover: p}, nil
}

// parseRestoreExercise reads --restore DATABASE[@REGION] and checks it
// against the topology, since the drill would otherwise find the mistake
// only after its failover and failback.
func parseRestoreExercise(t *topology.Topology, flag string) (*workflows.RestoreExercise,
	error) {
	if flag == "" {
		return nil, nil
	}
	name, region, _ := strings.Cut(flag, "@")
	var dbs []string
	for _, db := range t.Databases {
		dbs = append(dbs, db.Name)
	}
	i := slices.IndexFunc(t.Databases, func(db topology.Database) bool { return db.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("--restore %s: %s has no database %q (databases: %s)",
			flag, t.App, name, orNoneList(dbs))
	}
	if region == "" {
		region = t.Primary().Name
	}
	if _, ok := t.Region(region); !ok {
		return nil, fmt.Errorf("--restore %s: %s is not a region of %s (regions: %s)",
			flag, region, t.App, strings.Join(t.RegionNames(), ", "))
	}
	if _, _, ok := activities.DatabaseCaptureKey(t.Databases[i], region); !ok {
		return nil, fmt.Errorf("--restore %s: database %s has no copy in %s to restore from",
			flag, name, region)
	}
	return &workflows.RestoreExercise{Database: name, Region: region}, nil
}

func orNoneList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// describeDrill says in a line what a drill will do.
func describeDrill(in workflows.DrillInput, dp drillPlan) string {
	parts := []string{fmt.Sprintf("practice failover %s → %s (%s)", dp.failover.From,
		dp.failover.To, in.Mode)}
	if in.Soak > 0 {
		parts = append(parts, "a soak of "+in.Soak.String())
	}
	parts = append(parts, "failback to "+dp.failover.From)
	if r := in.Restore; r != nil {
		parts = append(parts, fmt.Sprintf("restore of %s in %s into a scratch instance",
			r.Database, r.Region))
	}
	return strings.Join(parts, ", ")
}

// approvalGates lists the approval steps a drill's failover waits at.
func approvalGates(p *plan.Plan) []string {
	var gates []string
	for _, s := range p.Steps {
		if s.Kind == plan.StepApproval {
			gates = append(gates, s.ID)
		}
	}
	return gates
}

// drillRunOptions are the flags of `drover drill run`.
type drillRunOptions struct {
	drillOptions
	yes  bool
	wait bool
}

func newDrillRunCommand(g *globals) *cobra.Command {
	o := &drillRunOptions{}
	cmd := &cobra.Command{
		Use:   "run --app APP [--soak 10m] [--restore DATABASE[@REGION]] [--wait]",
		Short: "Start a timed drill: practice failover, soak, failback, restore",
		Long: `Start a drill of the application, as a Temporal workflow: a practice failover to
the standby, a soak while the standby serves, a failback, and with --restore a
database restored from its latest snapshot into a scratch instance, verified
and deleted. Each component's recovery time, from its first recovery action to
its healthy state, goes to the ledger with the drill's record.

The failover and failback run under the application's usual workflow id, so
'drover status', 'approve', 'pause' and 'abort' reach them as they reach any
other; aborting one ends the drill, which still cleans up and is recorded.

drover checks the request against the topology before it starts anything, and
asks for confirmation unless --yes. Only one drill of an application runs at a
time, and none while a failover or failback of it runs.`,
		Example: `  drover drill run --app shop --restore orders --wait
  drover drill run --app shop --soak 10m --skip-approvals --yes --reason "annual drill"
  drover drill run --app shop --restore orders@us-west-2 --yes --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.topologies = g.topologyDir(cmd, o.topologies)
			return o.run(cmd.Context(), cmd, g)
		},
	}
	f := cmd.Flags()
	o.bind(f)
	f.StringVar(&o.by, "by", "", "who runs it, recorded with the drill (default $USER)")
	f.BoolVarP(&o.yes, "yes", "y", false, "start without asking for confirmation")
	f.BoolVar(&o.wait, "wait", false,
		"follow the drill until it ends; exit non-zero unless it succeeds")
	return cmd
}

// drillRef identifies one run of a drill.
type drillRef struct {
	App        string `json:"app"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
}

func (o *drillRunOptions) run(ctx context.Context, cmd *cobra.Command, g *globals) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	human := stdout
	if g.output == outputJSON {
		human = stderr
	}
	if o.by == "" {
		o.by = g.user()
	}
	in, dp, err := o.input(cmd, g)
	if err != nil {
		return err
	}
	what := describeDrill(in, dp)
	hint := g.hinter(in.App)

	if !o.yes {
		prompt := newPrompter(cmd.InOrStdin(), stderr)
		if !prompt.interactive {
			return errors.New("a drill moves the application to its standby and back, and " +
				"asks for confirmation, but stdin is not a terminal; pass --yes to start it " +
				"without asking")
		}
		fmt.Fprintf(human, "Drill of %s: %s.\n", in.App, what)
		if gates := approvalGates(dp.failover); len(gates) > 0 {
			fmt.Fprintf(human, "Its failover and failback wait at %s for `%s` "+
				"(or start it with --skip-approvals).\n", strings.Join(gates, ", "),
				hint.cmd("approve"))
		}
		if err := prompt.confirm("Start the drill of " + in.App + "?"); err != nil {
			return err
		}
	}

	c, err := g.dial(ctx, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer c.Close()

	summary := fmt.Sprintf("drill of %s (%s) by %s", in.App, what, in.RequestedBy)
	if in.Reason != "" {
		summary += ": " + in.Reason
	}
	ref, err := startDrill(ctx, c, in, summary, hint)
	if err != nil {
		return err
	}

	if !o.wait {
		if g.output == outputJSON {
			return json.NewEncoder(stdout).Encode(ref)
		}
		return writeDrillStarted(stdout, ref, what, dp.failover, hint)
	}

	fmt.Fprintf(human, "Started the drill of %s (%s): workflow %s, run %s\n\n",
		in.App, what, ref.WorkflowID, ref.RunID)
	w := &drillWatcher{c: c, ref: ref, out: human, live: isTerminal(human), hint: hint}
	res, err := w.watch(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped watching; the drill of %s goes on. Its failover and "+
				"failback show in `%s`", in.App, hint.cmd("status", "--watch"))
		}
		return fmt.Errorf("follow the drill of %s: %w", in.App, err)
	}
	if g.output == outputJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(human)
		if err := writeDrillResult(human, res); err != nil {
			return err
		}
	}
	return res.err()
}

// startDrill starts a drill under the application's drill id; one that is
// running already is named in the error.
func startDrill(ctx context.Context, c client.Client, in workflows.DrillInput, summary string,
	hint hinter) (drillRef, error) {
	ref := drillRef{App: in.App, WorkflowID: workflows.DrillWorkflowID(in.App)}

	// The drill's failover and failback take the application's switch
	// id, which a run in progress holds: the drill would fail at once.
	d, err := latestRun(ctx, c, in.App)
	if err != nil {
		return ref, err
	}
	if d != nil && isRunning(d) {
		run := refOf(in.App, d)
		return ref, fmt.Errorf("a %s of %s is running (workflow %s, run %s), and a drill's "+
			"failover would need that workflow id. Let it end (`%s`) or stop it (`%s`) first",
			run.Kind, in.App, run.WorkflowID, run.RunID, hint.cmd("status", "--watch"),
			hint.cmd("abort"))
	}

	opts := client.StartWorkflowOptions{
		ID:                                       ref.WorkflowID,
		TaskQueue:                                activities.WorkflowTaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            summary,
	}
	run, err := c.ExecuteWorkflow(ctx, opts, workflows.DrillWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return ref, fmt.Errorf("a drill of %s is already running (workflow %s, run %s); only "+
			"one runs at a time. Its failover and failback show in `%s`", in.App,
			ref.WorkflowID, started.RunId, hint.cmd("status", "--watch"))
	}
	if err != nil {
		return ref, fmt.Errorf("start the drill of %s: %w", in.App, err)
	}
	ref.RunID = run.GetRunID()
	return ref, nil
}

// writeDrillStarted tells how to follow and steer a drill started without
// --wait.
func writeDrillStarted(w io.Writer, ref drillRef, what string, p *plan.Plan,
	hint hinter) error {
	fmt.Fprintf(w, "Started the drill of %s: %s\n  workflow id  %s\n  run id       %s\n\n",
		ref.App, what, ref.WorkflowID, ref.RunID)
	fmt.Fprintf(w, "Follow its failover and failback:  %s\n", hint.cmd("status", "--watch"))
	if gates := approvalGates(p); len(gates) > 0 {
		fmt.Fprintf(w, "Approve when it waits:             %s   (at %s)\n", hint.cmd("approve"),
			strings.Join(gates, ", "))
	}
	fmt.Fprintf(w, "Stop it (it still cleans up):      %s\n", hint.cmd("drill cancel"))
	_, err := fmt.Fprintf(w, "Its record, once it ends:          drover drill report --app %s\n",
		ref.App)
	return err
}

// drillResult is how a drill ended: its status and, when it could be
// read, its final progress with the ledger record.
type drillResult struct {
	// Status is succeeded, failed, cancelled, terminated or timed-out.
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	*workflows.DrillProgress
}

// err is the exit status of a watched drill: nil only when it succeeded.
func (r *drillResult) err() error {
	if r.Status == drills.OutcomeSucceeded {
		return nil
	}
	msg := fmt.Sprintf("the drill of %s ended %s", r.App, r.Status)
	if r.Message != "" {
		msg += ": " + r.Message
	}
	return errors.New(msg)
}

// drillWatcher follows a drill to its end: the phase it is in, and the
// live progress of its failover and failback.
type drillWatcher struct {
	c    client.Client
	ref  drillRef
	out  io.Writer
	live bool
	hint hinter
	// approve, when set, approves each approval step of the drill's
	// runs found waiting, instead of telling the operator how to, and
	// returns a line to show.
	approve func(ctx context.Context, run runRef, step string) string

	phase    workflows.DrillPhase
	followed map[string]bool
	restores map[string]string
}

// silenceLimit is how long a drill may leave its progress query
// unanswered before the watcher says that no worker seems to serve it.
const silenceLimit = 10 * time.Second

// watch returns how the drill ended. Its error is the watching's own:
// the context ended or Temporal could not be read.
func (w *drillWatcher) watch(ctx context.Context) (*drillResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.followed, w.restores = map[string]bool{}, map[string]string{}

	done := make(chan error, 1)
	go func() {
		done <- w.c.GetWorkflow(ctx, w.ref.WorkflowID, w.ref.RunID).Get(ctx, nil)
	}()

	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last *workflows.DrillProgress
	var silentSince time.Time
	warned := false
	for {
		p, err := queryDrill(ctx, w.c, w.ref)
		switch {
		case err == nil:
			last, silentSince = p, time.Time{}
			w.showPhase(p)
			if err := w.followChildren(ctx, p.Phase); err != nil {
				return nil, err
			}
		case ctx.Err() != nil:
		case silentSince.IsZero():
			silentSince = time.Now()
		case !warned && time.Since(silentSince) > silenceLimit:
			warned = true
			fmt.Fprintf(w.out, "the drill does not answer its progress query (%s); is "+
				"`drover worker` running?\n", rootMessage(err))
		}

		select {
		case err := <-done:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return w.result(ctx, err, last), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// result reads how a closed drill ended. A failed drill returns no value,
// but its progress query still answers, replayed by a worker.
func (w *drillWatcher) result(ctx context.Context, runErr error,
	last *workflows.DrillProgress) *drillResult {
	if p, err := queryDrill(ctx, w.c, w.ref); err == nil {
		last = p
	}
	if last == nil {
		last = &workflows.DrillProgress{App: w.ref.App}
	}
	w.showPhase(last)
	res := &drillResult{Status: drills.OutcomeSucceeded, DrillProgress: last}
	var (
		terminated *temporal.TerminatedError
		cancelled  *temporal.CanceledError
		timedOut   *temporal.TimeoutError
	)
	switch {
	case runErr == nil:
	case errors.As(runErr, &terminated):
		res.Status = string(runTerminated)
	case errors.As(runErr, &cancelled):
		res.Status = drills.OutcomeCancelled
	case errors.As(runErr, &timedOut):
		res.Status = string(runTimedOut)
	default:
		res.Status = drills.OutcomeFailed
	}
	if runErr != nil {
		res.Message = rootMessage(runErr)
	}
	return res
}

// queryDrill asks a drill for its progress.
func queryDrill(ctx context.Context, c client.Client, ref drillRef) (*workflows.DrillProgress,
	error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := c.QueryWorkflow(ctx, ref.WorkflowID, ref.RunID, workflows.QueryProgress)
	if err != nil {
		return nil, err
	}
	var p workflows.DrillProgress
	if err := v.Get(&p); err != nil {
		return nil, fmt.Errorf("decode the progress of the drill of %s: %w", ref.App, err)
	}
	return &p, nil
}

// showPhase prints a line when the drill enters a phase.
func (w *drillWatcher) showPhase(p *workflows.DrillProgress) {
	if p.Phase == w.phase || p.Phase == "" {
		return
	}
	w.phase = p.Phase
	var what string
	switch p.Phase {
	case workflows.DrillFailover:
		what = "practice failover"
	case workflows.DrillSoak:
		what = "soaking in the standby"
		if p.SoakEnds != nil {
			what += " until " + p.SoakEnds.Local().Format("15:04:05")
		}
	case workflows.DrillFailback:
		what = "failback"
	case workflows.DrillRestore:
		what = "restore exercise"
	case workflows.DrillCleanup:
		what = "cleaning up"
	case workflows.DrillDone:
		what = "done"
	default:
		what = string(p.Phase)
	}
	fmt.Fprintf(w.out, "%s drill of %s: %s\n", time.Now().Format("15:04:05"), w.ref.App, what)
}

// followChildren shows the drill's child runs. A failover or failback is
// followed to its end with the live view; a restore's state changes are
// noted as they are seen.
func (w *drillWatcher) followChildren(ctx context.Context, phase workflows.DrillPhase) error {
	switch phase {
	case workflows.DrillFailover, workflows.DrillFailback, workflows.DrillRestore:
	default:
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, queryTimeout)
	d, err := w.c.DescribeWorkflow(dctx, w.ref.WorkflowID, w.ref.RunID)
	cancel()
	if err != nil || d.RawResponse == nil {
		// The next tick tries again; the drill's own end is awaited
		// elsewhere.
		return nil
	}
	for _, ch := range d.RawResponse.GetPendingChildren() {
		switch ch.GetWorkflowTypeName() {
		case workflows.FailoverWorkflowName, workflows.FailbackWorkflowName:
			if w.followed[ch.GetRunId()] {
				continue
			}
			w.followed[ch.GetRunId()] = true
			run := runRef{App: w.ref.App, Kind: kindOf(ch.GetWorkflowTypeName()),
				WorkflowID: ch.GetWorkflowId(), RunID: ch.GetRunId()}
			if err := w.followRun(ctx, run); err != nil {
				return err
			}
		case workflows.RestoreWorkflowName:
			w.noteRestore(ctx, ch.GetWorkflowId(), ch.GetRunId())
		}
	}
	return nil
}

// followRun shows one child failover or failback until it closes.
func (w *drillWatcher) followRun(ctx context.Context, run runRef) error {
	view := newProgressView(w.out, w.live, w.hint)
	cw := &watcher{c: w.c, ref: run, show: view}
	if w.approve != nil {
		view.autoApprove = true
		cw.approve = func(ctx context.Context, step string) {
			if msg := w.approve(ctx, run, step); msg != "" {
				view.note(msg)
			}
		}
	}
	_, err := cw.watch(ctx)
	if err != nil && ctx.Err() == nil {
		// The drill reports the child's failure; watching goes on.
		fmt.Fprintf(w.out, "the drill's %s ended: %s\n", run.Kind, rootMessage(err))
		return nil
	}
	return err
}

// noteRestore prints a line when the restore's state changes.
func (w *drillWatcher) noteRestore(ctx context.Context, id, runID string) {
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := w.c.QueryWorkflow(qctx, id, runID, workflows.QueryProgress)
	if err != nil {
		return
	}
	var r workflows.RestoreResult
	if v.Get(&r) != nil || r.Status == "" || w.restores[runID] == r.Status {
		return
	}
	w.restores[runID] = r.Status
	line := fmt.Sprintf("%s restore of %s in %s", time.Now().Format("15:04:05"),
		r.Component, r.Region)
	if r.TargetID != "" {
		line += " into " + r.TargetID
	}
	fmt.Fprintf(w.out, "%s: %s\n", line, r.Status)
}

// writeDrillResult sums up a finished drill: its outcome, each
// component's recovery time, the cleanup and where the record is.
func writeDrillResult(w io.Writer, res *drillResult) error {
	rec := res.Record
	head := fmt.Sprintf("Drill of %s %s", res.App, res.Status)
	if rec != nil {
		head += " in " + fmtDuration(rec.Ended.Sub(rec.Started))
	}
	if res.Message != "" {
		head += ": " + res.Message
	}
	fmt.Fprintln(w, head+".")
	if rec == nil {
		_, err := fmt.Fprintln(w, "Its record could not be read from Temporal; "+
			"`drover drill history` shows what the ledger received.")
		return err
	}

	if len(rec.Components) > 0 {
		fmt.Fprintln(w)
		tw := newTable(w)
		fmt.Fprintln(tw, "PHASE\tSTEP\tREGION\tTIME\tOUTCOME")
		for _, c := range rec.Components {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Phase, c.Step, orDash(c.Region),
				fmtSeconds(c), c.Outcome)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, c := range rec.Cleanup {
		line := fmt.Sprintf("Cleanup: %s in %s %s", c.Resource, c.Region, c.Action)
		if c.Outcome != drills.OutcomeSucceeded {
			line = fmt.Sprintf("Cleanup of %s in %s %s: %s; remove it by hand", c.Resource,
				c.Region, c.Outcome, c.Detail)
		}
		fmt.Fprintln(w, line)
	}
	_, err := fmt.Fprintf(w, "\nRecord %s\nIts report: drover drill report --app %s --drill %s\n",
		rec.ID, res.App, shortID(*rec))
	return err
}

// fmtSeconds shows a component's recovery time, or a dash when none was
// measured.
func fmtSeconds(c drills.Component) string {
	if c.HealthyAt.IsZero() || c.ActionStarted.IsZero() {
		return "-"
	}
	return fmtDuration(time.Duration(c.Seconds * float64(time.Second)))
}
