package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
)

// drillFixture runs Drill with its child workflows and activities mocked.
type drillFixture struct {
	t       *testing.T
	ts      testsuite.WorkflowTestSuite
	env     *testsuite.TestWorkflowEnvironment
	topo    *topology.Topology
	record  drills.Record
	deleted []activities.DeleteDatabaseInput
}

func newDrillFixture(t *testing.T) *drillFixture {
	f := &drillFixture{t: t, topo: testTopology()}
	f.env = f.ts.NewTestWorkflowEnvironment()
	Register(f.env)
	for name, fn := range map[string]any{
		activities.LoadTopologyName: func(context.Context, string) (*topology.Topology, error) {
			return nil, nil
		},
		activities.DeleteDatabaseName: func(context.Context, activities.DeleteDatabaseInput) (activities.StepResult, error) {
			return activities.StepResult{}, nil
		},
		activities.RecordRunName: func(context.Context, drills.Record) error { return nil },
	} {
		f.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: DrillWorkflowID("shop")})
	return f
}

var t0 = time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)

// switchResult is what a mocked child failover or failback returns: one
// promoted database whose recovery took seconds.
func switchResult(kind plan.Kind, from, to string, seconds int, leftover string) *Progress {
	end := t0.Add(time.Duration(seconds) * time.Second)
	p := &Progress{App: "shop", Kind: kind, Mode: plan.Graceful, Purpose: Practice,
		From: from, To: to, Status: RunCompleted, Started: t0, Ended: &end}
	p.Steps = []StepProgress{
		{Step: plan.Step{ID: "approve:database", Kind: plan.StepApproval},
			State: StepSucceeded, ApprovedBy: "erin", Ended: &end},
		{Step: plan.Step{ID: "promote-database:orders", Kind: plan.StepPromoteDatabase,
			Region: to, Component: "orders"}, State: StepSucceeded,
			ActionStarted: &t0, HealthyAt: &end},
	}
	if leftover != "" {
		p.Steps = append(p.Steps, StepProgress{
			Step:  plan.Step{ID: "rebuild-replica:orders", Kind: plan.StepRebuildReplica, Region: from},
			State: StepSucceeded, Leftover: leftover, ActionStarted: &t0, HealthyAt: &end,
		})
	}
	return p
}

// defaults mocks every child and activity with a success; tests register
// their own expectations first.
func (f *drillFixture) defaults() {
	env := f.env
	env.OnActivity(activities.LoadTopologyName, mock.Anything, mock.Anything).Return(f.topo, nil)
	env.OnWorkflow(FailoverWorkflowName, mock.Anything, mock.Anything).
		Return(switchResult(plan.Failover, "us-east-1", "us-west-2", 240, ""), nil)
	env.OnWorkflow(FailbackWorkflowName, mock.Anything, mock.Anything).
		Return(switchResult(plan.Failback, "us-west-2", "us-east-1", 200, "orders-replica-stale-1"), nil)
	healthy := t0.Add(600 * time.Second)
	env.OnWorkflow(RestoreWorkflowName, mock.Anything, mock.Anything).
		Return(&RestoreResult{App: "shop", Component: "orders", Status: RestoreCompleted,
			ActionStarted: &t0, HealthyAt: &healthy, Detail: "restored"}, nil)
	env.OnActivity(activities.DeleteDatabaseName, mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) {
			f.deleted = append(f.deleted, args.Get(1).(activities.DeleteDatabaseInput))
		}).Return(activities.StepResult{Detail: "deleted"}, nil)
	env.OnActivity(activities.RecordRunName, mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) { f.record = args.Get(1).(drills.Record) }).Return(nil)
}

func (f *drillFixture) run(in DrillInput) (*DrillProgress, error) {
	f.defaults()
	f.env.ExecuteWorkflow(DrillWorkflowName, in)
	require.True(f.t, f.env.IsWorkflowCompleted())
	if err := f.env.GetWorkflowError(); err != nil {
		return nil, err
	}
	var p DrillProgress
	require.NoError(f.t, f.env.GetWorkflowResult(&p))
	return &p, nil
}

func TestDrillRecordsEveryPhaseAndCleansUp(t *testing.T) {
	f := newDrillFixture(t)
	var failoverIn, failbackIn SwitchInput
	var failbackAt time.Time
	f.env.OnWorkflow(FailoverWorkflowName, mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) { failoverIn = args.Get(1).(SwitchInput) }).
		Return(switchResult(plan.Failover, "us-east-1", "us-west-2", 240, ""), nil)
	f.env.OnWorkflow(FailbackWorkflowName, mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) {
			failbackIn = args.Get(1).(SwitchInput)
			failbackAt = f.env.Now()
		}).
		Return(switchResult(plan.Failback, "us-west-2", "us-east-1", 200, "orders-replica-stale-1"), nil)
	start := f.env.Now()

	p, err := f.run(DrillInput{App: "shop", Soak: topology.Duration(10 * time.Minute),
		Restore: &RestoreExercise{Database: "orders"}, RequestedBy: "erin",
		Reason: "annual drill 2026", SkipApprovals: true})
	require.NoError(t, err)
	require.Equal(t, DrillDone, p.Phase)

	// The failover is a practice run; the failback follows the soak.
	require.Equal(t, Practice, failoverIn.Purpose)
	require.True(t, failoverIn.SkipApprovals)
	require.Equal(t, "us-west-2", failbackIn.From)
	require.GreaterOrEqual(t, failbackAt.Sub(start), 10*time.Minute)

	rec := f.record
	require.Equal(t, drills.KindDrill, rec.Kind)
	require.Equal(t, drills.OutcomeSucceeded, rec.Outcome, rec.Message)
	require.Equal(t, "erin", rec.StartedBy)
	require.Equal(t, "annual drill 2026", rec.Reason)
	require.Equal(t, "us-west-2", rec.To)
	seconds := map[string]float64{}
	for _, c := range rec.Components {
		seconds[c.Key()] = c.Seconds
	}
	require.Equal(t, 240.0, seconds["failover/promote-database:orders"])
	require.Equal(t, 200.0, seconds["failback/promote-database:orders"])
	require.Equal(t, 600.0, seconds["restore/restore-database:orders"])
	require.Len(t, rec.Approvals, 2)

	// The scratch restore and the instance the failback renamed are
	// deleted, never a live database.
	require.Len(t, f.deleted, 2)
	ids := []string{f.deleted[0].InstanceID, f.deleted[1].InstanceID}
	require.Equal(t, "orders-replica-stale-1", ids[0])
	require.Regexp(t, `^drill-orders-\d{8}-\d{4}$`, ids[1])
	require.ElementsMatch(t, []string{"orders", "orders-replica", "catalog", "catalog-1", "catalog-2"},
		f.deleted[0].LiveIDs)
	require.Len(t, rec.Cleanup, 2)
	for _, c := range rec.Cleanup {
		require.Equal(t, drills.OutcomeSucceeded, c.Outcome)
	}
}

func TestDrillCleansUpAndRecordsWhenTheRestoreFails(t *testing.T) {
	f := newDrillFixture(t)
	f.env.OnWorkflow(RestoreWorkflowName, mock.Anything, mock.Anything).
		Return(nil, temporal.NewNonRetryableApplicationError(
			"instance quota exceeded in us-east-1", "Quota", nil))

	_, err := f.run(DrillInput{App: "shop", Restore: &RestoreExercise{Database: "orders"}})
	require.Error(t, err)
	require.Equal(t, drills.OutcomeFailed, f.record.Outcome)
	require.Contains(t, f.record.Message, "quota")
	// The scratch instance may exist half-made: cleanup removes it anyway.
	var scratch []string
	for _, d := range f.deleted {
		scratch = append(scratch, d.InstanceID)
	}
	require.Len(t, scratch, 2)
	var restore *drills.Component
	for i := range f.record.Components {
		if f.record.Components[i].Phase == drills.PhaseRestore {
			restore = &f.record.Components[i]
		}
	}
	require.NotNil(t, restore)
	require.Equal(t, drills.OutcomeFailed, restore.Outcome)
}

func TestCancelledDrillStillCleansUpAndRecords(t *testing.T) {
	f := newDrillFixture(t)
	f.env.RegisterDelayedCallback(f.env.CancelWorkflow, 5*time.Minute)

	_, err := f.run(DrillInput{App: "shop", Soak: topology.Duration(time.Hour)})
	require.Error(t, err)
	require.True(t, temporal.IsCanceledError(err))
	require.Equal(t, drills.OutcomeCancelled, f.record.Outcome)
	require.Contains(t, f.record.Message, "soak")
	f.env.AssertNotCalled(t, FailbackWorkflowName, mock.Anything, mock.Anything)
	require.NotEmpty(t, f.record.ID)
}

func TestDrillFailoverFailureIsRecorded(t *testing.T) {
	f := newDrillFixture(t)
	aborted := switchResult(plan.Failover, "us-east-1", "us-west-2", 240, "")
	aborted.Status = RunAborted
	aborted.Message = "aborted by frank"
	f.env.OnWorkflow(FailoverWorkflowName, mock.Anything, mock.Anything).Return(aborted, nil)

	_, err := f.run(DrillInput{App: "shop"})
	require.ErrorContains(t, err, "aborted by frank")
	require.Equal(t, drills.OutcomeFailed, f.record.Outcome)
	f.env.AssertNotCalled(t, FailbackWorkflowName, mock.Anything, mock.Anything)
}

func TestDrillRejectsBadInputBeforeActing(t *testing.T) {
	for name, in := range map[string]DrillInput{
		"app":      {App: "Shop"},
		"mode":     {App: "shop", Mode: "fast"},
		"database": {App: "shop", Restore: &RestoreExercise{Database: "nope"}},
		"region":   {App: "shop", Restore: &RestoreExercise{Database: "orders", Region: "mars-1"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newDrillFixture(t)
			_, err := f.run(in)
			require.Error(t, err)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr))
			require.Equal(t, "InvalidInput", appErr.Type())
			f.env.AssertNotCalled(t, FailoverWorkflowName, mock.Anything, mock.Anything)
		})
	}
}
