package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/topology"
)

// restoreTime is how long the mocked restores take, in workflow time.
const restoreTime = 12 * time.Minute

// newRestoreEnv is a test workflow environment with Capture and Restore
// and every activity they call registered under its name, for tests to
// mock with OnActivity.
func newRestoreEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Capture, workflowOptions(CaptureWorkflowName))
	env.RegisterWorkflowWithOptions(Restore, workflowOptions(RestoreWorkflowName))
	capture := func(context.Context, any) (drills.Capture, error) { return drills.Capture{}, nil }
	step := func(context.Context, any) (activities.StepResult, error) {
		return activities.StepResult{}, nil
	}
	for name, fn := range map[string]any{
		activities.LoadTopologyName: func(context.Context, string) (*topology.Topology, error) {
			return nil, nil
		},
		activities.CaptureServiceName: func(ctx context.Context, in activities.CaptureServiceInput) (
			drills.Capture, error) {
			return capture(ctx, in)
		},
		activities.CaptureDatabaseName: func(ctx context.Context, in activities.CaptureDatabaseInput) (
			drills.Capture, error) {
			return capture(ctx, in)
		},
		activities.CaptureZoneName: func(ctx context.Context, in activities.CaptureZoneInput) (
			drills.Capture, error) {
			return capture(ctx, in)
		},
		activities.SaveCapturesName: func(context.Context, []drills.Capture) (
			activities.SaveCapturesResult, error) {
			return activities.SaveCapturesResult{}, nil
		},
		activities.LatestCaptureName: func(context.Context, activities.LatestCaptureInput) (
			drills.Capture, error) {
			return drills.Capture{}, nil
		},
		activities.RestoreDatabaseName: func(context.Context, activities.RestoreDatabaseInput) (
			activities.RestoreDatabaseResult, error) {
			return activities.RestoreDatabaseResult{}, nil
		},
		activities.VerifyDatabaseName: func(ctx context.Context, in activities.VerifyDatabaseInput) (
			activities.StepResult, error) {
			return step(ctx, in)
		},
		activities.RestoreServiceName: func(ctx context.Context, in activities.RestoreServiceInput) (
			activities.StepResult, error) {
			return step(ctx, in)
		},
		activities.RestoreZoneName: func(ctx context.Context, in activities.RestoreZoneInput) (
			activities.StepResult, error) {
			return step(ctx, in)
		},
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	env.OnActivity(activities.LoadTopologyName, mock.Anything, "shop").Return(testTopology(), nil)
	return env
}

// timed is a step result that took restoreTime from now, in workflow
// time: an activity's own measure, distinct from the workflow's.
func timed(ctx context.Context, detail string) activities.StepResult {
	start := activity.GetInfo(ctx).StartedTime
	return activities.StepResult{ActionStarted: start, HealthyAt: start.Add(restoreTime),
		Detail: detail}
}

// notFound is what LatestCapture answers without a capture.
var notFound = temporal.NewNonRetryableApplicationError("no capture", activities.ErrNotFound, nil)

func runRestore(t *testing.T, env *testsuite.TestWorkflowEnvironment, in RestoreInput) (
	*RestoreResult, error) {
	t.Helper()
	env.ExecuteWorkflow(RestoreWorkflowName, in)
	require.True(t, env.IsWorkflowCompleted())
	if err := env.GetWorkflowError(); err != nil {
		return nil, err
	}
	var res RestoreResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return &res, nil
}

func TestRestoreDatabase(t *testing.T) {
	captured := drills.Capture{App: "shop", Region: "us-west-2",
		Kind: activities.CaptureRDSInstance, Name: "orders-replica",
		CapturedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Definition: []byte(`{}`)}
	for _, tc := range []struct {
		name     string
		capture  error // LatestCapture's error; nil returns captured
		settings bool  // the restore is offered the capture
	}{
		{"with a capture of the settings", nil, true},
		{"without a capture", notFound, false},
		{"without a ledger", errors.New("activity type not registered"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newRestoreEnv(t)
			var asked activities.LatestCaptureInput
			env.OnActivity(activities.LatestCaptureName, mock.Anything, mock.Anything).
				Return(func(_ context.Context, in activities.LatestCaptureInput) (
					drills.Capture, error) {
					asked = in
					if tc.capture != nil {
						return drills.Capture{}, tc.capture
					}
					return captured, nil
				})
			var got activities.RestoreDatabaseInput
			var queue string
			env.OnActivity(activities.RestoreDatabaseName, mock.Anything, mock.Anything).
				Return(func(ctx context.Context, in activities.RestoreDatabaseInput) (
					activities.RestoreDatabaseResult, error) {
					got, queue = in, activity.GetInfo(ctx).TaskQueue
					return activities.RestoreDatabaseResult{
						StepResult:   timed(ctx, "restored"),
						SnapshotID:   "rds:orders-replica-2026-03-01-00-00",
						TargetARN:    "arn:aws:rds:us-west-2:123456789012:db:orders-drill",
						SettingsFrom: "live",
					}, nil
				})
			var verified activities.VerifyDatabaseInput
			env.OnActivity(activities.VerifyDatabaseName, mock.Anything, mock.Anything).
				Return(func(_ context.Context, in activities.VerifyDatabaseInput) (
					activities.StepResult, error) {
					verified = in
					return activities.StepResult{Detail: "answers"}, nil
				})

			res, err := runRestore(t, env, RestoreInput{App: "shop", Component: "orders",
				Region: "us-west-2", TargetID: "Orders-Drill", RequestedBy: "ops"})
			require.NoError(t, err)

			require.Equal(t, activities.LatestCaptureInput{App: "shop", Region: "us-west-2",
				Kind: activities.CaptureRDSInstance, Name: "orders-replica"}, asked)
			require.Equal(t, activities.TaskQueue("us-west-2"), queue)
			require.Equal(t, "orders-drill", got.TargetID, "identifiers are lowercase")
			require.Equal(t, activities.RestoreFromSnapshot, got.Source)
			require.Equal(t, "us-west-2", got.Region)
			require.Equal(t, tc.settings, got.Settings != nil)
			require.Equal(t, activities.VerifyDatabaseInput{Region: "us-west-2",
				InstanceID: "orders-drill"}, verified)

			require.Equal(t, RestoreCompleted, res.Status)
			require.Equal(t, topology.KindDatabase, res.Kind)
			require.Equal(t, restoreTime, res.Duration)
			require.Equal(t, "rds:orders-replica-2026-03-01-00-00", res.SnapshotID)
			require.Equal(t, "answers", res.Verified)
			require.Equal(t, "ops", res.RequestedBy)
			require.Nil(t, res.CapturedAt, "the live original's settings were used")
		})
	}
}

func TestRestoreAuroraVerifiesTheCluster(t *testing.T) {
	env := newRestoreEnv(t)
	env.OnActivity(activities.LatestCaptureName, mock.Anything, mock.Anything).
		Return(drills.Capture{}, notFound)
	env.OnActivity(activities.RestoreDatabaseName, mock.Anything, mock.Anything).
		Return(activities.RestoreDatabaseResult{Instances: []string{"catalog-drill-1"}}, nil)
	var verified activities.VerifyDatabaseInput
	env.OnActivity(activities.VerifyDatabaseName, mock.Anything, mock.Anything).
		Return(func(_ context.Context, in activities.VerifyDatabaseInput) (
			activities.StepResult, error) {
			verified = in
			return activities.StepResult{}, nil
		})
	res, err := runRestore(t, env, RestoreInput{App: "shop", Component: "catalog",
		TargetID: "catalog-drill"})
	require.NoError(t, err)
	require.Equal(t, "us-east-1", res.Region, "the primary by default")
	require.Equal(t, activities.VerifyDatabaseInput{Region: "us-east-1",
		ClusterID: "catalog-drill"}, verified)
	require.Equal(t, []string{"catalog-drill-1"}, res.Instances)
}

func TestRestoreServiceAndZoneFromTheirCaptures(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		in        RestoreInput
		capture   activities.LatestCaptureInput
		restore   string
		wantQueue string
	}{{
		name: "service",
		in:   RestoreInput{App: "shop", Component: "web", Region: "us-west-2"},
		capture: activities.LatestCaptureInput{App: "shop", Region: "us-west-2",
			Kind: drills.CaptureECSService, Name: "shop/web"},
		restore:   activities.RestoreServiceName,
		wantQueue: activities.TaskQueue("us-west-2"),
	}, {
		name: "zone",
		in:   RestoreInput{App: "shop", Component: "public"},
		capture: activities.LatestCaptureInput{App: "shop",
			Region: activities.ZoneCaptureRegion, Kind: drills.CaptureRoute53Zone,
			Name: "shop.example.com."},
		restore:   activities.RestoreZoneName,
		wantQueue: activities.TaskQueue("us-east-1"),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			env := newRestoreEnv(t)
			env.OnActivity(activities.LatestCaptureName, mock.Anything, tc.capture).
				Return(drills.Capture{App: "shop", Kind: tc.capture.Kind, Name: tc.capture.Name,
					Region: tc.capture.Region, CapturedAt: at}, nil).Once()
			var queue string
			var gotCapture drills.Capture
			env.OnActivity(tc.restore, mock.Anything, mock.Anything).
				Run(func(args mock.Arguments) {
					queue = activity.GetInfo(args.Get(0).(context.Context)).TaskQueue
					switch in := args.Get(1).(type) {
					case activities.RestoreServiceInput:
						gotCapture = in.Capture
					case activities.RestoreZoneInput:
						gotCapture = in.Capture
					}
				}).
				Return(activities.StepResult{ActionStarted: at.Add(time.Hour),
					HealthyAt: at.Add(time.Hour + restoreTime), Detail: "restored"}, nil)
			res, err := runRestore(t, env, tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.wantQueue, queue)
			require.True(t, gotCapture.CapturedAt.Equal(at), "restored from another capture")
			require.Equal(t, restoreTime, res.Duration)
			require.Equal(t, "restored", res.Detail)
			require.NotNil(t, res.CapturedAt)
			env.AssertNotCalled(t, activities.RestoreDatabaseName, mock.Anything, mock.Anything)
		})
	}
}

func TestRestoreServiceWithoutACapture(t *testing.T) {
	env := newRestoreEnv(t)
	env.OnActivity(activities.LatestCaptureName, mock.Anything, mock.Anything).
		Return(drills.Capture{}, notFound)
	_, err := runRestore(t, env, RestoreInput{App: "shop", Component: "api"})
	require.ErrorContains(t, err, "find the capture of service api")
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	require.Equal(t, activities.ErrNotFound, app.Type())
	env.AssertNotCalled(t, activities.RestoreServiceName, mock.Anything, mock.Anything)
}

// TestRestoreRejectsBadInput checks every input before anything acts.
func TestRestoreRejectsBadInput(t *testing.T) {
	at := time.Now()
	for _, tc := range []struct {
		name string
		in   RestoreInput
		msg  string
		// loads says the topology is needed to tell.
		loads bool
	}{
		{"bad app", RestoreInput{App: "Shop!", Component: "orders"}, "app must be", false},
		{"no component", RestoreInput{App: "shop"}, "name the component", false},
		{"bad source", RestoreInput{App: "shop", Component: "orders", TargetID: "x",
			Source: "backup"}, "source must be", false},
		{"snapshot with a point in time", RestoreInput{App: "shop", Component: "orders",
			TargetID: "x", Source: activities.RestoreToPointInTime, SnapshotID: "s"},
			"snapshotId goes with", false},
		{"time without point in time", RestoreInput{App: "shop", Component: "orders",
			TargetID: "x", RestoreTime: &at}, "restoreTime needs", false},
		{"unknown component", RestoreInput{App: "shop", Component: "payments"},
			`no component "payments"`, true},
		{"unknown region", RestoreInput{App: "shop", Component: "orders", TargetID: "x",
			Region: "eu-west-1"}, `no region "eu-west-1"`, true},
		{"database without a target", RestoreInput{App: "shop", Component: "orders"},
			"needs a target identifier", true},
		{"target is a live instance", RestoreInput{App: "shop", Component: "orders",
			TargetID: "orders-replica"}, "live database", true},
		{"target is another database's cluster", RestoreInput{App: "shop",
			Component: "orders", TargetID: "CATALOG-2"}, "live database", true},
		{"target is not an identifier", RestoreInput{App: "shop", Component: "orders",
			TargetID: "orders_restore"}, "not a valid RDS identifier", true},
		{"target for a service", RestoreInput{App: "shop", Component: "web",
			TargetID: "web-2"}, "targetId, source", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newRestoreEnv(t)
			_, err := runRestore(t, env, tc.in)
			var app *temporal.ApplicationError
			require.ErrorAs(t, err, &app)
			require.Equal(t, "InvalidInput", app.Type())
			require.True(t, app.NonRetryable())
			require.Contains(t, err.Error(), tc.msg)
			if !tc.loads {
				env.AssertNotCalled(t, activities.LoadTopologyName, mock.Anything, mock.Anything)
			}
			for _, name := range []string{activities.LatestCaptureName,
				activities.RestoreDatabaseName, activities.RestoreServiceName,
				activities.RestoreZoneName} {
				env.AssertNotCalled(t, name, mock.Anything, mock.Anything)
			}
		})
	}
}

func TestRestoreProgressQuery(t *testing.T) {
	env := newRestoreEnv(t)
	env.OnActivity(activities.LatestCaptureName, mock.Anything, mock.Anything).
		Return(drills.Capture{}, notFound)
	env.OnActivity(activities.RestoreDatabaseName, mock.Anything, mock.Anything).
		Return(activities.RestoreDatabaseResult{}, nil).After(restoreTime)
	env.OnActivity(activities.VerifyDatabaseName, mock.Anything, mock.Anything).
		Return(activities.StepResult{}, nil).After(time.Minute)
	var during RestoreResult
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryProgress)
		require.NoError(t, err)
		require.NoError(t, v.Get(&during))
	}, restoreTime/2)
	res, err := runRestore(t, env, RestoreInput{App: "shop", Component: "orders",
		TargetID: "orders-drill"})
	require.NoError(t, err)
	require.Equal(t, RestoreRunning, during.Status)
	require.Equal(t, "orders-drill", during.TargetID)
	require.Nil(t, during.Ended)
	require.Equal(t, RestoreCompleted, res.Status)
	require.NotNil(t, res.Ended)
}
