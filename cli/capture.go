package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills/schedule"
	"github.com/drover-dev/drover/workflows"
)

// captureOptions are the flags of `drover capture`.
type captureOptions struct {
	app        string
	topologies string
	wait       bool
	cron       string
	unschedule bool
}

func newCaptureCommand(g *globals) *cobra.Command {
	o := &captureOptions{}
	cmd := &cobra.Command{
		Use:   "capture --app APP [--wait | --cron EXPR | --unschedule]",
		Short: "Copy the definitions of an application's services and zones into the ledger",
		Long: `Capture what a restore needs while the application is healthy: each ECS
service's settings and task definition revision, each database's settings, in
every region, and a copy of each Route 53 zone's records. The copies go to the
ledger that the workers hold, so that a restore never depends on the region
that lost the original. Each item is best effort: one that fails is reported
and the others are saved.

Run it regularly: --cron puts it on a Temporal Schedule (times in UTC;
setting it again replaces the expression), --unschedule removes that.`,
		Example: `  drover capture --app shop --wait
  drover capture --app shop --cron "0 * * * *"     # every hour
  drover capture --app shop --unschedule`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.topologies = g.topologyDir(cmd, o.topologies)
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g)
		},
	}
	f := cmd.Flags()
	bindApp(f, &o.app)
	bindTopologies(f, &o.topologies)
	f.BoolVar(&o.wait, "wait", false,
		"wait for the capture and list what it saved; exit non-zero if nothing was")
	f.StringVar(&o.cron, "cron", "",
		"capture on a schedule instead of once: a five-field cron expression in UTC")
	f.BoolVar(&o.unschedule, "unschedule", false, "remove the capture schedule")
	return cmd
}

func (o *captureOptions) run(ctx context.Context, stdout, stderr io.Writer, g *globals) error {
	t, err := loadApp(o.topologies, o.app)
	if err != nil {
		return err
	}
	c, err := g.dial(ctx, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer c.Close()

	switch {
	case o.cron != "" && (o.wait || o.unschedule):
		return errors.New("--cron sets a schedule; it does not go with --wait or --unschedule")
	case o.cron != "":
		created, err := schedule.SetCapture(ctx, c, t.App, o.cron)
		if err != nil {
			return err
		}
		verb := "updated"
		if created {
			verb = "created"
		}
		fmt.Fprintf(stdout, "Capture schedule %s %s: %q (UTC)\n",
			schedule.CaptureID(t.App), verb, o.cron)
		return nil
	case o.unschedule:
		if err := schedule.DeleteCapture(ctx, c, t.App); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Capture schedule %s deleted\n", schedule.CaptureID(t.App))
		return nil
	}

	id := workflows.CaptureWorkflowID(t.App)
	summary := "capture of " + t.App + " by " + oneLine(g.user())
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                activities.WorkflowTaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            summary,
	}, workflows.CaptureWorkflowName, workflows.CaptureInput{App: t.App})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return fmt.Errorf("a capture of %s is already running (workflow %s, run %s); wait for "+
			"it, its copies are as fresh as a new one's", t.App, id, started.RunId)
	}
	if err != nil {
		return fmt.Errorf("start the capture of %s: %w", t.App, err)
	}
	ref := drillRef{App: t.App, WorkflowID: id, RunID: run.GetRunID()}
	if !o.wait {
		if g.output == outputJSON {
			return json.NewEncoder(stdout).Encode(ref)
		}
		_, err := fmt.Fprintf(stdout, "Started the capture of %s: workflow %s, run %s\n",
			t.App, id, ref.RunID)
		return err
	}

	var sum workflows.CaptureSummary
	if err := run.Get(ctx, &sum); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped waiting; the capture of %s goes on (workflow %s)",
				t.App, id)
		}
		return fmt.Errorf("the capture of %s failed: %s", t.App, rootMessage(err))
	}
	if g.output == outputJSON {
		return json.NewEncoder(stdout).Encode(sum)
	}
	return writeCaptureSummary(stdout, sum)
}

// writeCaptureSummary lists what a capture saved and what it could not.
func writeCaptureSummary(w io.Writer, sum workflows.CaptureSummary) error {
	fmt.Fprintf(w, "Captured %d definitions of %s in %s:\n\n", len(sum.Captured), sum.App,
		fmtDuration(sum.Ended.Sub(sum.Started)))
	tw := newTable(w)
	fmt.Fprintln(tw, "COMPONENT\tKIND\tREGION\tNAME")
	for _, c := range sum.Captured {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Component, c.Kind, c.Region, c.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(sum.Failed) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nNot captured (%d); a restore of these uses an older capture, if any:\n",
		len(sum.Failed))
	for _, f := range sum.Failed {
		fmt.Fprintf(w, "  %s %s in %s: %s\n", f.Kind, f.Component, f.Region, f.Reason)
	}
	return nil
}
