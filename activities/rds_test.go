package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/topology"
)

// instance reads a DB instance directly.
func (f *fixture) instance(t *testing.T, region, id string) *rdstypes.DBInstance {
	t.Helper()
	out, err := f.clients[region].RDS.DescribeDBInstances(context.Background(),
		&rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, out.DBInstances, 1)
	return &out.DBInstances[0]
}

// writerRegion returns the region whose cluster writes for a global
// cluster.
func (f *fixture) writerRegion(t *testing.T, db topology.Database) string {
	t.Helper()
	out, err := f.clients[east].RDS.DescribeGlobalClusters(context.Background(),
		&rds.DescribeGlobalClustersInput{GlobalClusterIdentifier: aws.String(db.GlobalCluster)})
	require.NoError(t, err)
	require.Len(t, out.GlobalClusters, 1)
	for _, m := range out.GlobalClusters[0].GlobalClusterMembers {
		if aws.ToBool(m.IsWriter) {
			arn := aws.ToString(m.DBClusterArn)
			return strings.Split(arn, ":")[3]
		}
	}
	t.Fatal("the global cluster has no writer")
	return ""
}

// lastEvent returns when the simulator last recorded a resource reaching
// state since a time.
func (f *fixture) lastEvent(t *testing.T, since time.Time, resource, id, state string) time.Time {
	t.Helper()
	var at time.Time
	for _, e := range f.srv.Sim.Events(since) {
		if e.Resource == resource && e.ID == id && e.State == state {
			at = e.At
		}
	}
	require.False(t, at.IsZero(), "no %s event %s for %s", resource, state, id)
	return at
}

func TestPromoteDatabaseRDS(t *testing.T) {
	f := newFixture(t, fixtureOpts{timeScale: timed})
	orders := f.database(t, "orders")
	in := activities.PromoteDatabaseInput{Database: orders, Source: east, Target: west}

	t.Run("promotes the replica", func(t *testing.T) {
		before := time.Now()
		var res activities.StepResult
		require.NoError(t, run(t, f.env(west), activities.PromoteDatabaseName, in, &res))
		require.False(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("PromoteReadReplica"))

		inst := f.instance(t, west, "shop-orders-replica")
		require.Equal(t, "available", aws.ToString(inst.DBInstanceStatus))
		require.Nil(t, inst.ReadReplicaSourceDBInstanceIdentifier)

		available := f.lastEvent(t, before, "db-instance", "shop-orders-replica", "available")
		lag := res.HealthyAt.Sub(available)
		t.Logf("available at %s, observed %s later", available.Format(time.RFC3339Nano), lag)
		require.GreaterOrEqual(t, lag, time.Duration(0))
		require.LessOrEqual(t, lag, poll+20*time.Millisecond)
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		var res activities.StepResult
		require.NoError(t, run(t, f.env(west), activities.PromoteDatabaseName, in, &res))
		require.True(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("PromoteReadReplica"))
	})

	t.Run("runs only in the target region", func(t *testing.T) {
		err := run(t, f.env(east), activities.PromoteDatabaseName, in, &activities.StepResult{})
		app := appError(t, err)
		require.Equal(t, activities.ErrInvalid, app.Type())
		require.True(t, app.NonRetryable())
	})

	// Failback: the old primary becomes a replica of the new writer.
	t.Run("resync creates a replica with the old instance's settings", func(t *testing.T) {
		db := orders
		// A free identifier, with the old standalone primary as the
		// template; the source is a plain identifier, so its ARN is
		// built from the template's.
		db.Instances = map[string]string{west: "shop-orders-replica", east: "shop-orders-back"}
		resync := activities.ResyncDatabaseInput{Database: db, Source: west, Target: east,
			StaleName: "shop-orders"}
		var res activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.ResyncDatabaseName, resync, &res))
		require.False(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("CreateDBInstanceReadReplica"))

		replica := f.instance(t, east, "shop-orders-back")
		old := f.instance(t, east, "shop-orders")
		require.Equal(t, "available", aws.ToString(replica.DBInstanceStatus))
		require.Equal(t, "arn:aws:rds:us-west-2:123456789012:db:shop-orders-replica",
			aws.ToString(replica.ReadReplicaSourceDBInstanceIdentifier))
		require.Equal(t, aws.ToString(old.DBInstanceClass), aws.ToString(replica.DBInstanceClass))
		require.Equal(t, "shop-db", aws.ToString(replica.DBSubnetGroup.DBSubnetGroupName))
		require.Equal(t, "shop-postgres16",
			aws.ToString(replica.DBParameterGroups[0].DBParameterGroupName))
		require.Len(t, replica.VpcSecurityGroups, 1)
		require.Equal(t, "sg-0a1b2c3d4e5f60718",
			aws.ToString(replica.VpcSecurityGroups[0].VpcSecurityGroupId))

		t.Run("second run changes nothing", func(t *testing.T) {
			var again activities.StepResult
			require.NoError(t, run(t, f.env(east), activities.ResyncDatabaseName, resync, &again))
			require.True(t, again.AlreadyDone)
			require.Equal(t, int64(1), f.calls("CreateDBInstanceReadReplica"))
		})
	})

	t.Run("resync renames a standalone instance that holds the identifier", func(t *testing.T) {
		db := orders
		db.Instances = map[string]string{west: orders.Instances[west], east: "shop-orders"}
		resync := activities.ResyncDatabaseInput{Database: db, Source: west, Target: east,
			StaleName: "shop-orders-stale-1"}
		var res activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.ResyncDatabaseName, resync, &res))
		require.False(t, res.AlreadyDone)
		stale := f.instance(t, east, "shop-orders-stale-1")
		require.Nil(t, stale.ReadReplicaSourceDBInstanceIdentifier)
		replica := f.instance(t, east, "shop-orders")
		require.Equal(t, orders.Instances[west],
			aws.ToString(replica.ReadReplicaSourceDBInstanceIdentifier))
		require.Equal(t, "shop-db", aws.ToString(replica.DBSubnetGroup.DBSubnetGroupName))
	})
}

func TestPromoteDatabaseAurora(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	catalog := f.database(t, "catalog")
	require.Equal(t, east, f.writerRegion(t, catalog))

	t.Run("graceful switchover", func(t *testing.T) {
		in := activities.PromoteDatabaseInput{Database: catalog, Source: east, Target: west}
		var res activities.StepResult
		require.NoError(t, run(t, f.env(west), activities.PromoteDatabaseName, in, &res))
		require.False(t, res.AlreadyDone)
		require.Equal(t, west, f.writerRegion(t, catalog))
		require.Equal(t, int64(1), f.calls("SwitchoverGlobalCluster"))
		require.Zero(t, f.calls("FailoverGlobalCluster"))
		require.True(t, res.HealthyAt.After(res.ActionStarted))

		var again activities.StepResult
		require.NoError(t, run(t, f.env(west), activities.PromoteDatabaseName, in, &again))
		require.True(t, again.AlreadyDone)
		require.Equal(t, int64(1), f.calls("SwitchoverGlobalCluster"))
	})

	t.Run("ungraceful failover with the source blacked out", func(t *testing.T) {
		f.srv.Sim.ResetCalls()
		_, err := f.srv.Sim.AddFault(awssim.Fault{Kind: awssim.FaultBlackout, Region: west,
			Mode: awssim.BlackoutRefuse})
		require.NoError(t, err)
		defer f.srv.Sim.ClearFaults()

		in := activities.PromoteDatabaseInput{Database: catalog, Source: west, Target: east,
			Ungraceful: true}
		var res activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.PromoteDatabaseName, in, &res))
		require.False(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("FailoverGlobalCluster"))
		for _, c := range f.srv.Sim.Calls() {
			if c.Region == west && c.Service == awssim.ServiceRDS {
				t.Errorf("called %s in the blacked-out source region", c.Operation)
			}
		}
		f.srv.Sim.ClearFaults()
		require.Equal(t, east, f.writerRegion(t, catalog))

		var again activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.PromoteDatabaseName, in, &again))
		require.True(t, again.AlreadyDone)
		require.Equal(t, int64(1), f.calls("FailoverGlobalCluster"))
	})
}

func TestPromoteDatabaseFails(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	_, err := f.srv.Sim.AddFault(awssim.Fault{Kind: awssim.FaultResource,
		ResourceFault: awssim.PromotionFails, Region: west, Service: awssim.ServiceRDS,
		Resource: "shop-orders-replica"})
	require.NoError(t, err)

	in := activities.PromoteDatabaseInput{Database: f.database(t, "orders"), Source: east,
		Target: west}
	err = run(t, f.env(west), activities.PromoteDatabaseName, in, &activities.StepResult{})
	app := appError(t, err)
	require.Equal(t, activities.ErrPromotionFailed, app.Type())
	require.True(t, app.NonRetryable())
}
