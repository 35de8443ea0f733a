package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/infra/awssim"
)

// restoreInput restores the shop's orders database in us-east-1.
func (f *fixture) restoreInput(t *testing.T, target string) activities.RestoreDatabaseInput {
	return activities.RestoreDatabaseInput{App: "shop", Database: f.database(t, "orders"),
		Region: east, TargetID: target}
}

// requireSameSettings compares what a restore must copy from the original.
func requireSameSettings(t *testing.T, want, got *rdstypes.DBInstance) {
	t.Helper()
	sgs := func(i *rdstypes.DBInstance) []string {
		var ids []string
		for _, sg := range i.VpcSecurityGroups {
			ids = append(ids, aws.ToString(sg.VpcSecurityGroupId))
		}
		return ids
	}
	require.Equal(t, aws.ToString(want.DBSubnetGroup.DBSubnetGroupName),
		aws.ToString(got.DBSubnetGroup.DBSubnetGroupName), "subnet group")
	require.ElementsMatch(t, sgs(want), sgs(got), "security groups")
	require.Equal(t, aws.ToString(want.DBParameterGroups[0].DBParameterGroupName),
		aws.ToString(got.DBParameterGroups[0].DBParameterGroupName), "parameter group")
	require.Equal(t, aws.ToString(want.OptionGroupMemberships[0].OptionGroupName),
		aws.ToString(got.OptionGroupMemberships[0].OptionGroupName), "option group")
	require.Equal(t, aws.ToString(want.DBInstanceClass), aws.ToString(got.DBInstanceClass),
		"instance class")
	require.Equal(t, aws.ToBool(want.MultiAZ), aws.ToBool(got.MultiAZ), "Multi-AZ")
	require.Equal(t, aws.ToString(want.StorageType), aws.ToString(got.StorageType), "storage")
	require.Equal(t, aws.ToInt32(want.AllocatedStorage), aws.ToInt32(got.AllocatedStorage),
		"allocated storage")
	require.Equal(t, aws.ToInt32(want.BackupRetentionPeriod),
		aws.ToInt32(got.BackupRetentionPeriod), "backup retention")
}

// tagsOf returns an instance's tags as a map.
func tagsOf(list []rdstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range list {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// requireGone fails unless the instance no longer exists.
func (f *fixture) requireGone(t *testing.T, region, id string) {
	t.Helper()
	_, err := f.clients[region].RDS.DescribeDBInstances(context.Background(),
		&rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	var nf *rdstypes.DBInstanceNotFoundFault
	require.ErrorAs(t, err, &nf, "DB instance %s still exists", id)
}

func TestRestoreDatabaseInstance(t *testing.T) {
	f := newFixture(t, fixtureOpts{timeScale: timed})
	original := f.instance(t, east, "shop-orders")
	in := f.restoreInput(t, "shop-orders-restore")

	t.Run("restores the latest snapshot with the original's settings", func(t *testing.T) {
		before := time.Now()
		var res activities.RestoreDatabaseResult
		require.NoError(t, run(t, f.env(east), activities.RestoreDatabaseName, in, &res))
		require.False(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("RestoreDBInstanceFromDBSnapshot"))
		require.Equal(t, "live", res.SettingsFrom)
		require.True(t, strings.HasPrefix(res.SnapshotID, "rds:shop-orders-"),
			"restored %q, not an automated snapshot of shop-orders", res.SnapshotID)

		restored := f.instance(t, east, "shop-orders-restore")
		require.Equal(t, "available", aws.ToString(restored.DBInstanceStatus))
		require.Equal(t, aws.ToString(restored.DBInstanceArn), res.TargetARN)
		requireSameSettings(t, original, restored)
		tags := tagsOf(restored.TagList)
		require.Equal(t, "shop-orders", tags[activities.TagRestoreOf])
		require.Equal(t, "snapshot:"+res.SnapshotID, tags[activities.TagRestoredFrom])
		require.Equal(t, "shop", tags["drover:app"], "the original's own tags are copied")

		available := f.lastEvent(t, before, "db-instance", "shop-orders-restore", "available")
		lag := res.HealthyAt.Sub(available)
		t.Logf("available at %s, observed %s later", available.Format(time.RFC3339Nano), lag)
		require.GreaterOrEqual(t, lag, time.Duration(0))
		require.LessOrEqual(t, lag, poll+20*time.Millisecond)
		require.True(t, res.ActionStarted.After(before))
	})

	t.Run("second run restores nothing", func(t *testing.T) {
		var res activities.RestoreDatabaseResult
		require.NoError(t, run(t, f.env(east), activities.RestoreDatabaseName, in, &res))
		require.True(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("RestoreDBInstanceFromDBSnapshot"))
		require.NotEmpty(t, res.SnapshotID, "the snapshot is read back from the tags")
	})

	t.Run("answers", func(t *testing.T) {
		var res activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.VerifyDatabaseName,
			activities.VerifyDatabaseInput{Region: east, InstanceID: "shop-orders-restore"}, &res))
		require.Contains(t, res.Detail, "is available at shop-orders-restore.")
		require.Contains(t, res.Detail, ":5432")
		// The simulator's endpoints do not resolve.
		require.Contains(t, res.Detail, "no connection was tried")
	})

	t.Run("restores to the latest point in time", func(t *testing.T) {
		pitr := f.restoreInput(t, "shop-orders-pitr")
		pitr.Source = activities.RestoreToPointInTime
		var res activities.RestoreDatabaseResult
		require.NoError(t, run(t, f.env(east), activities.RestoreDatabaseName, pitr, &res))
		require.Equal(t, int64(1), f.calls("RestoreDBInstanceToPointInTime"))
		require.Empty(t, res.SnapshotID)
		require.NotNil(t, res.RestoreTime, "the latest restorable time read before the restore")
		requireSameSettings(t, original, f.instance(t, east, "shop-orders-pitr"))
	})

	t.Run("deletes only scratch databases", func(t *testing.T) {
		live := activities.LiveDatabaseIDs(f.top)
		catalogMember := aws.ToString(
			f.cluster(t, east, "shop-catalog-use1").DBClusterMembers[0].DBInstanceIdentifier)
		for _, tc := range []struct {
			name string
			in   activities.DeleteDatabaseInput
		}{
			{"a live instance", activities.DeleteDatabaseInput{Region: east,
				InstanceID: "shop-orders", LiveIDs: live}},
			{"a live instance, named in capitals", activities.DeleteDatabaseInput{Region: east,
				InstanceID: "SHOP-ORDERS", LiveIDs: live}},
			{"a live cluster", activities.DeleteDatabaseInput{Region: east,
				ClusterID: "shop-catalog-use1", LiveIDs: live}},
			// Not in the list, but what they serve is.
			{"an instance of a live cluster", activities.DeleteDatabaseInput{Region: east,
				InstanceID: catalogMember, LiveIDs: live}},
			{"an instance with read replicas", activities.DeleteDatabaseInput{Region: east,
				InstanceID: "shop-orders"}},
			{"a cluster of a global database", activities.DeleteDatabaseInput{Region: east,
				ClusterID: "shop-catalog-use1"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := run(t, f.env(east), activities.DeleteDatabaseName, tc.in,
					&activities.StepResult{})
				app := appError(t, err)
				require.Equal(t, activities.ErrRefused, app.Type())
				require.True(t, app.NonRetryable())
			})
		}
		require.Zero(t, f.calls("DeleteDBInstance"))
		require.Zero(t, f.calls("DeleteDBCluster"))
		require.Equal(t, "available", aws.ToString(f.instance(t, east, "shop-orders").DBInstanceStatus))
	})

	t.Run("deletes a restore", func(t *testing.T) {
		del := activities.DeleteDatabaseInput{Region: east, InstanceID: "shop-orders-pitr",
			LiveIDs: activities.LiveDatabaseIDs(f.top)}
		var res activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.DeleteDatabaseName, del, &res))
		require.False(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("DeleteDBInstance"))
		f.requireGone(t, east, "shop-orders-pitr")

		var again activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.DeleteDatabaseName, del, &again))
		require.True(t, again.AlreadyDone)
		require.Equal(t, int64(1), f.calls("DeleteDBInstance"))
	})
}

// TestRestoreDatabaseKilledWorker cancels a restore's first attempt while
// it waits, as a worker that dies would leave it, and runs the activity
// again with what the first attempt heartbeated: the restore is finished
// without a second restore call, timed from the first attempt's start.
func TestRestoreDatabaseKilledWorker(t *testing.T) {
	// The restore takes 240 ms, time enough to kill it while it waits.
	f := newFixture(t, fixtureOpts{})
	in := f.restoreInput(t, "shop-orders-killed")

	var mu sync.Mutex
	var last activities.Progress
	ctx, kill := context.WithCancel(context.Background())
	defer kill()
	var s testsuite.WorkflowTestSuite
	first := s.NewTestActivityEnvironment()
	first.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	first.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) {
		var p activities.Progress
		if d != nil && d.Get(&p) == nil {
			mu.Lock()
			last = p
			mu.Unlock()
		}
	})
	f.regions[east].Register(first)

	go func() {
		// Kill the worker once the restore is under way.
		for f.calls("RestoreDBInstanceFromDBSnapshot") == 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		kill()
	}()
	err := run(t, first, activities.RestoreDatabaseName, in, &activities.RestoreDatabaseResult{})
	require.ErrorContains(t, err, "canceled")
	require.Equal(t, int64(1), f.calls("RestoreDBInstanceFromDBSnapshot"))
	restoring := f.instance(t, east, "shop-orders-killed")
	require.NotEqual(t, "available", aws.ToString(restoring.DBInstanceStatus),
		"the first attempt was not killed while it waited")

	mu.Lock()
	prog := last
	mu.Unlock()
	require.False(t, prog.ActionStarted.IsZero(), "no heartbeat with the restore's start")
	require.True(t, strings.HasPrefix(prog.Token, "snapshot:"), "heartbeated %+v", prog)

	second := f.env(east)
	second.SetHeartbeatDetails(prog)
	var res activities.RestoreDatabaseResult
	require.NoError(t, run(t, second, activities.RestoreDatabaseName, in, &res))
	require.False(t, res.AlreadyDone)
	require.Equal(t, int64(1), f.calls("RestoreDBInstanceFromDBSnapshot"))
	require.True(t, res.ActionStarted.Equal(prog.ActionStarted), "started %s, want %s",
		res.ActionStarted, prog.ActionStarted)
	require.Equal(t, strings.TrimPrefix(prog.Token, "snapshot:"), res.SnapshotID)
	require.Equal(t, "available",
		aws.ToString(f.instance(t, east, "shop-orders-killed").DBInstanceStatus))
}

// TestRestoreDatabaseErrors checks that what retrying cannot fix fails at
// once, saying what is missing.
func TestRestoreDatabaseErrors(t *testing.T) {
	f := newFixture(t, fixtureOpts{maxAttempts: 1})
	ctx := context.Background()
	api := f.clients[east].RDS.(*rds.Client)

	// An instance without backups has no snapshot to restore.
	_, err := api.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("shop-audit"), DBInstanceClass: aws.String("db.t4g.micro"),
		Engine: aws.String("postgres"), AllocatedStorage: aws.Int32(20),
		BackupRetentionPeriod: aws.Int32(0),
	})
	require.NoError(t, err)
	eventually(t, "shop-audit is available", func() bool {
		return aws.ToString(f.instance(t, east, "shop-audit").DBInstanceStatus) == "available"
	})
	audit := f.database(t, "orders")
	audit.Name = "audit"
	audit.Instances = map[string]string{east: "shop-audit"}

	gone := f.database(t, "orders")
	gone.Instances = map[string]string{east: "shop-orders-gone"}

	for _, tc := range []struct {
		name    string
		in      func() activities.RestoreDatabaseInput
		fault   *awssim.Fault
		errType string
		msg     []string
	}{{
		name: "no snapshot",
		in: func() activities.RestoreDatabaseInput {
			in := f.restoreInput(t, "shop-audit-restore")
			in.Database = audit
			return in
		},
		errType: activities.ErrNotFound,
		msg:     []string{"DB instance shop-audit", "no available snapshot"},
	}, {
		name: "no such snapshot",
		in: func() activities.RestoreDatabaseInput {
			in := f.restoreInput(t, "shop-orders-restore")
			in.SnapshotID = "shop-orders-nightly"
			return in
		},
		errType: activities.ErrNotFound,
		msg:     []string{"snapshot shop-orders-nightly", "does not exist"},
	}, {
		name: "original gone without a capture",
		in: func() activities.RestoreDatabaseInput {
			in := f.restoreInput(t, "shop-orders-restore")
			in.Database = gone
			return in
		},
		errType: activities.ErrNotFound,
		msg:     []string{"shop-orders-gone does not exist", "no capture"},
	}, {
		name: "instance quota",
		in: func() activities.RestoreDatabaseInput {
			return f.restoreInput(t, "shop-orders-restore")
		},
		fault: &awssim.Fault{Kind: awssim.FaultError, Service: "rds",
			Operation: "RestoreDBInstanceFromDBSnapshot", Rate: 1, Code: "InstanceQuotaExceeded"},
		errType: activities.ErrQuota,
		msg:     []string{"quota of DB instances in us-east-1"},
	}, {
		name: "storage quota",
		in: func() activities.RestoreDatabaseInput {
			in := f.restoreInput(t, "shop-orders-restore")
			in.Source = activities.RestoreToPointInTime
			return in
		},
		fault: &awssim.Fault{Kind: awssim.FaultError, Service: "rds",
			Operation: "RestoreDBInstanceToPointInTime", Rate: 1, Code: "StorageQuotaExceeded"},
		errType: activities.ErrQuota,
		msg:     []string{"quota of allocated storage"},
	}, {
		name: "a time outside the restorable window",
		in: func() activities.RestoreDatabaseInput {
			in := f.restoreInput(t, "shop-orders-restore")
			in.Source = activities.RestoreToPointInTime
			long := time.Now().Add(-24 * time.Hour)
			in.RestoreTime = &long
			return in
		},
		errType: activities.ErrInvalid,
		msg:     []string{"outside the restorable window"},
	}, {
		name: "target is somebody else's instance",
		in: func() activities.RestoreDatabaseInput {
			return f.restoreInput(t, "shop-audit")
		},
		errType: activities.ErrRefused,
		msg:     []string{"shop-audit already exists", "not a drover restore"},
	}, {
		name: "target is a live identifier",
		in: func() activities.RestoreDatabaseInput {
			return f.restoreInput(t, "shop-orders-replica")
		},
		errType: activities.ErrInvalid,
		msg:     []string{"live database"},
	}, {
		name: "snapshot id with a point in time",
		in: func() activities.RestoreDatabaseInput {
			in := f.restoreInput(t, "shop-orders-restore")
			in.Source, in.SnapshotID = activities.RestoreToPointInTime, "x"
			return in
		},
		errType: activities.ErrInvalid,
		msg:     []string{"snapshot id needs source snapshot"},
	}, {
		name: "wrong region's worker",
		in: func() activities.RestoreDatabaseInput {
			in := f.restoreInput(t, "shop-orders-restore")
			in.Region = west
			return in
		},
		errType: activities.ErrInvalid,
		msg:     []string{"schedule it on drover-us-west-2"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				_, err := f.srv.Sim.AddFault(*tc.fault)
				require.NoError(t, err)
				defer f.srv.Sim.ClearFaults()
			}
			err := run(t, f.env(east), activities.RestoreDatabaseName, tc.in(),
				&activities.RestoreDatabaseResult{})
			app := appError(t, err)
			require.Equal(t, tc.errType, app.Type(), "%v", err)
			require.True(t, app.NonRetryable())
			for _, m := range tc.msg {
				require.Contains(t, err.Error(), m)
			}
		})
	}
	for _, i := range f.srv.Sim.Snapshot().Regions[east].RDS.Instances {
		require.NotEqual(t, "shop-orders-restore", i.ID, "a failed restore left an instance")
	}

	// A standalone instance that nothing depends on may go, restore or
	// not: a drill also deletes the old primary its failback renamed.
	var res activities.StepResult
	require.NoError(t, run(t, f.env(east), activities.DeleteDatabaseName,
		activities.DeleteDatabaseInput{Region: east, InstanceID: "shop-audit",
			LiveIDs: activities.LiveDatabaseIDs(f.top)}, &res))
	require.False(t, res.AlreadyDone)
	f.requireGone(t, east, "shop-audit")
}

// TestRestoreDatabaseFromCapture restores an instance that was deleted,
// with the settings of its capture and from a manual snapshot that
// outlived it.
func TestRestoreDatabaseFromCapture(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	api := f.clients[east].RDS.(*rds.Client)
	original := f.instance(t, east, "shop-orders")

	var capture drills.Capture
	require.NoError(t, run(t, f.env(east), activities.CaptureDatabaseName,
		activities.CaptureDatabaseInput{App: "shop", Database: f.database(t, "orders")},
		&capture))

	_, err := api.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String("shop-orders"),
		DBSnapshotIdentifier: aws.String("shop-orders-final"),
	})
	require.NoError(t, err)
	eventually(t, "shop-orders is available after its snapshot", func() bool {
		return aws.ToString(f.instance(t, east, "shop-orders").DBInstanceStatus) == "available"
	})
	_, err = api.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{
		DBInstanceIdentifier: aws.String("shop-orders"), SkipFinalSnapshot: aws.Bool(true),
	})
	require.NoError(t, err)
	eventually(t, "shop-orders is gone", func() bool {
		_, err := api.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
			DBInstanceIdentifier: aws.String("shop-orders")})
		return err != nil
	})

	in := f.restoreInput(t, "shop-orders")
	in.TargetID = "shop-orders-back"
	in.Settings = &capture
	var res activities.RestoreDatabaseResult
	require.NoError(t, run(t, f.env(east), activities.RestoreDatabaseName, in, &res))
	require.Equal(t, "shop-orders-final", res.SnapshotID)
	require.True(t, strings.HasPrefix(res.SettingsFrom, "capture of "), res.SettingsFrom)
	requireSameSettings(t, original, f.instance(t, east, "shop-orders-back"))
}

func TestCaptureDatabase(t *testing.T) {
	f := newFixture(t, fixtureOpts{})

	t.Run("instance", func(t *testing.T) {
		var c drills.Capture
		require.NoError(t, run(t, f.env(east), activities.CaptureDatabaseName,
			activities.CaptureDatabaseInput{App: "shop", Database: f.database(t, "orders")}, &c))
		require.Equal(t, activities.CaptureRDSInstance, c.Kind)
		require.Equal(t, "shop-orders", c.Name)
		require.Equal(t, east, c.Region)
		var s activities.DatabaseSettings
		require.NoError(t, json.Unmarshal(c.Definition, &s))
		require.Equal(t, "shop-db", s.SubnetGroup)
		require.Equal(t, "shop-postgres16", s.ParameterGroup)
		require.Equal(t, []string{"sg-0a1b2c3d4e5f60718"}, s.SecurityGroups)
		require.Equal(t, "db.r6g.large", s.InstanceClass)
		require.True(t, s.MultiAZ)
		require.Equal(t, int32(7), s.BackupRetention)
		require.Equal(t, int32(20), s.AllocatedStorage)
		require.Equal(t, "shop", s.Tags["drover:app"])
	})

	t.Run("cluster with its instances", func(t *testing.T) {
		var c drills.Capture
		require.NoError(t, run(t, f.env(west), activities.CaptureDatabaseName,
			activities.CaptureDatabaseInput{App: "shop", Database: f.database(t, "catalog")}, &c))
		require.Equal(t, activities.CaptureRDSCluster, c.Kind)
		require.Equal(t, "shop-catalog-usw2", c.Name)
		var s activities.DatabaseSettings
		require.NoError(t, json.Unmarshal(c.Definition, &s))
		require.Equal(t, "shop-db", s.SubnetGroup)
		require.Equal(t, "aurora-postgresql", s.Engine)
		require.NotEmpty(t, s.Members)
		for _, m := range s.Members {
			require.Equal(t, "db.r6g.large", m.InstanceClass, m.Identifier)
		}
	})

	t.Run("missing instance", func(t *testing.T) {
		db := f.database(t, "orders")
		db.Instances = map[string]string{east: "shop-nothing"}
		err := run(t, f.env(east), activities.CaptureDatabaseName,
			activities.CaptureDatabaseInput{App: "shop", Database: db}, &drills.Capture{})
		require.Equal(t, activities.ErrNotFound, appError(t, err).Type())
	})
}

func TestRestoreDatabaseAurora(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	catalog := f.database(t, "catalog")
	in := activities.RestoreDatabaseInput{App: "shop", Database: catalog, Region: east,
		TargetID: "shop-catalog-restore"}
	original := f.cluster(t, east, "shop-catalog-use1")

	var res activities.RestoreDatabaseResult
	require.NoError(t, run(t, f.env(east), activities.RestoreDatabaseName, in, &res))
	require.False(t, res.AlreadyDone)
	require.Equal(t, int64(1), f.calls("RestoreDBClusterFromSnapshot"))
	require.NotEmpty(t, res.SnapshotID)
	require.Equal(t, []string{"shop-catalog-restore-1"}, res.Instances)

	restored := f.cluster(t, east, "shop-catalog-restore")
	require.Equal(t, "available", aws.ToString(restored.Status))
	require.Equal(t, aws.ToString(original.DBSubnetGroup), aws.ToString(restored.DBSubnetGroup))
	require.Equal(t, aws.ToString(original.DBClusterParameterGroup),
		aws.ToString(restored.DBClusterParameterGroup))
	require.Equal(t, len(original.VpcSecurityGroups), len(restored.VpcSecurityGroups))
	require.Empty(t, aws.ToString(restored.GlobalClusterIdentifier))
	require.Len(t, restored.DBClusterMembers, 1)
	member := f.instance(t, east, "shop-catalog-restore-1")
	origMember := f.instance(t, east, aws.ToString(original.DBClusterMembers[0].DBInstanceIdentifier))
	require.Equal(t, aws.ToString(origMember.DBInstanceClass), aws.ToString(member.DBInstanceClass))
	require.Equal(t, "available", aws.ToString(member.DBInstanceStatus))

	var again activities.RestoreDatabaseResult
	require.NoError(t, run(t, f.env(east), activities.RestoreDatabaseName, in, &again))
	require.True(t, again.AlreadyDone)
	require.Equal(t, int64(1), f.calls("RestoreDBClusterFromSnapshot"))
	require.Equal(t, int64(1), f.calls("CreateDBInstance"))

	var verified activities.StepResult
	require.NoError(t, run(t, f.env(east), activities.VerifyDatabaseName,
		activities.VerifyDatabaseInput{Region: east, ClusterID: "shop-catalog-restore"}, &verified))
	require.Contains(t, verified.Detail, "DB cluster shop-catalog-restore is available")

	del := activities.DeleteDatabaseInput{Region: east, ClusterID: "shop-catalog-restore",
		LiveIDs: activities.LiveDatabaseIDs(f.top)}
	var deleted activities.StepResult
	require.NoError(t, run(t, f.env(east), activities.DeleteDatabaseName, del, &deleted))
	require.False(t, deleted.AlreadyDone)
	require.Equal(t, int64(1), f.calls("DeleteDBCluster"))
	f.requireGone(t, east, "shop-catalog-restore-1")
	_, err := f.clients[east].RDS.DescribeDBClusters(context.Background(),
		&rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("shop-catalog-restore")})
	require.Error(t, err, "the restored cluster still exists")
}

// cluster reads a DB cluster directly.
func (f *fixture) cluster(t *testing.T, region, id string) *rdstypes.DBCluster {
	t.Helper()
	out, err := f.clients[region].RDS.DescribeDBClusters(context.Background(),
		&rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, out.DBClusters, 1)
	return &out.DBClusters[0]
}

// forgetfulRDS drops settings from snapshot restores, as an API version
// that cannot set them on a restore would.
type forgetfulRDS struct{ activities.RDSAPI }

func (c forgetfulRDS) RestoreDBInstanceFromDBSnapshot(ctx context.Context,
	in *rds.RestoreDBInstanceFromDBSnapshotInput,
	optFns ...func(*rds.Options)) (*rds.RestoreDBInstanceFromDBSnapshotOutput, error) {
	dropped := *in
	dropped.DBParameterGroupName, dropped.VpcSecurityGroupIds = nil, nil
	return c.RDSAPI.RestoreDBInstanceFromDBSnapshot(ctx, &dropped, optFns...)
}

// TestRestoreDatabaseSetsWhatTheRestoreMissed checks the restored
// instance against the original and modifies what differs.
func TestRestoreDatabaseSetsWhatTheRestoreMissed(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	clients := f.clients[east]
	clients.RDS = forgetfulRDS{clients.RDS}
	region := activities.NewRegion(activities.Config{Region: east, PollInterval: poll,
		RDSRate: 1000}, clients)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	region.Register(env)

	var res activities.RestoreDatabaseResult
	require.NoError(t, run(t, env, activities.RestoreDatabaseName,
		f.restoreInput(t, "shop-orders-fixed"), &res))
	require.Equal(t, int64(1), f.calls("ModifyDBInstance"))
	require.Contains(t, res.Detail, "then set security groups sg-0a1b2c3d4e5f60718, "+
		"parameter group shop-postgres16")
	requireSameSettings(t, f.instance(t, east, "shop-orders"),
		f.instance(t, east, "shop-orders-fixed"))
}

// recordingRoute53 keeps the changes made through it and their ids.
type recordingRoute53 struct {
	activities.Route53API
	mu      sync.Mutex
	batches [][]r53types.Change
	ids     []string
}

func (c *recordingRoute53) ChangeResourceRecordSets(ctx context.Context,
	in *route53.ChangeResourceRecordSetsInput,
	optFns ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	out, err := c.Route53API.ChangeResourceRecordSets(ctx, in, optFns...)
	if err == nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.batches = append(c.batches, in.ChangeBatch.Changes)
		c.ids = append(c.ids, strings.TrimPrefix(aws.ToString(out.ChangeInfo.Id), "/change/"))
	}
	return out, err
}

// bigZone is the shop's zone grown by bulkSets record sets and an alias to
// the last of them, captured, then stripped of them again: a restore of
// the capture has more to send than one change can take.
type bigZone struct {
	zoneID  string
	capture drills.Capture
	def     activities.ZoneDefinition
	// bulk are the record sets added and lost, the alias first.
	bulk []r53types.ResourceRecordSet
}

const bulkSets = 1200

func (f *fixture) bigZone(t *testing.T) bigZone {
	t.Helper()
	z := bigZone{zoneID: f.seeded.ZoneIDs[f.zone().Name]}
	domain := strings.TrimSuffix(f.zone().Domain, ".") + "."
	// The alias sorts before its target, so that the capture lists it
	// first; Route 53 refuses it in a change sent before its target's.
	z.bulk = append(z.bulk, r53types.ResourceRecordSet{
		Name: aws.String("a-alias." + domain), Type: r53types.RRTypeA,
		AliasTarget: &r53types.AliasTarget{HostedZoneId: aws.String(z.zoneID),
			DNSName: aws.String(fmt.Sprintf("bulk%04d.%s", bulkSets-1, domain))},
	})
	for i := range bulkSets {
		z.bulk = append(z.bulk, r53types.ResourceRecordSet{
			Name: aws.String(fmt.Sprintf("bulk%04d.%s", i, domain)), Type: r53types.RRTypeA,
			TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{
				{Value: aws.String(fmt.Sprintf("10.0.%d.%d", i/256, i%256))}},
		})
	}
	// The alias is created after its target, and deleted before it.
	f.changeSets(t, z.zoneID, r53types.ChangeActionCreate, z.bulk[1:])
	f.changeSets(t, z.zoneID, r53types.ChangeActionCreate, z.bulk[:1])

	require.NoError(t, run(t, f.env(east), activities.CaptureZoneName,
		activities.CaptureZoneInput{App: "shop", Zone: f.zone()}, &z.capture))
	require.NoError(t, json.Unmarshal(z.capture.Definition, &z.def))
	require.Len(t, z.def.RecordSets, len(z.bulk)+6)
	require.Equal(t, z.def.RecordSets, f.allRecordSets(t, z.zoneID))

	f.changeSets(t, z.zoneID, r53types.ChangeActionDelete, z.bulk)
	require.Len(t, f.allRecordSets(t, z.zoneID), 6)
	f.srv.Sim.ResetCalls()
	return z
}

// changeSets makes one kind of change to record sets, 400 to a batch,
// well within what Route 53 takes in one.
func (f *fixture) changeSets(t *testing.T, zoneID string, action r53types.ChangeAction,
	sets []r53types.ResourceRecordSet) {
	t.Helper()
	for b := range slices.Chunk(sets, 400) {
		var changes []r53types.Change
		for i := range b {
			changes = append(changes, r53types.Change{Action: action, ResourceRecordSet: &b[i]})
		}
		_, err := f.clients[east].Route53.ChangeResourceRecordSets(context.Background(),
			&route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID),
				ChangeBatch: &r53types.ChangeBatch{Changes: changes}})
		require.NoError(t, err)
	}
}

// allRecordSets lists every record set of a zone, page by page.
func (f *fixture) allRecordSets(t *testing.T, zoneID string) []r53types.ResourceRecordSet {
	t.Helper()
	var sets []r53types.ResourceRecordSet
	p := route53.NewListResourceRecordSetsPaginator(f.clients[east].Route53.(*route53.Client),
		&route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		require.NoError(t, err)
		sets = append(sets, out.ResourceRecordSets...)
	}
	return sets
}

// recordingEnv is an activity environment of us-east-1 whose Route 53
// changes rec records.
func (f *fixture) recordingEnv(rec *recordingRoute53) *testsuite.TestActivityEnvironment {
	clients := f.clients[east]
	rec.Route53API = clients.Route53
	clients.Route53 = rec
	region := activities.NewRegion(activities.Config{Region: east, PollInterval: poll,
		Route53Rate: 1000}, clients)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	region.Register(env)
	return env
}

// requireFits checks a batch against Route 53's quotas on one request,
// counted apart from the activity's own counting.
func requireFits(t *testing.T, batch []r53types.Change) {
	t.Helper()
	records, chars := 0, 0
	for _, c := range batch {
		times := 1
		if c.Action == r53types.ChangeActionUpsert {
			times = 2
		}
		for _, rr := range c.ResourceRecordSet.ResourceRecords {
			records += times
			chars += times * len(aws.ToString(rr.Value))
		}
	}
	require.LessOrEqual(t, records, 1000)
	require.LessOrEqual(t, chars, 32000)
}

func TestRestoreZoneInBatches(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	z := f.bigZone(t)

	rec := &recordingRoute53{}
	var res activities.StepResult
	require.NoError(t, run(t, f.recordingEnv(rec), activities.RestoreZoneName,
		activities.RestoreZoneInput{Zone: f.zone(), Capture: z.capture}, &res))

	// 1,201 UPSERTs, each counting 2 of the 1,000 records a change takes.
	require.Equal(t, int64(3), f.calls("ChangeResourceRecordSets"))
	require.Len(t, rec.batches, 3)
	for _, b := range rec.batches {
		requireFits(t, b)
	}
	require.Equal(t, z.def.RecordSets, f.allRecordSets(t, z.zoneID),
		"the zone is not as captured")
	require.False(t, res.AlreadyDone)
	require.Contains(t, res.Detail, fmt.Sprintf("restored %d record sets (%d missing, "+
		"0 different) in 3 changes from the capture of", len(z.bulk), len(z.bulk)))

	last := f.insyncAt(t, rec.ids[len(rec.ids)-1])
	for _, id := range rec.ids {
		require.False(t, f.insyncAt(t, id).After(last),
			"change %s is INSYNC after the last change %s", id, rec.ids[len(rec.ids)-1])
	}
	require.False(t, res.HealthyAt.Before(last),
		"healthy at %s, before the last change was INSYNC at %s", res.HealthyAt, last)

	t.Run("a second run changes nothing", func(t *testing.T) {
		var again activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.RestoreZoneName,
			activities.RestoreZoneInput{Zone: f.zone(), Capture: z.capture}, &again))
		require.True(t, again.AlreadyDone)
		require.Equal(t, int64(3), f.calls("ChangeResourceRecordSets"))
	})
}

// TestRestoreZoneResumes: an attempt died after its first change; the
// retry waits on that change, then sends what the zone still lacks.
func TestRestoreZoneResumes(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	z := f.bigZone(t)

	// The first change the earlier attempt made: the first 500 of the
	// plain record sets, as UPSERTs, whose id it heartbeated.
	var first []r53types.Change
	sent := map[string]bool{}
	for i := range z.bulk[1:501] {
		first = append(first, r53types.Change{Action: r53types.ChangeActionUpsert,
			ResourceRecordSet: &z.bulk[1+i]})
		sent[aws.ToString(z.bulk[1+i].Name)] = true
	}
	out, err := f.clients[east].Route53.ChangeResourceRecordSets(context.Background(),
		&route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(z.zoneID),
			ChangeBatch: &r53types.ChangeBatch{Changes: first}})
	require.NoError(t, err)
	firstID := strings.TrimPrefix(aws.ToString(out.ChangeInfo.Id), "/change/")
	f.srv.Sim.ResetCalls()

	started := time.Now().Add(-time.Second).UTC().Truncate(time.Millisecond)
	rec := &recordingRoute53{}
	env := f.recordingEnv(rec)
	env.SetHeartbeatDetails(activities.Progress{ActionStarted: started, Token: firstID})
	var res activities.StepResult
	require.NoError(t, run(t, env, activities.RestoreZoneName,
		activities.RestoreZoneInput{Zone: f.zone(), Capture: z.capture}, &res))

	// The 700 plain record sets left and the alias: 500 and 201.
	require.Equal(t, int64(2), f.calls("ChangeResourceRecordSets"))
	require.Len(t, rec.batches, 2)
	for _, b := range rec.batches {
		requireFits(t, b)
		for _, c := range b {
			require.False(t, sent[aws.ToString(c.ResourceRecordSet.Name)],
				"%s, of the first change, was sent again", aws.ToString(c.ResourceRecordSet.Name))
		}
	}
	require.Equal(t, z.def.RecordSets, f.allRecordSets(t, z.zoneID),
		"the zone is not as captured")
	require.False(t, res.AlreadyDone)
	require.True(t, res.ActionStarted.Equal(started), "action started %s", res.ActionStarted)
	require.Contains(t, res.Detail, fmt.Sprintf("restored %d record sets (%d missing, "+
		"0 different) in 2 changes, after an earlier attempt's change %s,",
		len(z.bulk)-500, len(z.bulk)-500, firstID))

	last := f.insyncAt(t, rec.ids[len(rec.ids)-1])
	require.False(t, f.insyncAt(t, firstID).After(last))
	require.False(t, res.HealthyAt.Before(last),
		"healthy at %s, before the last change was INSYNC at %s", res.HealthyAt, last)
}
