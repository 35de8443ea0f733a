package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/plan"
)

// timedKinds are the steps whose duration is a component's recovery.
var timedKinds = map[plan.StepKind]bool{
	plan.StepPromoteDatabase: true,
	plan.StepResyncDatabase:  true,
	plan.StepScaleService:    true,
	plan.StepFlipDNS:         true,
	plan.StepRebuildReplica:  true,
	plan.StepVerify:          true,
}

// componentsOf turns a run's steps into the timed components of one phase.
func componentsOf(p *Progress, phase string) []drills.Component {
	var out []drills.Component
	for _, st := range p.Steps {
		if !timedKinds[st.Kind] {
			continue
		}
		c := drills.Component{
			Phase: phase, Step: st.ID, Component: st.Component, Kind: string(st.Kind),
			Region: st.Region, Outcome: outcomeOf(st.State), Detail: st.Detail,
		}
		if st.Error != "" {
			c.Detail = st.Error
		}
		if st.ActionStarted != nil && st.HealthyAt != nil {
			c.ActionStarted, c.HealthyAt = *st.ActionStarted, *st.HealthyAt
			c.Seconds = st.HealthyAt.Sub(*st.ActionStarted).Seconds()
		}
		out = append(out, c)
	}
	return out
}

func approvalsOf(p *Progress, phase string) []drills.Approval {
	var out []drills.Approval
	for _, st := range p.Steps {
		if st.Kind != plan.StepApproval || st.State != StepSucceeded {
			continue
		}
		a := drills.Approval{Phase: phase, Step: st.ID, By: orSomeone(st.ApprovedBy)}
		if st.Ended != nil {
			a.At = *st.Ended
		}
		out = append(out, a)
	}
	return out
}

func outcomeOf(s StepState) string {
	switch s {
	case StepSucceeded, StepTolerated:
		return drills.OutcomeSucceeded
	case StepSkipped:
		return drills.OutcomeSkipped
	case StepCancelled:
		return drills.OutcomeCancelled
	}
	return drills.OutcomeFailed
}

func runOutcome(p *Progress) string {
	switch p.Status {
	case RunCompleted:
		return drills.OutcomeSucceeded
	case RunAborted:
		return drills.OutcomeCancelled
	}
	return drills.OutcomeFailed
}

// recordRun stores a record in the ledger. The ledger is evidence, not
// part of the recovery: when it cannot be written the run still ends as it
// did, with a warning.
func recordRun(ctx workflow.Context, rec drills.Record) {
	// The ledger activity runs on the workflow queue, whose workers hold
	// the ledger.
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           activities.WorkflowTaskQueue,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, MaximumAttempts: 3,
		},
	})
	err := workflow.ExecuteActivity(actx, activities.RecordRunName, rec).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("Could not write the run to the ledger",
			"Record", rec.ID, "Error", err)
	}
}

// incidentRecord is the ledger's record of a failover or failback that ran
// on its own rather than inside a drill.
func incidentRecord(ctx workflow.Context, p *Progress) drills.Record {
	info := workflow.GetInfo(ctx)
	rec := drills.Record{
		ID:  info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID,
		App: p.App, Kind: drills.KindIncident,
		StartedBy: orSomeone(p.RequestedBy), Reason: p.Reason,
		Purpose: string(p.Purpose), Mode: string(p.Mode), From: p.From, To: p.To,
		WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		Started: p.Started, Outcome: runOutcome(p), Message: p.Message,
	}
	if p.Ended != nil {
		rec.Ended = *p.Ended
	}
	phase := drills.PhaseFailover
	if p.Kind == plan.Failback {
		phase = drills.PhaseFailback
	}
	rec.Components = componentsOf(p, phase)
	rec.Approvals = approvalsOf(p, phase)
	return rec
}
