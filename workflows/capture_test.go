package workflows

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
)

// captureOf is what a mocked capture activity returns for an input, taken
// on the worker of queue.
func captureOf[T any](queue string, input T) drills.Capture {
	c := drills.Capture{App: "shop", Region: queue[len("drover-"):],
		CapturedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Definition: []byte(`{}`)}
	switch in := any(input).(type) {
	case activities.CaptureServiceInput:
		c.Kind, c.Name = drills.CaptureECSService, in.Service.Cluster+"/"+in.Service.Service
	case activities.CaptureDatabaseInput:
		kind, name, _ := activities.DatabaseCaptureKey(in.Database, c.Region)
		c.Kind, c.Name = kind, name
	case activities.CaptureZoneInput:
		c.Kind, c.Name, c.Region = drills.CaptureRoute53Zone, in.Zone.Domain,
			activities.ZoneCaptureRegion
	}
	return c
}

// mockCapture mocks a capture activity: fail decides, from the queue that
// runs it and its input, whether it fails; otherwise it captures.
func mockCapture[T any](env *testsuite.TestWorkflowEnvironment, name string,
	fail func(queue string, in T) error) {
	env.OnActivity(name, mock.Anything, mock.Anything).
		Return(func(ctx context.Context, in T) (drills.Capture, error) {
			q := activity.GetInfo(ctx).TaskQueue
			if err := fail(q, in); err != nil {
				return drills.Capture{}, err
			}
			return captureOf(q, in), nil
		})
}

// TestCaptureIsBestEffort captures the test topology while the standby
// region's ECS does not answer and the primary's worker cannot read Route
// 53: the services there are reported, the zone is read through the
// standby instead, and everything else is saved.
func TestCaptureIsBestEffort(t *testing.T) {
	env := newRestoreEnv(t)
	unavailable := temporal.NewNonRetryableApplicationError("ECS does not answer",
		activities.ErrUnavailable, nil)

	var mu sync.Mutex
	var zoneQueues []string
	mockCapture(env, activities.CaptureServiceName,
		func(q string, _ activities.CaptureServiceInput) error {
			if q == activities.TaskQueue("us-west-2") {
				return unavailable
			}
			return nil
		})
	mockCapture(env, activities.CaptureDatabaseName,
		func(string, activities.CaptureDatabaseInput) error { return nil })
	mockCapture(env, activities.CaptureZoneName,
		func(q string, _ activities.CaptureZoneInput) error {
			mu.Lock()
			zoneQueues = append(zoneQueues, q)
			mu.Unlock()
			if q == activities.TaskQueue("us-east-1") {
				return unavailable
			}
			return nil
		})
	var saved []drills.Capture
	env.OnActivity(activities.SaveCapturesName, mock.Anything, mock.Anything).
		Return(func(_ context.Context, cs []drills.Capture) (activities.SaveCapturesResult, error) {
			res := activities.SaveCapturesResult{}
			for _, c := range cs {
				// The ledger of the time knows no cluster captures.
				if c.Kind == activities.CaptureRDSCluster {
					res.Refused = append(res.Refused, activities.RefusedCapture{Kind: c.Kind,
						Region: c.Region, Name: c.Name, Reason: "kind is unknown"})
					continue
				}
				saved = append(saved, c)
				res.Saved++
			}
			return res, nil
		})

	env.ExecuteWorkflow(CaptureWorkflowName, CaptureInput{App: "shop"})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var sum CaptureSummary
	require.NoError(t, env.GetWorkflowResult(&sum))

	var captured, failed []string
	for _, c := range sum.Captured {
		captured = append(captured, fmt.Sprintf("%s %s %s by %s", c.Kind, c.Region, c.Name, c.By))
	}
	for _, f := range sum.Failed {
		failed = append(failed, fmt.Sprintf("%s %s %s", f.Kind, f.Region, f.Component))
	}
	sort.Strings(captured)
	sort.Strings(failed)
	require.Equal(t, []string{
		"ecs-service us-east-1 shop/api by us-east-1",
		"ecs-service us-east-1 shop/web by us-east-1",
		"rds-instance us-east-1 orders by us-east-1",
		"rds-instance us-west-2 orders-replica by us-west-2",
		"route53-zone global shop.example.com. by us-west-2",
	}, captured)
	require.Equal(t, []string{
		"ecs-service us-west-2 api",
		"ecs-service us-west-2 web",
		"rds-cluster us-east-1 catalog",
		"rds-cluster us-west-2 catalog",
	}, failed)
	for _, f := range sum.Failed {
		if f.Kind == drills.CaptureECSService {
			require.Contains(t, f.Reason, "via us-west-2: ECS does not answer")
		} else {
			require.Contains(t, f.Reason, "the ledger refused it: kind is unknown")
		}
	}
	require.Len(t, saved, len(sum.Captured))
	require.Equal(t, []string{activities.TaskQueue("us-east-1"), activities.TaskQueue("us-west-2")},
		zoneQueues, "the zone is tried on the primary, then the standby")
}

func TestCaptureFailsWhenNothingIsCaptured(t *testing.T) {
	env := newRestoreEnv(t)
	down := temporal.NewNonRetryableApplicationError("region down", activities.ErrUnavailable, nil)
	for _, name := range []string{activities.CaptureServiceName,
		activities.CaptureDatabaseName, activities.CaptureZoneName} {
		env.OnActivity(name, mock.Anything, mock.Anything).Return(drills.Capture{}, down)
	}
	env.ExecuteWorkflow(CaptureWorkflowName, CaptureInput{App: "shop"})
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	require.Equal(t, "CaptureFailed", app.Type())
	require.Contains(t, err.Error(), "region down")
	env.AssertNotCalled(t, activities.SaveCapturesName, mock.Anything, mock.Anything)
}

func TestCaptureSavesInBatches(t *testing.T) {
	env := newRestoreEnv(t)
	big := make([]byte, saveBatchBytes/2+1)
	for i := range big {
		big[i] = 'x'
	}
	def := []byte(`"` + string(big) + `"`)
	for _, name := range []string{activities.CaptureServiceName,
		activities.CaptureDatabaseName, activities.CaptureZoneName} {
		env.OnActivity(name, mock.Anything, mock.Anything).
			Return(drills.Capture{App: "shop", Kind: "k", Definition: def}, nil)
	}
	var batches []int
	env.OnActivity(activities.SaveCapturesName, mock.Anything, mock.Anything).
		Return(func(_ context.Context, cs []drills.Capture) (activities.SaveCapturesResult, error) {
			batches = append(batches, len(cs))
			return activities.SaveCapturesResult{Saved: len(cs)}, nil
		})
	env.ExecuteWorkflow(CaptureWorkflowName, CaptureInput{App: "shop"})
	require.NoError(t, env.GetWorkflowError())
	// Nine captures (2 services and 2 databases in 2 regions, 1 zone),
	// each over half a batch: one per call.
	require.Equal(t, []int{1, 1, 1, 1, 1, 1, 1, 1, 1}, batches)
}
