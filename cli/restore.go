package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/topology"
	"github.com/drover-dev/drover/workflows"
)

// restoreOptions are the flags of `drover restore`.
type restoreOptions struct {
	app         string
	topologies  string
	component   string
	region      string
	targetID    string
	source      string
	snapshotID  string
	restoreTime string
	reason      string
	by          string
	yes         bool
	wait        bool
}

func newRestoreCommand(g *globals) *cobra.Command {
	o := &restoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore --app APP --component NAME [--region R] [--wait]",
		Short: "Restore a database, service or zone of an application",
		Long: `Restore one component of an application in one region, as a Temporal workflow:

- a database from its latest snapshot (or --snapshot-id), or to a point in
  time, under a new identifier (--target-id; one is made up when left out),
  with the original's subnet group, security groups, parameter and option
  groups, class, Multi-AZ and storage; then checked to answer. The live
  database is never touched.
- an ECS service recreated from its latest capture (see 'drover capture').
- a Route 53 zone's records put back from its latest capture.

A restore that finds its goal in place changes nothing, so running it twice is
safe. It asks for confirmation unless --yes.`,
		Example: `  drover restore --app shop --component web --yes --wait
  drover restore --app shop --component orders --target-id shop-orders-0315 --wait
  drover restore --app shop --component orders --restore-time 2025-03-15T08:55:00Z --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.topologies = g.topologyDir(cmd, o.topologies)
			return o.run(cmd.Context(), cmd, g)
		},
	}
	f := cmd.Flags()
	bindApp(f, &o.app)
	bindTopologies(f, &o.topologies)
	f.StringVar(&o.component, "component", "",
		"the database, service or zone, as the topology names it (required)")
	f.StringVar(&o.region, "region", "", "where to restore; the primary when left out")
	f.StringVar(&o.targetID, "target-id", "",
		"a database's new identifier; <original>-restored-<time> when left out")
	f.StringVar(&o.source, "source", activities.RestoreFromSnapshot,
		"a database's source: snapshot or point-in-time")
	f.StringVar(&o.snapshotID, "snapshot-id", "", "the snapshot to restore; the latest when empty")
	f.StringVar(&o.restoreTime, "restore-time", "",
		"the time to restore to, RFC 3339 (implies --source point-in-time); the latest "+
			"restorable time when empty")
	f.StringVar(&o.reason, "reason", "", "why, recorded with the restore")
	f.StringVar(&o.by, "by", "", "who asks, recorded with the restore (default $USER)")
	f.BoolVarP(&o.yes, "yes", "y", false, "start without asking for confirmation")
	f.BoolVar(&o.wait, "wait", false,
		"follow the restore until it ends; exit non-zero unless it completes")
	return cmd
}

// input checks the flags against the topology and returns the restore's
// input and a line that says what it does.
func (o *restoreOptions) input(cmd *cobra.Command, g *globals) (workflows.RestoreInput,
	string, error) {
	var in workflows.RestoreInput
	t, err := loadApp(o.topologies, o.app)
	if err != nil {
		return in, "", err
	}
	if o.component == "" {
		return in, "", fmt.Errorf("--component is required: name a database, service or zone "+
			"of %s (%s)", t.App, componentNames(t))
	}
	comp, ok := t.Component(o.component)
	if !ok {
		return in, "", fmt.Errorf("--component %s: %s has no such component (%s)",
			o.component, t.App, componentNames(t))
	}
	region := o.region
	if region == "" {
		region = t.Primary().Name
	}
	if _, ok := t.Region(region); !ok {
		return in, "", fmt.Errorf("--region %s: not a region of %s (regions: %s)", region,
			t.App, strings.Join(t.RegionNames(), ", "))
	}
	by := o.by
	if by == "" {
		by = g.user()
	}
	in = workflows.RestoreInput{App: t.App, Component: comp.Name, Region: region,
		RequestedBy: oneLine(by), Reason: oneLine(o.reason)}

	if comp.Kind != topology.KindDatabase {
		for _, flag := range []string{"target-id", "source", "snapshot-id", "restore-time"} {
			if cmd.Flags().Changed(flag) {
				return in, "", fmt.Errorf("--%s is for databases; %s is a %s, restored "+
					"under its own name from its latest capture", flag, comp.Name, comp.Kind)
			}
		}
		what := fmt.Sprintf("service %s of %s in %s from its latest capture", comp.Name, t.App,
			region)
		if comp.Kind == topology.KindDNS {
			what = fmt.Sprintf("zone %s (%s) of %s from its latest capture", comp.Name,
				comp.Zone.Domain, t.App)
		}
		return in, what, nil
	}
	return o.databaseInput(cmd, t, *comp.Database, in)
}

// databaseInput adds a database restore's source and target.
func (o *restoreOptions) databaseInput(cmd *cobra.Command, t *topology.Topology,
	db topology.Database, in workflows.RestoreInput) (workflows.RestoreInput, string, error) {
	_, original, ok := activities.DatabaseCaptureKey(db, in.Region)
	if !ok {
		return in, "", fmt.Errorf("--region %s: database %s has no copy there to restore from",
			in.Region, db.Name)
	}
	in.Source = o.source
	if o.restoreTime != "" {
		at, err := time.Parse(time.RFC3339, o.restoreTime)
		if err != nil {
			return in, "", fmt.Errorf("--restore-time %q: want an RFC 3339 time such as "+
				"2025-03-15T08:55:00Z", o.restoreTime)
		}
		if cmd.Flags().Changed("source") && o.source != activities.RestoreToPointInTime {
			return in, "", fmt.Errorf("--restore-time needs --source %s, not %s",
				activities.RestoreToPointInTime, o.source)
		}
		at = at.UTC()
		in.Source, in.RestoreTime = activities.RestoreToPointInTime, &at
	}
	switch in.Source {
	case activities.RestoreFromSnapshot, activities.RestoreToPointInTime:
	default:
		return in, "", fmt.Errorf("--source %q: want %s or %s", o.source,
			activities.RestoreFromSnapshot, activities.RestoreToPointInTime)
	}
	if o.snapshotID != "" && in.Source != activities.RestoreFromSnapshot {
		return in, "", fmt.Errorf("--snapshot-id goes with --source %s",
			activities.RestoreFromSnapshot)
	}
	in.SnapshotID = o.snapshotID

	in.TargetID = o.targetID
	if in.TargetID == "" {
		in.TargetID = defaultTargetID(original, time.Now())
	}
	cluster := db.Engine == topology.EngineAuroraGlobal
	if err := activities.CheckRestoreTarget(in.TargetID, cluster,
		activities.LiveDatabaseIDs(t)); err != nil {
		return in, "", fmt.Errorf("--target-id: %w", err)
	}

	from := "its latest snapshot"
	switch {
	case in.SnapshotID != "":
		from = "snapshot " + in.SnapshotID
	case in.RestoreTime != nil:
		from = "its state at " + in.RestoreTime.Format(time.RFC3339)
	case in.Source == activities.RestoreToPointInTime:
		from = "its latest restorable time"
	}
	what := fmt.Sprintf("database %s of %s in %s from %s into a new database %s", db.Name,
		t.App, in.Region, from, in.TargetID)
	return in, what, nil
}

// defaultTargetID names a restored database after its original and the
// time, within the length a cluster's identifier leaves for its
// instances' suffixes.
func defaultTargetID(original string, now time.Time) string {
	suffix := "-restored-" + now.UTC().Format("20060102-1504")
	base := strings.ToLower(original)
	if room := 60 - len(suffix); len(base) > room {
		base = strings.TrimRight(base[:room], "-")
	}
	return base + suffix
}

func componentNames(t *topology.Topology) string {
	var names []string
	for _, c := range t.Components() {
		names = append(names, c.Name)
	}
	return orNoneList(names)
}

func (o *restoreOptions) run(ctx context.Context, cmd *cobra.Command, g *globals) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	human := stdout
	if g.output == outputJSON {
		human = stderr
	}
	in, what, err := o.input(cmd, g)
	if err != nil {
		return err
	}
	if !o.yes {
		if err := newPrompter(cmd.InOrStdin(), stderr).confirm(
			"Restore " + what + "?"); err != nil {
			return err
		}
	}

	c, err := g.dial(ctx, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer c.Close()

	id := workflows.RestoreWorkflowID(in.App, in.Component, in.Region)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                activities.WorkflowTaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            "restore " + what + " by " + in.RequestedBy,
	}, workflows.RestoreWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return fmt.Errorf("a restore of %s in %s is already running (workflow %s, run %s); "+
			"only one runs at a time", in.Component, in.Region, id, started.RunId)
	}
	if err != nil {
		return fmt.Errorf("start the restore of %s: %w", in.Component, err)
	}
	ref := drillRef{App: in.App, WorkflowID: id, RunID: run.GetRunID()}
	if !o.wait {
		if g.output == outputJSON {
			return json.NewEncoder(stdout).Encode(ref)
		}
		_, err := fmt.Fprintf(stdout, "Started the restore of %s\n  workflow id  %s\n"+
			"  run id       %s\n", what, id, ref.RunID)
		return err
	}

	fmt.Fprintf(human, "Restoring %s: workflow %s, run %s\n", what, id, ref.RunID)
	res, err := followRestore(ctx, c, ref, human)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped waiting; the restore of %s goes on (workflow %s)",
				in.Component, id)
		}
		return fmt.Errorf("the restore of %s in %s failed: %s", in.Component, in.Region,
			rootMessage(err))
	}
	if g.output == outputJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	return writeRestoreResult(human, res)
}

// followRestore notes each change of a restore's state until it ends, and
// returns its result.
func followRestore(ctx context.Context, c client.Client, ref drillRef,
	out io.Writer) (*workflows.RestoreResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type end struct {
		res *workflows.RestoreResult
		err error
	}
	done := make(chan end, 1)
	go func() {
		var res workflows.RestoreResult
		err := c.GetWorkflow(ctx, ref.WorkflowID, ref.RunID).Get(ctx, &res)
		done <- end{&res, err}
	}()

	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	status := ""
	for {
		qctx, qcancel := context.WithTimeout(ctx, queryTimeout)
		v, err := c.QueryWorkflow(qctx, ref.WorkflowID, ref.RunID, workflows.QueryProgress)
		qcancel()
		var p workflows.RestoreResult
		if err == nil && v.Get(&p) == nil && p.Status != "" && p.Status != status {
			status = p.Status
			fmt.Fprintf(out, "%s %s\n", time.Now().Format("15:04:05"), status)
		}
		select {
		case e := <-done:
			return e.res, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// writeRestoreResult says what a completed restore did and how long the
// component took to come back.
func writeRestoreResult(w io.Writer, r *workflows.RestoreResult) error {
	name := fmt.Sprintf("%s %s of %s in %s", r.Kind, r.Component, r.App, r.Region)
	if r.AlreadyDone {
		_, err := fmt.Fprintf(w, "The %s was in place already; nothing was changed. %s\n",
			name, r.Detail)
		return err
	}
	line := fmt.Sprintf("Restored the %s in %s", name, fmtDuration(r.Duration))
	if r.CapturedAt != nil {
		line += ", from the capture of " + r.CapturedAt.UTC().Format(time.RFC3339)
	}
	fmt.Fprintln(w, line+".")
	if r.TargetID != "" {
		from := "snapshot " + r.SnapshotID
		if r.RestoreTime != nil {
			from = "its state at " + r.RestoreTime.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "  new database  %s, from %s\n", r.TargetID, from)
		switch r.SettingsFrom {
		case "":
		case "live":
			fmt.Fprintln(w, "  settings      copied from the live original")
		default:
			fmt.Fprintf(w, "  settings      copied from the %s\n", r.SettingsFrom)
		}
		if r.Verified != "" {
			fmt.Fprintf(w, "  verified      %s\n", r.Verified)
		}
	}
	if r.Detail != "" {
		fmt.Fprintf(w, "  detail        %s\n", r.Detail)
	}
	return nil
}
