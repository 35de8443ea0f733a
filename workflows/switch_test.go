package workflows

import (
	"context"
	"errors"
	"strings"
	"sync"
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

// Simulated durations of the mocked activities, in workflow time.
const (
	promoteTime = 4 * time.Minute
	scaleTime   = 40 * time.Second
	dnsTime     = 40 * time.Second
	verifyTime  = 5 * time.Second
)

func testTopology() *topology.Topology {
	return &topology.Topology{
		App: "shop",
		Regions: []topology.Region{
			{Name: "us-east-1", Role: topology.RolePrimary},
			{Name: "us-west-2", Role: topology.RoleStandby, HealthURL: "http://127.0.0.1:1/health"},
		},
		Databases: []topology.Database{
			{Name: "orders", Engine: topology.EngineRDS, Instances: map[string]string{
				"us-east-1": "orders", "us-west-2": "orders-replica"}},
			{Name: "catalog", Engine: topology.EngineAuroraGlobal, GlobalCluster: "catalog",
				Clusters: map[string]string{"us-east-1": "catalog-1", "us-west-2": "catalog-2"}},
		},
		Services: []topology.Service{
			{Name: "api", Cluster: "shop", Service: "api", Share: 1,
				DependsOn: []string{"orders", "catalog"}},
			{Name: "web", Cluster: "shop", Service: "web", Share: 0.5, DependsOn: []string{"api"}},
		},
		DNS: []topology.Zone{{Name: "public", Domain: "shop.example.com.",
			DependsOn: []string{"api", "web", "orders", "catalog"}}},
	}
}

// fixture is a test workflow environment whose activities are mocked by
// name. Tests add their own expectations first: the first matching one
// wins, and the defaults registered by run come last.
type fixture struct {
	t    *testing.T
	ts   testsuite.WorkflowTestSuite
	env  *testsuite.TestWorkflowEnvironment
	topo *topology.Topology
	// ownID leaves the workflow id to the test.
	ownID bool
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, topo: testTopology()}
	f.env = f.ts.NewTestWorkflowEnvironment()
	f.env.RegisterWorkflowWithOptions(Failover, workflowOptions(FailoverWorkflowName))
	f.env.RegisterWorkflowWithOptions(Failback, workflowOptions(FailbackWorkflowName))
	for name, fn := range map[string]any{
		activities.LoadTopologyName: func(context.Context, string) (*topology.Topology, error) {
			return nil, nil
		},
		activities.PreflightName: func(context.Context, activities.PreflightInput) (activities.PreflightResult, error) {
			return activities.PreflightResult{}, nil
		},
		activities.ObserveServicesName: func(context.Context, activities.ObserveServicesInput) (activities.ObserveServicesResult, error) {
			return activities.ObserveServicesResult{}, nil
		},
		activities.ScaleServiceName: func(context.Context, activities.ScaleServiceInput) (activities.StepResult, error) {
			return activities.StepResult{}, nil
		},
		activities.PromoteDatabaseName: func(context.Context, activities.PromoteDatabaseInput) (activities.StepResult, error) {
			return activities.StepResult{}, nil
		},
		activities.ResyncDatabaseName: func(context.Context, activities.ResyncDatabaseInput) (activities.StepResult, error) {
			return activities.StepResult{}, nil
		},
		activities.FlipDNSName: func(context.Context, activities.FlipDNSInput) (activities.StepResult, error) {
			return activities.StepResult{}, nil
		},
		activities.VerifyName: func(context.Context, activities.VerifyInput) (activities.StepResult, error) {
			return activities.StepResult{}, nil
		},
		activities.RecordRunName: func(context.Context, drills.Record) error { return nil },
	} {
		f.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	return f
}

// defaults mocks every activity with a success that takes the simulated
// time above.
func (f *fixture) defaults() {
	env := f.env
	env.OnActivity(activities.LoadTopologyName, mock.Anything, mock.Anything).Return(f.topo, nil)
	env.OnActivity(activities.PreflightName, mock.Anything, mock.Anything).
		Return(activities.PreflightResult{Checks: []activities.Check{{Component: "orders", OK: true}}}, nil)
	env.OnActivity(activities.ObserveServicesName, mock.Anything, mock.Anything).
		Return(activities.ObserveServicesResult{
			Running: map[string]int32{"api": 4, "web": 6},
			Desired: map[string]int32{"api": 4, "web": 6},
		}, nil)
	env.OnActivity(activities.ScaleServiceName, mock.Anything, mock.Anything).
		Return(result("scaled"), nil).After(scaleTime)
	env.OnActivity(activities.PromoteDatabaseName, mock.Anything, mock.Anything).
		Return(result("promoted"), nil).After(promoteTime)
	env.OnActivity(activities.ResyncDatabaseName, mock.Anything, mock.Anything).
		Return(result("resynced"), nil).After(promoteTime)
	env.OnActivity(activities.FlipDNSName, mock.Anything, mock.Anything).
		Return(result("flipped"), nil).After(dnsTime)
	env.OnActivity(activities.VerifyName, mock.Anything, mock.Anything).
		Return(result("healthy"), nil).After(verifyTime)
	env.OnActivity(activities.RecordRunName, mock.Anything, mock.Anything).Return(nil)
}

// seen collects the inputs a mocked activity was called with. Mocks run on
// the activities' goroutines, so it locks.
type seen[T any] struct {
	mu  sync.Mutex
	got []T
}

func (s *seen[T]) record(args mock.Arguments) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, args.Get(1).(T))
}

func (s *seen[T]) all() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]T(nil), s.got...)
}

func result(detail string) activities.StepResult {
	return activities.StepResult{Detail: detail}
}

// run executes a workflow with the defaults in place and returns its
// result.
func (f *fixture) run(wf string, in SwitchInput) (*Progress, error) {
	f.defaults()
	if !f.ownID {
		f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: SwitchWorkflowID(in.App)})
	}
	f.env.ExecuteWorkflow(wf, in)
	require.True(f.t, f.env.IsWorkflowCompleted())
	err := f.env.GetWorkflowError()
	if err != nil {
		return nil, err
	}
	var p Progress
	require.NoError(f.t, f.env.GetWorkflowResult(&p))
	return &p, nil
}

// update sends an update after delay (workflow time) and fails the test if
// it is rejected.
func (f *fixture) update(delay time.Duration, name string, arg any) {
	f.env.RegisterDelayedCallback(func() {
		cb := &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { require.Fail(f.t, "update "+name+" rejected", err.Error()) },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}
		if arg == nil {
			f.env.UpdateWorkflow(name, name, cb)
		} else {
			f.env.UpdateWorkflow(name, name, cb, arg)
		}
	}, delay)
}

// query reads the progress at a moment of workflow time.
func (f *fixture) queryAt(delay time.Duration, into *Progress) {
	f.env.RegisterDelayedCallback(func() {
		v, err := f.env.QueryWorkflow(QueryProgress)
		require.NoError(f.t, err)
		require.NoError(f.t, v.Get(into))
	}, delay)
}

func started(t *testing.T, p *Progress, id string) time.Time {
	st := p.Step(id)
	require.NotNil(t, st, "step %s", id)
	require.NotNil(t, st.Started, "step %s never started", id)
	return *st.Started
}

func ended(t *testing.T, p *Progress, id string) time.Time {
	st := p.Step(id)
	require.NotNil(t, st, "step %s", id)
	require.NotNil(t, st.Ended, "step %s never ended", id)
	return *st.Ended
}

func TestGracefulFailoverRunsStepsInDependencyOrderAndInParallel(t *testing.T) {
	f := newFixture(t)
	var scaled seen[activities.ScaleServiceInput]
	f.env.OnActivity(activities.ScaleServiceName, mock.Anything, mock.Anything).
		Run(scaled.record).Return(result("scaled"), nil).After(scaleTime)

	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop", To: "us-west-2"})
	require.NoError(t, err)
	require.Equal(t, RunCompleted, p.Status)
	require.Equal(t, "us-east-1", p.From)
	for _, st := range p.Steps {
		require.Equal(t, StepSucceeded, st.State, "step %s", st.ID)
	}

	// Writers stop in the source before any database moves.
	require.Equal(t, "us-east-1", p.Step("stop-writers:api").Region)
	stopped := ended(t, p, "stop-writers:web")
	require.False(t, started(t, p, "promote-database:orders").Before(stopped))

	// Both databases move at once.
	require.Equal(t, started(t, p, "promote-database:orders"), started(t, p, "promote-database:catalog"))
	// api waits for both databases, web for api, DNS for every service.
	require.False(t, started(t, p, "scale-service:api").Before(ended(t, p, "promote-database:orders")))
	require.False(t, started(t, p, "scale-service:web").Before(ended(t, p, "scale-service:api")))
	require.False(t, started(t, p, "flip-dns:public").Before(ended(t, p, "scale-service:web")))
	require.False(t, started(t, p, "verify").Before(ended(t, p, "flip-dns:public")))
	for _, id := range []string{"promote-database:orders", "scale-service:api", "flip-dns:public"} {
		require.Equal(t, "us-west-2", p.Step(id).Region, id)
	}

	// The run takes its critical path and no longer: steps start the
	// moment their dependencies end.
	critical := scaleTime + promoteTime + 2*scaleTime + dnsTime + verifyTime
	require.Equal(t, critical, p.Ended.Sub(p.Started))

	// Desired counts follow the source: api all 4 tasks, web half of 6;
	// stopping writers scales the source to zero.
	var targets = map[string]int32{}
	for _, in := range scaled.all() {
		if in.Desired > 0 {
			targets[in.Service.Name] = in.Desired
		}
	}
	require.Equal(t, map[string]int32{"api": 4, "web": 3}, targets)
}

// TestCriticalScaleStepsAreUrgent: the services on the critical path are
// scaled with Critical set, so that their calls take the region's
// rate-limit tokens before those of services that have time to spare.
func TestCriticalScaleStepsAreUrgent(t *testing.T) {
	f := newFixture(t)
	two := int32(2)
	f.topo.Services = append(f.topo.Services, topology.Service{Name: "admin", Cluster: "shop",
		Service: "admin", Count: &two, DependsOn: []string{"orders"}})
	var scaled seen[activities.ScaleServiceInput]
	f.env.OnActivity(activities.ScaleServiceName, mock.Anything, mock.Anything).
		Run(scaled.record).Return(result("scaled"), nil).After(scaleTime)

	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop", To: "us-west-2"})
	require.NoError(t, err)
	require.Equal(t, RunCompleted, p.Status)
	require.NotContains(t, p.CriticalPath, "scale-service:admin")
	urgent := map[string]bool{}
	for _, in := range scaled.all() {
		if in.Desired > 0 {
			urgent[in.Service.Name] = in.Critical
		}
	}
	require.Equal(t, map[string]bool{"api": true, "web": true, "admin": false}, urgent)
}

func TestUngracefulFailoverNeverWaitsOnTheSourceRegion(t *testing.T) {
	f := newFixture(t)
	// The source region hangs: reading it ends only by timing out.
	f.env.OnActivity(activities.ObserveServicesName, mock.Anything, mock.Anything).
		Return(activities.ObserveServicesResult{}, errors.New("source region unreachable")).
		After(time.Hour)
	var promoted seen[activities.PromoteDatabaseInput]
	f.env.OnActivity(activities.PromoteDatabaseName, mock.Anything, mock.Anything).
		Run(promoted.record).Return(result("failed over"), nil).After(promoteTime)
	var scaled seen[activities.ScaleServiceInput]
	f.env.OnActivity(activities.ScaleServiceName, mock.Anything, mock.Anything).
		Run(scaled.record).Return(result("scaled"), nil).After(scaleTime)
	var checked seen[activities.PreflightInput]
	f.env.OnActivity(activities.PreflightName, mock.Anything, mock.Anything).
		Run(checked.record).Return(activities.PreflightResult{}, nil)

	p, err := f.run(FailoverWorkflowName, SwitchInput{
		App: "shop", To: "us-west-2", Mode: plan.Ungraceful})
	require.NoError(t, err)
	require.Equal(t, RunCompleted, p.Status)
	for _, in := range promoted.all() {
		require.True(t, in.Ungraceful)
	}
	// Preflight is told, so that the lag it reports does not stop a
	// failover that accepts the loss.
	require.Len(t, checked.all(), 1, "only the target's preflight")
	require.True(t, checked.all()[0].Ungraceful)
	require.Nil(t, p.Step("stop-writers:api"), "no writers to stop in ungraceful mode")

	// The observation of the source never answered; the run ended as soon
	// as the target served, abandoning it.
	require.Equal(t, StepTolerated, p.Step("observe-source").State)
	require.Contains(t, p.Step("observe-source").Detail, "abandoned")
	require.Equal(t, ended(t, p, "verify"), *p.Ended)
	require.Equal(t, p.Started, started(t, p, "promote-database:orders"))
	critical := promoteTime + 2*scaleTime + dnsTime + verifyTime
	require.Equal(t, critical, ended(t, p, "verify").Sub(p.Started))
	// Without source counts, services keep the target's own count.
	for _, in := range scaled.all() {
		require.Equal(t, int32(-1), in.Desired, in.Service.Name)
	}
	require.Len(t, scaled.all(), 2)
}

func TestApprovalGatesWaitForTheOperator(t *testing.T) {
	f := newFixture(t)
	f.topo.Approvals = []string{plan.ApproveDatabase}
	var waiting Progress
	f.queryAt(30*time.Minute, &waiting)
	f.update(time.Hour, UpdateApprove, ApproveRequest{By: "alice"})

	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop", To: "us-west-2"})
	require.NoError(t, err)

	require.Equal(t, StepWaiting, waiting.Step("approve:database").State)
	require.Equal(t, StepPending, waiting.Step("promote-database:orders").State)
	require.Equal(t, "alice", p.Step("approve:database").ApprovedBy)
	require.False(t, started(t, p, "promote-database:orders").Before(p.Started.Add(time.Hour)))
	require.Equal(t, RunCompleted, p.Status)
}

func TestSkipApprovalsRunsWithoutGates(t *testing.T) {
	f := newFixture(t)
	f.topo.Approvals = []string{plan.ApproveDatabase, plan.ApproveDNS}
	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop", SkipApprovals: true})
	require.NoError(t, err)
	require.Nil(t, p.Step("approve:database"))
	require.Equal(t, RunCompleted, p.Status)
}

func TestPauseHoldsNewStepsUntilResume(t *testing.T) {
	f := newFixture(t)
	// Pause while the databases are being promoted; resume much later.
	f.update(time.Minute, UpdatePause, nil)
	var paused Progress
	f.queryAt(30*time.Minute, &paused)
	f.update(2*time.Hour, UpdateResume, nil)

	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop"})
	require.NoError(t, err)
	require.Equal(t, RunPaused, paused.Status)
	// The running promotion finished while paused, but nothing new began.
	require.Equal(t, StepSucceeded, paused.Step("promote-database:orders").State)
	require.Equal(t, StepPending, paused.Step("scale-service:api").State)
	require.False(t, started(t, p, "scale-service:api").Before(p.Started.Add(2*time.Hour)))
	require.Equal(t, RunCompleted, p.Status)
}

func TestFailedStepWaitsThenRetrySucceeds(t *testing.T) {
	f := newFixture(t)
	denied := temporal.NewNonRetryableApplicationError(
		"access denied to ecs:UpdateService in us-west-2", "AccessDenied", nil)
	f.env.OnActivity(activities.ScaleServiceName, mock.Anything,
		mock.MatchedBy(func(in activities.ScaleServiceInput) bool {
			return in.Service.Name == "web" && in.Desired > 0
		})).Return(activities.StepResult{}, denied).Once()
	var failed Progress
	f.queryAt(time.Hour, &failed)
	f.update(2*time.Hour, UpdateRetry, StepRequest{Step: "scale-service:web", By: "bob"})

	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop"})
	require.NoError(t, err)

	web := failed.Step("scale-service:web")
	require.Equal(t, StepFailed, web.State)
	require.Contains(t, web.Error, "access denied")
	require.Equal(t, StepPending, failed.Step("flip-dns:public").State)

	require.Equal(t, RunCompleted, p.Status)
	require.Equal(t, StepSucceeded, p.Step("scale-service:web").State)
	require.Equal(t, 2, p.Step("scale-service:web").Attempts)
}

func TestSkippingAFailedStepLetsTheRunGoOn(t *testing.T) {
	f := newFixture(t)
	f.env.OnActivity(activities.VerifyName, mock.Anything, mock.Anything).
		Return(activities.StepResult{}, temporal.NewNonRetryableApplicationError(
			"health URL answered 503", "Unhealthy", nil)).Once()
	f.update(3*time.Hour, UpdateSkip, StepRequest{Step: "verify"})

	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop"})
	require.NoError(t, err)
	require.Equal(t, RunCompleted, p.Status)
	require.Equal(t, StepSkipped, p.Step("verify").State)
	require.Contains(t, p.Step("verify").Detail, "503")
}

func TestAbortCancelsAndDescribesTheStateLeft(t *testing.T) {
	f := newFixture(t)
	// Abort while the services scale: databases are done, DNS is not.
	f.update(promoteTime+scaleTime+time.Minute+10*time.Second, UpdateAbort,
		AbortRequest{By: "carol", Reason: "wrong region"})

	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop"})
	require.NoError(t, err)
	require.Equal(t, RunAborted, p.Status)
	require.Equal(t, StepSucceeded, p.Step("promote-database:orders").State)
	require.Equal(t, StepCancelled, p.Step("flip-dns:public").State)
	require.Contains(t, p.Message, "carol")
	require.Contains(t, p.Message, "completed: stop-writers:api, stop-writers:web, promote-database:orders")
	require.Contains(t, p.Message, "not done:")
	require.Contains(t, p.Message, "flip-dns:public")
}

func TestDryRunOnlyChecks(t *testing.T) {
	f := newFixture(t)
	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop", DryRun: true})
	require.NoError(t, err)
	require.Equal(t, RunDryRun, p.Status)
	require.Equal(t, StepSucceeded, p.Step("preflight").State)
	require.Equal(t, StepSkipped, p.Step("promote-database:orders").State)
	require.NotEmpty(t, p.CriticalPath)
	f.env.AssertNotCalled(t, activities.PromoteDatabaseName, mock.Anything, mock.Anything)
	f.env.AssertNotCalled(t, activities.ScaleServiceName, mock.Anything, mock.Anything)
	f.env.AssertNotCalled(t, activities.FlipDNSName, mock.Anything, mock.Anything)
}

func TestFailedPreflightStopsUnlessForced(t *testing.T) {
	problems := activities.PreflightResult{Checks: []activities.Check{
		{Component: "orders", OK: false, Detail: "orders-replica is not a read replica"},
		{Component: "web", OK: false, Detail: "service shop/web not found in us-west-2"},
		{Component: "api", OK: true},
	}}
	t.Run("stops", func(t *testing.T) {
		f := newFixture(t)
		f.env.OnActivity(activities.PreflightName, mock.Anything, mock.Anything).Return(problems, nil)
		_, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop"})
		require.Error(t, err)
		var appErr *temporal.ApplicationError
		require.True(t, errors.As(err, &appErr))
		require.Equal(t, "PreflightFailed", appErr.Type())
		require.Contains(t, err.Error(), "not a read replica")
		require.Contains(t, err.Error(), "shop/web not found")
		f.env.AssertNotCalled(t, activities.PromoteDatabaseName, mock.Anything, mock.Anything)
	})
	t.Run("forced", func(t *testing.T) {
		f := newFixture(t)
		f.env.OnActivity(activities.PreflightName, mock.Anything, mock.Anything).Return(problems, nil)
		p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop", Force: true})
		require.NoError(t, err)
		require.Equal(t, RunCompleted, p.Status)
		require.Contains(t, p.Step("preflight").Detail, "2 problems, forced")
	})
}

func TestSwitchToUngracefulMidRun(t *testing.T) {
	f := newFixture(t)
	// Stopping writers in the source hangs; the operator gives up on a
	// graceful move.
	f.env.OnActivity(activities.ScaleServiceName, mock.Anything,
		mock.MatchedBy(func(in activities.ScaleServiceInput) bool { return in.Desired == 0 })).
		Return(activities.StepResult{}, errors.New("timeout")).After(10 * time.Hour)
	var promoted seen[activities.PromoteDatabaseInput]
	f.env.OnActivity(activities.PromoteDatabaseName, mock.Anything, mock.Anything).
		Run(promoted.record).Return(result("failed over"), nil).After(promoteTime)
	f.update(10*time.Minute, UpdateUngraceful, nil)

	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop"})
	require.NoError(t, err)
	require.Equal(t, plan.Ungraceful, p.Mode)
	require.Len(t, promoted.all(), 2)
	for _, in := range promoted.all() {
		require.True(t, in.Ungraceful)
	}
	// The promotion started right after the switch, not after the hang.
	require.Equal(t, p.Started.Add(10*time.Minute), started(t, p, "promote-database:orders"))
	require.Equal(t, StepTolerated, p.Step("stop-writers:api").State)
}

func TestFailbackResyncsAndRebuildsReplicas(t *testing.T) {
	f := newFixture(t)
	var seenResyncs seen[activities.ResyncDatabaseInput]
	f.env.OnActivity(activities.ResyncDatabaseName, mock.Anything, mock.Anything).
		Run(seenResyncs.record).Return(result("resynced"), nil).After(promoteTime)

	p, err := f.run(FailbackWorkflowName, SwitchInput{App: "shop"})
	require.NoError(t, err)
	require.Equal(t, RunCompleted, p.Status)
	require.Equal(t, "us-west-2", p.From)
	require.Equal(t, "us-east-1", p.To)
	require.False(t, started(t, p, "promote-database:orders").Before(ended(t, p, "resync-database:orders")))
	require.False(t, started(t, p, "rebuild-replica:orders").Before(ended(t, p, "verify")))

	resyncs := seenResyncs.all()
	require.Len(t, resyncs, 2)
	require.Equal(t, "us-east-1", resyncs[0].Target)
	require.Equal(t, "us-west-2", resyncs[0].Source)
	require.Equal(t, "us-west-2", resyncs[1].Target)
	require.Regexp(t, `^orders-stale-\d{8}-\d{4}-[a-z0-9]{6}$`, resyncs[0].StaleName)
	require.Equal(t, resyncs[0].StaleName[len(resyncs[0].StaleName)-6:],
		resyncs[1].StaleName[len(resyncs[1].StaleName)-6:], "one run, one tag")
}

func TestControlsRejectRequestsThatDoNotFit(t *testing.T) {
	f := newFixture(t)
	rejected := map[string]string{}
	send := func(delay time.Duration, name string, arg any) {
		f.env.RegisterDelayedCallback(func() {
			cb := &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { rejected[name] = err.Error() },
				OnAccept:   func() {},
				OnComplete: func(any, error) {},
			}
			if arg == nil {
				f.env.UpdateWorkflow(name, name, cb)
			} else {
				f.env.UpdateWorkflow(name, name, cb, arg)
			}
		}, delay)
	}
	send(time.Minute, UpdateApprove, ApproveRequest{Step: "nope"})
	send(time.Minute, UpdateRetry, StepRequest{Step: "promote-database:orders"})
	send(time.Minute, UpdateResume, nil)
	send(time.Minute, UpdateSkip, StepRequest{Step: "promote-database:orders"})

	_, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop"})
	require.NoError(t, err)
	require.Contains(t, rejected[UpdateApprove], `no step "nope"`)
	require.Contains(t, rejected[UpdateRetry], "only a failed step can be retried")
	require.Contains(t, rejected[UpdateResume], "not paused")
	require.Contains(t, rejected[UpdateSkip], "is running")
}

func TestBadInputFailsBeforeAnythingRuns(t *testing.T) {
	for name, in := range map[string]SwitchInput{
		"app":     {App: "Shop!"},
		"mode":    {App: "shop", Mode: "sideways"},
		"purpose": {App: "shop", Purpose: "fun"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.run(FailoverWorkflowName, in)
			require.Error(t, err)
			require.Contains(t, err.Error(), name)
			f.env.AssertNotCalled(t, activities.LoadTopologyName, mock.Anything, mock.Anything)
		})
	}
	t.Run("workflow id", func(t *testing.T) {
		f := newFixture(t)
		f.ownID = true
		f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "my-failover"})
		_, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop"})
		require.ErrorContains(t, err, "with workflow id drover-switch-shop, not my-failover")
	})
	t.Run("region", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop", To: "eu-west-9"})
		require.ErrorContains(t, err, "eu-west-9 is not a region of shop")
		f.env.AssertNotCalled(t, activities.PreflightName, mock.Anything, mock.Anything)
	})
}

func TestPracticeLeavesProductionDNSAlone(t *testing.T) {
	f := newFixture(t)
	p, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop", Purpose: Practice})
	require.NoError(t, err)
	require.Equal(t, StepSkipped, p.Step("flip-dns:public").State)
	f.env.AssertNotCalled(t, activities.FlipDNSName, mock.Anything, mock.Anything)

	f = newFixture(t)
	f.topo.DNS[0].FlipInPractice = true
	p, err = f.run(FailoverWorkflowName, SwitchInput{App: "shop", Purpose: Practice})
	require.NoError(t, err)
	require.Equal(t, StepSucceeded, p.Step("flip-dns:public").State)
}

func TestAStandaloneRunIsRecordedInTheLedger(t *testing.T) {
	f := newFixture(t)
	began := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	f.env.OnActivity(activities.PromoteDatabaseName, mock.Anything, mock.Anything).
		Return(activities.StepResult{ActionStarted: began, HealthyAt: began.Add(250 * time.Second),
			Detail: "promoted"}, nil)
	var rec drills.Record
	f.env.OnActivity(activities.RecordRunName, mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) { rec = args.Get(1).(drills.Record) }).Return(nil)

	_, err := f.run(FailoverWorkflowName, SwitchInput{App: "shop", RequestedBy: "dana",
		Reason: "us-east-1 outage"})
	require.NoError(t, err)
	require.Equal(t, drills.KindIncident, rec.Kind)
	require.Equal(t, "dana", rec.StartedBy)
	require.Equal(t, "us-east-1 outage", rec.Reason)
	require.Equal(t, drills.OutcomeSucceeded, rec.Outcome)
	require.Equal(t, "us-west-2", rec.To)
	var orders *drills.Component
	for i := range rec.Components {
		if rec.Components[i].Step == "promote-database:orders" {
			orders = &rec.Components[i]
		}
	}
	require.NotNil(t, orders)
	require.Equal(t, drills.PhaseFailover, orders.Phase)
	require.Equal(t, 250.0, orders.Seconds)
	require.Equal(t, "us-west-2", orders.Region)

	// A dry run leaves no record.
	f = newFixture(t)
	_, err = f.run(FailoverWorkflowName, SwitchInput{App: "shop", DryRun: true})
	require.NoError(t, err)
	f.env.AssertNotCalled(t, activities.RecordRunName, mock.Anything, mock.Anything)
}

func TestStaleNamesFitRDSAndDifferPerRun(t *testing.T) {
	now := time.Date(2026, 12, 3, 17, 25, 0, 0, time.UTC)
	a := staleName("shop-orders", now, "01a23cf0-bcff-7d05-9fc8-5e588a46129b")
	b := staleName("shop-orders", now, "01a23cf0-bcff-7d05-9fc8-5e588a461300")
	require.Equal(t, "shop-orders-stale-20261203-1725-46129b", a)
	require.NotEqual(t, a, b)
	long := staleName(strings.Repeat("a", 60), now, "run-x1")
	require.LessOrEqual(t, len(long), 63)
	require.Regexp(t, `^[a-z][a-z0-9-]*[a-z0-9]$`, long)
}
