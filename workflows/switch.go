package workflows

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
)

// Failover moves an application from its serving region to a standby.
func Failover(ctx workflow.Context, in SwitchInput) (*Progress, error) {
	return runSwitch(ctx, plan.Failover, in)
}

// Failback returns an application to its primary region, gracefully,
// re-establishing replication toward it first.
func Failback(ctx workflow.Context, in SwitchInput) (*Progress, error) {
	return runSwitch(ctx, plan.Failback, in)
}

func runSwitch(ctx workflow.Context, kind plan.Kind, in SwitchInput) (*Progress, error) {
	s := &switchRun{kind: kind, in: in}
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	return s.run(ctx)
}

// switchRun is one failover or failback. Every field is workflow state:
// handlers and step goroutines change it, and the main loop waits on it.
type switchRun struct {
	kind plan.Kind
	in   SwitchInput
	log  log.Logger

	topo *topology.Topology
	plan *plan.Plan
	// critical are the steps with no time to spare, which go first to
	// their region's queue and rate limits.
	critical map[string]bool
	progress Progress
	steps    map[string]*stepRun

	paused  bool
	aborted bool
	abortBy string
	// changed is set whenever something the main loop waits on changes.
	changed bool

	sourceRunning map[string]int32
	sourceDesired map[string]int32
}

// stepRun is the live state of one step, next to its progress entry.
type stepRun struct {
	p        *StepProgress
	cancel   workflow.CancelFunc
	approved bool
	// decision is the operator's answer to a failed step.
	decision string
	// staleName is fixed once per step, so retries reuse it.
	staleName string
	// abandoned marks a source-region step cancelled because the run no
	// longer needs it.
	abandoned bool
}

// setup checks the input and registers the query and updates. Bad input
// fails the run before anything acts.
func (s *switchRun) setup(ctx workflow.Context) error {
	in := &s.in
	if !topology.ValidName(in.App) {
		return invalidInput("app must be lowercase letters, digits and dashes, not %q", in.App)
	}
	if id := workflow.GetInfo(ctx).WorkflowExecution.ID; id != SwitchWorkflowID(in.App) {
		// The id is what keeps two moves of one application from running
		// at once; a run under another id would slip past that.
		return invalidInput("start a %s of %s with workflow id %s, not %s",
			s.kind, in.App, SwitchWorkflowID(in.App), id)
	}
	if in.Mode == "" {
		in.Mode = plan.Graceful
	}
	if in.Mode != plan.Graceful && in.Mode != plan.Ungraceful {
		return invalidInput("mode must be graceful or ungraceful, not %q", in.Mode)
	}
	if s.kind == plan.Failback && in.Mode != plan.Graceful {
		return invalidInput("a failback is always graceful")
	}
	if in.Purpose == "" {
		in.Purpose = Recovery
	}
	if in.Purpose != Recovery && in.Purpose != Practice {
		return invalidInput("purpose must be recovery or practice, not %q", in.Purpose)
	}

	s.log = log.With(workflow.GetLogger(ctx), "App", in.App, "Kind", string(s.kind))
	s.progress = Progress{
		App: in.App, Kind: s.kind, Mode: in.Mode, Purpose: in.Purpose,
		From: in.From, To: in.To, DryRun: in.DryRun,
		RequestedBy: in.RequestedBy, Reason: in.Reason,
		Status: RunRunning, Started: workflow.Now(ctx),
	}
	s.steps = map[string]*stepRun{}

	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (Progress, error) {
		return s.snapshot(), nil
	}); err != nil {
		return err
	}
	return s.registerControls(ctx)
}

func invalidInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...),
		"InvalidInput", nil)
}

func (s *switchRun) run(ctx workflow.Context) (*Progress, error) {
	if err := s.loadPlan(ctx); err != nil {
		return nil, err
	}
	s.log.Info("Plan ready", "Steps", len(s.plan.Steps), "Estimate", s.plan.Estimate)
	s.showDetails(ctx)

	s.execute(ctx)

	// Let operator updates that are still being handled finish before the
	// result is fixed.
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return s.finish(ctx)
}

// loadPlan reads the topology in the target region and builds the plan.
func (s *switchRun) loadPlan(ctx workflow.Context) error {
	// Every region's workers serve the workflow queue, so reading the
	// topology needs no particular region.
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           activities.WorkflowTaskQueue,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	var topo topology.Topology
	if err := workflow.ExecuteActivity(actx, activities.LoadTopologyName, s.in.App).
		Get(ctx, &topo); err != nil {
		return fmt.Errorf("load topology of %s: %w", s.in.App, err)
	}
	s.topo = &topo

	est := plan.DefaultEstimates()
	if s.in.Estimates != nil {
		est = *s.in.Estimates
	}
	p, err := plan.Build(&topo, plan.Request{
		Kind: s.kind, To: s.in.To, From: s.in.From, Mode: s.in.Mode,
		ScaleDownSource: s.in.ScaleDownSource, SkipApprovals: s.in.SkipApprovals,
	}, est)
	if err != nil {
		return invalidInput("%v", err)
	}
	s.plan, s.critical = p, p.Critical()
	s.progress.From, s.progress.To = p.From, p.To
	s.progress.CriticalPath, s.progress.Estimate = p.CriticalPath, p.Estimate
	s.log = log.With(s.log, "From", p.From, "To", p.To)

	s.progress.Steps = make([]StepProgress, len(p.Steps))
	for i, st := range p.Steps {
		s.progress.Steps[i] = StepProgress{Step: *st, State: StepPending}
		s.steps[st.ID] = &stepRun{p: &s.progress.Steps[i]}
	}
	return nil
}

// execute starts each step once its dependencies are satisfied, and
// returns when every step has finished or the run was aborted.
func (s *switchRun) execute(ctx workflow.Context) {
	order := s.plan.Steps
	if workflow.GetVersion(ctx, "critical-path-first", workflow.DefaultVersion, 1) >= 1 {
		order = byRemaining(s.plan)
	}
	running := 0
	for {
		if !s.aborted && !s.paused && !s.blocked() {
			for _, st := range order {
				sr := s.steps[st.ID]
				if sr.p.State != StepPending || !s.ready(st) {
					continue
				}
				if s.in.DryRun && st.Kind != plan.StepPreflight && st.Kind != plan.StepObserveSource {
					s.finishStep(ctx, sr, StepSkipped, "dry run")
					continue
				}
				running++
				s.startStep(ctx, sr, func() { running-- })
			}
		}
		if s.done() && running == 0 {
			return
		}
		s.abandonSourceReads()
		if s.aborted && running == 0 {
			return
		}
		s.changed = false
		_ = workflow.Await(ctx, func() bool { return s.changed })
		s.showDetails(ctx)
	}
}

// byRemaining orders the steps so that, of those ready at once, the ones
// with the longest chain after them are scheduled first: with hundreds of
// services ready together, the one others wait for must not queue behind
// them. Ties keep the plan's order.
func byRemaining(p *plan.Plan) []*plan.Step {
	rest := p.Remaining()
	order := append([]*plan.Step(nil), p.Steps...)
	sort.SliceStable(order, func(i, j int) bool {
		return rest[order[i].ID] > rest[order[j].ID]
	})
	return order
}

// abandonSourceReads ends an ungraceful run once the target serves: steps
// that still wait on the source region only to observe it or stop its
// writers can no longer change the outcome, so they are cancelled rather
// than waited for.
func (s *switchRun) abandonSourceReads() {
	if s.in.Mode != plan.Ungraceful {
		return
	}
	var waiting []*stepRun
	for _, st := range s.progress.Steps {
		sr := s.steps[st.ID]
		if st.State.finished() {
			continue
		}
		abandonable := st.State == StepRunning && st.Region == s.plan.From &&
			(st.Kind == plan.StepObserveSource || st.Kind == plan.StepStopWriters)
		if !abandonable {
			return
		}
		waiting = append(waiting, sr)
	}
	for _, sr := range waiting {
		if !sr.abandoned && sr.cancel != nil {
			sr.abandoned = true
			sr.cancel()
		}
	}
}

// blocked reports whether a failed step waits for the operator: no new
// step starts until it is retried, skipped or the run aborted.
func (s *switchRun) blocked() bool {
	for _, st := range s.progress.Steps {
		if st.State == StepFailed {
			return true
		}
	}
	return false
}

func (s *switchRun) done() bool {
	for _, st := range s.progress.Steps {
		if !st.State.finished() {
			return false
		}
	}
	return true
}

// ready reports whether every dependency of st is satisfied. In ungraceful
// mode the source region is never waited for: a dependency on a step there
// counts as satisfied once the mode switched, even while it still runs.
func (s *switchRun) ready(st *plan.Step) bool {
	for _, d := range st.DependsOn {
		dep := s.steps[d]
		if dep.p.State.satisfies() {
			continue
		}
		if s.in.Mode == plan.Ungraceful && dep.p.Region == s.plan.From && st.Region != s.plan.From {
			continue
		}
		return false
	}
	return true
}

func (s *switchRun) startStep(ctx workflow.Context, sr *stepRun, onExit func()) {
	sctx, cancel := workflow.WithCancel(ctx)
	sr.cancel = cancel
	now := workflow.Now(ctx)
	sr.p.Started = &now
	sr.p.State = StepRunning
	if sr.p.Kind == plan.StepApproval {
		sr.p.State = StepWaiting
	}
	s.changed = true
	workflow.Go(sctx, func(gctx workflow.Context) {
		defer func() {
			onExit()
			s.changed = true
		}()
		s.runStep(gctx, sr)
	})
}

// runStep runs one step to an end state, asking the operator when it
// fails.
func (s *switchRun) runStep(ctx workflow.Context, sr *stepRun) {
	if sr.p.Kind == plan.StepApproval {
		_ = workflow.Await(ctx, func() bool {
			return sr.approved || sr.p.State != StepWaiting || s.aborted
		})
		switch {
		case sr.approved:
			s.finishStep(ctx, sr, StepSucceeded, "approved by "+orSomeone(sr.p.ApprovedBy))
		case s.aborted:
			s.finishStep(ctx, sr, StepCancelled, "run aborted")
		}
		return
	}

	for {
		sr.p.State = StepRunning
		sr.p.Error = ""
		sr.p.Attempts++
		s.changed = true
		res, err := s.execStep(ctx, sr)
		if err == nil {
			s.recordResult(sr, res)
			state := StepSucceeded
			if sr.p.State == StepSkipped {
				state = StepSkipped
			}
			s.finishStep(ctx, sr, state, sr.p.Detail)
			return
		}
		if sr.p.Kind == plan.StepPreflight {
			sr.p.Error = rootMessage(err)
			if s.progress.Status != RunPreflightFailed {
				s.progress.Status = RunPreflightFailed
				s.progress.Message = "preflight could not run: " + sr.p.Error
				s.aborted = true
			}
			s.finishStep(ctx, sr, StepFailed, "")
			return
		}
		if sr.abandoned {
			sr.p.Error = rootMessage(err)
			s.finishStep(ctx, sr, StepTolerated,
				"abandoned: the source region did not answer before the target served")
			return
		}
		if s.aborted || temporal.IsCanceledError(err) {
			s.finishStep(ctx, sr, StepCancelled, "run aborted")
			return
		}
		if s.bestEffort(sr) {
			s.log.Warn("Best-effort step failed; going on without it",
				"Step", sr.p.ID, "Error", err)
			sr.p.Error = rootMessage(err)
			s.finishStep(ctx, sr, StepTolerated, "failed in the source region; not waited for")
			return
		}

		s.log.Error("Step failed; waiting for the operator", "Step", sr.p.ID, "Error", err)
		sr.p.State = StepFailed
		sr.p.Error = rootMessage(err)
		sr.decision = ""
		s.changed = true
		_ = workflow.Await(ctx, func() bool { return sr.decision != "" || s.aborted })
		switch {
		case s.aborted:
			s.finishStep(ctx, sr, StepCancelled, "run aborted after failure: "+sr.p.Error)
			return
		case sr.decision == UpdateSkip:
			s.finishStep(ctx, sr, StepSkipped, "skipped after failure: "+sr.p.Error)
			return
		}
		// UpdateRetry: go round again.
	}
}

// bestEffort reports whether a step's failure is tolerated: steps marked
// so by the plan, and in ungraceful mode every step in the source region.
func (s *switchRun) bestEffort(sr *stepRun) bool {
	if sr.p.BestEffort {
		return true
	}
	return s.in.Mode == plan.Ungraceful && sr.p.Region == s.plan.From
}

func (s *switchRun) finishStep(ctx workflow.Context, sr *stepRun, state StepState, detail string) {
	now := workflow.Now(ctx)
	sr.p.State = state
	sr.p.Ended = &now
	if detail != "" {
		sr.p.Detail = detail
	}
	if sr.p.Started != nil && sr.p.Duration == 0 {
		sr.p.Duration = now.Sub(*sr.p.Started)
	}
	s.changed = true
	s.log.Info("Step finished", "Step", sr.p.ID, "State", string(state),
		"Duration", sr.p.Duration)
}

func (s *switchRun) recordResult(sr *stepRun, res *activities.StepResult) {
	if res == nil {
		return
	}
	sr.p.AlreadyDone = res.AlreadyDone
	sr.p.Detail = res.Detail
	sr.p.Leftover = res.Leftover
	if !res.ActionStarted.IsZero() {
		t := res.ActionStarted
		sr.p.ActionStarted = &t
	}
	if !res.HealthyAt.IsZero() {
		t := res.HealthyAt
		sr.p.HealthyAt = &t
	}
	if sr.p.ActionStarted != nil && sr.p.HealthyAt != nil {
		sr.p.Duration = sr.p.HealthyAt.Sub(*sr.p.ActionStarted)
	}
}

func orSomeone(by string) string {
	if by == "" {
		return "an operator"
	}
	return by
}

// rootMessage returns the message of the innermost application error, the
// one that says what went wrong, without Temporal's wrapping.
func rootMessage(err error) string {
	var appErr *temporal.ApplicationError
	msg := err.Error()
	for e := err; e != nil; e = errors.Unwrap(e) {
		if errors.As(e, &appErr) {
			msg = appErr.Message()
		}
	}
	return msg
}

// desiredCount is the target's desired count for a service: a fixed count,
// or the topology's share of what ran in the source. Unknown source counts
// (an impaired source) give -1: keep the target's own count.
func (s *switchRun) desiredCount(svc topology.Service) int32 {
	if svc.Count != nil {
		return *svc.Count
	}
	n, ok := s.sourceRunning[svc.Name]
	if !ok {
		return -1
	}
	if d := s.sourceDesired[svc.Name]; d > n {
		// A source still ramping up wanted more than it ran.
		n = d
	}
	share := svc.Share
	if share == 0 {
		share = 1
	}
	return int32(math.Ceil(float64(n) * share))
}

func (s *switchRun) finish(ctx workflow.Context) (*Progress, error) {
	now := workflow.Now(ctx)
	s.progress.Ended = &now
	s.progress.Duration = now.Sub(s.progress.Started)
	switch {
	case s.progress.Status == RunPreflightFailed:
	case s.aborted:
		s.progress.Status = RunAborted
		s.progress.Message = s.abortSummary()
	case s.in.DryRun:
		s.progress.Status = RunDryRun
	default:
		s.progress.Status = RunCompleted
	}
	s.showDetails(ctx)
	s.log.Info("Run finished", "Status", string(s.progress.Status),
		"Duration", s.progress.Duration)
	p := s.snapshot()
	// Runs that stand alone are evidence too; a drill records its own.
	v := workflow.GetVersion(ctx, "record-in-ledger", workflow.DefaultVersion, 1)
	if v >= 1 && !p.DryRun && workflow.GetInfo(ctx).ParentWorkflowExecution == nil {
		recordRun(ctx, incidentRecord(ctx, &p))
	}
	if p.Status == RunPreflightFailed {
		return &p, temporal.NewNonRetryableApplicationError(p.Message, "PreflightFailed", nil, p)
	}
	return &p, nil
}

// abortSummary describes the state an abort left: what moved and what
// did not, so the operator knows where the application stands.
func (s *switchRun) abortSummary() string {
	var done, notDone []string
	for _, st := range s.progress.Steps {
		if st.Kind == plan.StepApproval || st.ReadOnly {
			continue
		}
		if st.State == StepSucceeded {
			done = append(done, st.ID)
		} else {
			notDone = append(notDone, st.ID)
		}
	}
	msg := "aborted"
	if s.abortBy != "" {
		msg += " by " + s.abortBy
	}
	msg += fmt.Sprintf("; completed: %s; not done: %s",
		listOrNone(done), listOrNone(notDone))
	return msg
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// snapshot copies the progress so that a query's answer is not changed
// underneath it.
func (s *switchRun) snapshot() Progress {
	p := s.progress
	p.Steps = append([]StepProgress(nil), s.progress.Steps...)
	switch {
	case p.Status != RunRunning && p.Status != RunPaused:
	case s.paused:
		p.Status = RunPaused
	default:
		p.Status = RunRunning
	}
	return p
}
