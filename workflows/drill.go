package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
)

// DrillWorkflowName is the drill's workflow type.
const DrillWorkflowName = "Drill"

// DrillWorkflowID is the id a drill of app runs under when started by
// hand; a schedule appends the time to its own id.
func DrillWorkflowID(app string) string { return "drover-drill-" + app }

// DrillInput is the drill's only argument: one JSON object, as the web UI's
// start form takes it. Only App is required.
type DrillInput struct {
	App string `json:"app"`
	// To is the standby to fail over to; with one standby it may be left
	// out.
	To string `json:"to,omitempty"`
	// Mode of the practice failover: graceful (default) or ungraceful.
	Mode plan.Mode `json:"mode,omitempty"`
	// Soak is how long the application serves from the standby before
	// the failback, such as "10m"; zero goes straight back.
	Soak topology.Duration `json:"soak,omitempty"`
	// Restore, when set, also restores a database from its latest
	// snapshot into a scratch instance, verifies it and deletes it.
	Restore *RestoreExercise `json:"restore,omitempty"`
	// SkipApprovals runs the steps the topology gates without waiting,
	// for drills that run unattended from a schedule.
	SkipApprovals bool   `json:"skipApprovals,omitempty"`
	RequestedBy   string `json:"requestedBy,omitempty"`
	Reason        string `json:"reason,omitempty"`
	// Estimates are passed on to the failover and failback plans.
	Estimates *plan.Estimates `json:"estimates,omitempty"`
}

// RestoreExercise names the database a drill restores.
type RestoreExercise struct {
	Database string `json:"database"`
	// Region defaults to the primary.
	Region string `json:"region,omitempty"`
}

// DrillPhase is where a drill is.
type DrillPhase string

// Drill phases.
const (
	DrillFailover DrillPhase = "failover"
	DrillSoak     DrillPhase = "soak"
	DrillFailback DrillPhase = "failback"
	DrillRestore  DrillPhase = "restore"
	DrillCleanup  DrillPhase = "cleanup"
	DrillDone     DrillPhase = "done"
)

// DrillProgress is the drill's state: the answer to its progress query and
// its result.
type DrillProgress struct {
	App      string     `json:"app"`
	Phase    DrillPhase `json:"phase"`
	Started  time.Time  `json:"started"`
	SoakEnds *time.Time `json:"soakEnds,omitempty"`
	// Failover and Failback are the child runs' results once they end.
	Failover *Progress `json:"failover,omitempty"`
	Failback *Progress `json:"failback,omitempty"`
	// Restore is the restore exercise's timed component.
	Restore *drills.Component `json:"restore,omitempty"`
	Record  *drills.Record    `json:"record,omitempty"`
}

// Drill rehearses the whole recovery of an application and records how
// long each component took: a practice failover to the standby, a soak, a
// failback, and optionally a database restored from its snapshot. What the
// drill creates is removed again, also when it fails or is cancelled, and
// the record goes to the ledger either way.
func Drill(ctx workflow.Context, in DrillInput) (*DrillProgress, error) {
	d := &drill{in: in}
	if err := d.setup(ctx); err != nil {
		return nil, err
	}
	return d.run(ctx)
}

type drill struct {
	in       DrillInput
	log      log.Logger
	progress DrillProgress
	topo     *topology.Topology
	// scratch lists what the drill created and must delete.
	scratch []scratchDB
	cleanup []drills.Cleanup
	// live are the identifiers of the application's databases, which
	// cleanup must never delete.
	live []string
}

type scratchDB struct {
	region string
	id     string
	kind   string // "instance" or "cluster"
}

func (d *drill) setup(ctx workflow.Context) error {
	if !topology.ValidName(d.in.App) {
		return invalidInput("app must be lowercase letters, digits and dashes, not %q", d.in.App)
	}
	if d.in.Mode == "" {
		d.in.Mode = plan.Graceful
	}
	if d.in.Mode != plan.Graceful && d.in.Mode != plan.Ungraceful {
		return invalidInput("mode must be graceful or ungraceful, not %q", d.in.Mode)
	}
	if d.in.Soak < 0 {
		return invalidInput("soak must not be negative")
	}
	if d.in.Restore != nil && d.in.Restore.Database == "" {
		return invalidInput("a restore exercise names a database")
	}
	d.log = log.With(workflow.GetLogger(ctx), "App", d.in.App, "Drill",
		workflow.GetInfo(ctx).WorkflowExecution.ID)
	d.progress = DrillProgress{App: d.in.App, Phase: DrillFailover, Started: workflow.Now(ctx)}
	return workflow.SetQueryHandler(ctx, QueryProgress, func() (DrillProgress, error) {
		return d.progress, nil
	})
}

func (d *drill) run(ctx workflow.Context) (*DrillProgress, error) {
	runErr := d.exercise(ctx)

	// Cleanup and the record run even when the drill failed or was
	// cancelled: a context of their own outlives the drill's.
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	phase := d.progress.Phase
	d.progress.Phase = DrillCleanup
	d.cleanUp(dctx)
	rec := d.record(dctx, runErr, phase)
	recordRun(dctx, rec)
	d.progress.Record = &rec
	d.progress.Phase = DrillDone
	d.log.Info("Drill finished", "Outcome", rec.Outcome, "Components", len(rec.Components))
	if runErr != nil {
		return &d.progress, runErr
	}
	return &d.progress, nil
}

// exercise runs the failover, soak, failback and restore.
func (d *drill) exercise(ctx workflow.Context) error {
	if err := d.loadTopology(ctx); err != nil {
		return err
	}
	failover, err := d.child(ctx, FailoverWorkflowName, SwitchInput{
		App: d.in.App, To: d.in.To, Mode: d.in.Mode, Purpose: Practice,
		SkipApprovals: d.in.SkipApprovals, RequestedBy: d.requestedBy(),
		Reason: "drill: " + d.in.Reason, Estimates: d.in.Estimates,
	})
	d.progress.Failover = failover
	if err != nil {
		return fmt.Errorf("drill failover: %w", err)
	}
	if failover.Status != RunCompleted {
		return temporal.NewNonRetryableApplicationError(
			"the drill's failover ended "+string(failover.Status)+": "+failover.Message,
			"DrillFailed", nil)
	}

	if d.in.Soak > 0 {
		d.progress.Phase = DrillSoak
		ends := workflow.Now(ctx).Add(time.Duration(d.in.Soak))
		d.progress.SoakEnds = &ends
		d.log.Info("Soaking in the standby", "Until", ends)
		if err := workflow.Sleep(ctx, time.Duration(d.in.Soak)); err != nil {
			return err
		}
	}

	d.progress.Phase = DrillFailback
	failback, err := d.child(ctx, FailbackWorkflowName, SwitchInput{
		App: d.in.App, From: failover.To, SkipApprovals: d.in.SkipApprovals,
		RequestedBy: d.requestedBy(), Reason: "drill: " + d.in.Reason,
		Estimates: d.in.Estimates,
	})
	d.progress.Failback = failback
	if err != nil {
		return fmt.Errorf("drill failback: %w", err)
	}
	if failback.Status != RunCompleted {
		return temporal.NewNonRetryableApplicationError(
			"the drill's failback ended "+string(failback.Status)+": "+failback.Message,
			"DrillFailed", nil)
	}
	d.noteStaleInstances(failback)

	if d.in.Restore != nil {
		d.progress.Phase = DrillRestore
		if err := d.restoreExercise(ctx); err != nil {
			return fmt.Errorf("drill restore: %w", err)
		}
	}
	return nil
}

// child runs a failover or failback under the application's switch id, so
// an operator reaches it with the usual commands (approve, pause...).
func (d *drill) child(ctx workflow.Context, name string, in SwitchInput) (*Progress, error) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        SwitchWorkflowID(d.in.App),
		TaskQueue:         activities.WorkflowTaskQueue,
		ParentClosePolicy: enums.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		StaticSummary:     fmt.Sprintf("drill %s of %s", name, d.in.App),
	})
	var p Progress
	err := workflow.ExecuteChildWorkflow(cctx, name, in).Get(ctx, &p)
	if err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.HasDetails() {
			// A failed preflight carries its progress.
			if appErr.Details(&p) == nil && p.App != "" {
				return &p, err
			}
		}
		return nil, err
	}
	return &p, nil
}

func (d *drill) requestedBy() string { return d.in.RequestedBy }

// scheduleID names the Temporal Schedule that started this run, if one did.
func scheduleID(ctx workflow.Context) string {
	key := temporal.NewSearchAttributeKeyKeyword("TemporalScheduledById")
	id, _ := workflow.GetTypedSearchAttributes(ctx).GetKeyword(key)
	return id
}

// noteStaleInstances adds to the cleanup the instances a failback renamed
// out of the way: in a drill they are the drill's leftovers.
func (d *drill) noteStaleInstances(p *Progress) {
	for _, st := range p.Steps {
		if st.Leftover != "" && st.State == StepSucceeded {
			d.scratch = append(d.scratch, scratchDB{region: st.Region, id: st.Leftover,
				kind: "instance"})
		}
	}
}

// cleanUp deletes what the drill created. Each item is tried on its own;
// what could not be removed is recorded as such.
func (d *drill) cleanUp(ctx workflow.Context) {
	for _, sc := range d.scratch {
		in := activities.DeleteDatabaseInput{Region: sc.region, LiveIDs: d.live}
		if sc.kind == "cluster" {
			in.ClusterID = sc.id
		} else {
			in.InstanceID = sc.id
		}
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			TaskQueue:           activities.TaskQueue(sc.region),
			StartToCloseTimeout: time.Hour,
			HeartbeatTimeout:    heartbeatTimeout,
			RetryPolicy:         retryPolicy,
		})
		var res activities.StepResult
		err := workflow.ExecuteActivity(actx, activities.DeleteDatabaseName, in).Get(ctx, &res)
		item := drills.Cleanup{
			Region: sc.region, Resource: "rds " + sc.kind + " " + sc.id,
			Action: "deleted", Outcome: drills.OutcomeSucceeded, At: workflow.Now(ctx),
			Detail: res.Detail,
		}
		if err != nil {
			item.Outcome = drills.OutcomeFailed
			item.Detail = rootMessage(err)
			d.log.Error("Cleanup failed; remove it by hand", "Resource", item.Resource,
				"Error", err)
		}
		d.cleanup = append(d.cleanup, item)
	}
}

// record is the drill's ledger record: every phase's components, the
// approvals and the cleanup.
func (d *drill) record(ctx workflow.Context, runErr error, phase DrillPhase) drills.Record {
	info := workflow.GetInfo(ctx)
	rec := drills.Record{
		ID:  info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID,
		App: d.in.App, Kind: drills.KindDrill, StartedBy: orSomeone(d.in.RequestedBy),
		Reason: d.in.Reason, Purpose: string(Practice), Mode: string(d.in.Mode),
		WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		ScheduleID: scheduleID(ctx), Started: d.progress.Started, Ended: workflow.Now(ctx),
		Outcome: drills.OutcomeSucceeded, Cleanup: d.cleanup,
		Components: []drills.Component{},
	}
	if rec.ScheduleID != "" && d.in.RequestedBy == "" {
		rec.StartedBy = "schedule " + rec.ScheduleID
	}
	if p := d.progress.Failover; p != nil {
		rec.From, rec.To = p.From, p.To
		rec.Components = append(rec.Components, componentsOf(p, drills.PhaseFailover)...)
		rec.Approvals = append(rec.Approvals, approvalsOf(p, drills.PhaseFailover)...)
	}
	if p := d.progress.Failback; p != nil {
		rec.Components = append(rec.Components, componentsOf(p, drills.PhaseFailback)...)
		rec.Approvals = append(rec.Approvals, approvalsOf(p, drills.PhaseFailback)...)
	}
	if c := d.progress.Restore; c != nil {
		rec.Components = append(rec.Components, *c)
	}
	switch {
	case temporal.IsCanceledError(runErr):
		rec.Outcome = drills.OutcomeCancelled
		rec.Message = "cancelled in the " + string(phase) + " phase"
	case runErr != nil:
		rec.Outcome = drills.OutcomeFailed
		rec.Message = rootMessage(runErr)
	}
	for _, c := range rec.Cleanup {
		if c.Outcome != drills.OutcomeSucceeded {
			rec.Message += "; cleanup left " + c.Resource
		}
	}
	return rec
}

// loadTopology reads the application and checks the restore exercise
// against it before the drill changes anything.
func (d *drill) loadTopology(ctx workflow.Context) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           activities.WorkflowTaskQueue,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	var topo topology.Topology
	if err := workflow.ExecuteActivity(actx, activities.LoadTopologyName, d.in.App).
		Get(ctx, &topo); err != nil {
		return fmt.Errorf("load topology of %s: %w", d.in.App, err)
	}
	d.topo = &topo
	d.live = activities.LiveDatabaseIDs(&topo)
	if ex := d.in.Restore; ex != nil {
		if _, ok := d.database(ex.Database); !ok {
			return invalidInput("%s has no database %q to restore", d.in.App, ex.Database)
		}
		if ex.Region == "" {
			ex.Region = topo.Primary().Name
		}
		if _, ok := topo.Region(ex.Region); !ok {
			return invalidInput("%s is not a region of %s", ex.Region, d.in.App)
		}
	}
	return nil
}

func (d *drill) database(name string) (topology.Database, bool) {
	for _, db := range d.topo.Databases {
		if db.Name == name {
			return db, true
		}
	}
	return topology.Database{}, false
}

// restoreExercise restores a database from its latest snapshot into a
// scratch identifier, verifies it (the Restore workflow does both) and
// leaves it to cleanup. The scratch name is noted before the restore
// starts, so a drill that fails half-way still deletes it.
func (d *drill) restoreExercise(ctx workflow.Context) error {
	ex := d.in.Restore
	db, _ := d.database(ex.Database)
	target := fmt.Sprintf("drill-%s-%s", ex.Database,
		workflow.Now(ctx).UTC().Format("20060102-1504"))
	kind := "instance"
	if db.Engine == topology.EngineAuroraGlobal {
		kind = "cluster"
	}
	d.scratch = append(d.scratch, scratchDB{region: ex.Region, id: target, kind: kind})

	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        RestoreWorkflowID(d.in.App, ex.Database, ex.Region),
		TaskQueue:         activities.WorkflowTaskQueue,
		ParentClosePolicy: enums.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		StaticSummary:     fmt.Sprintf("drill restore of %s into %s", ex.Database, target),
	})
	var res RestoreResult
	err := workflow.ExecuteChildWorkflow(cctx, RestoreWorkflowName, RestoreInput{
		App: d.in.App, Component: ex.Database, Region: ex.Region, TargetID: target,
		RequestedBy: d.in.RequestedBy, Reason: "drill: " + d.in.Reason,
	}).Get(ctx, &res)

	c := drills.Component{
		Phase: drills.PhaseRestore, Step: "restore-database:" + ex.Database,
		Component: ex.Database, Kind: "restore-database", Region: ex.Region,
		Outcome: drills.OutcomeSucceeded, Detail: res.Detail,
	}
	if res.ActionStarted != nil && res.HealthyAt != nil {
		c.ActionStarted, c.HealthyAt = *res.ActionStarted, *res.HealthyAt
		c.Seconds = res.HealthyAt.Sub(*res.ActionStarted).Seconds()
	}
	if err != nil {
		c.Outcome = drills.OutcomeFailed
		c.Detail = rootMessage(err)
	}
	d.progress.Restore = &c
	return err
}
