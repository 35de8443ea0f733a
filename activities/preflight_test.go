package activities_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/topology"
)

// checksByComponent indexes a preflight's checks.
func checksByComponent(t *testing.T, res activities.PreflightResult) map[string]activities.Check {
	t.Helper()
	m := map[string]activities.Check{}
	for _, c := range res.Checks {
		m[c.Component] = c
	}
	return m
}

func TestPreflight(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	failover := activities.PreflightInput{App: "shop", Source: east, Target: west,
		Databases: f.top.Databases, Services: f.top.Services, Zones: f.top.DNS}

	t.Run("a seeded standby is ready", func(t *testing.T) {
		var res activities.PreflightResult
		require.NoError(t, run(t, f.env(west), activities.PreflightName, failover, &res))
		require.Empty(t, res.Problems(), "%+v", res.Problems())
		// Two databases, each ready and within its lag, five services,
		// one zone.
		require.Len(t, res.Checks, 10)
		var lags []string
		for _, c := range res.Checks {
			if strings.Contains(c.Detail, " behind its source") {
				lags = append(lags, c.Component+": "+c.Detail)
			}
		}
		require.ElementsMatch(t, []string{
			"orders: shop-orders-replica in us-west-2 lags 1s behind its source (maxLag 30s)",
			"catalog: shop-catalog-usw2 in us-west-2 lags 1s behind its source (maxLag 1m0s)",
		}, lags, "the simulator's default lag of one second, read from CloudWatch")
		require.Zero(t, f.calls("UpdateService")+f.calls("PromoteReadReplica")+
			f.calls("ChangeResourceRecordSets"), "preflight changed something")
		// Five services of one cluster take one call.
		require.Equal(t, int64(1), f.calls("DescribeServices"))
	})

	t.Run("a replica lagging beyond maxLag fails", func(t *testing.T) {
		require.NoError(t, f.srv.Sim.SetReplicaLag(west, "db-instance", "shop-orders-replica",
			45*time.Second))
		require.NoError(t, f.srv.Sim.SetReplicaLag(west, "db-cluster", "shop-catalog-usw2",
			2500*time.Millisecond))
		t.Cleanup(func() {
			require.NoError(t, f.srv.Sim.SetReplicaLag(west, "db-instance",
				"shop-orders-replica", time.Second))
			require.NoError(t, f.srv.Sim.SetReplicaLag(west, "db-cluster",
				"shop-catalog-usw2", time.Second))
		})
		var res activities.PreflightResult
		require.NoError(t, run(t, f.env(west), activities.PreflightName, failover, &res))
		problems := res.Problems()
		require.Len(t, problems, 1, "%+v", problems)
		require.Equal(t, "orders", problems[0].Component)
		require.Regexp(t, `^shop-orders-replica in us-west-2 lags 45s behind its source `+
			`\(ReplicaLag at \d\d:\d\d:00\), more than the topology's maxLag of 30s; `, problems[0].Detail)
		require.Equal(t, "shop-catalog-usw2 in us-west-2 lags 2.5s behind its source (maxLag 1m0s)",
			checksByComponent(t, res)["catalog"].Detail, "an Aurora secondary's lag, in ms")

		// An ungraceful failover has accepted the loss: it is told, and
		// goes on.
		ungraceful := failover
		ungraceful.Ungraceful = true
		require.NoError(t, run(t, f.env(west), activities.PreflightName, ungraceful, &res))
		require.Empty(t, res.Problems())
		require.Regexp(t, `^shop-orders-replica in us-west-2 lags 45s behind its source .*; the `+
			`ungraceful failover goes on, accepting the loss$`, checksByComponent(t, res)["orders"].Detail)
	})

	t.Run("a failing CloudWatch leaves the lag unknown, a problem to force", func(t *testing.T) {
		_, err := f.srv.Sim.AddFault(awssim.Fault{Kind: awssim.FaultError,
			Region: west, Service: awssim.ServiceCloudWatch, Code: "InternalServiceError",
			Status: 500, Rate: 1})
		require.NoError(t, err)
		t.Cleanup(f.srv.Sim.ClearFaults)
		var res activities.PreflightResult
		require.NoError(t, run(t, f.env(west), activities.PreflightName, failover, &res))
		problems := res.Problems()
		require.Len(t, problems, 2, "%+v", problems)
		for _, p := range problems {
			require.Contains(t, p.Detail, "could not be read: ")
			require.Contains(t, p.Detail, "InternalServiceError")
		}
		require.Len(t, res.Checks, 10, "the other checks still stand")
	})

	t.Run("every problem is listed", func(t *testing.T) {
		in := failover
		orders := f.database(t, "orders")
		orders.Instances = map[string]string{east: "shop-orders", west: "no-such-replica"}
		in.Databases = []topology.Database{orders, f.database(t, "catalog")}
		in.Services = append([]topology.Service{{Name: "ghost", Cluster: "shop"},
			{Name: "lost", Cluster: "no-such-cluster"}}, f.top.Services...)
		zone := f.zone()
		rec := zone.Records[0]
		rec.Targets = map[string]topology.RecordTarget{
			east: rec.Targets[east],
			west: {SetIdentifier: "api-nowhere"},
		}
		zone.Records = []topology.Record{rec, zone.Records[1]}
		in.Zones = []topology.Zone{zone}

		var res activities.PreflightResult
		require.NoError(t, run(t, f.env(west), activities.PreflightName, in, &res))
		got := checksByComponent(t, res)
		for _, bad := range []string{"orders", "ghost", "lost", "public"} {
			require.False(t, got[bad].OK, "%s: %s", bad, got[bad].Detail)
		}
		for _, good := range []string{"catalog", "web", "api", "worker"} {
			require.True(t, got[good].OK, "%s: %s", good, got[good].Detail)
		}
		require.Contains(t, got["orders"].Detail, "no-such-replica")
		require.Contains(t, got["public"].Detail, "api-nowhere")
		require.Len(t, res.Problems(), 4)
	})

	t.Run("failback checks the writer in the source region", func(t *testing.T) {
		// Before any failover, us-west-2 holds replicas: as a failback's
		// source it is not the writer.
		in := activities.PreflightInput{App: "shop", Source: west, Target: east,
			Failback: true, Databases: f.top.Databases}
		var res activities.PreflightResult
		require.NoError(t, run(t, f.env(west), activities.PreflightName, in, &res))
		got := checksByComponent(t, res)
		require.False(t, got["orders"].OK)
		require.Contains(t, got["orders"].Detail, "not the writer")
		require.False(t, got["catalog"].OK)

		// As a failback's target, a standalone us-east-1 is fine.
		require.NoError(t, run(t, f.env(east), activities.PreflightName, in, &res))
		got = checksByComponent(t, res)
		require.True(t, got["orders"].OK, got["orders"].Detail)
		require.Contains(t, got["orders"].Detail, "resynced")
	})

	t.Run("a third region's worker refuses", func(t *testing.T) {
		in := failover
		in.Source, in.Target = "eu-west-1", "eu-central-1"
		err := run(t, f.env(west), activities.PreflightName, in, &activities.PreflightResult{})
		require.Equal(t, activities.ErrInvalid, appError(t, err).Type())
	})
}

func TestLoadTopology(t *testing.T) {
	dir := t.TempDir()
	shop, err := os.ReadFile("../examples/shop.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "shop.yaml"), shop, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.yaml"),
		[]byte("app: broken\nregions: 3\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.yaml"),
		[]byte(strings.Replace(string(shop), "app: shop", "app: store", 1)), 0o600))

	// Loading a topology calls no AWS API.
	region := activities.NewRegion(activities.Config{Region: east, TopologyDir: dir},
		activities.Clients{})
	var suite testsuite.WorkflowTestSuite
	s := suite.NewTestActivityEnvironment()
	region.Register(s)

	t.Run("loads", func(t *testing.T) {
		var top topology.Topology
		require.NoError(t, run(t, s, activities.LoadTopologyName, "shop", &top))
		require.Equal(t, "shop", top.App)
		require.Equal(t, east, top.Primary().Name)
		require.Len(t, top.Services, 5)
	})

	tests := []struct {
		app, typ, mention string
	}{
		{"../shop", activities.ErrInvalid, "lowercase"},
		{"Shop", activities.ErrInvalid, "lowercase"},
		{"missing", activities.ErrNotFound, "missing.yaml"},
		{"broken", activities.ErrInvalid, "broken.yaml"},
		{"other", activities.ErrInvalid, `"store"`},
	}
	for _, tc := range tests {
		t.Run(tc.app, func(t *testing.T) {
			err := run(t, s, activities.LoadTopologyName, tc.app, &topology.Topology{})
			app := appError(t, err)
			require.Equal(t, tc.typ, app.Type())
			require.True(t, app.NonRetryable())
			require.Contains(t, err.Error(), tc.mention)
		})
	}
}
