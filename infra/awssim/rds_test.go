package awssim_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/infra/awssim"
)

// rdsProfile runs RDS a minute to 100 ms: every operation the tests wait
// for takes 50 to 200 ms, long enough to observe its phases by polling.
func rdsProfile() *awssim.Profile {
	p := awssim.DefaultProfile()
	p.TimeScale = 600
	minute := awssim.Duration(time.Minute)
	p.RDSCreate, p.RDSReplicaCreate, p.RDSRestore = minute, minute, minute
	p.RDSPromoteModifying, p.RDSPromoteBackingUp = minute, minute
	p.RDSModify, p.RDSDelete, p.RDSSnapshot = minute, minute/2, minute/2
	p.AuroraClusterCreate, p.AuroraSwitchover, p.AuroraFailover = minute, minute, minute
	p.AuroraPromote = minute
	return &p
}

// rdsClient returns an RDS client for region whose retries, when allowed,
// back off for a few milliseconds only.
func rdsClient(t *testing.T, srv *awssim.Server, region string, maxAttempts int) *rds.Client {
	t.Helper()
	return rds.NewFromConfig(awsConfig(t, srv, region, maxAttempts), func(o *rds.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, 5*time.Millisecond)
	})
}

// waitInstance polls until the instance reports status and returns it as
// first seen so.
func waitInstance(t *testing.T, client *rds.Client, id, status string) types.DBInstance {
	t.Helper()
	var got types.DBInstance
	require.Eventually(t, func() bool {
		out, err := client.DescribeDBInstances(context.Background(),
			&rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		require.NoError(t, err)
		got = out.DBInstances[0]
		return aws.ToString(got.DBInstanceStatus) == status
	}, 5*time.Second, 5*time.Millisecond, "instance %s never became %s", id, status)
	return got
}

func describeInstance(t *testing.T, client *rds.Client, id string) types.DBInstance {
	t.Helper()
	out, err := client.DescribeDBInstances(context.Background(),
		&rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, out.DBInstances, 1)
	return out.DBInstances[0]
}

// createPrimary creates a PostgreSQL instance with its own network and
// configuration, the settings a correct restore must carry over.
func createPrimary(t *testing.T, client *rds.Client, id string) types.DBInstance {
	t.Helper()
	out, err := client.CreateDBInstance(context.Background(), &rds.CreateDBInstanceInput{
		DBInstanceIdentifier:  aws.String(id),
		DBInstanceClass:       aws.String("db.r6g.large"),
		Engine:                aws.String("postgres"),
		MasterUsername:        aws.String("app"),
		MasterUserPassword:    aws.String("secret-password"),
		AllocatedStorage:      aws.Int32(100),
		StorageType:           aws.String("io1"),
		Iops:                  aws.Int32(3000),
		MultiAZ:               aws.Bool(true),
		BackupRetentionPeriod: aws.Int32(7),
		DBSubnetGroupName:     aws.String("orders-private"),
		VpcSecurityGroupIds:   []string{"sg-0a1", "sg-0b2"},
		DBParameterGroupName:  aws.String("orders-pg16"),
		Tags:                  []types.Tag{{Key: aws.String("app"), Value: aws.String("orders")}},
	})
	require.NoError(t, err)
	require.Equal(t, "creating", aws.ToString(out.DBInstance.DBInstanceStatus))
	require.Nil(t, out.DBInstance.Endpoint, "no endpoint while creating")
	return *out.DBInstance
}

// instanceEvents returns the db-instance events of one instance.
func instanceEvents(srv *awssim.Server, region, kind, id string) []awssim.Event {
	var out []awssim.Event
	for _, e := range srv.Sim.Events(time.Time{}) {
		if e.Region == region && e.Resource == kind && e.ID == id {
			out = append(out, e)
		}
	}
	return out
}

func eventStates(events []awssim.Event) []string {
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, e.State)
	}
	return out
}

// requireWithinJitter checks that a recorded phase lasted d as the
// profile draws it: d scaled, give or take the jitter.
func requireWithinJitter(t *testing.T, p *awssim.Profile, d awssim.Duration, got time.Duration) {
	t.Helper()
	base := p.Scaled(d)
	lo := time.Duration(float64(base) * (1 - p.Jitter))
	hi := time.Duration(float64(base) * (1 + p.Jitter))
	require.GreaterOrEqual(t, got, lo)
	require.LessOrEqual(t, got, hi)
}

func TestRDSCrossRegionReplicaPromotion(t *testing.T) {
	t.Parallel()
	p := rdsProfile()
	srv := startSim(t, p)
	ctx := context.Background()
	east := rdsClient(t, srv, "us-east-1", 1)
	west := rdsClient(t, srv, "us-west-2", 1)

	primary := createPrimary(t, east, "orders")
	waiter := func(c *rds.Client) *rds.DBInstanceAvailableWaiter {
		return rds.NewDBInstanceAvailableWaiter(c, func(o *rds.DBInstanceAvailableWaiterOptions) {
			o.MinDelay, o.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
		})
	}
	require.NoError(t, waiter(east).Wait(ctx, &rds.DescribeDBInstancesInput{
		DBInstanceIdentifier: aws.String("orders")}, 5*time.Second))
	got := describeInstance(t, east, "orders")
	require.NotNil(t, got.Endpoint)
	require.Equal(t, int32(5432), aws.ToInt32(got.Endpoint.Port))
	require.NotNil(t, got.LatestRestorableTime, "backups are on")
	require.Equal(t, []string{"creating", "backing-up", "available"},
		eventStates(instanceEvents(srv, "us-east-1", "db-instance", "orders")))

	_, err := west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String("orders-west"),
		SourceDBInstanceIdentifier: primary.DBInstanceArn,
		SourceRegion:               aws.String("us-east-1"),
		DBSubnetGroupName:          aws.String("orders-west-private"),
	})
	require.NoError(t, err)
	require.NoError(t, waiter(west).Wait(ctx, &rds.DescribeDBInstancesInput{
		DBInstanceIdentifier: aws.String("orders-west")}, 5*time.Second))

	replica := describeInstance(t, west, "orders-west")
	require.Equal(t, aws.ToString(primary.DBInstanceArn),
		aws.ToString(replica.ReadReplicaSourceDBInstanceIdentifier))
	require.Equal(t, "orders-west-private", aws.ToString(replica.DBSubnetGroup.DBSubnetGroupName))
	require.Equal(t, "db.r6g.large", aws.ToString(replica.DBInstanceClass))
	replicaARN := aws.ToString(replica.DBInstanceArn)
	require.Equal(t, "arn:aws:rds:us-west-2:123456789012:db:orders-west", replicaARN)
	require.Equal(t, []string{replicaARN},
		describeInstance(t, east, "orders").ReadReplicaDBInstanceIdentifiers)

	// Promote and watch every status the replica passes through.
	before := time.Now()
	out, err := west.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{
		DBInstanceIdentifier: aws.String("orders-west")})
	require.NoError(t, err)
	after := time.Now()
	require.Equal(t, "modifying", aws.ToString(out.DBInstance.DBInstanceStatus))

	seen := []string{"modifying"}
	var observedAvailable time.Time
	require.Eventually(t, func() bool {
		st := aws.ToString(describeInstance(t, west, "orders-west").DBInstanceStatus)
		if st != seen[len(seen)-1] {
			seen = append(seen, st)
		}
		if st == "available" {
			observedAvailable = time.Now()
			return true
		}
		return false
	}, 5*time.Second, 2*time.Millisecond)
	require.Equal(t, []string{"modifying", "backing-up", "available"}, seen)

	promoted := describeInstance(t, west, "orders-west")
	require.Nil(t, promoted.ReadReplicaSourceDBInstanceIdentifier)
	require.Equal(t, int32(1), aws.ToInt32(promoted.BackupRetentionPeriod))
	require.Empty(t, describeInstance(t, east, "orders").ReadReplicaDBInstanceIdentifiers)

	// The events carry the scheduled times: the phases last what the
	// profile drew, and "available" precedes the first sighting of it.
	events := instanceEvents(srv, "us-west-2", "db-instance", "orders-west")
	require.Equal(t, []string{"creating", "available", "modifying", "backing-up", "available"},
		eventStates(events))
	modifying, backingUp, available := events[2], events[3], events[4]
	require.False(t, modifying.At.Before(before))
	require.False(t, modifying.At.After(after))
	requireWithinJitter(t, p, p.RDSPromoteModifying, backingUp.At.Sub(modifying.At))
	requireWithinJitter(t, p, p.RDSPromoteBackingUp, available.At.Sub(backingUp.At))
	require.False(t, available.At.After(observedAvailable))
	requireWithinJitter(t, p, p.RDSReplicaCreate, events[1].At.Sub(events[0].At))

	// The promoted instance took its first automated backup while it was
	// backing up.
	snaps, err := west.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String("orders-west")})
	require.NoError(t, err)
	require.Len(t, snaps.DBSnapshots, 1)
	require.Equal(t, "automated", aws.ToString(snaps.DBSnapshots[0].SnapshotType))
	require.True(t, strings.HasPrefix(aws.ToString(snaps.DBSnapshots[0].DBSnapshotIdentifier),
		"rds:orders-west-"))

	state := srv.Sim.Snapshot()
	westState := state.Regions["us-west-2"].RDS.Instances
	require.Len(t, westState, 1)
	require.Equal(t, "available", westState[0].Status)
	require.Empty(t, westState[0].ReplicationSource)
	require.Equal(t, []string{"sg-default"}, westState[0].SecurityGroups)
}

func TestRDSPromoteRefused(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)

	createPrimary(t, client, "orders")
	waitInstance(t, client, "orders", "available")
	_, err := client.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String("orders-ro"),
		SourceDBInstanceIdentifier: aws.String("orders"),
	})
	require.NoError(t, err)
	replica := waitInstance(t, client, "orders-ro", "available")
	require.Equal(t, "orders", aws.ToString(replica.ReadReplicaSourceDBInstanceIdentifier))
	require.Equal(t, "orders-private", aws.ToString(replica.DBSubnetGroup.DBSubnetGroupName),
		"a same-region replica shares its source's subnet group")

	// A manual snapshot of the replica keeps it backing up meanwhile.
	_, err = client.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String("orders-ro"),
		DBSnapshotIdentifier: aws.String("orders-ro-manual"),
	})
	require.NoError(t, err)

	tests := []struct {
		name string
		id   string
		want func(error) bool
		msg  string
	}{
		{
			name: "not a replica", id: "orders",
			want: isType[*types.InvalidDBInstanceStateFault],
			msg:  "DB Instance is not a read replica.",
		},
		{
			name: "backing up", id: "orders-ro",
			want: isType[*types.InvalidDBInstanceStateFault],
			msg:  "backing up",
		},
		{
			name: "unknown", id: "nope",
			want: isType[*types.DBInstanceNotFoundFault],
			msg:  "DBInstance nope not found.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{
				DBInstanceIdentifier: aws.String(tt.id)})
			require.Error(t, err)
			require.True(t, tt.want(err), "unexpected error %T: %v", err, err)
			require.Contains(t, err.Error(), tt.msg)
		})
	}

	// Once the snapshot is done, the same promotion goes through.
	waitInstance(t, client, "orders-ro", "available")
	_, err = client.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{
		DBInstanceIdentifier: aws.String("orders-ro")})
	require.NoError(t, err)
}

// isType reports whether err wraps an error of type E.
func isType[E error](err error) bool {
	var target E
	return errors.As(err, &target)
}

// errorCode returns the AWS error code of err.
func errorCode(t *testing.T, err error) string {
	t.Helper()
	require.Error(t, err)
	var apiErr smithy.APIError
	require.True(t, errors.As(err, &apiErr), "not an API error: %v", err)
	return apiErr.ErrorCode()
}

func TestRDSRestoreFromSnapshot(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)

	createPrimary(t, client, "orders")
	waitInstance(t, client, "orders", "available")
	snap, err := client.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String("orders"),
		DBSnapshotIdentifier: aws.String("orders-nightly"),
	})
	require.NoError(t, err)
	require.Equal(t, "creating", aws.ToString(snap.DBSnapshot.Status))
	require.Equal(t, "manual", aws.ToString(snap.DBSnapshot.SnapshotType))
	require.Equal(t, "backing-up",
		aws.ToString(describeInstance(t, client, "orders").DBInstanceStatus))
	require.Eventually(t, func() bool {
		out, err := client.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{
			DBSnapshotIdentifier: aws.String("orders-nightly")})
		require.NoError(t, err)
		return aws.ToString(out.DBSnapshots[0].Status) == "available"
	}, 5*time.Second, 5*time.Millisecond)

	tests := []struct {
		name  string
		input rds.RestoreDBInstanceFromDBSnapshotInput
		// want are the settings described back after the restore.
		subnet, param, class string
		sgs                  []string
		multiAZ              bool
		storage              int32
	}{
		{
			name:   "defaults",
			input:  rds.RestoreDBInstanceFromDBSnapshotInput{},
			subnet: "default", param: "default.postgres16", class: "db.r6g.large",
			sgs: []string{"sg-default"}, multiAZ: false, storage: 100,
		},
		{
			name: "settings copied from the original",
			input: rds.RestoreDBInstanceFromDBSnapshotInput{
				DBSubnetGroupName:    aws.String("orders-private"),
				VpcSecurityGroupIds:  []string{"sg-0a1", "sg-0b2"},
				DBParameterGroupName: aws.String("orders-pg16"),
				MultiAZ:              aws.Bool(true),
				DBInstanceClass:      aws.String("db.r6g.xlarge"),
			},
			subnet: "orders-private", param: "orders-pg16", class: "db.r6g.xlarge",
			sgs: []string{"sg-0a1", "sg-0b2"}, multiAZ: true, storage: 100,
		},
	}
	for n, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("orders-restored-%d", n)
			in := tt.input
			in.DBInstanceIdentifier = aws.String(id)
			in.DBSnapshotIdentifier = aws.String("orders-nightly")
			_, err := client.RestoreDBInstanceFromDBSnapshot(ctx, &in)
			require.NoError(t, err)
			got := waitInstance(t, client, id, "available")

			require.Equal(t, tt.subnet, aws.ToString(got.DBSubnetGroup.DBSubnetGroupName))
			require.Equal(t, tt.param, aws.ToString(got.DBParameterGroups[0].DBParameterGroupName))
			require.Equal(t, tt.class, aws.ToString(got.DBInstanceClass))
			var sgs []string
			for _, sg := range got.VpcSecurityGroups {
				sgs = append(sgs, aws.ToString(sg.VpcSecurityGroupId))
			}
			require.Equal(t, tt.sgs, sgs)
			require.Equal(t, tt.multiAZ, aws.ToBool(got.MultiAZ))
			require.Equal(t, tt.storage, aws.ToInt32(got.AllocatedStorage))
			require.Equal(t, "io1", aws.ToString(got.StorageType))
			require.Equal(t, int32(3000), aws.ToInt32(got.Iops))
			require.Equal(t, "postgres", aws.ToString(got.Engine))
			require.Equal(t, "app", aws.ToString(got.MasterUsername))
			require.Equal(t, []string{"creating", "backing-up", "available"},
				eventStates(instanceEvents(srv, "us-east-1", "db-instance", id)))
		})
	}

	t.Run("errors", func(t *testing.T) {
		_, err := client.RestoreDBInstanceFromDBSnapshot(ctx,
			&rds.RestoreDBInstanceFromDBSnapshotInput{
				DBInstanceIdentifier: aws.String("orders"),
				DBSnapshotIdentifier: aws.String("orders-nightly"),
			})
		require.True(t, isType[*types.DBInstanceAlreadyExistsFault](err), "%v", err)

		_, err = client.RestoreDBInstanceFromDBSnapshot(ctx,
			&rds.RestoreDBInstanceFromDBSnapshotInput{
				DBInstanceIdentifier: aws.String("orders-x"),
				DBSnapshotIdentifier: aws.String("no-such-snapshot"),
			})
		require.True(t, isType[*types.DBSnapshotNotFoundFault](err), "%v", err)

		_, err = client.RestoreDBInstanceFromDBSnapshot(ctx,
			&rds.RestoreDBInstanceFromDBSnapshotInput{
				DBInstanceIdentifier: aws.String("Bad--Name"),
				DBSnapshotIdentifier: aws.String("orders-nightly"),
			})
		require.Equal(t, "InvalidParameterValue", errorCode(t, err))
	})
}

func TestRDSPointInTimeRestore(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)

	createPrimary(t, client, "orders")
	first := waitInstance(t, client, "orders", "available")
	require.NotNil(t, first.LatestRestorableTime)
	require.Eventually(t, func() bool {
		later := describeInstance(t, client, "orders").LatestRestorableTime
		return later.After(*first.LatestRestorableTime)
	}, 5*time.Second, 5*time.Millisecond, "LatestRestorableTime advances with time")

	_, err := client.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("scratch"), DBInstanceClass: aws.String("db.t4g.micro"),
		Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20),
		BackupRetentionPeriod: aws.Int32(0),
	})
	require.NoError(t, err)

	latest := describeInstance(t, client, "orders").LatestRestorableTime
	tests := []struct {
		name  string
		input rds.RestoreDBInstanceToPointInTimeInput
		check func(t *testing.T, err error)
	}{
		{
			name: "latest restorable time",
			input: rds.RestoreDBInstanceToPointInTimeInput{
				SourceDBInstanceIdentifier: aws.String("orders"),
				UseLatestRestorableTime:    aws.Bool(true),
			},
			check: func(t *testing.T, err error) { require.NoError(t, err) },
		},
		{
			name: "restore time in the window",
			input: rds.RestoreDBInstanceToPointInTimeInput{
				SourceDBInstanceIdentifier: aws.String("orders"),
				RestoreTime:                latest,
				DBSubnetGroupName:          aws.String("orders-private"),
			},
			check: func(t *testing.T, err error) { require.NoError(t, err) },
		},
		{
			name: "restore time before the window",
			input: rds.RestoreDBInstanceToPointInTimeInput{
				SourceDBInstanceIdentifier: aws.String("orders"),
				RestoreTime:                aws.Time(time.Now().Add(-time.Hour)),
			},
			check: func(t *testing.T, err error) {
				require.Equal(t, "InvalidParameterValue", errorCode(t, err))
			},
		},
		{
			name: "both restore time and latest",
			input: rds.RestoreDBInstanceToPointInTimeInput{
				SourceDBInstanceIdentifier: aws.String("orders"),
				RestoreTime:                latest,
				UseLatestRestorableTime:    aws.Bool(true),
			},
			check: func(t *testing.T, err error) {
				require.Equal(t, "InvalidParameterCombination", errorCode(t, err))
			},
		},
		{
			name: "source without backups",
			input: rds.RestoreDBInstanceToPointInTimeInput{
				SourceDBInstanceIdentifier: aws.String("scratch"),
				UseLatestRestorableTime:    aws.Bool(true),
			},
			check: func(t *testing.T, err error) {
				require.True(t, isType[*types.PointInTimeRestoreNotEnabledFault](err), "%v", err)
			},
		},
		{
			name: "missing source",
			input: rds.RestoreDBInstanceToPointInTimeInput{
				SourceDBInstanceIdentifier: aws.String("gone"),
				UseLatestRestorableTime:    aws.Bool(true),
			},
			check: func(t *testing.T, err error) {
				require.True(t, isType[*types.DBInstanceNotFoundFault](err), "%v", err)
			},
		},
		{
			name: "missing source parameter",
			input: rds.RestoreDBInstanceToPointInTimeInput{
				UseLatestRestorableTime: aws.Bool(true),
			},
			check: func(t *testing.T, err error) {
				require.Equal(t, "MissingParameter", errorCode(t, err))
			},
		},
	}
	for n, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.input
			in.TargetDBInstanceIdentifier = aws.String(fmt.Sprintf("orders-pitr-%d", n))
			_, err := client.RestoreDBInstanceToPointInTime(ctx, &in)
			tt.check(t, err)
		})
	}

	got := waitInstance(t, client, "orders-pitr-1", "available")
	require.Equal(t, "orders-private", aws.ToString(got.DBSubnetGroup.DBSubnetGroupName))
	require.Equal(t, "sg-default", aws.ToString(got.VpcSecurityGroups[0].VpcSecurityGroupId))
	require.False(t, aws.ToBool(got.MultiAZ))
	require.Equal(t, "db.r6g.large", aws.ToString(got.DBInstanceClass))
	require.Equal(t, int32(7), aws.ToInt32(got.BackupRetentionPeriod))
}

func TestRDSPagination(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)

	const n = 25
	for i := range n {
		_, err := client.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(fmt.Sprintf("db-%02d", i)),
			DBInstanceClass:      aws.String("db.t4g.micro"),
			Engine:               aws.String([]string{"postgres", "mysql"}[i%2]),
			AllocatedStorage:     aws.Int32(20),
		})
		require.NoError(t, err)
	}
	// Each instance takes an automated snapshot while it backs up.
	require.Eventually(t, func() bool {
		for _, in := range srv.Sim.Snapshot().Regions["us-east-1"].RDS.Instances {
			if in.Status != "available" {
				return false
			}
		}
		return true
	}, 5*time.Second, 10*time.Millisecond)

	var ids []string
	pages := 0
	instPager := rds.NewDescribeDBInstancesPaginator(client,
		&rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)})
	for instPager.HasMorePages() {
		out, err := instPager.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, in := range out.DBInstances {
			ids = append(ids, aws.ToString(in.DBInstanceIdentifier))
		}
	}
	require.Equal(t, 2, pages)
	require.Len(t, ids, n)
	require.Equal(t, "db-00", ids[0])
	require.Equal(t, "db-24", ids[n-1])

	var snapIDs []string
	snapPager := rds.NewDescribeDBSnapshotsPaginator(client,
		&rds.DescribeDBSnapshotsInput{MaxRecords: aws.Int32(20), SnapshotType: aws.String("automated")})
	pages = 0
	for snapPager.HasMorePages() {
		out, err := snapPager.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, s := range out.DBSnapshots {
			snapIDs = append(snapIDs, aws.ToString(s.DBSnapshotIdentifier))
		}
	}
	require.Equal(t, 2, pages)
	require.Len(t, snapIDs, n)
	seen := map[string]bool{}
	for _, id := range snapIDs {
		require.False(t, seen[id], "snapshot %s listed twice", id)
		seen[id] = true
	}

	t.Run("bad page size", func(t *testing.T) {
		_, err := client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
			MaxRecords: aws.Int32(10)})
		require.Equal(t, "InvalidParameterValue", errorCode(t, err))
	})
	t.Run("bad marker", func(t *testing.T) {
		_, err := client.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{
			Marker: aws.String("not-a-marker")})
		require.Equal(t, "InvalidParameterValue", errorCode(t, err))
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			name    string
			filters []types.Filter
			want    int
			code    string
		}{
			{name: "engine", want: 12, filters: []types.Filter{
				{Name: aws.String("engine"), Values: []string{"mysql"}}}},
			{name: "ids and arns", want: 2, filters: []types.Filter{
				{Name: aws.String("db-instance-id"), Values: []string{
					"db-03", "arn:aws:rds:us-east-1:123456789012:db:db-04"}}}},
			{name: "two filters", want: 1, filters: []types.Filter{
				{Name: aws.String("db-instance-id"), Values: []string{"db-03", "db-04"}},
				{Name: aws.String("engine"), Values: []string{"postgres"}}}},
			{name: "unknown name", code: "InvalidParameterValue", filters: []types.Filter{
				{Name: aws.String("colour"), Values: []string{"blue"}}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out, err := client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
					Filters: tt.filters})
				if tt.code != "" {
					require.Equal(t, tt.code, errorCode(t, err))
					return
				}
				require.NoError(t, err)
				require.Len(t, out.DBInstances, tt.want)
			})
		}

		out, err := client.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{
			Filters: []types.Filter{{Name: aws.String("db-instance-id"), Values: []string{"db-07"}}}})
		require.NoError(t, err)
		require.Len(t, out.DBSnapshots, 1)
		require.Equal(t, "db-07", aws.ToString(out.DBSnapshots[0].DBInstanceIdentifier))
	})
}

func TestRDSModifyAndDelete(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)
	createPrimary(t, client, "orders")
	waitInstance(t, client, "orders", "available")

	out, err := client.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{
		DBInstanceIdentifier: aws.String("orders"), DBInstanceClass: aws.String("db.r6g.2xlarge"),
		VpcSecurityGroupIds: []string{"sg-0c3"},
	})
	require.NoError(t, err)
	require.Equal(t, "available", aws.ToString(out.DBInstance.DBInstanceStatus),
		"without ApplyImmediately the class waits for the maintenance window")
	require.Equal(t, "db.r6g.2xlarge",
		aws.ToString(out.DBInstance.PendingModifiedValues.DBInstanceClass))
	require.Equal(t, "db.r6g.large", aws.ToString(out.DBInstance.DBInstanceClass))
	require.Equal(t, "sg-0c3", aws.ToString(out.DBInstance.VpcSecurityGroups[0].VpcSecurityGroupId))

	out, err = client.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{
		DBInstanceIdentifier: aws.String("orders"), DBInstanceClass: aws.String("db.r6g.xlarge"),
		MultiAZ: aws.Bool(false), ApplyImmediately: aws.Bool(true),
	})
	require.NoError(t, err)
	require.Equal(t, "modifying", aws.ToString(out.DBInstance.DBInstanceStatus))
	got := waitInstance(t, client, "orders", "available")
	require.Equal(t, "db.r6g.xlarge", aws.ToString(got.DBInstanceClass))
	require.False(t, aws.ToBool(got.MultiAZ))
	require.Nil(t, got.PendingModifiedValues.DBInstanceClass)

	// Turning backups on takes the first backup right after modifying.
	_, err = client.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("scratch"), DBInstanceClass: aws.String("db.t4g.micro"),
		Engine: aws.String("mysql"), AllocatedStorage: aws.Int32(20),
		BackupRetentionPeriod: aws.Int32(0),
	})
	require.NoError(t, err)
	require.Nil(t, waitInstance(t, client, "scratch", "available").LatestRestorableTime)
	_, err = client.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{
		DBInstanceIdentifier: aws.String("scratch"), BackupRetentionPeriod: aws.Int32(3),
		ApplyImmediately: aws.Bool(true),
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return len(instanceEvents(srv, "us-east-1", "db-instance", "scratch")) == 5
	}, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, []string{"creating", "available", "modifying", "backing-up", "available"},
		eventStates(instanceEvents(srv, "us-east-1", "db-instance", "scratch")))
	require.NotNil(t, describeInstance(t, client, "scratch").LatestRestorableTime)

	_, err = client.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{
		DBInstanceIdentifier: aws.String("orders")})
	require.Equal(t, "InvalidParameterCombination", errorCode(t, err))

	del, err := client.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{
		DBInstanceIdentifier:      aws.String("orders"),
		FinalDBSnapshotIdentifier: aws.String("orders-final"),
	})
	require.NoError(t, err)
	require.Equal(t, "deleting", aws.ToString(del.DBInstance.DBInstanceStatus))
	require.NoError(t, rds.NewDBInstanceDeletedWaiter(client,
		func(o *rds.DBInstanceDeletedWaiterOptions) {
			o.MinDelay, o.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
		}).Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("orders")},
		5*time.Second))
	_, err = client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
		DBInstanceIdentifier: aws.String("orders")})
	require.True(t, isType[*types.DBInstanceNotFoundFault](err), "%v", err)

	snaps, err := client.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String("orders")})
	require.NoError(t, err)
	require.Len(t, snaps.DBSnapshots, 1, "the final snapshot stays, automated ones go")
	require.Equal(t, "orders-final", aws.ToString(snaps.DBSnapshots[0].DBSnapshotIdentifier))
	require.Equal(t, "available", aws.ToString(snaps.DBSnapshots[0].Status))
}

// auroraFixture creates a primary cluster with one instance in us-east-1,
// makes it a global database and adds a secondary in us-west-2.
func auroraFixture(t *testing.T, east, west *rds.Client) (primaryARN, secondaryARN string) {
	t.Helper()
	ctx := context.Background()
	out, err := east.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("ledger"), Engine: aws.String("aurora-postgresql"),
		MasterUsername: aws.String("app"), MasterUserPassword: aws.String("secret-password"),
	})
	require.NoError(t, err)
	primaryARN = aws.ToString(out.DBCluster.DBClusterArn)
	_, err = east.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("ledger-1"), DBClusterIdentifier: aws.String("ledger"),
		Engine: aws.String("aurora-postgresql"), DBInstanceClass: aws.String("db.r6g.large"),
	})
	require.NoError(t, err)
	waitCluster(t, east, "ledger", "available")

	_, err = east.CreateGlobalCluster(ctx, &rds.CreateGlobalClusterInput{
		GlobalClusterIdentifier:   aws.String("ledger-global"),
		SourceDBClusterIdentifier: aws.String(primaryARN),
	})
	require.NoError(t, err)

	out, err = west.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("ledger-west"), Engine: aws.String("aurora-postgresql"),
		GlobalClusterIdentifier: aws.String("ledger-global"),
	})
	require.NoError(t, err)
	secondaryARN = aws.ToString(out.DBCluster.DBClusterArn)
	_, err = west.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("ledger-west-1"),
		DBClusterIdentifier:  aws.String("ledger-west"),
		Engine:               aws.String("aurora-postgresql"),
		DBInstanceClass:      aws.String("db.r6g.large"),
	})
	require.NoError(t, err)
	waitCluster(t, west, "ledger-west", "available")
	return primaryARN, secondaryARN
}

func waitCluster(t *testing.T, client *rds.Client, id, status string) types.DBCluster {
	t.Helper()
	var got types.DBCluster
	require.Eventually(t, func() bool {
		out, err := client.DescribeDBClusters(context.Background(),
			&rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
		require.NoError(t, err)
		got = out.DBClusters[0]
		return aws.ToString(got.Status) == status
	}, 5*time.Second, 5*time.Millisecond, "cluster %s never became %s", id, status)
	return got
}

func describeGlobal(t *testing.T, client *rds.Client, id string) types.GlobalCluster {
	t.Helper()
	out, err := client.DescribeGlobalClusters(context.Background(),
		&rds.DescribeGlobalClustersInput{GlobalClusterIdentifier: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, out.GlobalClusters, 1)
	return out.GlobalClusters[0]
}

func globalWriter(g types.GlobalCluster) string {
	for _, m := range g.GlobalClusterMembers {
		if aws.ToBool(m.IsWriter) {
			return aws.ToString(m.DBClusterArn)
		}
	}
	return ""
}

// watchGlobal polls a global cluster until it is available again and
// returns the statuses it showed, starting with first.
func watchGlobal(t *testing.T, client *rds.Client, id, first string) []string {
	t.Helper()
	seen := []string{first}
	require.Eventually(t, func() bool {
		st := aws.ToString(describeGlobal(t, client, id).Status)
		if st != seen[len(seen)-1] {
			seen = append(seen, st)
		}
		return st == "available"
	}, 5*time.Second, 2*time.Millisecond)
	return seen
}

func TestRDSAuroraGlobalSwitchoverAndFailover(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	east := rdsClient(t, srv, "us-east-1", 1)
	west := rdsClient(t, srv, "us-west-2", 1)
	primaryARN, secondaryARN := auroraFixture(t, east, west)

	g := describeGlobal(t, west, "ledger-global")
	require.Equal(t, "available", aws.ToString(g.Status))
	require.Equal(t, primaryARN, globalWriter(g))
	require.Len(t, g.GlobalClusterMembers, 2)
	require.Equal(t, []string{secondaryARN}, g.GlobalClusterMembers[0].Readers)
	cl := waitCluster(t, west, "ledger-west", "available")
	require.Equal(t, "ledger-global", aws.ToString(cl.GlobalClusterIdentifier))
	require.False(t, aws.ToBool(cl.DBClusterMembers[0].IsClusterWriter))

	// A planned switchover moves the writer with no data loss.
	sw, err := west.SwitchoverGlobalCluster(ctx, &rds.SwitchoverGlobalClusterInput{
		GlobalClusterIdentifier:   aws.String("ledger-global"),
		TargetDbClusterIdentifier: aws.String(secondaryARN),
	})
	require.NoError(t, err)
	require.Equal(t, "switching-over", aws.ToString(sw.GlobalCluster.Status))
	require.Equal(t, secondaryARN, aws.ToString(sw.GlobalCluster.FailoverState.ToDbClusterArn))
	require.False(t, aws.ToBool(sw.GlobalCluster.FailoverState.IsDataLossAllowed))
	require.Equal(t, []string{"switching-over", "available"},
		watchGlobal(t, west, "ledger-global", "switching-over"))
	g = describeGlobal(t, east, "ledger-global")
	require.Equal(t, secondaryARN, globalWriter(g))
	require.Nil(t, g.FailoverState)
	require.True(t, aws.ToBool(waitCluster(t, west, "ledger-west", "available").
		DBClusterMembers[0].IsClusterWriter))
	require.False(t, aws.ToBool(waitCluster(t, east, "ledger", "available").
		DBClusterMembers[0].IsClusterWriter), "the old writer stays on as a reader")

	// FailoverGlobalCluster without AllowDataLoss is a switchover too.
	fo, err := east.FailoverGlobalCluster(ctx, &rds.FailoverGlobalClusterInput{
		GlobalClusterIdentifier:   aws.String("ledger-global"),
		TargetDbClusterIdentifier: aws.String(primaryARN),
	})
	require.NoError(t, err)
	require.Equal(t, "switching-over", aws.ToString(fo.GlobalCluster.Status))
	watchGlobal(t, east, "ledger-global", "switching-over")
	require.Equal(t, primaryARN, globalWriter(describeGlobal(t, east, "ledger-global")))

	// The unplanned failover, from the standby region.
	fo, err = west.FailoverGlobalCluster(ctx, &rds.FailoverGlobalClusterInput{
		GlobalClusterIdentifier:   aws.String("ledger-global"),
		TargetDbClusterIdentifier: aws.String(secondaryARN),
		AllowDataLoss:             aws.Bool(true),
	})
	require.NoError(t, err)
	require.Equal(t, "failing-over", aws.ToString(fo.GlobalCluster.Status))
	require.True(t, aws.ToBool(fo.GlobalCluster.FailoverState.IsDataLossAllowed))
	require.Equal(t, []string{"failing-over", "available"},
		watchGlobal(t, west, "ledger-global", "failing-over"))
	require.Equal(t, secondaryARN, globalWriter(describeGlobal(t, west, "ledger-global")))

	var globalStates []string
	for _, e := range srv.Sim.Events(time.Time{}) {
		if e.Resource == "global-cluster" {
			globalStates = append(globalStates, e.State)
		}
	}
	require.Equal(t, []string{"available", "switching-over", "available", "switching-over",
		"available", "failing-over", "available"}, globalStates)

	state := srv.Sim.Snapshot()
	west2 := state.Regions["us-west-2"].RDS
	require.Len(t, west2.GlobalClusters, 1)
	require.Equal(t, secondaryARN, west2.GlobalClusters[0].Writer)
	require.Equal(t, "ledger-west-1", west2.Clusters[0].Writer)

	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name    string
			target  string
			loss    *bool
			switch_ *bool
			check   func(error) bool
		}{
			{name: "already the writer", target: secondaryARN,
				check: isType[*types.InvalidGlobalClusterStateFault]},
			{name: "unknown cluster", target: "arn:aws:rds:eu-west-1:123456789012:cluster:x",
				check: isType[*types.DBClusterNotFoundFault]},
			{name: "data loss and switchover", target: primaryARN, loss: aws.Bool(true),
				switch_: aws.Bool(true), check: func(err error) bool {
					var apiErr smithy.APIError
					return errors.As(err, &apiErr) &&
						apiErr.ErrorCode() == "InvalidParameterCombination"
				}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := west.FailoverGlobalCluster(ctx, &rds.FailoverGlobalClusterInput{
					GlobalClusterIdentifier:   aws.String("ledger-global"),
					TargetDbClusterIdentifier: aws.String(tt.target),
					AllowDataLoss:             tt.loss, Switchover: tt.switch_,
				})
				require.Error(t, err)
				require.True(t, tt.check(err), "unexpected error %T: %v", err, err)
			})
		}
		_, err := west.SwitchoverGlobalCluster(ctx, &rds.SwitchoverGlobalClusterInput{
			GlobalClusterIdentifier:   aws.String("no-such-global"),
			TargetDbClusterIdentifier: aws.String(primaryARN),
		})
		require.True(t, isType[*types.GlobalClusterNotFoundFault](err), "%v", err)
	})
}

func TestRDSPromoteReadReplicaDBCluster(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	east := rdsClient(t, srv, "us-east-1", 1)
	west := rdsClient(t, srv, "us-west-2", 1)

	src, err := east.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("events"), Engine: aws.String("aurora-mysql"),
	})
	require.NoError(t, err)
	waitCluster(t, east, "events", "available")
	rep, err := west.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("events-west"), Engine: aws.String("aurora-mysql"),
		ReplicationSourceIdentifier: src.DBCluster.DBClusterArn,
	})
	require.NoError(t, err)
	replica := waitCluster(t, west, "events-west", "available")
	require.Equal(t, aws.ToString(src.DBCluster.DBClusterArn),
		aws.ToString(replica.ReplicationSourceIdentifier))
	require.Equal(t, []string{aws.ToString(rep.DBCluster.DBClusterArn)},
		waitCluster(t, east, "events", "available").ReadReplicaIdentifiers)

	_, err = east.PromoteReadReplicaDBCluster(ctx, &rds.PromoteReadReplicaDBClusterInput{
		DBClusterIdentifier: aws.String("events")})
	require.True(t, isType[*types.InvalidDBClusterStateFault](err), "%v", err)

	out, err := west.PromoteReadReplicaDBCluster(ctx, &rds.PromoteReadReplicaDBClusterInput{
		DBClusterIdentifier: aws.String("events-west")})
	require.NoError(t, err)
	require.Equal(t, "promoting", aws.ToString(out.DBCluster.Status))
	promoted := waitCluster(t, west, "events-west", "available")
	require.Nil(t, promoted.ReplicationSourceIdentifier)
	require.Empty(t, waitCluster(t, east, "events", "available").ReadReplicaIdentifiers)
	require.Equal(t, []string{"creating", "available", "promoting", "available"},
		eventStates(instanceEvents(srv, "us-west-2", "db-cluster", "events-west")))

	_, err = west.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{
		DBClusterIdentifier: aws.String("nope")})
	require.True(t, isType[*types.DBClusterNotFoundFault](err), "%v", err)
}

func TestRDSResourceFaults(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)
	createPrimary(t, client, "orders")
	waitInstance(t, client, "orders", "available")
	_, err := client.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String("orders-ro"),
		SourceDBInstanceIdentifier: aws.String("orders"),
	})
	require.NoError(t, err)
	waitInstance(t, client, "orders-ro", "available")

	t.Run("promotion fails", func(t *testing.T) {
		fault, err := srv.Sim.AddFault(awssim.Fault{Kind: awssim.FaultResource,
			ResourceFault: awssim.PromotionFails, Resource: "orders-ro"})
		require.NoError(t, err)
		_, err = client.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{
			DBInstanceIdentifier: aws.String("orders-ro")})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			states := eventStates(instanceEvents(srv, "us-east-1", "db-instance", "orders-ro"))
			return states[len(states)-1] == awssim.RDSPromotionFailed
		}, 5*time.Second, 5*time.Millisecond)

		got := describeInstance(t, client, "orders-ro")
		require.Equal(t, "available", aws.ToString(got.DBInstanceStatus))
		require.Equal(t, "orders", aws.ToString(got.ReadReplicaSourceDBInstanceIdentifier))
		require.Equal(t, []string{"creating", "available", "modifying", "promotion-failed"},
			eventStates(instanceEvents(srv, "us-east-1", "db-instance", "orders-ro")))

		_, err = client.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{
			DBInstanceIdentifier: aws.String("orders-ro")})
		require.True(t, isType[*types.InvalidDBInstanceStateFault](err), "%v", err)

		require.NoError(t, srv.Sim.RemoveFault(fault.ID))
		_, err = client.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{
			DBInstanceIdentifier: aws.String("orders-ro")})
		require.NoError(t, err)
		got = waitInstance(t, client, "orders-ro", "available")
		require.Nil(t, got.ReadReplicaSourceDBInstanceIdentifier)
	})

	t.Run("restore hangs", func(t *testing.T) {
		_, err := srv.Sim.AddFault(awssim.Fault{Kind: awssim.FaultResource,
			ResourceFault: awssim.RestoreHangs, Resource: "orders-stuck"})
		require.NoError(t, err)
		start := time.Now()
		_, err = client.RestoreDBInstanceToPointInTime(ctx,
			&rds.RestoreDBInstanceToPointInTimeInput{
				SourceDBInstanceIdentifier: aws.String("orders"),
				TargetDBInstanceIdentifier: aws.String("orders-stuck"),
				UseLatestRestorableTime:    aws.Bool(true),
			})
		require.NoError(t, err)
		_, err = client.RestoreDBInstanceToPointInTime(ctx,
			&rds.RestoreDBInstanceToPointInTimeInput{
				SourceDBInstanceIdentifier: aws.String("orders"),
				TargetDBInstanceIdentifier: aws.String("orders-fine"),
				UseLatestRestorableTime:    aws.Bool(true),
			})
		require.NoError(t, err)
		// The unfaulted restore started later and finishes; the other
		// stays creating well past any restore's duration.
		waitInstance(t, client, "orders-fine", "available")
		p := rdsProfile()
		require.Eventually(t, func() bool {
			return time.Since(start) > 2*p.Scaled(p.RDSRestore)
		}, 5*time.Second, 10*time.Millisecond)
		require.Equal(t, "creating",
			aws.ToString(describeInstance(t, client, "orders-stuck").DBInstanceStatus))
		require.Equal(t, []string{"creating"},
			eventStates(instanceEvents(srv, "us-east-1", "db-instance", "orders-stuck")))
	})
}

func TestRDSGlobalSwitchoverFails(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	east := rdsClient(t, srv, "us-east-1", 1)
	west := rdsClient(t, srv, "us-west-2", 1)
	primaryARN, secondaryARN := auroraFixture(t, east, west)

	_, err := srv.Sim.AddFault(awssim.Fault{Kind: awssim.FaultResource,
		ResourceFault: awssim.PromotionFails, Resource: "ledger-global"})
	require.NoError(t, err)
	_, err = west.SwitchoverGlobalCluster(ctx, &rds.SwitchoverGlobalClusterInput{
		GlobalClusterIdentifier:   aws.String("ledger-global"),
		TargetDbClusterIdentifier: aws.String(secondaryARN),
	})
	require.NoError(t, err)
	watchGlobal(t, west, "ledger-global", "switching-over")
	require.Equal(t, primaryARN, globalWriter(describeGlobal(t, west, "ledger-global")))

	var last awssim.Event
	for _, e := range srv.Sim.Events(time.Time{}) {
		if e.Resource == "global-cluster" {
			last = e
		}
	}
	require.Equal(t, awssim.RDSSwitchoverFailed, last.State)

	_, err = west.SwitchoverGlobalCluster(ctx, &rds.SwitchoverGlobalClusterInput{
		GlobalClusterIdentifier:   aws.String("ledger-global"),
		TargetDbClusterIdentifier: aws.String(secondaryARN),
	})
	require.True(t, isType[*types.InvalidGlobalClusterStateFault](err), "%v", err)
}

// rawRDS posts a form to the simulator as an RDS client in us-east-1
// would, and decodes the Query error document it answers with.
func rawRDS(t *testing.T, srv *awssim.Server, body string) (int, string, rdsErrorDoc) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", fakeAuth("us-east-1", "rds"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var doc rdsErrorDoc
	if resp.StatusCode != http.StatusOK {
		require.NoError(t, xml.Unmarshal(raw, &doc), "body: %s", raw)
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-Requestid"), doc
}

type rdsErrorDoc struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

func TestRDSProtocolErrors(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())

	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{name: "malformed form", body: "Action=%zz", status: 400, code: "MalformedQueryString"},
		{name: "missing action", body: "Version=2014-10-31", status: 400, code: "MissingAction"},
		{name: "unknown action", body: "Action=DescribeEverything&Version=2014-10-31",
			status: 400, code: "InvalidAction"},
		{name: "missing parameter", body: "Action=PromoteReadReplica&Version=2014-10-31",
			status: 400, code: "MissingParameter"},
		{name: "unknown instance", body: url.Values{
			"Action": {"DescribeDBInstances"}, "Version": {"2014-10-31"},
			"DBInstanceIdentifier": {"nope"}}.Encode(),
			status: 404, code: "DBInstanceNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, reqID, doc := rawRDS(t, srv, tt.body)
			require.Equal(t, tt.status, status)
			require.Equal(t, tt.code, doc.Error.Code)
			require.Equal(t, "Sender", doc.Error.Type)
			require.NotEmpty(t, doc.Error.Message)
			require.Equal(t, reqID, doc.RequestID)
		})
	}

	calls, err := awssim.NewControl(srv.URL).Calls(context.Background())
	require.NoError(t, err)
	counts := map[string]int64{}
	for _, c := range calls {
		counts[c.Operation] = c.Count
	}
	require.Equal(t, int64(3), counts["unknown"], "missing, malformed and unknown actions")
	require.Equal(t, int64(1), counts["PromoteReadReplica"])

	t.Run("typed error through the SDK", func(t *testing.T) {
		client := rdsClient(t, srv, "us-east-1", 1)
		_, err := client.DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{
			DBInstanceIdentifier: aws.String("nope")})
		var notFound *types.DBInstanceNotFoundFault
		require.ErrorAs(t, err, &notFound)
		require.Equal(t, "DBInstance nope not found.", notFound.ErrorMessage())
	})
}

func TestRDSThrottleRetried(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	ctl := awssim.NewControl(srv.URL)
	_, err := ctl.AddFault(ctx, awssim.Fault{Kind: awssim.FaultThrottle, Region: "us-east-1",
		Service: awssim.ServiceRDS, Operation: "DescribeDBInstances", PerSecond: 50, Burst: 1})
	require.NoError(t, err)

	calls := func() int64 {
		list, err := ctl.Calls(ctx)
		require.NoError(t, err)
		for _, c := range list {
			if c.Operation == "DescribeDBInstances" {
				return c.Count
			}
		}
		return 0
	}

	noRetry := rdsClient(t, srv, "us-east-1", 1)
	_, err = noRetry.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.NoError(t, err, "the burst lets the first call through")
	_, err = noRetry.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.Equal(t, "Throttling", errorCode(t, err))
	require.Equal(t, int64(2), calls())

	// With retries the SDK backs off and gets through every time: each
	// backoff outlasts the 20 ms the throttle takes to allow a call.
	retrying := rds.NewFromConfig(awsConfig(t, srv, "us-east-1", 5), func(o *rds.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 5
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				return 25 * time.Millisecond, nil
			})
		})
	})
	for range 5 {
		_, err := retrying.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
		require.NoError(t, err)
	}
	require.Greater(t, calls(), int64(2+5), "throttled attempts were retried")
}

// renameInstance renames id to newID at once, as a failback does with the
// old writer, and returns the instance as the call described it.
func renameInstance(t *testing.T, client *rds.Client, id, newID string) types.DBInstance {
	t.Helper()
	out, err := client.ModifyDBInstance(context.Background(), &rds.ModifyDBInstanceInput{
		DBInstanceIdentifier:    aws.String(id),
		NewDBInstanceIdentifier: aws.String(newID),
		ApplyImmediately:        aws.Bool(true),
	})
	require.NoError(t, err)
	return *out.DBInstance
}

func TestRDSRenameInstance(t *testing.T) {
	t.Parallel()
	p := rdsProfile()
	srv := startSim(t, p)
	ctx := context.Background()
	east := rdsClient(t, srv, "us-east-1", 1)
	west := rdsClient(t, srv, "us-west-2", 1)

	primary := createPrimary(t, east, "orders")
	createPrimary(t, west, "orders")
	waitInstance(t, east, "orders", "available")
	before := waitInstance(t, west, "orders", "available")

	got := renameInstance(t, west, "orders", "orders-stale")
	require.Equal(t, "orders-stale", aws.ToString(got.DBInstanceIdentifier))
	require.Equal(t, "renaming", aws.ToString(got.DBInstanceStatus))
	require.Nil(t, got.PendingModifiedValues.DBInstanceIdentifier)

	// The old identifier is free as soon as the call returns.
	_, err := west.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
		DBInstanceIdentifier: aws.String("orders")})
	require.True(t, isType[*types.DBInstanceNotFoundFault](err), "%v", err)

	after := waitInstance(t, west, "orders-stale", "available")
	require.Equal(t, "arn:aws:rds:us-west-2:123456789012:db:orders-stale",
		aws.ToString(after.DBInstanceArn))
	require.Equal(t, aws.ToString(before.DbiResourceId), aws.ToString(after.DbiResourceId))
	require.NotEqual(t, aws.ToString(before.Endpoint.Address), aws.ToString(after.Endpoint.Address))
	require.True(t, strings.HasPrefix(aws.ToString(after.Endpoint.Address), "orders-stale."))
	require.Equal(t, "orders-private", aws.ToString(after.DBSubnetGroup.DBSubnetGroupName))

	// "renaming" is recorded under the old identifier and "available"
	// under the new one, the profile's modify time apart.
	oldEvents := instanceEvents(srv, "us-west-2", "db-instance", "orders")
	newEvents := instanceEvents(srv, "us-west-2", "db-instance", "orders-stale")
	require.Equal(t, []string{"creating", "backing-up", "available", "renaming"},
		eventStates(oldEvents))
	require.Equal(t, []string{"available"}, eventStates(newEvents))
	requireWithinJitter(t, p, p.RDSModify, newEvents[0].At.Sub(oldEvents[3].At))

	// The automated snapshot follows the instance.
	snaps, err := west.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String("orders-stale"), SnapshotType: aws.String("automated")})
	require.NoError(t, err)
	require.Len(t, snaps.DBSnapshots, 1)
	require.Equal(t, aws.ToString(after.DbiResourceId),
		aws.ToString(snaps.DBSnapshots[0].DbiResourceId))
	snaps, err = west.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String("orders")})
	require.NoError(t, err)
	require.Empty(t, snaps.DBSnapshots)

	// The freed identifier takes a replica of the other region's writer.
	_, err = west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String("orders"),
		SourceDBInstanceIdentifier: primary.DBInstanceArn,
		SourceRegion:               aws.String("us-east-1"),
	})
	require.NoError(t, err)
	replica := waitInstance(t, west, "orders", "available")
	require.Equal(t, aws.ToString(primary.DBInstanceArn),
		aws.ToString(replica.ReadReplicaSourceDBInstanceIdentifier))
	require.NotEqual(t, aws.ToString(after.DbiResourceId), aws.ToString(replica.DbiResourceId))
	require.Equal(t, []string{aws.ToString(replica.DBInstanceArn)},
		describeInstance(t, east, "orders").ReadReplicaDBInstanceIdentifiers)

	var ids []string
	for _, i := range srv.Sim.Snapshot().Regions["us-west-2"].RDS.Instances {
		ids = append(ids, i.ID+"="+i.Status)
	}
	require.Equal(t, []string{"orders=available", "orders-stale=available"}, ids)
}

func TestRDSRenameReplicationPeers(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	east := rdsClient(t, srv, "us-east-1", 1)
	west := rdsClient(t, srv, "us-west-2", 1)

	primary := createPrimary(t, east, "orders")
	waitInstance(t, east, "orders", "available")
	_, err := west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String("orders-west"),
		SourceDBInstanceIdentifier: primary.DBInstanceArn,
		SourceRegion:               aws.String("us-east-1"),
	})
	require.NoError(t, err)
	_, err = east.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String("orders-ro"),
		SourceDBInstanceIdentifier: aws.String("orders"),
	})
	require.NoError(t, err)
	waitInstance(t, west, "orders-west", "available")
	waitInstance(t, east, "orders-ro", "available")

	// A renamed replica is listed by its source under its new ARN.
	renameInstance(t, west, "orders-west", "orders-west-2")
	replica := waitInstance(t, west, "orders-west-2", "available")
	require.Equal(t, aws.ToString(primary.DBInstanceArn),
		aws.ToString(replica.ReadReplicaSourceDBInstanceIdentifier))
	require.ElementsMatch(t, []string{"orders-ro", aws.ToString(replica.DBInstanceArn)},
		describeInstance(t, east, "orders").ReadReplicaDBInstanceIdentifiers)

	// A renamed source is named anew by its replicas in either region.
	renamed := renameInstance(t, east, "orders", "orders-main")
	waitInstance(t, east, "orders-main", "available")
	require.Equal(t, "arn:aws:rds:us-east-1:123456789012:db:orders-main",
		aws.ToString(renamed.DBInstanceArn))
	require.Equal(t, "orders-main", aws.ToString(
		describeInstance(t, east, "orders-ro").ReadReplicaSourceDBInstanceIdentifier))
	require.Equal(t, aws.ToString(renamed.DBInstanceArn), aws.ToString(
		describeInstance(t, west, "orders-west-2").ReadReplicaSourceDBInstanceIdentifier))

	westState := srv.Sim.Snapshot().Regions["us-west-2"].RDS.Instances
	require.Len(t, westState, 1)
	require.Equal(t, aws.ToString(renamed.DBInstanceArn), westState[0].ReplicationSource)
}

func TestRDSRenameRefused(t *testing.T) {
	t.Parallel()
	// A manual snapshot keeps its instance backing up for the whole test.
	p := rdsProfile()
	p.RDSSnapshot = awssim.Duration(24 * time.Hour)
	srv := startSim(t, p)
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)

	createPrimary(t, client, "orders")
	createPrimary(t, client, "billing")
	createPrimary(t, client, "busy")
	waitInstance(t, client, "orders", "available")
	waitInstance(t, client, "billing", "available")
	waitInstance(t, client, "busy", "available")
	_, err := client.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String("busy"),
		DBSnapshotIdentifier: aws.String("busy-manual"),
	})
	require.NoError(t, err)

	tests := []struct {
		name      string
		id, newID string
		want      func(error) bool
		msg       string
	}{
		{
			name: "identifier in use", id: "orders", newID: "billing",
			want: isType[*types.DBInstanceAlreadyExistsFault],
			msg:  "DB instance billing already exists",
		},
		{
			name: "own identifier", id: "orders", newID: "ORDERS",
			want: isType[*types.DBInstanceAlreadyExistsFault],
			msg:  "DB instance orders already exists",
		},
		{
			name: "invalid identifier", id: "orders", newID: "orders--old",
			want: func(err error) bool { return errorCode(t, err) == "InvalidParameterValue" },
			msg:  "NewDBInstanceIdentifier is not a valid identifier",
		},
		{
			name: "not available", id: "busy", newID: "busy-old",
			want: isType[*types.InvalidDBInstanceStateFault],
			msg:  "DB instance busy is backing-up",
		},
		{
			name: "unknown", id: "nope", newID: "nope-old",
			want: isType[*types.DBInstanceNotFoundFault],
			msg:  "DBInstance nope not found.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{
				DBInstanceIdentifier:    aws.String(tt.id),
				NewDBInstanceIdentifier: aws.String(tt.newID),
				ApplyImmediately:        aws.Bool(true),
			})
			require.Error(t, err)
			require.True(t, tt.want(err), "unexpected error %T: %v", err, err)
			require.Contains(t, err.Error(), tt.msg)
		})
	}
	require.Equal(t, "available", aws.ToString(describeInstance(t, client, "orders").DBInstanceStatus))

	// Without ApplyImmediately the rename waits for a maintenance window,
	// which never comes in the simulator.
	out, err := client.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{
		DBInstanceIdentifier:    aws.String("orders"),
		NewDBInstanceIdentifier: aws.String("orders-old"),
	})
	require.NoError(t, err)
	require.Equal(t, "orders", aws.ToString(out.DBInstance.DBInstanceIdentifier))
	require.Equal(t, "available", aws.ToString(out.DBInstance.DBInstanceStatus))
	require.Equal(t, "orders-old",
		aws.ToString(out.DBInstance.PendingModifiedValues.DBInstanceIdentifier))
	_, err = client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
		DBInstanceIdentifier: aws.String("orders-old")})
	require.True(t, isType[*types.DBInstanceNotFoundFault](err), "%v", err)
	require.Equal(t, "orders-old", aws.ToString(
		describeInstance(t, client, "orders").PendingModifiedValues.DBInstanceIdentifier))
}
