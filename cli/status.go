package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/drover-dev/drover/workflows"
)

// statusOptions are the flags of `drover status`.
type statusOptions struct {
	app   string
	watch bool
}

func newStatusCommand(g *globals) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status --app APP [--watch]",
		Short: "Show the progress of an application's latest failover or failback",
		Long: `Show the latest failover or failback of an application: each step's state,
region and duration, and what a waiting or failed step needs from you.

--watch follows a running one until it ends, like failover --wait, and exits
non-zero unless it completes.`,
		Example: `  drover status --app shop
  drover status --app shop --watch
  drover status --app shop --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g)
		},
	}
	bindApp(cmd.Flags(), &o.app)
	cmd.Flags().BoolVar(&o.watch, "watch", false, "follow a running run until it ends")
	return cmd
}

func (o *statusOptions) run(ctx context.Context, stdout, stderr io.Writer, g *globals) error {
	if err := checkApp(o.app); err != nil {
		return err
	}
	c, err := g.dial(ctx, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer c.Close()

	d, err := latestRun(ctx, c, o.app)
	if err != nil {
		return err
	}
	if d == nil {
		if g.output == outputJSON {
			return json.NewEncoder(stdout).Encode(nil)
		}
		_, err := fmt.Fprintf(stdout, "no failover or failback of %s has run\n", o.app)
		return err
	}

	ref := refOf(o.app, d)
	hint := g.hinter(o.app)
	human := stdout
	if g.output == outputJSON {
		human = stderr
	}
	if o.watch {
		return followRun(ctx, c, ref, human, stdout, g.output, hint)
	}

	p, running, err := currentProgress(ctx, c, ref, d)
	if err != nil {
		return err
	}
	if g.output == outputJSON {
		return json.NewEncoder(stdout).Encode(p)
	}
	fmt.Fprintf(stdout, "Run %s of workflow %s\n", ref.RunID, ref.WorkflowID)
	if p.RequestedBy != "" || p.Reason != "" {
		fmt.Fprintf(stdout, "Requested by %s", orSomeone(p.RequestedBy))
		if p.Reason != "" {
			fmt.Fprintf(stdout, ": %s", p.Reason)
		}
		fmt.Fprintln(stdout)
	}
	view := newProgressView(stdout, false, hint)
	fmt.Fprintln(stdout, header(p, view.now()))
	view.steps(p, running)
	fmt.Fprintln(stdout)
	if !running {
		_, err = fmt.Fprintln(stdout, summary(p))
		return err
	}
	for _, h := range view.actionHints(p) {
		fmt.Fprintln(stdout, h)
	}
	_, err = fmt.Fprintf(stdout, "Follow it: %s\n", hint.cmd("status", "--watch"))
	return err
}

// currentProgress is a running run's answer to the progress query, or a
// closed run's result, which needs no worker to read.
func currentProgress(ctx context.Context, c client.Client, ref runRef,
	d *client.WorkflowExecutionDescription) (*workflows.Progress, bool, error) {
	if isRunning(d) {
		p, err := queryProgress(ctx, c, ref)
		if err != nil {
			return nil, true, fmt.Errorf("the %s of %s is running (run %s) but does not answer "+
				"the progress query: %s; is `drover worker` running?", ref.Kind, ref.App,
				ref.RunID, rootMessage(err))
		}
		return p, true, nil
	}
	p, err := awaitResult(ctx, c, ref)
	return p, false, err
}

func orSomeone(by string) string {
	if by == "" {
		return "an operator"
	}
	return by
}
