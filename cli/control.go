package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/drover-dev/drover/workflows"
)

// stepUse says whether an operator's command names a step.
type stepUse int

const (
	noStep stepUse = iota
	optionalStep
	requiredStep
)

// control describes one operator command: the Temporal update it sends
// and what it asks of the operator first.
type control struct {
	update  string
	use     string
	short   string
	long    string
	example string
	step    stepUse
	// reason adds --reason, recorded with the update.
	reason bool
	// confirm, when set, asks the operator before sending, unless --yes.
	confirm func(ref runRef) string
	// arg builds the update's argument; nil sends none.
	arg func(o *controlOptions) any
}

// controlOptions are the flags of an operator command.
type controlOptions struct {
	app    string
	step   string
	reason string
	by     string
	yes    bool
}

func newApproveCommand(g *globals) *cobra.Command {
	return newControlCommand(g, control{
		update: workflows.UpdateApprove,
		use:    "approve --app APP [--step ID]",
		short:  "Approve a step that waits for an operator",
		long: `Approve the running failover's or failback's approval steps: the one named by
--step, or every one not yet approved. A step may be approved before the run
reaches it; it then passes at once.`,
		example: "  drover approve --app shop\n  drover approve --app shop --step approve:database",
		step:    optionalStep,
		arg: func(o *controlOptions) any {
			return workflows.ApproveRequest{Step: o.step, By: o.by}
		},
	})
}

func newPauseCommand(g *globals) *cobra.Command {
	return newControlCommand(g, control{
		update:  workflows.UpdatePause,
		use:     "pause --app APP",
		short:   "Pause a run: running steps finish, no new step starts",
		example: "  drover pause --app shop",
	})
}

func newResumeCommand(g *globals) *cobra.Command {
	return newControlCommand(g, control{
		update:  workflows.UpdateResume,
		use:     "resume --app APP",
		short:   "Resume a paused run",
		example: "  drover resume --app shop",
	})
}

func newSkipCommand(g *globals) *cobra.Command {
	return newControlCommand(g, control{
		update: workflows.UpdateSkip,
		use:    "skip --app APP --step ID",
		short:  "Skip a pending, waiting or failed step",
		long: `Skip a step that is pending, waits for approval, or failed: the steps that
depend on it run as if it had succeeded.`,
		example: "  drover skip --app shop --step scale-service:cart",
		step:    requiredStep,
		arg: func(o *controlOptions) any {
			return workflows.StepRequest{Step: o.step, By: o.by}
		},
	})
}

func newRetryCommand(g *globals) *cobra.Command {
	return newControlCommand(g, control{
		update:  workflows.UpdateRetry,
		use:     "retry --app APP --step ID",
		short:   "Run a failed step again",
		example: "  drover retry --app shop --step promote-database:orders",
		step:    requiredStep,
		arg: func(o *controlOptions) any {
			return workflows.StepRequest{Step: o.step, By: o.by}
		},
	})
}

func newAbortCommand(g *globals) *cobra.Command {
	return newControlCommand(g, control{
		update: workflows.UpdateAbort,
		use:    "abort --app APP [--reason TEXT] [--yes]",
		short:  "Stop a run, leaving what finished in place",
		long: `Abort the running failover or failback: running steps are cancelled and no
pending step starts. What finished stays done, and the run's result lists what
did and did not happen, so you know where the application stands.`,
		example: `  drover abort --app shop --reason "the primary recovered"`,
		reason:  true,
		confirm: func(ref runRef) string {
			return fmt.Sprintf("Abort the %s of %s (run %s)? Steps that finished stay done.",
				ref.Kind, ref.App, ref.RunID)
		},
		arg: func(o *controlOptions) any {
			return workflows.AbortRequest{Reason: oneLine(o.reason), By: o.by}
		},
	})
}

func newUngracefulCommand(g *globals) *cobra.Command {
	return newControlCommand(g, control{
		update: workflows.UpdateUngraceful,
		use:    "ungraceful --app APP [--yes]",
		short:  "Switch a running failover to ungraceful",
		long: `Switch a running failover to ungraceful mode, for a source region that has
become impaired: the source region is no longer waited for, steps that only
served a graceful move are skipped, and databases promoted from now on allow
data loss. There is no way back to graceful.`,
		example: "  drover ungraceful --app shop --yes",
		confirm: func(ref runRef) string {
			return fmt.Sprintf("Switch the %s of %s (run %s) to ungraceful? Databases promoted "+
				"from now on may lose the writes that had not replicated.",
				ref.Kind, ref.App, ref.RunID)
		},
	})
}

func newControlCommand(g *globals, ctl control) *cobra.Command {
	o := &controlOptions{}
	long := ctl.long
	if long == "" {
		long = ctl.short + "."
	}
	cmd := &cobra.Command{
		Use:     ctl.use,
		Short:   ctl.short,
		Long:    long + "\n\nIt sends the " + ctl.update + " update to the run and prints its answer.",
		Example: ctl.example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, ctl, g)
		},
	}
	f := cmd.Flags()
	bindApp(f, &o.app)
	switch ctl.step {
	case optionalStep:
		f.StringVar(&o.step, "step", "", "the step, as `drover status` lists it; all when empty")
	case requiredStep:
		f.StringVar(&o.step, "step", "", "the step, as `drover status` lists it (required)")
	}
	if ctl.reason {
		f.StringVar(&o.reason, "reason", "", "why, recorded with the run")
	}
	if ctl.confirm != nil {
		f.BoolVarP(&o.yes, "yes", "y", false, "do it without asking for confirmation")
	}
	f.StringVar(&o.by, "by", "", "who acts, recorded with the run (default $USER)")
	return cmd
}

func (o *controlOptions) run(cmd *cobra.Command, ctl control, g *globals) error {
	ctx := cmd.Context()
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := checkApp(o.app); err != nil {
		return err
	}
	if ctl.step == requiredStep && o.step == "" {
		return fmt.Errorf("--step is required: name the step to %s, as `%s` lists them",
			ctl.update, g.hinter(o.app).cmd("status"))
	}
	prompt := newPrompter(cmd.InOrStdin(), stderr)
	ask := ctl.confirm != nil && !o.yes
	if ask && !prompt.interactive {
		return errors.New(ctl.update + " asks for confirmation, but stdin is not a terminal; " +
			"pass --yes to do it without asking")
	}
	if o.by == "" {
		o.by = g.user()
	}
	o.by = oneLine(o.by)

	c, err := g.dial(ctx, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer c.Close()
	ref, err := runningRun(ctx, c, o.app, g.hinter(o.app))
	if err != nil {
		return err
	}
	if ask {
		if err := prompt.confirm(ctl.confirm(ref)); err != nil {
			return err
		}
	}

	var args []any
	if ctl.arg != nil {
		args = append(args, ctl.arg(o))
	}
	answer, err := sendUpdate(ctx, c, ref, ctl.update, args...)
	if err != nil {
		return err
	}
	if g.output == outputJSON {
		return json.NewEncoder(stdout).Encode(updateAnswer{
			runRef: ref, Update: ctl.update, Answer: answer,
		})
	}
	_, err = fmt.Fprintf(stdout, "%s of %s: %s\n", capitalize(string(ref.Kind)), o.app, answer)
	return err
}

// updateAnswer is an operator command's --output json.
type updateAnswer struct {
	runRef
	Update string `json:"update"`
	Answer string `json:"answer"`
}
