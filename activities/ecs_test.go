package activities_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/awssim"
)

func TestScaleService(t *testing.T) {
	f := newFixture(t, fixtureOpts{timeScale: timed})
	web := activities.ServiceRef{Name: "web", Cluster: "shop", Service: "web"}

	t.Run("reaches stable and reports when", func(t *testing.T) {
		before := time.Now()
		var res activities.StepResult
		require.NoError(t, run(t, f.env(west), activities.ScaleServiceName,
			activities.ScaleServiceInput{Service: web, Desired: 4}, &res))

		require.False(t, res.AlreadyDone)
		desired, running := f.describeService(t, west, "shop", "web")
		require.Equal(t, int32(4), desired)
		require.Equal(t, int32(4), running)
		require.Equal(t, int64(1), f.calls("UpdateService"))

		var steady *awssim.Event
		for _, e := range f.srv.Sim.Events(before) {
			if e.Region == west && e.Resource == "service" && e.ID == "shop/web" &&
				e.State == "steady" {
				steady = &e
			}
		}
		require.NotNil(t, steady, "the simulator recorded no steady event for shop/web")
		lag := res.HealthyAt.Sub(steady.At)
		t.Logf("steady at %s, observed %s later", steady.At.Format(time.RFC3339Nano), lag)
		require.GreaterOrEqual(t, lag, time.Duration(0), "healthy before the service was")
		// One poll interval, plus the call that observed it.
		require.LessOrEqual(t, lag, poll+20*time.Millisecond)
		require.False(t, res.ActionStarted.After(steady.At))
		require.True(t, res.ActionStarted.After(before))
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		updates := f.calls("UpdateService")
		var res activities.StepResult
		require.NoError(t, run(t, f.env(west), activities.ScaleServiceName,
			activities.ScaleServiceInput{Service: web, Desired: 4}, &res))
		require.True(t, res.AlreadyDone)
		require.Equal(t, updates, f.calls("UpdateService"))
	})

	t.Run("retry keeps the first attempt's start", func(t *testing.T) {
		first := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
		env := f.env(west)
		env.SetHeartbeatDetails(activities.Progress{ActionStarted: first})
		var res activities.StepResult
		require.NoError(t, run(t, env, activities.ScaleServiceName,
			activities.ScaleServiceInput{Service: web, Desired: 2}, &res))
		require.True(t, res.ActionStarted.Equal(first), "started %s, want %s",
			res.ActionStarted, first)
		require.False(t, res.AlreadyDone)
		desired, running := f.describeService(t, west, "shop", "web")
		require.Equal(t, int32(2), desired)
		require.Equal(t, int32(2), running)
	})

	t.Run("missing service fails at once", func(t *testing.T) {
		err := run(t, f.env(west), activities.ScaleServiceName, activities.ScaleServiceInput{
			Service: activities.ServiceRef{Name: "ghost", Cluster: "shop", Service: "ghost"},
			Desired: 1}, &activities.StepResult{})
		app := appError(t, err)
		require.Equal(t, activities.ErrNotFound, app.Type())
		require.True(t, app.NonRetryable())
		require.Contains(t, err.Error(), "ghost")
	})
}

func TestObserveServices(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	var refs []activities.ServiceRef
	for _, s := range f.top.Services {
		refs = append(refs, activities.ServiceRef{Name: s.Name, Cluster: s.Cluster,
			Service: s.Service})
	}
	refs = append(refs,
		activities.ServiceRef{Name: "ghost", Cluster: "shop", Service: "ghost"},
		activities.ServiceRef{Name: "elsewhere", Cluster: "no-such-cluster", Service: "x"})

	var res activities.ObserveServicesResult
	require.NoError(t, run(t, f.env(east), activities.ObserveServicesName,
		activities.ObserveServicesInput{Services: refs}, &res))
	for _, s := range f.top.Services {
		want := s.Sandbox.DesiredCount[east]
		require.Equal(t, want, res.Desired[s.Name], s.Name)
		require.Equal(t, want, res.Running[s.Name], s.Name)
	}
	require.NotContains(t, res.Desired, "ghost")
	require.NotContains(t, res.Desired, "elsewhere")
	// Five services in one cluster, then the missing cluster.
	require.Equal(t, int64(2), f.calls("DescribeServices"))
}

// countingECS records the size of every DescribeServices batch.
type countingECS struct {
	activities.ECSAPI
	mu      sync.Mutex
	batches []int
}

func (c *countingECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput,
	optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	c.mu.Lock()
	c.batches = append(c.batches, len(in.Services))
	c.mu.Unlock()
	return c.ECSAPI.DescribeServices(ctx, in, optFns...)
}

// createBulk creates n services with no tasks in a cluster "bulk" of
// us-west-2.
func createBulk(t *testing.T, f *fixture, n int) {
	t.Helper()
	ctx := context.Background()
	api := f.clients[west].ECS.(*ecs.Client)
	_, err := api.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bulk")})
	require.NoError(t, err)
	_, err = api.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("bulk"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("public.ecr.aws/nginx/nginx:1.27"),
			Memory: aws.Int32(256),
		}},
	})
	require.NoError(t, err)
	for i := range n {
		_, err := api.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String("bulk"), ServiceName: aws.String(fmt.Sprintf("s%02d", i)),
			TaskDefinition: aws.String("bulk"), DesiredCount: aws.Int32(0),
		})
		require.NoError(t, err)
	}
}

// scaleAll runs ScaleService for services s00 to s<n-1> of cluster bulk at
// once, each in its own activity environment, all in one Region.
func scaleAll(t *testing.T, region *activities.Region, n int,
	desired int32) []activities.StepResult {
	t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Int32
	results := make([]activities.StepResult, n)
	for i := range n {
		wg.Go(func() {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			region.Register(env)
			name := fmt.Sprintf("s%02d", i)
			val, err := env.ExecuteActivity(activities.ScaleServiceName,
				activities.ScaleServiceInput{Desired: desired, Service: activities.ServiceRef{
					Name: name, Cluster: "bulk", Service: name}})
			if err != nil || val.Get(&results[i]) != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	require.Zero(t, failed.Load(), "some ScaleService activities failed")
	return results
}

// TestPollerBatches runs 50 ScaleService activities at once in one
// Region: their waits share DescribeServices calls of ten services. The
// exact calls the poller makes are tested on a clock the test moves
// (poller_internal_test.go); this shows the batching through real
// activities, whose start is spread by the scheduler. So it uses a poll
// interval wide against that spread, and asks for calls mostly full
// rather than for the ideal five calls a sweep.
func TestPollerBatches(t *testing.T) {
	const (
		n        = 50
		interval = 100 * time.Millisecond
	)
	// A task starts in 200 ms, so the three of each service take six
	// intervals or so.
	f := newFixture(t, fixtureOpts{timeScale: 150, noSeed: true})
	createBulk(t, f, n)

	counting := &countingECS{ECSAPI: f.clients[west].ECS}
	clients := f.clients[west]
	clients.ECS = counting
	region := activities.NewRegion(activities.Config{Region: west, PollInterval: interval,
		ECSRate: 1000}, clients)

	results := scaleAll(t, region, n, 3)

	counting.mu.Lock()
	defer counting.mu.Unlock()
	described := 0
	for _, b := range counting.batches {
		require.LessOrEqual(t, b, 10, "DescribeServices takes ten services at most")
		described += b
	}
	calls := len(counting.batches)
	perCall := float64(described) / float64(calls)
	t.Logf("%d DescribeServices calls read %d services: %.1f sweeps, %.1f services a call",
		calls, described, float64(described)/n, perCall)
	require.Greater(t, described, 3*n, "the waits should span several sweeps")
	// Unbatched reads would carry one service a call; the end of each
	// wait, when services finish at different reads, leaves some calls
	// part full.
	require.GreaterOrEqual(t, perCall, 7.0, "want calls of ten services, mostly")
	require.Equal(t, int64(n), f.calls("UpdateService"))
	for _, r := range results {
		require.False(t, r.HealthyAt.IsZero())
	}
}

// timedECS records when each ECS read and change was made.
type timedECS struct {
	activities.ECSAPI
	mu             sync.Mutex
	reads, changes []time.Time
}

func (c *timedECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput,
	optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	c.mu.Lock()
	c.reads = append(c.reads, time.Now())
	c.mu.Unlock()
	return c.ECSAPI.DescribeServices(ctx, in, optFns...)
}

func (c *timedECS) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput,
	optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	c.mu.Lock()
	c.changes = append(c.changes, time.Now())
	c.mu.Unlock()
	return c.ECSAPI.UpdateService(ctx, in, optFns...)
}

// TestECSRateLimit runs more ScaleService activities than the rate limit
// lets change at once: their reads and their changes each keep to it.
func TestECSRateLimit(t *testing.T) {
	const n, rate = 30, 10
	f := newFixture(t, fixtureOpts{timeScale: timed, noSeed: true})
	createBulk(t, f, n)
	timed := &timedECS{ECSAPI: f.clients[west].ECS}
	clients := f.clients[west]
	clients.ECS = timed
	region := activities.NewRegion(activities.Config{Region: west, PollInterval: poll,
		ECSRate: rate}, clients)

	scaleAll(t, region, n, 1)

	timed.mu.Lock()
	defer timed.mu.Unlock()
	require.Len(t, timed.changes, n)
	for kind, times := range map[string][]time.Time{"read": timed.reads,
		"change": timed.changes} {
		// A bucket of `rate` tokens refilled at `rate` a second allows
		// the k-th call no sooner than (k - rate) / rate seconds after
		// the first.
		first := times[0]
		for k, at := range times {
			earliest := time.Duration(float64(k+1-rate) / rate * float64(time.Second))
			require.GreaterOrEqual(t, at.Sub(first), earliest-20*time.Millisecond,
				"%s %d came too soon", kind, k+1)
		}
		t.Logf("%d ECS %ss in %s at %d a second", len(times), kind,
			times[len(times)-1].Sub(first).Round(time.Millisecond), rate)
	}
}
