package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/drover-dev/drover/infra/sandbox"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/workflows"
)

// rehearseSwitches runs the sandbox's rehearsal without a drill: a
// practice failover and a failback, each started on its own.
func (o *devOptions) rehearseSwitches(ctx context.Context, sb *sandbox.Sandbox,
	progress io.Writer, hint hinter, res *devResult) error {
	for _, kind := range []plan.Kind{plan.Failover, plan.Failback} {
		p, err := o.rehearse(ctx, sb, kind, progress, hint)
		if err != nil {
			return err
		}
		res.Runs = append(res.Runs, p)
		if err := runError(p); err != nil {
			return err
		}
	}
	return nil
}

// rehearse runs one practice failover or failback to its end, approving
// its approval steps as an operator would.
func (o *devOptions) rehearse(ctx context.Context, sb *sandbox.Sandbox, kind plan.Kind,
	progress io.Writer, hint hinter) (*workflows.Progress, error) {
	t := sb.Topology
	in := workflows.SwitchInput{
		App: t.App, Mode: plan.Graceful, Purpose: workflows.Practice,
		RequestedBy: devOperator, Reason: "sandbox rehearsal",
	}
	if kind == plan.Failover {
		in.To = t.Standbys()[0].Name
	}
	summary := fmt.Sprintf("%s %s (graceful, practice) by %s", kind, t.App, devOperator)
	ref, err := startSwitch(ctx, sb.Client, kind, in, summary, hint)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "Practice %s of %s: workflow %s, run %s\n",
		kind, t.App, ref.WorkflowID, ref.RunID)

	view := newProgressView(progress, isTerminal(progress), hint)
	view.autoApprove = true
	w := &watcher{c: sb.Client, ref: ref, show: view}
	w.approve = func(ctx context.Context, step string) {
		answer, err := sendUpdate(ctx, sb.Client, ref, workflows.UpdateApprove,
			workflows.ApproveRequest{Step: step, By: devOperator})
		if err != nil {
			view.note(fmt.Sprintf("%s could not approve %s: %v", devOperator, step, err))
			return
		}
		view.note(fmt.Sprintf("%s %s through the approve update, as you would with: %s",
			devOperator, answer, hint.cmd("approve", "--step", step)))
	}
	p, err := w.watch(ctx)
	fmt.Fprintln(progress)
	return p, err
}

// reportSwitches prints each component's recovery time in the failover
// and failback, and how to go on.
func (o *devOptions) reportSwitches(w io.Writer, sb *sandbox.Sandbox, res devResult,
	hint hinter) error {
	fmt.Fprintln(w, "Recovery time of each component, from its first recovery action to the")
	fmt.Fprintf(w, "healthy state observed (the simulator runs %gx faster than AWS):\n\n",
		o.timeScale)
	tw := newTable(w)
	fmt.Fprintln(tw, "RUN\tSTEP\tREGION\tDURATION\tAT AWS SPEED")
	rows := 0
	for _, p := range res.Runs {
		for _, st := range p.Steps {
			if !recovers[st.Kind] || st.ActionStarted == nil || st.HealthyAt == nil {
				continue
			}
			d := st.HealthyAt.Sub(*st.ActionStarted)
			aws := time.Duration(float64(d) * o.timeScale)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Kind, st.ID, st.Region,
				fmtDuration(d), fmtDuration(aws))
			rows++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rows == 0 {
		fmt.Fprintln(w, "(no step reported a recovery time)")
	}
	for _, p := range res.Runs {
		fmt.Fprintf(w, "%s: %s in total\n", capitalize(string(p.Kind)), fmtDuration(p.Duration))
	}

	o.writeAddresses(w, sb, res, workflows.SwitchWorkflowID(sb.Topology.App))
	if o.once {
		return nil
	}
	app := sb.Topology.App
	topo := " --topologies " + sb.TopologyDir
	fmt.Fprintf(w, "\nStart more runs from another shell:\n  %s\n  %s\n",
		hint.cmd("failover", "--practice", "--wait")+topo,
		hint.cmd("failback", "--practice", "--wait")+topo)
	if res.UI != "" {
		input, _ := json.Marshal(workflows.SwitchInput{App: app, Purpose: workflows.Practice})
		fmt.Fprintf(w, "or from the web UI, in the start form (Workflow Type %s or %s) with "+
			"the input %s:\n  %s\n", workflows.FailoverWorkflowName,
			workflows.FailbackWorkflowName, input, startFormURL(sb, res.UI,
				workflows.SwitchWorkflowID(app), workflows.FailoverWorkflowName))
	}
	return nil
}

// recovers marks the kinds of step that bring a component back, as
// opposed to those that stop, check or wait.
var recovers = map[plan.StepKind]bool{
	plan.StepPromoteDatabase: true,
	plan.StepResyncDatabase:  true,
	plan.StepScaleService:    true,
	plan.StepFlipDNS:         true,
	plan.StepRebuildReplica:  true,
}
