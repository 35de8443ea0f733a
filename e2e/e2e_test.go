// Package e2e runs drover end to end: the real workflows and activities on
// a Temporal dev server, against the simulated regions seeded with the
// example application.
package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/infra/devserver"
	"github.com/drover-dev/drover/infra/sandbox"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/workflows"
)

const (
	primary = "us-east-1"
	standby = "us-west-2"
)

// startSandbox seeds the example in a simulator running timeScale times
// faster than AWS, on a dev server of its own.
func startSandbox(t *testing.T, timeScale float64) *sandbox.Sandbox {
	t.Helper()
	temporal := devserver.StartForTest(t)
	p := awssim.DefaultProfile()
	p.TimeScale = timeScale
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Options{
		Topology: "../examples/shop.yaml",
		WorkDir:  t.TempDir(),
		SimAddr:  "127.0.0.1:0",
		Profile:  &p,
		Client:   temporal.Client(),
	})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	clients[t.Name()] = sb.Client
	return sb
}

func start(t *testing.T, sb *sandbox.Sandbox, wf string, in workflows.SwitchInput) client.WorkflowRun {
	t.Helper()
	run, err := sb.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID:        workflows.SwitchWorkflowID(in.App),
		TaskQueue: activities.WorkflowTaskQueue,
	}, wf, in)
	require.NoError(t, err)
	return run
}

func result(t *testing.T, run client.WorkflowRun, timeout time.Duration) *workflows.Progress {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var p workflows.Progress
	if err := run.Get(ctx, &p); err != nil {
		t.Fatalf("%s did not finish: %v\n%s", run.GetID(), err, describe(t, run))
	}
	return &p
}

// describe lists a run's steps as the progress query shows them, to say
// where a run that did not finish got stuck.
func describe(t *testing.T, run client.WorkflowRun) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := clients[t.Name()]
	if c == nil {
		return "(no client)"
	}
	v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.QueryProgress)
	if err != nil {
		return "progress query failed: " + err.Error()
	}
	var p workflows.Progress
	if err := v.Get(&p); err != nil {
		return err.Error()
	}
	out := fmt.Sprintf("status %s %s\n", p.Status, p.Message)
	for _, st := range p.Steps {
		out += fmt.Sprintf("  %-32s %-10s %-16s %s %s\n", st.ID, st.Region, st.State, st.Detail, st.Error)
	}
	return out
}

// activityPriorities reads a run's history for the priority key of the
// activity task of each step that scales a service, promotes a database,
// flips DNS or verifies, by the step's id.
func activityPriorities(t *testing.T, sb *sandbox.Sandbox, run client.WorkflowRun) map[string]int {
	t.Helper()
	out := map[string]int{}
	dc := converter.GetDefaultDataConverter()
	it := sb.Client.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false,
		enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		a := e.GetActivityTaskScheduledEventAttributes()
		if a == nil {
			continue
		}
		key := int(a.GetPriority().GetPriorityKey())
		switch a.GetActivityType().GetName() {
		case activities.ScaleServiceName:
			var in activities.ScaleServiceInput
			require.NoError(t, dc.FromPayloads(a.GetInput(), &in))
			if in.Desired != 0 { // not the source's writers stopped
				out["scale-service:"+in.Service.Name] = key
			}
		case activities.PromoteDatabaseName:
			var in activities.PromoteDatabaseInput
			require.NoError(t, dc.FromPayloads(a.GetInput(), &in))
			out["promote-database:"+in.Database.Name] = key
		case activities.FlipDNSName:
			var in activities.FlipDNSInput
			require.NoError(t, dc.FromPayloads(a.GetInput(), &in))
			out["flip-dns:"+in.Zone.Name] = key
		case activities.VerifyName:
			out["verify"] = key
		}
	}
	return out
}

// clients lets describe find the test's Temporal client.
var clients = map[string]client.Client{}

func instance(st awssim.State, region, id string) *awssim.RDSInstanceState {
	for _, i := range st.Regions[region].RDS.Instances {
		if i.ID == id {
			return &i
		}
	}
	return nil
}

func cluster(st awssim.State, region, id string) *awssim.RDSClusterState {
	for _, c := range st.Regions[region].RDS.Clusters {
		if c.ID == id {
			return &c
		}
	}
	return nil
}

func service(st awssim.State, region, name string) *awssim.ECSServiceState {
	for _, s := range st.Regions[region].ECS.Services {
		if s.Name == name {
			return &s
		}
	}
	return nil
}

// records returns the zone's record sets by set identifier.
func records(st awssim.State) map[string]awssim.Route53RecordSet {
	out := map[string]awssim.Route53RecordSet{}
	for _, z := range st.Route53.HostedZones {
		for _, r := range z.RecordSets {
			if r.SetIdentifier != "" {
				out[r.SetIdentifier] = r
			}
		}
	}
	return out
}

func requireAllSucceeded(t *testing.T, p *workflows.Progress) {
	t.Helper()
	for _, st := range p.Steps {
		require.Contains(t, []workflows.StepState{workflows.StepSucceeded, workflows.StepTolerated},
			st.State, "step %s: %s %s", st.ID, st.Detail, st.Error)
	}
}

// requireServing checks that the application serves from region with its
// databases writable there and DNS pointing at it.
func requireServing(t *testing.T, sb *sandbox.Sandbox, region, other string) {
	t.Helper()
	st := sb.Sim.Sim.Snapshot()
	orders := map[string]string{primary: "shop-orders", standby: "shop-orders-replica"}

	db := instance(st, region, orders[region])
	require.NotNil(t, db, "orders in %s", region)
	require.Equal(t, "available", db.Status)
	require.Empty(t, db.ReplicationSource, "orders in %s must be the writer", region)

	catalog := map[string]string{primary: "shop-catalog-use1", standby: "shop-catalog-usw2"}
	c := cluster(st, region, catalog[region])
	require.NotNil(t, c)
	var global *awssim.RDSGlobalClusterState
	for _, g := range st.Regions[region].RDS.GlobalClusters {
		if g.ID == "shop-catalog" {
			global = &g
		}
	}
	require.NotNil(t, global)
	require.Equal(t, c.ARN, global.Writer, "the catalog's writer must be in %s", region)

	for _, name := range []string{"web", "api", "shop-checkout", "worker"} {
		svc := service(st, region, name)
		require.NotNil(t, svc, "service %s in %s", name, region)
		require.Positive(t, svc.RunningCount, "%s in %s", name, region)
		require.Equal(t, svc.DesiredCount, svc.RunningCount, "%s in %s", name, region)
		require.Equal(t, 1, svc.Deployments)
	}

	recs := records(st)
	suffix := map[string]string{primary: "use1", standby: "usw2"}
	require.Equal(t, "PRIMARY", recs["api-"+suffix[region]].Failover)
	require.Equal(t, "SECONDARY", recs["api-"+suffix[other]].Failover)
	require.Positive(t, *recs["www-"+suffix[region]].Weight)
	require.Zero(t, *recs["www-"+suffix[other]].Weight)

	healthy, detail := sb.Sim.Sim.AppHealth(region)
	require.True(t, healthy, detail)
}

func TestFailoverThenFailbackOfTheExample(t *testing.T) {
	sb := startSandbox(t, 600)
	ctl := awssim.NewControl(sb.Sim.URL)
	ctx := context.Background()
	since := time.Now()

	run := start(t, sb, workflows.FailoverWorkflowName, workflows.SwitchInput{
		App: "shop", To: standby, Purpose: workflows.Practice, SkipApprovals: true,
		RequestedBy: "e2e",
	})
	p := result(t, run, 2*time.Minute)
	require.Equal(t, workflows.RunCompleted, p.Status, p.Message)
	requireAllSucceeded(t, p)
	requireServing(t, sb, standby, primary)

	// The critical path's activities went to their region's queue ahead
	// of the others; steps with time to spare at Temporal's default.
	priorities := activityPriorities(t, sb, run)
	for _, id := range p.CriticalPath {
		if key, ok := priorities[id]; ok {
			require.Equal(t, 1, key, "the priority of %s", id)
		}
	}
	byKey := map[int]int{}
	for _, key := range priorities {
		byKey[key]++
	}
	require.Positive(t, byKey[0], "every step prioritized: %v", priorities)
	require.Positive(t, byKey[1], "no step prioritized: %v", priorities)

	// The standby runs what the primary ran, as the topology asks: web 4,
	// cart half of 2, worker a fixed 2.
	st := sb.Sim.Sim.Snapshot()
	require.Equal(t, 4, service(st, standby, "web").DesiredCount)
	require.Equal(t, 1, service(st, standby, "cart").DesiredCount)
	require.Equal(t, 2, service(st, standby, "worker").DesiredCount)

	// Each component's measured recovery ends when the simulator says it
	// became healthy, noticed within a poll interval (and a little slack
	// for a busy machine).
	events, err := ctl.Events(ctx, since)
	require.NoError(t, err)
	healthyAt := map[string]time.Time{}
	for _, e := range events {
		switch {
		case e.Resource == "db-instance" && e.ID == "shop-orders-replica" && e.State == "available":
			healthyAt["promote-database:orders"] = e.At
		case e.Resource == "service" && e.Region == standby && e.State == "steady":
			healthyAt["scale-service:"+serviceComponent(e.ID)] = e.At
		}
	}
	poll := sb.WorkerCfg.PollInterval
	for id, at := range healthyAt {
		step := p.Step(id)
		if step == nil || step.HealthyAt == nil {
			continue
		}
		lag := step.HealthyAt.Sub(at)
		require.GreaterOrEqual(t, lag, time.Duration(0), "%s seen healthy before it was", id)
		require.Less(t, lag, poll+250*time.Millisecond, "%s noticed %s late", id, lag)
	}
	require.Contains(t, healthyAt, "promote-database:orders")

	// Failback returns everything and rebuilds the replica in the standby.
	run = start(t, sb, workflows.FailbackWorkflowName, workflows.SwitchInput{
		App: "shop", SkipApprovals: true,
	})
	p = result(t, run, 3*time.Minute)
	require.Equal(t, workflows.RunCompleted, p.Status, p.Message)
	requireAllSucceeded(t, p)
	requireServing(t, sb, primary, standby)

	st = sb.Sim.Sim.Snapshot()
	replica := instance(st, standby, "shop-orders-replica")
	require.NotNil(t, replica)
	require.Contains(t, replica.ReplicationSource, "shop-orders", "the standby replicates again")
	require.Equal(t, "available", replica.Status)

	// Nothing was lost or duplicated: the instances that held a name
	// before were renamed, not deleted.
	var names []string
	for _, r := range []string{primary, standby} {
		for _, i := range st.Regions[r].RDS.Instances {
			if i.DBClusterIdentifier == "" {
				names = append(names, r+"/"+i.ID)
			}
		}
	}
	require.Len(t, names, 4, "%v: two live instances and two renamed stale ones", names)

	// A second round straight after the first, in the same minute, finds
	// its own names for what it moves out of the way.
	for _, wf := range []string{workflows.FailoverWorkflowName, workflows.FailbackWorkflowName} {
		run = start(t, sb, wf, workflows.SwitchInput{
			App: "shop", Purpose: workflows.Practice, SkipApprovals: true,
		})
		p = result(t, run, 3*time.Minute)
		require.Equal(t, workflows.RunCompleted, p.Status, "%s: %s", wf, p.Message)
	}
	requireServing(t, sb, primary, standby)
}

// serviceComponent maps a "cluster/service" id to the example's component
// name.
func serviceComponent(id string) string {
	name := id[len("shop/"):]
	if name == "shop-checkout" {
		return "checkout"
	}
	return name
}

func TestUngracefulFailoverCompletesWhileTheSourceIsBlackedOut(t *testing.T) {
	sb := startSandbox(t, 600)
	_, err := sb.Sim.Sim.AddFault(awssim.Fault{
		Kind: awssim.FaultBlackout, Region: primary, Mode: awssim.BlackoutHang})
	require.NoError(t, err)
	calls := sb.Sim.Sim.Calls()

	run := start(t, sb, workflows.FailoverWorkflowName, workflows.SwitchInput{
		App: "shop", To: standby, Mode: plan.Ungraceful, Purpose: workflows.Practice,
		SkipApprovals: true,
	})
	p := result(t, run, 2*time.Minute)
	require.Equal(t, workflows.RunCompleted, p.Status, p.Message)
	requireServing(t, sb, standby, primary)

	// No step on the critical path ran in the blacked-out region; the
	// only step there was abandoned, and the run did not wait for it.
	for _, id := range p.CriticalPath {
		require.Equal(t, standby, p.Step(id).Region, id)
	}
	for _, st := range p.Steps {
		if st.Region == primary {
			require.Equal(t, workflows.StepTolerated, st.State, st.ID)
		} else {
			require.Equal(t, workflows.StepSucceeded, st.State, "%s: %s", st.ID, st.Error)
		}
	}
	observe := p.Step("observe-source")
	require.False(t, observe.Ended.After(*p.Ended))
	require.Less(t, p.Duration, 20*time.Second,
		"the run must not wait out the source region's timeouts")

	// Every call into the source region went nowhere.
	var after int64
	for _, c := range sb.Sim.Sim.Calls() {
		if c.Region == primary && c.Service != awssim.ServiceRoute53 {
			after += c.Count
		}
	}
	var before int64
	for _, c := range calls {
		if c.Region == primary && c.Service != awssim.ServiceRoute53 {
			before += c.Count
		}
	}
	require.Positive(t, after-before, "the failover did try the source region")
}

// TestLaggingStandbyStopsFailoverUnlessForced: a standby replica that lags
// more than the topology's maxLag, as CloudWatch in the standby's region
// reports it, stops a failover at preflight with nothing changed; forced,
// the same failover goes on and completes.
func TestLaggingStandbyStopsFailoverUnlessForced(t *testing.T) {
	sb := startSandbox(t, 600)
	require.NoError(t, sb.Sim.Sim.SetReplicaLag(standby, "db-instance", "shop-orders-replica",
		45*time.Second))
	in := workflows.SwitchInput{App: "shop", To: standby, Mode: plan.Graceful,
		Purpose: workflows.Practice, SkipApprovals: true}

	changes := func() map[string]int64 {
		out := map[string]int64{}
		for _, c := range sb.Sim.Sim.Calls() {
			switch c.Operation {
			case "PromoteReadReplica", "SwitchoverGlobalCluster", "FailoverGlobalCluster",
				"UpdateService", "ChangeResourceRecordSets", "ModifyDBInstance":
				out[c.Region+" "+c.Operation] += c.Count
			}
		}
		return out
	}
	seeded := changes()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := start(t, sb, workflows.FailoverWorkflowName, in)
	err := run.Get(ctx, nil)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr, "%v\n%s", err, describe(t, run))
	require.Equal(t, "PreflightFailed", appErr.Type())
	var p workflows.Progress
	require.NoError(t, appErr.Details(&p))
	require.Equal(t, workflows.RunPreflightFailed, p.Status)
	require.Regexp(t, `^preflight found 1 problems: orders: shop-orders-replica in us-west-2 `+
		`lags 45s behind its source \(ReplicaLag at \d\d:\d\d:00\), more than the `+
		`topology's maxLag of 30s`, p.Message)
	require.Equal(t, seeded, changes(), "a change after a failed preflight")
	requireServing(t, sb, primary, standby)

	in.Force = true
	p = *result(t, start(t, sb, workflows.FailoverWorkflowName, in), 2*time.Minute)
	require.Equal(t, workflows.RunCompleted, p.Status, p.Message)
	require.Contains(t, p.Step("preflight").Detail, "1 problems, forced past: orders: "+
		"shop-orders-replica in us-west-2 lags 45s")
	requireServing(t, sb, standby, primary)
}

func TestWorkerKilledMidFailoverFinishesWithNothingDuplicated(t *testing.T) {
	// Slower than the other tests, so that the promotion is still running
	// when the workers die.
	sb := startSandbox(t, 60)
	ctx := context.Background()
	before := sb.Sim.Sim.Calls()
	instances := len(sb.Sim.Sim.Snapshot().Regions[standby].RDS.Instances)

	run := start(t, sb, workflows.FailoverWorkflowName, workflows.SwitchInput{
		App: "shop", To: standby, Purpose: workflows.Practice, SkipApprovals: true,
	})

	// Wait until the databases are being promoted, then kill the workers.
	require.Eventually(t, func() bool {
		v, err := sb.Client.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.QueryProgress)
		if err != nil {
			return false
		}
		var p workflows.Progress
		if v.Get(&p) != nil {
			return false
		}
		st := p.Step("promote-database:orders")
		return st != nil && st.State == workflows.StepRunning
	}, time.Minute, 20*time.Millisecond)
	sb.StopWorkers()

	// A new worker picks the failover up.
	require.NoError(t, sb.StartWorkers(ctx))
	p := result(t, run, 3*time.Minute)
	require.Equal(t, workflows.RunCompleted, p.Status, p.Message)
	requireAllSucceeded(t, p)
	requireServing(t, sb, standby, primary)

	// Every mutation happened once: the retried activities found their
	// goal held or resumed waiting.
	counts := map[string]int64{}
	for _, c := range sb.Sim.Sim.Calls() {
		counts[c.Region+" "+c.Operation] += c.Count
	}
	for _, c := range before {
		counts[c.Region+" "+c.Operation] -= c.Count
	}
	require.Equal(t, int64(1), counts[standby+" PromoteReadReplica"], fmt.Sprint(counts))
	require.Equal(t, int64(1), counts["global ChangeResourceRecordSets"], fmt.Sprint(counts))
	require.LessOrEqual(t, counts[standby+" SwitchoverGlobalCluster"], int64(1), fmt.Sprint(counts))
	st := sb.Sim.Sim.Snapshot()
	require.Len(t, st.Regions[standby].RDS.Instances, instances, "no instance was added")
}
