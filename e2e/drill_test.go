package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/drills/ledger"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/topology"
	"github.com/drover-dev/drover/workflows"
)

func startDrill(t *testing.T, c client.Client, in workflows.DrillInput) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: workflows.DrillWorkflowID(in.App), TaskQueue: activities.WorkflowTaskQueue,
	}, workflows.DrillWorkflowName, in)
	require.NoError(t, err)
	return run
}

func openLedger(t *testing.T, dsn string) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func TestDrillTimesEveryComponentAndLeavesNothingBehind(t *testing.T) {
	sb := startSandbox(t, 600)
	since := time.Now()

	run := startDrill(t, sb.Client, workflows.DrillInput{
		App: "shop", SkipApprovals: true, RequestedBy: "e2e", Reason: "annual drill",
		Restore: &workflows.RestoreExercise{Database: "orders"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var p workflows.DrillProgress
	require.NoError(t, run.Get(ctx, &p))
	require.NotNil(t, p.Record)
	requireServing(t, sb, primary, standby)

	// The ledger holds the drill, and what it holds is what the workflow
	// returned.
	rec, err := openLedger(t, sb.LedgerDSN).Get(ctx, p.Record.ID)
	require.NoError(t, err)
	require.Equal(t, drills.KindDrill, rec.Kind)
	require.Equal(t, drills.OutcomeSucceeded, rec.Outcome, rec.Message)
	require.Equal(t, "e2e", rec.StartedBy)
	phases := map[string]int{}
	byKey := map[string]drills.Component{}
	for _, c := range rec.Components {
		phases[c.Phase]++
		byKey[c.Key()] = c
	}
	require.Positive(t, phases[drills.PhaseFailover])
	require.Positive(t, phases[drills.PhaseFailback])
	require.Equal(t, 1, phases[drills.PhaseRestore])

	// Each timing ends when the simulator says the resource became
	// healthy, noticed within a poll interval (plus slack for a busy
	// machine).
	events, err := awssim.NewControl(sb.Sim.URL).Events(ctx, since)
	require.NoError(t, err)
	restore := byKey["restore/restore-database:orders"]
	require.Equal(t, drills.OutcomeSucceeded, restore.Outcome, restore.Detail)
	scratch := scratchID(t, rec)
	checks := map[string]time.Time{}
	for _, e := range events {
		if e.Resource != "db-instance" || e.State != "available" {
			continue
		}
		switch {
		case e.ID == scratch:
			checks["restore/restore-database:orders"] = e.At
		case e.ID == "shop-orders-replica" && e.Region == standby &&
			checks["failover/promote-database:orders"].IsZero():
			checks["failover/promote-database:orders"] = e.At
		}
	}
	require.Len(t, checks, 2, "events: %v", events)
	slack := sb.WorkerCfg.PollInterval + 250*time.Millisecond
	for key, at := range checks {
		c := byKey[key]
		lag := c.HealthyAt.Sub(at)
		require.GreaterOrEqual(t, lag, time.Duration(0), "%s seen healthy before it was", key)
		require.Less(t, lag, slack, "%s noticed %s late", key, lag)
		require.InDelta(t, c.HealthyAt.Sub(c.ActionStarted).Seconds(), c.Seconds, 1e-6)
	}

	// Everything the drill made is gone: the scratch restore and the old
	// primary the failback renamed out of the way.
	require.NotEmpty(t, rec.Cleanup)
	for _, c := range rec.Cleanup {
		require.Equal(t, drills.OutcomeSucceeded, c.Outcome, "%s: %s", c.Resource, c.Detail)
	}
	st := sb.Sim.Sim.Snapshot()
	for _, r := range []string{primary, standby} {
		for _, i := range st.Regions[r].RDS.Instances {
			require.NotContains(t, i.ID, "drill-", "scratch instance left in %s", r)
			require.NotContains(t, i.ID, "-stale-", "renamed old primary left in %s", r)
		}
	}
}

// scratchID finds the restore target in the drill's cleanup.
func scratchID(t *testing.T, rec drills.Record) string {
	t.Helper()
	for _, c := range rec.Cleanup {
		if i := strings.Index(c.Resource, "drill-"); i >= 0 {
			return c.Resource[i:]
		}
	}
	t.Fatalf("no scratch restore in the cleanup: %+v", rec.Cleanup)
	return ""
}

func TestCancelledDrillIsRecordedAndCleansUp(t *testing.T) {
	sb := startSandbox(t, 600)
	ctx := context.Background()
	run := startDrill(t, sb.Client, workflows.DrillInput{
		App: "shop", SkipApprovals: true, Soak: topology.Duration(time.Hour),
	})
	// Cancel while the application soaks in the standby.
	require.Eventually(t, func() bool {
		v, err := sb.Client.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.QueryProgress)
		if err != nil {
			return false
		}
		var p workflows.DrillProgress
		return v.Get(&p) == nil && p.Phase == workflows.DrillSoak
	}, 2*time.Minute, 50*time.Millisecond)
	require.NoError(t, sb.Client.CancelWorkflow(ctx, run.GetID(), run.GetRunID()))

	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := run.Get(wctx, nil)
	require.Error(t, err)
	require.True(t, temporal.IsCanceledError(err), err)

	l := openLedger(t, sb.LedgerDSN)
	rec, err := l.Get(ctx, run.GetID()+"/"+run.GetRunID())
	require.NoError(t, err)
	require.Equal(t, drills.OutcomeCancelled, rec.Outcome)
	require.Contains(t, rec.Message, "soak")
}
