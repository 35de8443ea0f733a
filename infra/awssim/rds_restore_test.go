package awssim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/infra/awssim"
)

// Waiter delays short enough for the tests' profile; the SDK's defaults
// poll every 30 seconds.
const (
	waitMin = 5 * time.Millisecond
	waitMax = 20 * time.Millisecond
	waitFor = 5 * time.Second
)

// createLedger creates an Aurora cluster with its own network,
// configuration and tags, the settings a correct restore must carry
// over, and one instance; it returns the cluster once available.
func createLedger(t *testing.T, client *rds.Client, id string, protect bool) types.DBCluster {
	t.Helper()
	ctx := context.Background()
	_, err := client.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier:         aws.String(id),
		Engine:                      aws.String("aurora-postgresql"),
		EngineVersion:               aws.String("15.6"),
		MasterUsername:              aws.String("app"),
		MasterUserPassword:          aws.String("secret-password"),
		DatabaseName:                aws.String("ledger"),
		Port:                        aws.Int32(6432),
		DBSubnetGroupName:           aws.String("ledger-private"),
		VpcSecurityGroupIds:         []string{"sg-1a", "sg-2b"},
		DBClusterParameterGroupName: aws.String("ledger-apg15"),
		BackupRetentionPeriod:       aws.Int32(7),
		StorageEncrypted:            aws.Bool(true),
		DeletionProtection:          aws.Bool(protect),
		CopyTagsToSnapshot:          aws.Bool(true),
		Tags:                        []types.Tag{{Key: aws.String("app"), Value: aws.String("ledger")}},
	})
	require.NoError(t, err)
	_, err = client.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id + "-1"), DBClusterIdentifier: aws.String(id),
		Engine: aws.String("aurora-postgresql"), DBInstanceClass: aws.String("db.r6g.large"),
	})
	require.NoError(t, err)
	return waitClusterAvailable(t, client, id)
}

func waitClusterAvailable(t *testing.T, client *rds.Client, id string) types.DBCluster {
	t.Helper()
	out, err := rds.NewDBClusterAvailableWaiter(client,
		func(o *rds.DBClusterAvailableWaiterOptions) { o.MinDelay, o.MaxDelay = waitMin, waitMax },
	).WaitForOutput(context.Background(),
		&rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)}, waitFor)
	require.NoError(t, err)
	return out.DBClusters[0]
}

func waitClusterDeleted(t *testing.T, client *rds.Client, id string) {
	t.Helper()
	require.NoError(t, rds.NewDBClusterDeletedWaiter(client,
		func(o *rds.DBClusterDeletedWaiterOptions) { o.MinDelay, o.MaxDelay = waitMin, waitMax },
	).Wait(context.Background(),
		&rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)}, waitFor))
}

func waitInstanceAvailable(t *testing.T, client *rds.Client, id string) {
	t.Helper()
	require.NoError(t, rds.NewDBInstanceAvailableWaiter(client,
		func(o *rds.DBInstanceAvailableWaiterOptions) { o.MinDelay, o.MaxDelay = waitMin, waitMax },
	).Wait(context.Background(),
		&rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, waitFor))
}

func waitClusterSnapshots(t *testing.T, client *rds.Client,
	in *rds.DescribeDBClusterSnapshotsInput) {
	t.Helper()
	require.NoError(t, rds.NewDBClusterSnapshotAvailableWaiter(client,
		func(o *rds.DBClusterSnapshotAvailableWaiterOptions) {
			o.MinDelay, o.MaxDelay = waitMin, waitMax
		}).Wait(context.Background(), in, waitFor))
}

func describeCluster(t *testing.T, client *rds.Client, id string) types.DBCluster {
	t.Helper()
	out, err := client.DescribeDBClusters(context.Background(),
		&rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	require.NoError(t, err)
	require.Len(t, out.DBClusters, 1)
	return out.DBClusters[0]
}

// clusterView is what a restore copies or resets, as DescribeDBClusters
// reports it.
type clusterView struct {
	Engine, EngineVersion, MasterUsername, DatabaseName string
	Port                                                int32
	StorageEncrypted                                    bool
	SubnetGroup, ParameterGroup                         string
	SecurityGroups                                      []string
	BackupRetention                                     int32
	DeletionProtection, CopyTagsToSnapshot              bool
	Tags                                                map[string]string
}

func viewCluster(cl types.DBCluster) clusterView {
	v := clusterView{
		Engine:             aws.ToString(cl.Engine),
		EngineVersion:      aws.ToString(cl.EngineVersion),
		MasterUsername:     aws.ToString(cl.MasterUsername),
		DatabaseName:       aws.ToString(cl.DatabaseName),
		Port:               aws.ToInt32(cl.Port),
		StorageEncrypted:   aws.ToBool(cl.StorageEncrypted),
		SubnetGroup:        aws.ToString(cl.DBSubnetGroup),
		ParameterGroup:     aws.ToString(cl.DBClusterParameterGroup),
		BackupRetention:    aws.ToInt32(cl.BackupRetentionPeriod),
		DeletionProtection: aws.ToBool(cl.DeletionProtection),
		CopyTagsToSnapshot: aws.ToBool(cl.CopyTagsToSnapshot),
		Tags:               map[string]string{},
	}
	for _, sg := range cl.VpcSecurityGroups {
		v.SecurityGroups = append(v.SecurityGroups, aws.ToString(sg.VpcSecurityGroupId))
	}
	for _, tag := range cl.TagList {
		v.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return v
}

// withDefaults is what RDS gives a restored cluster whose request names
// none of the settings that a restore resets.
func withDefaults(v clusterView) clusterView {
	v.SubnetGroup = "default"
	v.ParameterGroup = "default.aurora-postgresql15"
	v.SecurityGroups = []string{"sg-default"}
	v.DeletionProtection, v.CopyTagsToSnapshot = false, false
	v.Tags = map[string]string{}
	return v
}

// eventAt returns when a resource first reached state.
func eventAt(t *testing.T, srv *awssim.Server, kind, id, state string) time.Time {
	t.Helper()
	for _, e := range instanceEvents(srv, "us-east-1", kind, id) {
		if e.State == state {
			return e.At
		}
	}
	require.Failf(t, "no event", "%s %s never became %s", kind, id, state)
	return time.Time{}
}

func clusterMembers(cl types.DBCluster) map[string]bool {
	out := map[string]bool{}
	for _, m := range cl.DBClusterMembers {
		out[aws.ToString(m.DBInstanceIdentifier)] = aws.ToBool(m.IsClusterWriter)
	}
	return out
}

func TestRDSClusterSnapshotRestore(t *testing.T) {
	t.Parallel()
	p := rdsProfile()
	srv := startSim(t, p)
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)
	original := viewCluster(createLedger(t, client, "ledger", true))

	out, err := client.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{
		DBClusterIdentifier:         aws.String("ledger"),
		DBClusterSnapshotIdentifier: aws.String("ledger-nightly"),
	})
	require.NoError(t, err)
	snap := out.DBClusterSnapshot
	require.Equal(t, "creating", aws.ToString(snap.Status))
	require.Equal(t, "manual", aws.ToString(snap.SnapshotType))
	require.Equal(t, "ledger", aws.ToString(snap.DBClusterIdentifier))
	require.Equal(t, "15.6", aws.ToString(snap.EngineVersion))
	require.True(t, aws.ToBool(snap.StorageEncrypted))
	require.Equal(t, []types.Tag{{Key: aws.String("app"), Value: aws.String("ledger")}},
		snap.TagList, "the cluster copies its tags to snapshots")
	require.Equal(t, "backing-up", aws.ToString(describeCluster(t, client, "ledger").Status))

	_, err = client.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{
		DBClusterIdentifier: aws.String("ledger-early"), Engine: aws.String("aurora-postgresql"),
		SnapshotIdentifier: aws.String("ledger-nightly"),
	})
	require.True(t, isType[*types.InvalidDBClusterSnapshotStateFault](err), "%v", err)
	_, err = client.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{
		DBClusterIdentifier:         aws.String("ledger"),
		DBClusterSnapshotIdentifier: aws.String("ledger-second"),
	})
	require.True(t, isType[*types.InvalidDBClusterStateFault](err), "%v", err)

	waitClusterSnapshots(t, client, &rds.DescribeDBClusterSnapshotsInput{
		DBClusterSnapshotIdentifier: aws.String("ledger-nightly")})
	waitClusterAvailable(t, client, "ledger")
	requireWithinJitter(t, p, p.RDSSnapshot,
		eventAt(t, srv, "db-cluster-snapshot", "ledger-nightly", "available").Sub(
			eventAt(t, srv, "db-cluster-snapshot", "ledger-nightly", "creating")))

	tests := []struct {
		name  string
		input rds.RestoreDBClusterFromSnapshotInput
		want  clusterView
	}{
		{
			name:  "defaults",
			input: rds.RestoreDBClusterFromSnapshotInput{},
			want:  withDefaults(original),
		},
		{
			name: "settings copied from the original",
			input: rds.RestoreDBClusterFromSnapshotInput{
				DBSubnetGroupName:           aws.String("ledger-private"),
				VpcSecurityGroupIds:         []string{"sg-1a", "sg-2b"},
				DBClusterParameterGroupName: aws.String("ledger-apg15"),
				DeletionProtection:          aws.Bool(true),
				CopyTagsToSnapshot:          aws.Bool(true),
				Tags: []types.Tag{
					{Key: aws.String("app"), Value: aws.String("ledger")},
				},
			},
			want: original,
		},
	}
	for n, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("ledger-restored-%d", n)
			in := tt.input
			in.DBClusterIdentifier = aws.String(id)
			in.SnapshotIdentifier = aws.String("ledger-nightly")
			in.Engine = aws.String("aurora-postgresql")
			out, err := client.RestoreDBClusterFromSnapshot(ctx, &in)
			require.NoError(t, err)
			require.Equal(t, "creating", aws.ToString(out.DBCluster.Status))
			require.Empty(t, out.DBCluster.DBClusterMembers)

			got := waitClusterAvailable(t, client, id)
			require.Equal(t, tt.want, viewCluster(got))
			require.Equal(t, []string{"creating", "available"},
				eventStates(instanceEvents(srv, "us-east-1", "db-cluster", id)))
			available := eventAt(t, srv, "db-cluster", id, "available")
			requireWithinJitter(t, p, p.RDSRestore,
				available.Sub(eventAt(t, srv, "db-cluster", id, "creating")))

			// Its automated backups start as it becomes available.
			auto, err := client.DescribeDBClusterSnapshots(ctx,
				&rds.DescribeDBClusterSnapshotsInput{
					DBClusterIdentifier: aws.String(id), SnapshotType: aws.String("automated")})
			require.NoError(t, err)
			require.Len(t, auto.DBClusterSnapshots, 1)
			autoID := aws.ToString(auto.DBClusterSnapshots[0].DBClusterSnapshotIdentifier)
			require.True(t, strings.HasPrefix(autoID, "rds:"+id+"-"), autoID)
			require.Equal(t, available, eventAt(t, srv, "db-cluster-snapshot", autoID, "creating"))
		})
	}

	t.Run("first instance becomes the writer", func(t *testing.T) {
		for _, id := range []string{"ledger-copy-1", "ledger-copy-2"} {
			_, err := client.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
				DBInstanceIdentifier: aws.String(id),
				DBClusterIdentifier:  aws.String("ledger-restored-1"),
				Engine:               aws.String("aurora-postgresql"),
				DBInstanceClass:      aws.String("db.r6g.large"),
			})
			require.NoError(t, err)
		}
		waitInstanceAvailable(t, client, "ledger-copy-1")
		waitInstanceAvailable(t, client, "ledger-copy-2")

		inst := describeInstance(t, client, "ledger-copy-1")
		require.Equal(t, "ledger-restored-1", aws.ToString(inst.DBClusterIdentifier))
		require.Equal(t, "15.6", aws.ToString(inst.EngineVersion))
		require.Equal(t, "ledger-private", aws.ToString(inst.DBSubnetGroup.DBSubnetGroupName))
		require.Equal(t, map[string]bool{"ledger-copy-1": true, "ledger-copy-2": false},
			clusterMembers(describeCluster(t, client, "ledger-restored-1")))

		var writer string
		for _, cl := range srv.Sim.Snapshot().Regions["us-east-1"].RDS.Clusters {
			if cl.ID == "ledger-restored-1" {
				writer = cl.Writer
			}
		}
		require.Equal(t, "ledger-copy-1", writer)
	})

	t.Run("errors", func(t *testing.T) {
		restore := func(id, snapshot, engine string) error {
			_, err := client.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{
				DBClusterIdentifier: aws.String(id), SnapshotIdentifier: aws.String(snapshot),
				Engine: aws.String(engine),
			})
			return err
		}
		err := restore("ledger", "ledger-nightly", "aurora-postgresql")
		require.True(t, isType[*types.DBClusterAlreadyExistsFault](err), "%v", err)
		err = restore("ledger-x", "no-such-snapshot", "aurora-postgresql")
		require.True(t, isType[*types.DBClusterSnapshotNotFoundFault](err), "%v", err)
		err = restore("ledger-x", "ledger-nightly", "aurora-mysql")
		require.Equal(t, "InvalidParameterCombination", errorCode(t, err))
		err = restore("Bad--Name", "ledger-nightly", "aurora-postgresql")
		require.Equal(t, "InvalidParameterValue", errorCode(t, err))

		_, err = client.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{
			DBClusterIdentifier:         aws.String("ledger"),
			DBClusterSnapshotIdentifier: aws.String("ledger-nightly"),
		})
		require.True(t, isType[*types.DBClusterSnapshotAlreadyExistsFault](err), "%v", err)
		_, err = client.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{
			DBClusterIdentifier:         aws.String("nope"),
			DBClusterSnapshotIdentifier: aws.String("nope-nightly"),
		})
		require.True(t, isType[*types.DBClusterNotFoundFault](err), "%v", err)
	})
}

func TestRDSClusterPointInTimeRestore(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)

	// A cluster has no restorable time until its first backup is done.
	_, err := client.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("fresh"), Engine: aws.String("aurora-postgresql"),
	})
	require.NoError(t, err)
	_, err = client.RestoreDBClusterToPointInTime(ctx, &rds.RestoreDBClusterToPointInTimeInput{
		DBClusterIdentifier:       aws.String("fresh-copy"),
		SourceDBClusterIdentifier: aws.String("fresh"),
		UseLatestRestorableTime:   aws.Bool(true),
	})
	require.True(t, isType[*types.InvalidDBClusterStateFault](err), "%v", err)

	original := createLedger(t, client, "ledger", false)
	waitClusterSnapshots(t, client, &rds.DescribeDBClusterSnapshotsInput{
		DBClusterIdentifier: aws.String("ledger"), SnapshotType: aws.String("automated")})
	src := describeCluster(t, client, "ledger")
	require.NotNil(t, src.EarliestRestorableTime)
	require.NotNil(t, src.LatestRestorableTime)
	earliest := *src.EarliestRestorableTime
	require.False(t, src.LatestRestorableTime.Before(earliest))

	auto, err := client.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{
		DBClusterIdentifier: aws.String("ledger"), SnapshotType: aws.String("automated")})
	require.NoError(t, err)
	require.Len(t, auto.DBClusterSnapshots, 1)
	autoID := aws.ToString(auto.DBClusterSnapshots[0].DBClusterSnapshotIdentifier)
	require.True(t, strings.HasPrefix(autoID, "rds:ledger-"), autoID)
	require.Equal(t, eventAt(t, srv, "db-cluster", "ledger", "available"),
		eventAt(t, srv, "db-cluster-snapshot", autoID, "creating"))
	require.WithinDuration(t, eventAt(t, srv, "db-cluster-snapshot", autoID, "available"),
		earliest, time.Millisecond, "restores reach back to the end of the first backup")

	restored := 0
	ok := []struct {
		name  string
		input rds.RestoreDBClusterToPointInTimeInput
		want  clusterView
	}{
		{
			name: "to a time in the window",
			input: rds.RestoreDBClusterToPointInTimeInput{
				SourceDBClusterIdentifier: aws.String("ledger"), RestoreToTime: aws.Time(earliest)},
			want: withDefaults(viewCluster(original)),
		},
		{
			name: "to the latest time, by resource id",
			input: rds.RestoreDBClusterToPointInTimeInput{
				SourceDbClusterResourceId: src.DbClusterResourceId,
				UseLatestRestorableTime:   aws.Bool(true)},
			want: withDefaults(viewCluster(original)),
		},
		{
			name: "with the original's settings",
			input: rds.RestoreDBClusterToPointInTimeInput{
				SourceDBClusterIdentifier:   aws.String("ledger"),
				UseLatestRestorableTime:     aws.Bool(true),
				DBSubnetGroupName:           aws.String("ledger-private"),
				VpcSecurityGroupIds:         []string{"sg-1a", "sg-2b"},
				DBClusterParameterGroupName: aws.String("ledger-apg15"),
				CopyTagsToSnapshot:          aws.Bool(true),
				Tags:                        []types.Tag{{Key: aws.String("app"), Value: aws.String("ledger")}},
			},
			want: viewCluster(original),
		},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			restored++
			id := fmt.Sprintf("ledger-pitr-%d", restored)
			in := tt.input
			in.DBClusterIdentifier = aws.String(id)
			_, err := client.RestoreDBClusterToPointInTime(ctx, &in)
			require.NoError(t, err)
			require.Equal(t, tt.want, viewCluster(waitClusterAvailable(t, client, id)))
		})
	}

	refused := []struct {
		name  string
		input rds.RestoreDBClusterToPointInTimeInput
		code  string
	}{
		{
			name: "before the window",
			input: rds.RestoreDBClusterToPointInTimeInput{
				SourceDBClusterIdentifier: aws.String("ledger"),
				RestoreToTime:             aws.Time(earliest.Add(-time.Minute))},
			code: "InvalidParameterValue",
		},
		{
			name: "after the window",
			input: rds.RestoreDBClusterToPointInTimeInput{
				SourceDBClusterIdentifier: aws.String("ledger"),
				RestoreToTime:             aws.Time(time.Now().Add(time.Hour))},
			code: "InvalidParameterValue",
		},
		{
			name: "time and latest",
			input: rds.RestoreDBClusterToPointInTimeInput{
				SourceDBClusterIdentifier: aws.String("ledger"),
				RestoreToTime:             aws.Time(earliest), UseLatestRestorableTime: aws.Bool(true)},
			code: "InvalidParameterCombination",
		},
		{
			name: "neither time nor latest",
			input: rds.RestoreDBClusterToPointInTimeInput{
				SourceDBClusterIdentifier: aws.String("ledger")},
			code: "InvalidParameterCombination",
		},
		{
			name: "unknown source",
			input: rds.RestoreDBClusterToPointInTimeInput{
				SourceDBClusterIdentifier: aws.String("nope"), UseLatestRestorableTime: aws.Bool(true)},
			code: "DBClusterNotFoundFault",
		},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.input
			in.DBClusterIdentifier = aws.String("ledger-refused")
			_, err := client.RestoreDBClusterToPointInTime(ctx, &in)
			require.Equal(t, tt.code, errorCode(t, err))
		})
	}
	_, err = client.RestoreDBClusterToPointInTime(ctx, &rds.RestoreDBClusterToPointInTimeInput{
		DBClusterIdentifier:       aws.String("ledger-pitr-1"),
		SourceDBClusterIdentifier: aws.String("ledger"), UseLatestRestorableTime: aws.Bool(true),
	})
	require.True(t, isType[*types.DBClusterAlreadyExistsFault](err), "%v", err)
}

func TestRDSClusterSnapshotPagination(t *testing.T) {
	t.Parallel()
	srv := startSim(t, rdsProfile())
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)

	const clusters = 25
	for n := range clusters {
		_, err := client.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
			DBClusterIdentifier: aws.String(fmt.Sprintf("c-%02d", n)),
			Engine:              aws.String("aurora-mysql"),
		})
		require.NoError(t, err)
	}
	for n := range clusters {
		id := fmt.Sprintf("c-%02d", n)
		waitClusterAvailable(t, client, id)
		_, err := client.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{
			DBClusterIdentifier:         aws.String(id),
			DBClusterSnapshotIdentifier: aws.String(id + "-manual"),
		})
		require.NoError(t, err)
	}

	pages := func(in *rds.DescribeDBClusterSnapshotsInput) (sizes []int, ids []string) {
		pager := rds.NewDescribeDBClusterSnapshotsPaginator(client, in)
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			require.NoError(t, err)
			sizes = append(sizes, len(page.DBClusterSnapshots))
			for _, s := range page.DBClusterSnapshots {
				ids = append(ids, aws.ToString(s.DBClusterSnapshotIdentifier))
			}
		}
		return sizes, ids
	}

	sizes, ids := pages(&rds.DescribeDBClusterSnapshotsInput{
		SnapshotType: aws.String("manual"), MaxRecords: aws.Int32(20)})
	require.Equal(t, []int{20, 5}, sizes)
	require.Equal(t, "c-00-manual", ids[0])
	require.Equal(t, "c-24-manual", ids[24])
	require.IsIncreasing(t, ids)

	sizes, ids = pages(&rds.DescribeDBClusterSnapshotsInput{MaxRecords: aws.Int32(20)})
	require.Equal(t, []int{20, 20, 10}, sizes, "automated and manual")
	require.IsIncreasing(t, ids)

	_, ids = pages(&rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String("c-03")})
	require.Len(t, ids, 2)
	require.Equal(t, "c-03-manual", ids[0])
	require.True(t, strings.HasPrefix(ids[1], "rds:c-03-"), ids[1])

	_, ids = pages(&rds.DescribeDBClusterSnapshotsInput{Filters: []types.Filter{
		{Name: aws.String("db-cluster-id"), Values: []string{"c-03", "c-04"}},
		{Name: aws.String("snapshot-type"), Values: []string{"automated"}},
	}})
	require.Len(t, ids, 2)

	_, ids = pages(&rds.DescribeDBClusterSnapshotsInput{
		DBClusterSnapshotIdentifier: aws.String("c-07-manual")})
	require.Equal(t, []string{"c-07-manual"}, ids)
	_, ids = pages(&rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String("nope")})
	require.Empty(t, ids)

	_, err := client.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{
		DBClusterSnapshotIdentifier: aws.String("no-such-snapshot")})
	require.True(t, isType[*types.DBClusterSnapshotNotFoundFault](err), "%v", err)
	_, err = client.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{
		MaxRecords: aws.Int32(10)})
	require.Equal(t, "InvalidParameterValue", errorCode(t, err))
	_, err = client.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{
		Marker: aws.String("not-a-marker")})
	require.Equal(t, "InvalidParameterValue", errorCode(t, err))
	_, err = client.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{
		SnapshotType: aws.String("nightly")})
	require.Equal(t, "InvalidParameterValue", errorCode(t, err))
}

func TestRDSDeleteDBCluster(t *testing.T) {
	t.Parallel()
	p := rdsProfile()
	srv := startSim(t, p)
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)

	deleteCluster := func(id string, skip bool, final string) (*rds.DeleteDBClusterOutput, error) {
		in := &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String(id)}
		if skip {
			in.SkipFinalSnapshot = aws.Bool(true)
		}
		if final != "" {
			in.FinalDBSnapshotIdentifier = aws.String(final)
		}
		return client.DeleteDBCluster(ctx, in)
	}
	createBare := func(id string) {
		_, err := client.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
			DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-postgresql"),
		})
		require.NoError(t, err)
		waitClusterAvailable(t, client, id)
	}

	createLedger(t, client, "protected", true)
	createLedger(t, client, "scratch", false)
	_, err := client.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("scratch-2"), DBClusterIdentifier: aws.String("scratch"),
		Engine: aws.String("aurora-postgresql"), DBInstanceClass: aws.String("db.r6g.large"),
	})
	require.NoError(t, err)
	waitInstanceAvailable(t, client, "scratch-2")
	createBare("bare")
	createBare("member")
	_, err = client.CreateGlobalCluster(ctx, &rds.CreateGlobalClusterInput{
		GlobalClusterIdentifier:   aws.String("member-global"),
		SourceDBClusterIdentifier: aws.String("member"),
	})
	require.NoError(t, err)

	t.Run("refusals", func(t *testing.T) {
		_, err := deleteCluster("protected", true, "")
		require.Equal(t, "InvalidParameterCombination", errorCode(t, err))
		_, err = deleteCluster("scratch", true, "")
		require.True(t, isType[*types.InvalidDBClusterStateFault](err), "%v", err)
		_, err = deleteCluster("member", true, "")
		require.True(t, isType[*types.InvalidDBClusterStateFault](err), "%v", err)
		_, err = deleteCluster("bare", false, "")
		require.Equal(t, "InvalidParameterCombination", errorCode(t, err))
		_, err = deleteCluster("bare", true, "bare-final")
		require.Equal(t, "InvalidParameterCombination", errorCode(t, err))
		_, err = deleteCluster("nope", true, "")
		require.True(t, isType[*types.DBClusterNotFoundFault](err), "%v", err)

		_, err = client.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{
			DBClusterIdentifier:         aws.String("member"),
			DBClusterSnapshotIdentifier: aws.String("taken"),
		})
		require.NoError(t, err)
		_, err = deleteCluster("bare", false, "taken")
		require.True(t, isType[*types.DBClusterSnapshotAlreadyExistsFault](err), "%v", err)
		require.Equal(t, "available", aws.ToString(describeCluster(t, client, "bare").Status))
	})

	t.Run("member instances leave the cluster", func(t *testing.T) {
		_, err := client.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{
			DBInstanceIdentifier: aws.String("scratch-1"), SkipFinalSnapshot: aws.Bool(true)})
		require.NoError(t, err)
		require.NoError(t, rds.NewDBInstanceDeletedWaiter(client,
			func(o *rds.DBInstanceDeletedWaiterOptions) { o.MinDelay, o.MaxDelay = waitMin, waitMax },
		).Wait(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("scratch-1")},
			waitFor))
		require.Equal(t, map[string]bool{"scratch-2": true},
			clusterMembers(describeCluster(t, client, "scratch")), "the reader takes over writes")
	})

	t.Run("with a final snapshot, its last instance deleting", func(t *testing.T) {
		_, err := client.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{
			DBInstanceIdentifier: aws.String("scratch-2"), SkipFinalSnapshot: aws.Bool(true)})
		require.NoError(t, err)
		out, err := deleteCluster("scratch", false, "scratch-final")
		require.NoError(t, err)
		require.Equal(t, "deleting", aws.ToString(out.DBCluster.Status))
		_, err = deleteCluster("scratch", false, "scratch-final-2")
		require.True(t, isType[*types.InvalidDBClusterStateFault](err), "%v", err)
		_, err = client.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String("scratch-3"), DBClusterIdentifier: aws.String("scratch"),
			Engine: aws.String("aurora-postgresql"), DBInstanceClass: aws.String("db.r6g.large"),
		})
		require.True(t, isType[*types.InvalidDBClusterStateFault](err), "%v", err)

		waitClusterDeleted(t, client, "scratch")
		_, err = client.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{
			DBClusterIdentifier: aws.String("scratch")})
		require.True(t, isType[*types.DBClusterNotFoundFault](err), "%v", err)
		states := eventStates(instanceEvents(srv, "us-east-1", "db-cluster", "scratch"))
		require.Equal(t, []string{"deleting", "deleted"}, states[len(states)-2:])
		deleted := eventAt(t, srv, "db-cluster", "scratch", "deleted")
		require.False(t, deleted.Before(eventAt(t, srv, "db-instance", "scratch-2", "deleted")),
			"a cluster outlasts its instances")
		requireWithinJitter(t, p, p.RDSSnapshot+p.RDSDelete,
			deleted.Sub(eventAt(t, srv, "db-cluster", "scratch", "deleting")))

		snaps, err := client.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{
			DBClusterIdentifier: aws.String("scratch")})
		require.NoError(t, err)
		require.Len(t, snaps.DBClusterSnapshots, 1, "the final snapshot stays, automated ones go")
		final := snaps.DBClusterSnapshots[0]
		require.Equal(t, "scratch-final", aws.ToString(final.DBClusterSnapshotIdentifier))
		require.Equal(t, "manual", aws.ToString(final.SnapshotType))
		require.Equal(t, "available", aws.ToString(final.Status))
	})

	t.Run("skipping the final snapshot", func(t *testing.T) {
		_, err := deleteCluster("bare", true, "")
		require.NoError(t, err)
		waitClusterDeleted(t, client, "bare")
		requireWithinJitter(t, p, p.RDSDelete,
			eventAt(t, srv, "db-cluster", "bare", "deleted").Sub(
				eventAt(t, srv, "db-cluster", "bare", "deleting")))
		snaps, err := client.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{
			DBClusterIdentifier: aws.String("bare")})
		require.NoError(t, err)
		require.Empty(t, snaps.DBClusterSnapshots)
		_, err = deleteCluster("bare", true, "")
		require.True(t, isType[*types.DBClusterNotFoundFault](err), "%v", err)

		// The identifier is free again.
		createBare("bare")
	})
}

func TestRDSClusterRestoreHangs(t *testing.T) {
	t.Parallel()
	p := rdsProfile()
	srv := startSim(t, p)
	ctx := context.Background()
	client := rdsClient(t, srv, "us-east-1", 1)
	createLedger(t, client, "ledger", false)
	_, err := client.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{
		DBClusterIdentifier:         aws.String("ledger"),
		DBClusterSnapshotIdentifier: aws.String("ledger-nightly"),
	})
	require.NoError(t, err)
	waitClusterSnapshots(t, client, &rds.DescribeDBClusterSnapshotsInput{
		DBClusterSnapshotIdentifier: aws.String("ledger-nightly")})

	_, err = srv.Sim.AddFault(awssim.Fault{Kind: awssim.FaultResource,
		ResourceFault: awssim.RestoreHangs, Resource: "ledger-stuck"})
	require.NoError(t, err)
	start := time.Now()
	for _, id := range []string{"ledger-stuck", "ledger-fine"} {
		_, err := client.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{
			DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-postgresql"),
			SnapshotIdentifier: aws.String("ledger-nightly"),
		})
		require.NoError(t, err)
	}
	// The unfaulted restore started later and finishes; the other stays
	// creating well past any restore's duration.
	waitClusterAvailable(t, client, "ledger-fine")
	require.Eventually(t, func() bool {
		return time.Since(start) > 2*p.Scaled(p.RDSRestore)
	}, waitFor, 10*time.Millisecond)
	require.Equal(t, "creating", aws.ToString(describeCluster(t, client, "ledger-stuck").Status))
	require.Equal(t, []string{"creating"},
		eventStates(instanceEvents(srv, "us-east-1", "db-cluster", "ledger-stuck")))

	// A hung restore can still be cleaned up.
	_, err = client.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{
		DBClusterIdentifier: aws.String("ledger-stuck"), SkipFinalSnapshot: aws.Bool(true)})
	require.NoError(t, err)
	waitClusterDeleted(t, client, "ledger-stuck")
	require.Equal(t, []string{"creating", "deleting", "deleted"},
		eventStates(instanceEvents(srv, "us-east-1", "db-cluster", "ledger-stuck")))
}
