package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/log"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/infra/devserver"
	"github.com/drover-dev/drover/infra/sandbox"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
	"github.com/drover-dev/drover/workflows"
)

// devOptions are the flags of `drover dev`.
type devOptions struct {
	once      bool
	topology  string
	simAddr   string
	timeScale float64
	uiPort    int
	workDir   string
}

// devOperator is who the sandbox's runs are recorded as requested and
// approved by.
const devOperator = "drover dev"

func newDevCommand(g *globals) *cobra.Command {
	o := &devOptions{}
	cmd := &cobra.Command{
		Use:   "dev [--once]",
		Short: "Run the whole sandbox and rehearse a failover and a failback in it",
		Long: `Run drover on this machine with no AWS account: simulated AWS regions seeded
with the example application, a Temporal dev server with its web UI, and the
workers of every region. Then rehearse: a practice failover to the standby
(its approval steps approved by "drover dev" through the approve update, as an
operator would), and a failback. Each component's recovery time is printed.

Without --once the sandbox keeps running until Ctrl-C, so you can start more
runs from the web UI or from another shell. With --once it exits, non-zero
unless both runs completed.

Progress goes to stderr; results go to stdout. The Temporal frontend listens
on --temporal-address (default 127.0.0.1:7233).`,
		Example: `  drover dev
  drover dev --once --time-scale 600
  drover dev --ui-port 8080 --temporal-address 127.0.0.1:7300 --sim-addr 127.0.0.1:4600`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.once, "once", false, "exit after the two runs, with their status")
	f.StringVar(&o.topology, "topology", "examples/shop.yaml", "the application to seed and move")
	f.StringVar(&o.simAddr, "sim-addr", "127.0.0.1:4566",
		"loopback host:port of the simulated AWS regions; port 0 picks a free one")
	f.Float64Var(&o.timeScale, "time-scale", sandbox.DefaultTimeScale,
		"divide every AWS duration by this (60: a minute on AWS is a second here)")
	f.IntVar(&o.uiPort, "ui-port", devserver.DefaultUIPort,
		"port of the Temporal web UI; 0 turns it off")
	f.StringVar(&o.workDir, "work-dir", ".drover", "where the sandbox keeps its files")
	return cmd
}

// devResult is what `drover dev --output json` prints.
type devResult struct {
	Simulator string                `json:"simulator"`
	Temporal  string                `json:"temporal"`
	UI        string                `json:"ui,omitempty"`
	Runs      []*workflows.Progress `json:"runs"`
}

func (o *devOptions) run(ctx context.Context, stdout, stderr io.Writer, g *globals) error {
	if err := o.check(g); err != nil {
		return err
	}
	profile := awssim.DefaultProfile()
	profile.TimeScale = o.timeScale

	sb, err := sandbox.Start(ctx, sandbox.Options{
		Topology: o.topology,
		WorkDir:  o.workDir,
		SimAddr:  o.simAddr,
		Profile:  &profile,
		DevServer: devserver.Options{
			Address: g.temporalAddress, UIPort: o.uiPort, Namespace: g.namespace,
			Logger: log.NewStructuredLogger(slog.New(quietPolls{
				slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
			})),
		},
		Progress: stderr,
	})
	if err != nil {
		return fmt.Errorf("start the sandbox: %w", err)
	}
	defer sb.Close()

	res := devResult{Simulator: sb.Sim.URL, Temporal: sb.Temporal.Address(),
		UI: browserURL(sb.Temporal.UIURL())}
	fmt.Fprintf(stderr, "Temporal at %s; web UI: %s\n\n", res.Temporal, orOff(res.UI))

	hint := hinter{app: sb.Topology.App}
	if res.Temporal != devserver.DefaultAddress {
		hint.conn = " --temporal-address " + res.Temporal
	}
	var runErr error
	for _, kind := range []plan.Kind{plan.Failover, plan.Failback} {
		p, err := o.rehearse(ctx, sb, kind, stderr, hint)
		if err != nil {
			runErr = err
			break
		}
		res.Runs = append(res.Runs, p)
		if err := runError(p); err != nil {
			runErr = err
			break
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "Interrupted; stopping the sandbox.")
		if o.once {
			return errors.New("interrupted before the practice runs finished")
		}
		return nil
	}

	if err := o.report(stdout, g.output, sb, res, hint); err != nil {
		return err
	}
	if o.once {
		return runErr
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "\n%v\nThe sandbox keeps running so that you can look into it.\n",
			runErr)
	}
	fmt.Fprintln(stderr, "\nPress Ctrl-C to stop everything.")
	<-ctx.Done()
	fmt.Fprintln(stderr, "Stopping the sandbox.")
	return nil
}

// check refuses what would fail halfway through starting, such as a port
// that something else holds.
func (o *devOptions) check(g *globals) error {
	if o.timeScale <= 0 {
		return fmt.Errorf("--time-scale %g: want a positive number", o.timeScale)
	}
	if o.uiPort < 0 || o.uiPort > 65535 {
		return fmt.Errorf("--ui-port %d: want a port from 1 to 65535, or 0 for no web UI",
			o.uiPort)
	}
	if _, err := topology.Load(o.topology); err != nil {
		return fmt.Errorf("--topology %s: %w", o.topology, err)
	}
	if err := portFree(o.simAddr, "the simulated AWS regions", "--sim-addr"); err != nil {
		return err
	}
	if err := portFree(g.temporalAddress, "the Temporal frontend",
		"--temporal-address"); err != nil {
		return err
	}
	if o.uiPort != 0 {
		host, _, _ := net.SplitHostPort(g.temporalAddress)
		ui := net.JoinHostPort(host, strconv.Itoa(o.uiPort))
		if err := portFree(ui, "the Temporal web UI", "--ui-port"); err != nil {
			return err
		}
	}
	return nil
}

// portFree fails when addr's port is taken, naming the flag that moves it.
func portFree(addr, what, flag string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: want host:port, such as 127.0.0.1:4566", flag, addr)
	}
	if port == "0" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("port %s on %s, wanted for %s, is in use (is another drover dev "+
			"running?); pick another with %s", port, host, what, flag)
	}
	return ln.Close()
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

// report prints each component's recovery time and how to go on.
func (o *devOptions) report(w io.Writer, output string, sb *sandbox.Sandbox, res devResult,
	hint hinter) error {
	if output == outputJSON {
		return json.NewEncoder(w).Encode(res)
	}

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

	app := sb.Topology.App
	fmt.Fprintf(w, "\nTemporal web UI: %s", orOff(res.UI))
	if res.UI != "" {
		fmt.Fprintf(w, " (workflow %s)", workflows.SwitchWorkflowID(app))
	}
	fmt.Fprintf(w, "\nSimulated AWS:   %s (state at %s/_sim/state)\n", res.Simulator, res.Simulator)
	if o.once {
		return nil
	}
	topo := " --topologies " + sb.TopologyDir
	fmt.Fprintf(w, "\nStart more runs from another shell:\n  %s\n  %s\n",
		hint.cmd("failover", "--practice", "--wait")+topo,
		hint.cmd("failback", "--practice", "--wait")+topo)
	if res.UI != "" {
		input, _ := json.Marshal(workflows.SwitchInput{App: app, Purpose: workflows.Practice})
		form := url.Values{
			"workflowId":   {workflows.SwitchWorkflowID(app)},
			"taskQueue":    {activities.WorkflowTaskQueue},
			"workflowType": {workflows.FailoverWorkflowName},
		}
		fmt.Fprintf(w, "or from the web UI, in the start form (Workflow Type %s or %s) with "+
			"the input %s:\n  %s/namespaces/%s/workflows/start-workflow?%s\n",
			workflows.FailoverWorkflowName, workflows.FailbackWorkflowName, input, res.UI,
			url.PathEscape(sb.Temporal.Namespace()), form.Encode())
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

// browserURL shows a loopback URL as localhost, the address a browser
// and the Temporal documentation use.
func browserURL(u string) string {
	if u == "" {
		return ""
	}
	for _, host := range []string{"http://127.0.0.1:", "http://[::1]:"} {
		if port, ok := strings.CutPrefix(u, host); ok {
			return "http://localhost:" + port
		}
	}
	return u
}

func orOff(u string) string {
	if u == "" {
		return "off (--ui-port 0)"
	}
	return u
}

// quietPolls drops the SDK's warnings about polls that failed: the SDK
// retries them, and a sandbox stopping its workers cuts every poll short,
// which would end each session with a screenful of them.
type quietPolls struct{ slog.Handler }

// Handle passes on every record but a failed poll's.
func (q quietPolls) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "Failed to poll for task." {
		return nil
	}
	return q.Handler.Handle(ctx, r)
}

// WithAttrs keeps the filter on loggers derived with fields.
func (q quietPolls) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietPolls{q.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the filter on loggers derived with a group.
func (q quietPolls) WithGroup(name string) slog.Handler {
	return quietPolls{q.Handler.WithGroup(name)}
}
