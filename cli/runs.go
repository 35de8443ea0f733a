package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/workflows"
)

// Statuses of a run that ended without a result, beside the workflow's own
// RunStatus values.
const (
	runFailed     workflows.RunStatus = "failed"
	runTerminated workflows.RunStatus = "terminated"
	runCancelled  workflows.RunStatus = "cancelled"
	runTimedOut   workflows.RunStatus = "timed-out"
)

// runRef identifies one run of an application's failover or failback.
type runRef struct {
	App        string    `json:"app"`
	Kind       plan.Kind `json:"kind"`
	WorkflowID string    `json:"workflowId"`
	RunID      string    `json:"runId"`
}

// workflowName is the workflow type that carries out kind.
func workflowName(kind plan.Kind) string {
	if kind == plan.Failback {
		return workflows.FailbackWorkflowName
	}
	return workflows.FailoverWorkflowName
}

// kindOf is the inverse of workflowName.
func kindOf(workflowType string) plan.Kind {
	if workflowType == workflows.FailbackWorkflowName {
		return plan.Failback
	}
	return plan.Failover
}

// startSwitch starts a failover or failback. Only one runs per application:
// when one is running already, the error names it.
func startSwitch(ctx context.Context, c client.Client, kind plan.Kind, in workflows.SwitchInput,
	summary string, hint hinter) (runRef, error) {
	ref := runRef{App: in.App, Kind: kind, WorkflowID: workflows.SwitchWorkflowID(in.App)}
	opts := client.StartWorkflowOptions{
		ID:        ref.WorkflowID,
		TaskQueue: activities.WorkflowTaskQueue,
		// A running failover or failback of the same application blocks a
		// new one; once it has closed, a new run may reuse the id.
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            summary,
	}
	run, err := c.ExecuteWorkflow(ctx, opts, workflowName(kind), in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		what := "a failover or failback"
		if d, derr := c.DescribeWorkflow(ctx, ref.WorkflowID, started.RunId); derr == nil {
			what = "a " + string(kindOf(d.WorkflowType.Name))
		}
		return ref, fmt.Errorf("%s of %s is already running (workflow %s, run %s); "+
			"only one runs at a time. Follow it with `%s`, or stop it with `%s`",
			what, in.App, ref.WorkflowID, started.RunId,
			hint.cmd("status", "--watch"), hint.cmd("abort"))
	}
	if err != nil {
		return ref, fmt.Errorf("start the %s of %s: %w", kind, in.App, err)
	}
	ref.RunID = run.GetRunID()
	return ref, nil
}

// latestRun describes the application's latest failover or failback, or
// returns nil when there has been none.
func latestRun(ctx context.Context, c client.Client, app string) (
	*client.WorkflowExecutionDescription, error) {
	d, err := c.DescribeWorkflow(ctx, workflows.SwitchWorkflowID(app), "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up the runs of %s: %w", app, err)
	}
	return d, nil
}

func refOf(app string, d *client.WorkflowExecutionDescription) runRef {
	return runRef{
		App:        app,
		Kind:       kindOf(d.WorkflowType.Name),
		WorkflowID: d.WorkflowExecution.ID,
		RunID:      d.WorkflowExecution.RunID,
	}
}

// isRunning reports whether a described run has not closed yet.
func isRunning(d *client.WorkflowExecutionDescription) bool {
	switch d.Status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_PAUSED:
		return true
	}
	return false
}

// runningRun returns the application's run that is in progress, with an
// error that says so when there is none.
func runningRun(ctx context.Context, c client.Client, app string, hint hinter) (runRef, error) {
	d, err := latestRun(ctx, c, app)
	if err != nil {
		return runRef{}, err
	}
	if d == nil {
		return runRef{}, fmt.Errorf("no failover or failback of %s has run; check --app, or "+
			"the Temporal address and namespace", app)
	}
	ref := refOf(app, d)
	if !isRunning(d) {
		return ref, fmt.Errorf("no failover or failback of %s is running: the last %s ended "+
			"(run %s); see it with `%s`", app, ref.Kind, ref.RunID, hint.cmd("status"))
	}
	return ref, nil
}

// queryTimeout bounds one progress query: a run whose workers are all
// down answers none, and the caller should hear about it.
const queryTimeout = 5 * time.Second

// queryProgress asks a running workflow for its progress.
func queryProgress(ctx context.Context, c client.Client, ref runRef) (*workflows.Progress, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := c.QueryWorkflow(ctx, ref.WorkflowID, ref.RunID, workflows.QueryProgress)
	if err != nil {
		return nil, err
	}
	var p workflows.Progress
	if err := v.Get(&p); err != nil {
		return nil, fmt.Errorf("decode the progress of %s: %w", ref.App, err)
	}
	return &p, nil
}

// awaitResult waits for a run to close and returns its final progress.
// A run that closed without one (failed, terminated, timed out) returns a
// progress with only its status and message, and the error.
func awaitResult(ctx context.Context, c client.Client, ref runRef) (*workflows.Progress, error) {
	var p workflows.Progress
	err := c.GetWorkflow(ctx, ref.WorkflowID, ref.RunID).Get(ctx, &p)
	if err == nil {
		return &p, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// A failed preflight carries the progress, its checks included.
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.HasDetails() {
		var withDetails workflows.Progress
		if appErr.Details(&withDetails) == nil && withDetails.Status != "" {
			return &withDetails, nil
		}
	}

	end := &workflows.Progress{App: ref.App, Kind: ref.Kind, Status: runFailed,
		Message: rootMessage(err)}
	var (
		terminated *temporal.TerminatedError
		cancelled  *temporal.CanceledError
		timedOut   *temporal.TimeoutError
	)
	switch {
	case errors.As(err, &terminated):
		end.Status = runTerminated
	case errors.As(err, &cancelled):
		end.Status = runCancelled
	case errors.As(err, &timedOut):
		end.Status = runTimedOut
	}
	return end, nil
}

// sendUpdate sends an operator's update to the application's running
// workflow and returns the workflow's answer. A rejected update returns
// the validator's message as the error.
func sendUpdate(ctx context.Context, c client.Client, ref runRef, name string,
	args ...any) (string, error) {
	// Updates are answered by a worker; without one the call would wait
	// for ever.
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   ref.WorkflowID,
		RunID:        ref.RunID,
		UpdateName:   name,
		Args:         args,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var answer string
	if err == nil {
		err = h.Get(ctx, &answer)
	}
	switch {
	case err == nil:
		return answer, nil
	case ctx.Err() != nil:
		return "", fmt.Errorf("%s %s: no worker answered within %s; is `drover worker` "+
			"running for %s?", name, ref.App, updateTimeout, ref.App)
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return "", fmt.Errorf("%s %s: the run has ended", name, ref.App)
	}
	return "", fmt.Errorf("%s rejected: %s", name, rootMessage(err))
}

// updateTimeout bounds an operator's update.
const updateTimeout = 30 * time.Second

// rootMessage is the innermost application error's message, the one that
// says what went wrong, without the wrapping of Temporal's errors.
func rootMessage(err error) string {
	msg := err.Error()
	for e := err; e != nil; e = errors.Unwrap(e) {
		var appErr *temporal.ApplicationError
		if errors.As(e, &appErr) {
			msg = appErr.Message()
		}
	}
	return msg
}

// hinter writes the follow-up commands drover suggests for one
// application, with the connection flags that this command was given.
type hinter struct {
	app  string
	conn string
}

func (g *globals) hinter(app string) hinter { return hinter{app: app, conn: g.connFlags} }

// cmd returns `drover <name> --app <app> <extra...>`.
func (h hinter) cmd(name string, extra ...string) string {
	parts := append([]string{"drover", name, "--app", h.app}, extra...)
	return strings.Join(parts, " ") + h.conn
}
