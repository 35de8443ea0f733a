package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/drover-dev/drover/drills/schedule"
)

func newDrillScheduleCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Keep an application's drill on a Temporal Schedule",
		Long: `Keep a drill on a Temporal Schedule, such as once a year: 'set' creates or
changes it, 'list' shows every drill schedule, 'pause' and 'unpause' stop and
restart it, 'trigger' starts its drill now, 'delete' removes it.

A scheduled drill is skipped while the previous one still runs, and one whose
minute passed while Temporal was down still starts within 24 hours. Its
record in the ledger names the schedule. A scheduled drill usually runs
unattended: give it --skip-approvals, or someone must approve its gated steps.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		newScheduleSetCommand(g),
		newScheduleListCommand(g),
		newScheduleActionCommand(g, "pause", "Stop the schedule from starting drills"),
		newScheduleActionCommand(g, "unpause", "Let the schedule start drills again"),
		newScheduleActionCommand(g, "trigger", "Start the schedule's drill now"),
		newScheduleActionCommand(g, "delete", "Remove the schedule; a running drill goes on"),
	)
	return cmd
}

// scheduleSetOptions are the flags of `drover drill schedule set`.
type scheduleSetOptions struct {
	drillOptions
	cron    string
	catchup time.Duration
}

func newScheduleSetCommand(g *globals) *cobra.Command {
	o := &scheduleSetOptions{}
	cmd := &cobra.Command{
		Use:   "set --app APP --cron \"MIN HOUR DAY MONTH WEEKDAY\" [drill flags]",
		Short: "Create or change the drill schedule of an application",
		Long: `Create the drill schedule of an application, or replace the cron expression and
the drill of the one it has. The cron expression has five fields (minute,
hour, day of month, month, day of week) and is read in UTC: "0 9 15 3 *" is
09:00 UTC on 15 March, every year.

The drill flags are those of 'drover drill run', checked against the topology
now rather than at the scheduled minute.`,
		Example: `  drover drill schedule set --app shop --cron "0 9 15 3 *" --restore orders \
      --skip-approvals
  drover drill schedule set --app shop --cron "30 6 * * MON" --soak 10m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.topologies = g.topologyDir(cmd, o.topologies)
			return o.run(cmd.Context(), cmd, g)
		},
	}
	f := cmd.Flags()
	o.bind(f)
	f.StringVar(&o.cron, "cron", "", "when, as five cron fields in UTC (required)")
	f.DurationVar(&o.catchup, "catchup-window", schedule.DefaultCatchupWindow,
		"how late a drill whose minute was missed may still start")
	return cmd
}

func (o *scheduleSetOptions) run(ctx context.Context, cmd *cobra.Command, g *globals) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := checkCron(o.cron); err != nil {
		return err
	}
	if o.catchup < time.Minute {
		return fmt.Errorf("--catchup-window %s: want at least a minute", o.catchup)
	}
	in, dp, err := o.input(cmd, g)
	if err != nil {
		return err
	}
	// Left empty, the drill records the schedule as who started it.
	in.RequestedBy = ""
	if in.Reason == "" {
		in.Reason = "scheduled drill, set by " + oneLine(g.user())
	}

	c, err := g.dial(ctx, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer c.Close()

	created, err := schedule.Set(ctx, c, schedule.Options{Cron: o.cron, Input: in,
		CatchupWindow: o.catchup})
	if err != nil {
		return err
	}
	entry, err := describeSchedule(ctx, c, in.App, o.cron)
	if err != nil {
		// The schedule is set; only its next time is unknown.
		fmt.Fprintf(stderr, "Note: %v\n", err)
	}
	if g.output == outputJSON {
		return json.NewEncoder(stdout).Encode(entry)
	}

	verb := "Changed"
	if created {
		verb = "Created"
	}
	fmt.Fprintf(stdout, "%s the drill schedule %s: %q (UTC), %s.\n", verb, entry.ID, o.cron,
		describeDrill(in, dp))
	if len(entry.Next) > 0 {
		fmt.Fprintf(stdout, "Next drill: %s\n", entry.Next[0].UTC().Format(time.RFC3339))
	}
	if gates := approvalGates(dp.failover); len(gates) > 0 {
		fmt.Fprintf(stdout, "Each drill waits at %s until someone runs `%s`; "+
			"--skip-approvals makes it run unattended.\n", strings.Join(gates, ", "),
			g.hinter(in.App).cmd("approve"))
	}
	_, err = fmt.Fprintf(stdout, "Start one now: drover drill schedule trigger --app %s%s\n",
		in.App, g.connFlags)
	return err
}

// describeSchedule reads app's drill schedule directly: the list of
// schedules is an index that shows a new one only a moment later.
func describeSchedule(ctx context.Context, c client.Client, app, cron string) (schedule.Entry,
	error) {
	e := schedule.Entry{ID: schedule.ID(app), App: app, Cron: cron}
	d, err := c.ScheduleClient().GetHandle(ctx, e.ID).Describe(ctx)
	if err != nil {
		return e, fmt.Errorf("read the drill schedule of %s back: %w", app, err)
	}
	e.Paused, e.Note = d.Schedule.State.Paused, d.Schedule.State.Note
	e.Next = d.Info.NextActionTimes
	if n := len(d.Info.RecentActions); n > 0 {
		t := d.Info.RecentActions[n-1].ActualTime
		e.LastRun = &t
	}
	return e, nil
}

func newScheduleListCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List every drill schedule",
		Example: "  drover drill schedule list\n  drover drill schedule list --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listSchedules(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g)
		},
	}
	return cmd
}

func listSchedules(ctx context.Context, stdout, stderr io.Writer, g *globals) error {
	c, err := g.dial(ctx, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer c.Close()
	entries, err := schedule.List(ctx, c)
	if err != nil {
		return err
	}
	if g.output == outputJSON {
		if entries == nil {
			entries = []schedule.Entry{}
		}
		return json.NewEncoder(stdout).Encode(entries)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(stdout, "No drill schedules; create one with "+
			"`drover drill schedule set --app APP --cron \"0 9 15 3 *\"`")
		return err
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "SCHEDULE\tAPP\tCRON (UTC)\tSTATE\tNEXT\tLAST\tNOTE")
	for _, e := range entries {
		state, next, last := "active", "-", "-"
		if e.Paused {
			state, next = "paused", "-"
		} else if len(e.Next) > 0 {
			next = e.Next[0].UTC().Format("2006-01-02 15:04")
		}
		if e.LastRun != nil {
			last = e.LastRun.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.App, orDash(e.Cron), state,
			next, last, oneLine(e.Note))
	}
	return tw.Flush()
}

// scheduleActionOptions are the flags of pause, unpause, trigger and
// delete.
type scheduleActionOptions struct {
	app  string
	note string
	yes  bool
}

func newScheduleActionCommand(g *globals, action, short string) *cobra.Command {
	o := &scheduleActionOptions{}
	cmd := &cobra.Command{
		Use:     action + " --app APP",
		Short:   short,
		Example: "  drover drill schedule " + action + " --app shop",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, action, g)
		},
	}
	f := cmd.Flags()
	bindApp(f, &o.app)
	switch action {
	case "pause", "unpause":
		f.StringVar(&o.note, "note", "", "why, shown by `drill schedule list`")
	case "delete":
		f.BoolVarP(&o.yes, "yes", "y", false, "delete without asking for confirmation")
	case "trigger":
		cmd.Long = short + ", as the schedule would: it is skipped while a drill it " +
			"started still runs."
	}
	return cmd
}

func (o *scheduleActionOptions) run(cmd *cobra.Command, action string, g *globals) error {
	ctx, stdout, stderr := cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := checkApp(o.app); err != nil {
		return err
	}
	id := schedule.ID(o.app)
	prompt := newPrompter(cmd.InOrStdin(), stderr)
	ask := action == "delete" && !o.yes
	if ask && !prompt.interactive {
		return errors.New("delete asks for confirmation, but stdin is not a terminal; pass " +
			"--yes to delete without asking")
	}
	note := oneLine(o.note)
	if note == "" && action != "trigger" && action != "delete" {
		note = action + "d by " + oneLine(g.user())
	}

	c, err := g.dial(ctx, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer c.Close()

	// A deleted schedule answers some actions with the error of the
	// workflow behind it, which would puzzle; asking first names it.
	_, err = c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("%s has no drill schedule; create one with `drover drill schedule "+
			"set --app %s --cron \"0 9 15 3 *\"`", o.app, o.app)
	}
	if err != nil {
		return fmt.Errorf("read the drill schedule of %s: %w", o.app, err)
	}
	if ask {
		if err := prompt.confirm(fmt.Sprintf(
			"Delete the drill schedule %s? A drill it started goes on.", id)); err != nil {
			return err
		}
	}

	switch action {
	case "pause":
		err = schedule.Pause(ctx, c, o.app, note)
	case "unpause":
		err = schedule.Unpause(ctx, c, o.app, note)
	case "trigger":
		err = schedule.Trigger(ctx, c, o.app)
	case "delete":
		err = schedule.Delete(ctx, c, o.app)
	}
	done := strings.TrimSuffix(action, "e") + "ed"
	if err != nil {
		return err
	}
	if g.output == outputJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{"schedule": id, "done": done})
	}
	fmt.Fprintf(stdout, "Drill schedule %s %s.\n", id, done)
	if action == "trigger" {
		_, err = fmt.Fprintf(stdout, "Its drill runs as %s-<time>, unless one it started still "+
			"runs. Follow its failover and failback: %s\n", id,
			g.hinter(o.app).cmd("status", "--watch"))
	}
	return err
}

// cronField is one field of a cron expression.
type cronField struct {
	name     string
	min, max int
	// names are the words the field takes for its values from min on.
	names []string
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: strings.Fields(
		"JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC")},
	{name: "day of week", min: 0, max: 6, names: strings.Fields("SUN MON TUE WED THU FRI SAT")},
}

// checkCron checks a five-field cron expression here, so that a typo is
// named field by field rather than by the server's parser.
func checkCron(expr string) error {
	fields := strings.Fields(expr)
	if expr == "" {
		return fmt.Errorf("--cron is required: five fields in UTC (minute hour day month " +
			"weekday), such as \"0 9 15 3 *\" for 09:00 on 15 March every year")
	}
	if len(fields) != len(cronFields) {
		return fmt.Errorf("--cron %q has %d fields; want five in UTC (minute hour day month "+
			"weekday), such as \"0 9 15 3 *\"", expr, len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return fmt.Errorf("--cron %q: %w", expr, err)
		}
	}
	return nil
}

// check accepts *, values, ranges and steps, separated by commas.
func (cf cronField) check(field string) error {
	for item := range strings.SplitSeq(field, ",") {
		base, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || n > cf.max {
				return fmt.Errorf("the %s field's step %q: want a number from 1 to %d",
					cf.name, step, cf.max)
			}
		}
		if base == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(base, "-")
		from, err := cf.value(lo)
		if err != nil {
			return err
		}
		if !isRange {
			continue
		}
		to, err := cf.value(hi)
		if err != nil {
			return err
		}
		if to < from {
			return fmt.Errorf("the %s field's range %s runs backwards", cf.name, base)
		}
	}
	return nil
}

func (cf cronField) value(s string) (int, error) {
	for i, name := range cf.names {
		if strings.EqualFold(s, name) {
			return cf.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < cf.min || n > cf.max {
		return 0, fmt.Errorf("the %s field's %q: want a number from %d to %d", cf.name, s,
			cf.min, cf.max)
	}
	return n, nil
}
