package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/workflows"
)

// drillCancelOptions are the flags of `drover drill cancel`.
type drillCancelOptions struct {
	app  string
	yes  bool
	wait bool
}

func newDrillCancelCommand(g *globals) *cobra.Command {
	o := &drillCancelOptions{}
	cmd := &cobra.Command{
		Use:   "cancel --app APP [--yes] [--wait=false]",
		Short: "Cancel the running drill; it still cleans up and is recorded",
		Long: `Cancel the application's running drill. The step in progress of its failover
or failback is cancelled where it stands and no other starts; the drill then
deletes what it created (the scratch restore, renamed old primaries) and writes
its record to the ledger with the outcome "cancelled" and the phase it was in.

A drill cancelled after its failover leaves the application in the standby, and
one cancelled during a failover or failback may leave it part way: the result
says which steps finished, and 'drover status' shows them. Finish with
'drover failback' (or 'drover failover') as the situation asks.

To stop only the failover or failback and let the drill record the failure,
use 'drover abort' instead. By default the command waits until the drill has
cleaned up and prints its result; --wait=false returns once the cancellation
is sent.`,
		Example: `  drover drill cancel --app shop
  drover drill cancel --app shop --yes --wait=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd, g)
		},
	}
	f := cmd.Flags()
	bindApp(f, &o.app)
	f.BoolVarP(&o.yes, "yes", "y", false, "cancel without asking for confirmation")
	f.BoolVar(&o.wait, "wait", true, "wait until the drill has cleaned up and print its result")
	return cmd
}

func (o *drillCancelOptions) run(ctx context.Context, cmd *cobra.Command, g *globals) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	human := stdout
	if g.output == outputJSON {
		human = stderr
	}
	if err := checkApp(o.app); err != nil {
		return err
	}
	prompt := newPrompter(cmd.InOrStdin(), stderr)
	if !o.yes && !prompt.interactive {
		return errors.New("cancelling a drill asks for confirmation, but stdin is not a " +
			"terminal; pass --yes to cancel without asking")
	}

	c, err := g.dial(ctx, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer c.Close()
	ref, err := runningDrill(ctx, c, o.app)
	if err != nil {
		return err
	}
	if !o.yes {
		phase := "an unknown phase (the drill does not answer its progress query)"
		if p, err := queryDrill(ctx, c, ref); err == nil {
			phase = "the " + string(p.Phase) + " phase"
		}
		if err := prompt.confirm(fmt.Sprintf("Cancel the drill of %s (run %s), in %s? It "+
			"cleans up and is recorded as cancelled; the application may stay in the standby.",
			o.app, ref.RunID, phase)); err != nil {
			return err
		}
	}

	if err := c.CancelWorkflow(ctx, ref.WorkflowID, ref.RunID); err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return fmt.Errorf("the drill of %s (run %s) ended before it could be cancelled; "+
				"its record: %s", o.app, ref.RunID, g.hinter(o.app).cmd("drill report"))
		}
		return fmt.Errorf("cancel the drill of %s (run %s): %w", o.app, ref.RunID, err)
	}
	if !o.wait {
		if g.output == outputJSON {
			return json.NewEncoder(stdout).Encode(ref)
		}
		_, err := fmt.Fprintf(stdout, "Asked the drill of %s (run %s) to cancel; it cleans up "+
			"and records itself. Its record, once it ends: drover drill report --app %s\n",
			o.app, ref.RunID, o.app)
		return err
	}

	fmt.Fprintf(human, "Asked the drill of %s (run %s) to cancel; waiting while it cleans up\n",
		o.app, ref.RunID)
	w := &drillWatcher{c: c, ref: ref, out: human, live: isTerminal(human),
		hint: g.hinter(o.app)}
	res, err := w.watch(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped waiting; the drill of %s was asked to cancel and "+
				"cleans up on its own", o.app)
		}
		return fmt.Errorf("follow the drill of %s: %w", o.app, err)
	}
	if g.output == outputJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintln(human)
	if err := writeDrillResult(human, res); err != nil {
		return err
	}
	// The drill may have ended on its own before the cancellation
	// reached it; say so rather than claim it was cancelled.
	if res.Status != drills.OutcomeCancelled {
		_, err := fmt.Fprintf(human, "The drill ended %s before the cancellation reached it.\n",
			res.Status)
		return err
	}
	return nil
}

// runningDrill returns the application's drill in progress, with an error
// that says so when there is none.
func runningDrill(ctx context.Context, c client.Client, app string) (drillRef, error) {
	ref := drillRef{App: app, WorkflowID: workflows.DrillWorkflowID(app)}
	d, err := c.DescribeWorkflow(ctx, ref.WorkflowID, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return ref, fmt.Errorf("no drill of %s has run; check --app, or the Temporal address "+
			"and namespace", app)
	}
	if err != nil {
		return ref, fmt.Errorf("look up the drill of %s: %w", app, err)
	}
	ref.RunID = d.WorkflowExecution.RunID
	if !isRunning(d) {
		return ref, fmt.Errorf("no drill of %s is running: the last (run %s) ended; its "+
			"record: drover drill report --app %s", app, ref.RunID, app)
	}
	return ref, nil
}
