// Package workflows holds drover's Temporal workflows: Failover and
// Failback move an application between regions by running a plan of steps,
// each on the task queue of the region it acts in.
package workflows

import (
	"time"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/plan"
)

// Workflow type names, as the web UI's start form and the CLI name them.
const (
	FailoverWorkflowName = "Failover"
	FailbackWorkflowName = "Failback"
)

// Query and update names.
const (
	QueryProgress    = "progress"
	UpdateApprove    = "approve"
	UpdatePause      = "pause"
	UpdateResume     = "resume"
	UpdateSkip       = "skip"
	UpdateRetry      = "retry"
	UpdateAbort      = "abort"
	UpdateUngraceful = "ungraceful"
)

// SwitchWorkflowID is the workflow id of an application's failover or
// failback. Both share it, so only one runs per application at a time.
func SwitchWorkflowID(app string) string { return "drover-switch-" + app }

// Purpose says why a run happens.
type Purpose string

// Purposes.
const (
	// Recovery is a real incident.
	Recovery Purpose = "recovery"
	// Practice is a rehearsal: recorded as such, and it leaves production
	// DNS alone unless a zone allows practice flips.
	Practice Purpose = "practice"
)

// SwitchInput is the only argument of Failover and Failback: one JSON
// object, as the web UI's start form takes it. Only App is required.
type SwitchInput struct {
	App string `json:"app"`
	// To is the region to move to; it may be left out when there is one
	// choice (a failover with one standby, any failback).
	To string `json:"to,omitempty"`
	// From is the region serving now; a failover defaults to the primary.
	From string `json:"from,omitempty"`
	// Mode is graceful (default) or ungraceful.
	Mode plan.Mode `json:"mode,omitempty"`
	// Purpose is recovery (default) or practice.
	Purpose Purpose `json:"purpose,omitempty"`
	// DryRun runs only the read-only checks and returns the plan.
	DryRun bool `json:"dryRun,omitempty"`
	// Force goes on after a failed preflight.
	Force bool `json:"force,omitempty"`
	// SkipApprovals runs approval-gated steps without waiting.
	SkipApprovals bool `json:"skipApprovals,omitempty"`
	// ScaleDownSource scales the old region's services to zero at the end.
	ScaleDownSource bool `json:"scaleDownSource,omitempty"`
	// RequestedBy and Reason are recorded with the run.
	RequestedBy string `json:"requestedBy,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Estimates replace the default step estimates of the plan's critical
	// path (benchmarks set them from the simulator's profile).
	Estimates *plan.Estimates `json:"estimates,omitempty"`
}

// StepState is where a step is.
type StepState string

// Step states.
const (
	StepPending   StepState = "pending"
	StepWaiting   StepState = "waiting-approval"
	StepRunning   StepState = "running"
	StepSucceeded StepState = "succeeded"
	StepFailed    StepState = "failed"
	// StepTolerated is a best-effort step that failed without stopping
	// the run.
	StepTolerated StepState = "failed-tolerated"
	StepSkipped   StepState = "skipped"
	StepCancelled StepState = "cancelled"
)

// finished reports whether a step will not run again on its own.
func (s StepState) finished() bool {
	switch s {
	case StepSucceeded, StepTolerated, StepSkipped, StepCancelled:
		return true
	}
	return false
}

// satisfies reports whether a dependency in this state lets its
// dependents start.
func (s StepState) satisfies() bool {
	return s == StepSucceeded || s == StepTolerated || s == StepSkipped
}

// RunStatus is where the whole run is.
type RunStatus string

// Run statuses.
const (
	RunRunning         RunStatus = "running"
	RunPaused          RunStatus = "paused"
	RunCompleted       RunStatus = "completed"
	RunAborted         RunStatus = "aborted"
	RunDryRun          RunStatus = "dry-run"
	RunPreflightFailed RunStatus = "preflight-failed"
)

// StepProgress is one step of a run, as the progress query shows it.
type StepProgress struct {
	plan.Step
	State StepState `json:"state"`
	// Started and Ended are the workflow's times for the step.
	Started *time.Time `json:"started,omitempty"`
	Ended   *time.Time `json:"ended,omitempty"`
	// ActionStarted and HealthyAt are the activity's measurements: the
	// component's recovery time is their difference.
	ActionStarted *time.Time    `json:"actionStarted,omitempty"`
	HealthyAt     *time.Time    `json:"healthyAt,omitempty"`
	Duration      time.Duration `json:"duration,omitempty"`
	AlreadyDone   bool          `json:"alreadyDone,omitempty"`
	Attempts      int           `json:"attempts,omitempty"`
	Detail        string        `json:"detail,omitempty"`
	Error         string        `json:"error,omitempty"`
	ApprovedBy    string        `json:"approvedBy,omitempty"`
	// Leftover is what the step left behind on purpose, such as an
	// instance a resync renamed out of the way; a drill deletes it.
	Leftover string `json:"leftover,omitempty"`
}

// Progress is the state of a run: the answer to the progress query and
// the workflow's result.
type Progress struct {
	App         string         `json:"app"`
	Kind        plan.Kind      `json:"kind"`
	Mode        plan.Mode      `json:"mode"`
	Purpose     Purpose        `json:"purpose"`
	From        string         `json:"from"`
	To          string         `json:"to"`
	DryRun      bool           `json:"dryRun,omitempty"`
	RequestedBy string         `json:"requestedBy,omitempty"`
	Reason      string         `json:"reason,omitempty"`
	Status      RunStatus      `json:"status"`
	Message     string         `json:"message,omitempty"`
	Started     time.Time      `json:"started"`
	Ended       *time.Time     `json:"ended,omitempty"`
	Duration    time.Duration  `json:"duration,omitempty"`
	Steps       []StepProgress `json:"steps"`
	// CriticalPath and Estimate come from the plan.
	CriticalPath []string           `json:"criticalPath,omitempty"`
	Estimate     time.Duration      `json:"estimate,omitempty"`
	Preflight    []activities.Check `json:"preflight,omitempty"`
}

// Step returns the step with the given id, or nil.
func (p *Progress) Step(id string) *StepProgress {
	for i := range p.Steps {
		if p.Steps[i].ID == id {
			return &p.Steps[i]
		}
	}
	return nil
}

// StepRequest names the step an operator acts on.
type StepRequest struct {
	Step string `json:"step"`
	By   string `json:"by,omitempty"`
}

// ApproveRequest approves one approval step, or every waiting one when
// Step is empty.
type ApproveRequest struct {
	Step string `json:"step,omitempty"`
	By   string `json:"by,omitempty"`
}

// AbortRequest stops a run.
type AbortRequest struct {
	Reason string `json:"reason,omitempty"`
	By     string `json:"by,omitempty"`
}
