package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"

	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/workflows"
)

// switchOptions are the flags of `drover failover` and `drover failback`.
type switchOptions struct {
	kind          plan.Kind
	app           string
	topologies    string
	to            string
	from          string
	mode          string
	ungraceful    bool
	purpose       string
	practice      bool
	dryRun        bool
	force         bool
	scaleDown     bool
	skipApprovals bool
	yes           bool
	wait          bool
	reason        string
	by            string
}

func newFailoverCommand(g *globals) *cobra.Command {
	o := &switchOptions{kind: plan.Failover}
	cmd := &cobra.Command{
		Use:   "failover --app APP [--to REGION] [--ungraceful] [--practice] [--wait]",
		Short: "Move an application to a standby region",
		Long: `Start a failover: move the application from the region that serves it to a
standby, as a Temporal workflow that survives the loss of this process.

drover checks the request against the topology file and shows the plan before
it starts anything, and asks for confirmation unless --yes or --dry-run. Only
one failover or failback of an application runs at a time.

Graceful (the default) is a planned move without data loss: the old region's
writers stop first and databases switch over. Ungraceful is for an impaired
source region: databases fail over allowing data loss, and the source region
is never waited for. --practice rehearses the move: it is recorded as practice
and leaves production DNS alone unless a zone allows practice flips.`,
		Example: `  drover failover --app shop --practice --wait
  drover failover --app shop --to us-west-2 --ungraceful --yes --reason "use1 outage"
  drover failover --app shop --dry-run --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.topologies = g.topologyDir(cmd, o.topologies)
			return o.run(cmd.Context(), cmd, g)
		},
	}
	f := cmd.Flags()
	o.bind(f)
	f.StringVar(&o.to, "to", "", "region to move to; needed only when there are several standbys")
	f.StringVar(&o.from, "from", "", "region that serves now; the primary unless given")
	bindMode(f, &o.mode, &o.ungraceful)
	return cmd
}

func newFailbackCommand(g *globals) *cobra.Command {
	o := &switchOptions{kind: plan.Failback, mode: string(plan.Graceful)}
	cmd := &cobra.Command{
		Use:   "failback --app APP [--from REGION] [--practice] [--wait]",
		Short: "Return an application to its primary region",
		Long: `Start a failback: return the application to its primary region, gracefully.
Where a failover left a database standalone in the standby, replication toward
the primary is re-established first; afterwards the standby's replica is
rebuilt.

Like a failover it shows the plan, asks for confirmation unless --yes or
--dry-run, and runs as a Temporal workflow.`,
		Example: `  drover failback --app shop --wait
  drover failback --app shop --practice --yes --wait --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.topologies = g.topologyDir(cmd, o.topologies)
			return o.run(cmd.Context(), cmd, g)
		},
	}
	f := cmd.Flags()
	o.bind(f)
	f.StringVar(&o.from, "from", "",
		"region that serves now; needed only when there are several standbys")
	f.StringVar(&o.to, "to", "", "the primary region (the only place a failback goes)")
	return cmd
}

// bind declares the flags failover and failback share.
func (o *switchOptions) bind(f *pflag.FlagSet) {
	bindApp(f, &o.app)
	bindTopologies(f, &o.topologies)
	f.StringVar(&o.purpose, "purpose", string(workflows.Recovery), "recovery or practice")
	f.BoolVar(&o.practice, "practice", false,
		"a rehearsal: recorded as practice, production DNS left alone (--purpose practice)")
	f.BoolVar(&o.dryRun, "dry-run", false, "run only the read-only checks and show the plan")
	f.BoolVar(&o.force, "force", false, "go on even if preflight finds problems")
	f.BoolVar(&o.scaleDown, "scale-down-source", false,
		"end by scaling the old region's services to zero")
	f.BoolVar(&o.skipApprovals, "skip-approvals", false,
		"run the steps the topology gates on approval without waiting for one")
	f.BoolVarP(&o.yes, "yes", "y", false, "start without asking for confirmation")
	f.BoolVar(&o.wait, "wait", false,
		"follow the run until it ends; exit non-zero unless it completes")
	f.StringVar(&o.reason, "reason", "", "why, recorded with the run")
	f.StringVar(&o.by, "by", "", "who asks, recorded with the run (default $USER)")
}

func (o *switchOptions) run(ctx context.Context, cmd *cobra.Command, g *globals) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	human := stdout
	if g.output == outputJSON {
		human = stderr
	}

	in, p, err := o.input(cmd, g)
	if err != nil {
		return err
	}
	hint := g.hinter(in.App)
	what := fmt.Sprintf("%s %s %s → %s (%s)", o.kind, in.App, p.From, p.To, o.describe(in))

	if !o.yes && !o.dryRun {
		prompt := newPrompter(cmd.InOrStdin(), stderr)
		if !prompt.interactive {
			return errors.New("a " + string(o.kind) + " changes production and asks for " +
				"confirmation, but stdin is not a terminal; pass --yes to start it without asking")
		}
		if err := writePlan(human, p); err != nil {
			return err
		}
		fmt.Fprintln(human)
		if in.Purpose == workflows.Recovery && !in.DryRun {
			fmt.Fprintf(human, "This is a recovery: %s's traffic and writes move to %s.\n",
				in.App, p.To)
		}
		if err := prompt.confirm(fmt.Sprintf("Start the %s?", what)); err != nil {
			return err
		}
	}

	c, err := g.dial(ctx, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer c.Close()

	summary := what + " by " + in.RequestedBy
	if in.Reason != "" {
		summary += ": " + in.Reason
	}
	ref, err := startSwitch(ctx, c, o.kind, in, summary, hint)
	if err != nil {
		return err
	}

	if !o.wait {
		if g.output == outputJSON {
			return json.NewEncoder(stdout).Encode(ref)
		}
		return writeStarted(stdout, ref, what, p, hint)
	}

	fmt.Fprintf(human, "Started %s: workflow %s, run %s\n\n", what, ref.WorkflowID, ref.RunID)
	return followRun(ctx, c, ref, human, stdout, g.output, hint)
}

// followRun watches a run to its end, prints the final progress as JSON
// when asked, and returns the run's exit status.
func followRun(ctx context.Context, c client.Client, ref runRef, human, stdout io.Writer,
	output string, hint hinter) error {
	w := &watcher{c: c, ref: ref, show: newProgressView(human, isTerminal(human), hint)}
	final, err := w.watch(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped watching; the %s of %s goes on. Follow it with `%s`",
				ref.Kind, ref.App, hint.cmd("status", "--watch"))
		}
		return fmt.Errorf("follow the %s of %s: %w", ref.Kind, ref.App, err)
	}
	if output == outputJSON {
		if err := json.NewEncoder(stdout).Encode(final); err != nil {
			return err
		}
	}
	return runError(final)
}

// input checks the flags against the topology and returns the workflow's
// input and the plan it will follow. Nothing has been sent yet.
func (o *switchOptions) input(cmd *cobra.Command, g *globals) (workflows.SwitchInput,
	*plan.Plan, error) {
	var in workflows.SwitchInput
	t, err := loadApp(o.topologies, o.app)
	if err != nil {
		return in, nil, err
	}
	mode := plan.Graceful
	if o.kind == plan.Failover {
		if mode, err = resolveMode(cmd, o.mode, o.ungraceful); err != nil {
			return in, nil, err
		}
	}
	purpose, err := resolvePurpose(cmd, o.purpose, o.practice)
	if err != nil {
		return in, nil, err
	}
	p, err := buildPlan(t, plan.Request{
		Kind: o.kind, To: o.to, From: o.from, Mode: mode,
		ScaleDownSource: o.scaleDown, SkipApprovals: o.skipApprovals,
	})
	if err != nil {
		return in, nil, err
	}

	by := o.by
	if by == "" {
		by = g.user()
	}
	in = workflows.SwitchInput{
		App: t.App,
		// The regions the operator saw in the plan are pinned, so the
		// run cannot pick others should the workers' topology differ.
		To: p.To, From: p.From,
		Mode: mode, Purpose: purpose, DryRun: o.dryRun, Force: o.force,
		SkipApprovals: o.skipApprovals, ScaleDownSource: o.scaleDown,
		RequestedBy: oneLine(by), Reason: oneLine(o.reason),
	}
	return in, p, nil
}

func (o *switchOptions) describe(in workflows.SwitchInput) string {
	s := string(in.Mode) + ", " + string(in.Purpose)
	if in.DryRun {
		s += ", dry run"
	}
	return s
}

// resolvePurpose reads --purpose and --practice together.
func resolvePurpose(cmd *cobra.Command, purpose string, practice bool) (workflows.Purpose,
	error) {
	p := workflows.Purpose(purpose)
	if p != workflows.Recovery && p != workflows.Practice {
		return "", fmt.Errorf("--purpose %q: want recovery or practice", purpose)
	}
	if practice {
		if cmd.Flags().Changed("purpose") && p != workflows.Practice {
			return "", fmt.Errorf("--practice contradicts --purpose %s; give one of them", purpose)
		}
		p = workflows.Practice
	}
	return p, nil
}

// writeStarted tells how to follow and steer a run that was started
// without --wait.
func writeStarted(w io.Writer, ref runRef, what string, p *plan.Plan, hint hinter) error {
	fmt.Fprintf(w, "Started %s\n  workflow id  %s\n  run id       %s\n\n",
		what, ref.WorkflowID, ref.RunID)
	fmt.Fprintf(w, "Follow it:      %s\n", hint.cmd("status", "--watch"))
	var gates []string
	for _, s := range p.Steps {
		if s.Kind == plan.StepApproval {
			gates = append(gates, s.ID)
		}
	}
	if len(gates) > 0 {
		fmt.Fprintf(w, "Approve:        %s   (it waits at %s)\n", hint.cmd("approve"),
			strings.Join(gates, ", "))
	}
	fmt.Fprintf(w, "Pause, resume:  %s, %s\n", hint.cmd("pause"), hint.cmd("resume"))
	_, err := fmt.Fprintf(w, "Abort:          %s\n", hint.cmd("abort"))
	return err
}

// oneLine keeps free text to one line, as the web UI's summary wants.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
