package activities_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/awsconfig"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/infra/seed"
	"github.com/drover-dev/drover/topology"
)

const (
	east = "us-east-1"
	west = "us-west-2"
	// poll is the activities' poll interval in these tests.
	poll = 20 * time.Millisecond
	// timed is the time scale of tests that time waits: an ECS task
	// starts in 50 ms, an RDS promotion takes 400 ms, a DNS change is
	// INSYNC after 67 ms.
	timed = 600
)

// fixture is a simulator with the example shop seeded into it, and the
// activities of each of its regions.
type fixture struct {
	srv     *awssim.Server
	top     *topology.Topology
	seeded  seed.Result
	clients map[string]activities.Clients
	regions map[string]*activities.Region
}

type fixtureOpts struct {
	// timeScale is the simulator's: 600 (a 30 s task start takes 50 ms)
	// for tests that time a wait against the simulator's events, where
	// each state lasts several polls. Zero means 3000, which seeds the
	// shop in under a second, for tests that time nothing.
	timeScale float64
	// noSeed leaves the simulator empty.
	noSeed bool
	// maxAttempts is the SDK's attempt limit; 1 shows every AWS error
	// to the activities as it comes.
	maxAttempts int
	// config is applied to each region's Config.
	config func(*activities.Config)
}

// newFixture starts a simulator and seeds the example shop into it.
func newFixture(t *testing.T, opts fixtureOpts) *fixture {
	t.Helper()
	p := awssim.DefaultProfile()
	p.TimeScale = opts.timeScale
	if p.TimeScale == 0 {
		p.TimeScale = 3000
	}
	srv, err := awssim.Listen("127.0.0.1:0", awssim.New(awssim.Options{Profile: &p}))
	require.NoError(t, err)
	// Each fixture has its own transport, which keeps every connection it
	// dials, so that closing its idle connections leaves the server none
	// to wait for: its graceful close waits 5 s on a connection that was
	// dialled but never sent a request.
	transport := &http.Transport{MaxIdleConnsPerHost: 256}
	t.Cleanup(func() { _ = srv.Close() })
	t.Cleanup(transport.CloseIdleConnections)

	top, err := topology.Load("../examples/shop.yaml")
	require.NoError(t, err)

	f := &fixture{srv: srv, top: top, clients: map[string]activities.Clients{},
		regions: map[string]*activities.Region{}}
	for _, r := range []string{east, west} {
		cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{
			Region: r, Endpoint: srv.URL, StaticCredentials: true,
			Timeout: 10 * time.Second, MaxAttempts: opts.maxAttempts,
		})
		require.NoError(t, err)
		cfg.HTTPClient = &http.Client{Transport: transport, Timeout: 10 * time.Second}
		f.clients[r] = activities.NewClients(cfg)
		c := activities.Config{Region: r, PollInterval: poll, TopologyDir: "../examples",
			ECSRate: 1000, RDSRate: 1000, Route53Rate: 1000}
		if opts.config != nil {
			opts.config(&c)
		}
		f.regions[r] = activities.NewRegion(c, f.clients[r])
	}
	if opts.noSeed {
		return f
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f.seeded, err = seed.Apply(ctx, top, func(region string) seed.Clients {
		c := f.clients[region]
		return seed.Clients{
			ECS:     c.ECS.(*ecs.Client),
			RDS:     c.RDS.(*rds.Client),
			Route53: c.Route53.(*route53.Client),
		}
	}, nil)
	require.NoError(t, err)
	srv.Sim.ResetCalls()
	return f
}

// env returns a test activity environment with region's activities.
func (f *fixture) env(region string) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	f.regions[region].Register(env)
	return env
}

// calls returns how often an operation was called, over every region.
func (f *fixture) calls(op string) int64 {
	var n int64
	for _, c := range f.srv.Sim.Calls() {
		if c.Operation == op {
			n += c.Count
		}
	}
	return n
}

// database returns the shop's database of that name.
func (f *fixture) database(t *testing.T, name string) topology.Database {
	t.Helper()
	c, ok := f.top.Component(name)
	require.True(t, ok, "no component %s", name)
	require.NotNil(t, c.Database)
	return *c.Database
}

// zone returns the shop's only hosted zone.
func (f *fixture) zone() topology.Zone { return f.top.DNS[0] }

// run executes an activity and decodes its result into out.
func run(t *testing.T, env *testsuite.TestActivityEnvironment, name string, in, out any) error {
	t.Helper()
	val, err := env.ExecuteActivity(name, in)
	if err != nil {
		return err
	}
	require.NoError(t, val.Get(out))
	return nil
}

// appError returns the ApplicationError in err.
func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an ApplicationError, got %T: %v", err, err)
	return app
}

// describeService reads one service directly.
func (f *fixture) describeService(t *testing.T, region, cluster, service string) (
	desired, running int32) {
	t.Helper()
	out, err := f.clients[region].ECS.DescribeServices(context.Background(),
		&ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	require.NoError(t, err)
	require.Len(t, out.Services, 1)
	return out.Services[0].DesiredCount, out.Services[0].RunningCount
}

// eventually waits for cond, failing the test after a generous bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 20*time.Second, 5*time.Millisecond, what)
}

// insyncAt returns when the simulator made a change INSYNC.
func (f *fixture) insyncAt(t *testing.T, id string) time.Time {
	t.Helper()
	for _, e := range f.srv.Sim.Events(time.Time{}) {
		if e.Resource == "change" && e.ID == "/change/"+id && e.State == "INSYNC" {
			return e.At
		}
	}
	t.Fatalf("no INSYNC event for change %s", id)
	return time.Time{}
}

// lastInsync returns when the simulator made the last change since from
// INSYNC.
func (f *fixture) lastInsync(t *testing.T, from time.Time) time.Time {
	t.Helper()
	var at time.Time
	for _, e := range f.srv.Sim.Events(from) {
		if e.Resource == "change" && e.State == "INSYNC" {
			at = e.At
		}
	}
	require.False(t, at.IsZero(), "no change became INSYNC after %s", from)
	return at
}
