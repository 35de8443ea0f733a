package awssim_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/infra/awssim"
)

// manualClock is a Clock that a test moves by hand, so that a replica's
// history can span hours without the test waiting for them.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startSimAt starts a simulator whose time is clk's.
func startSimAt(t *testing.T, p *awssim.Profile, clk awssim.Clock) *awssim.Server {
	t.Helper()
	srv, err := awssim.Listen("127.0.0.1:0", awssim.New(awssim.Options{Profile: p, Clock: clk}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// cwClient returns a CloudWatch client for region whose retries, when
// allowed, back off for a few milliseconds only.
func cwClient(t *testing.T, srv *awssim.Server, region string, maxAttempts int) *cloudwatch.Client {
	t.Helper()
	return cloudwatch.NewFromConfig(awsConfig(t, srv, region, maxAttempts),
		func(o *cloudwatch.Options) {
			o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, 5*time.Millisecond)
		})
}

var allStatistics = []cwtypes.Statistic{
	cwtypes.StatisticSampleCount, cwtypes.StatisticAverage, cwtypes.StatisticSum,
	cwtypes.StatisticMinimum, cwtypes.StatisticMaximum,
}

// lagQuery asks for every statistic of an RDS metric of one resource, by
// minute, over the three hours up to now and the minute after it.
func lagQuery(now time.Time, metric, dimension, id string) *cloudwatch.GetMetricStatisticsInput {
	return &cloudwatch.GetMetricStatisticsInput{
		Namespace:  aws.String("AWS/RDS"),
		MetricName: aws.String(metric),
		Dimensions: []cwtypes.Dimension{{Name: aws.String(dimension), Value: aws.String(id)}},
		StartTime:  aws.Time(now.Add(-3 * time.Hour)),
		EndTime:    aws.Time(now.Add(time.Minute)),
		Period:     aws.Int32(60),
		Statistics: allStatistics,
	}
}

func getStats(t *testing.T, client *cloudwatch.Client,
	in *cloudwatch.GetMetricStatisticsInput) []cwtypes.Datapoint {
	t.Helper()
	out, err := client.GetMetricStatistics(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, aws.ToString(in.MetricName), aws.ToString(out.Label))
	return out.Datapoints
}

// requireSeries checks that dps hold one datapoint a period, from the
// period in which the metric began to the one under way at now, each
// reporting lag for every one-minute sample.
func requireSeries(t *testing.T, dps []cwtypes.Datapoint, began, now time.Time, period int64,
	lag float64, unit cwtypes.StandardUnit) {
	t.Helper()
	first := began.Unix() / period * period
	last := now.Unix() / period * period
	require.Len(t, dps, int((last-first)/period+1))
	sort.Slice(dps, func(a, b int) bool { return dps[a].Timestamp.Before(*dps[b].Timestamp) })
	samples := float64(max(1, period/60))
	for n, dp := range dps {
		require.Equal(t, first+int64(n)*period, dp.Timestamp.Unix(), "datapoint %d", n)
		require.Equal(t, unit, dp.Unit)
		require.Equal(t, lag, aws.ToFloat64(dp.Maximum))
		require.Equal(t, lag, aws.ToFloat64(dp.Minimum))
		require.Equal(t, lag, aws.ToFloat64(dp.Average))
		require.Equal(t, samples, aws.ToFloat64(dp.SampleCount))
		require.Equal(t, lag*samples, aws.ToFloat64(dp.Sum))
	}
}

func TestCloudWatchReplicaLag(t *testing.T) {
	t.Parallel()
	// TimeScale 600 makes every RDS operation last a fraction of a second;
	// the reported lag must stay in real seconds all the same.
	clk := &manualClock{now: time.Date(2030, 3, 4, 10, 0, 30, 0, time.UTC)}
	srv := startSimAt(t, rdsProfile(), clk)
	ctx := context.Background()
	east := rdsClient(t, srv, "us-east-1", 1)
	west := rdsClient(t, srv, "us-west-2", 1)
	cwEast := cwClient(t, srv, "us-east-1", 1)
	cwWest := cwClient(t, srv, "us-west-2", 1)

	primary := createPrimary(t, east, "orders")
	clk.advance(20 * time.Minute)
	require.Equal(t, "available", aws.ToString(describeInstance(t, east, "orders").DBInstanceStatus))
	_, err := west.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String("orders-west"),
		SourceDBInstanceIdentifier: primary.DBInstanceArn,
		SourceRegion:               aws.String("us-east-1"),
	})
	require.NoError(t, err)
	created := clk.Now()
	clk.advance(5*time.Minute + 10*time.Second)

	t.Run("default lag", func(t *testing.T) {
		require.Equal(t, awssim.Duration(time.Second), awssim.DefaultProfile().RDSReplicaLag)
		now := clk.Now()
		dps := getStats(t, cwWest, lagQuery(now, "ReplicaLag", "DBInstanceIdentifier",
			"orders-west"))
		requireSeries(t, dps, created, now, 60, 1, cwtypes.StandardUnitSeconds)
	})

	t.Run("five-minute periods and percentiles", func(t *testing.T) {
		now := clk.Now()
		in := lagQuery(now, "ReplicaLag", "DBInstanceIdentifier", "orders-west")
		in.Period = aws.Int32(300)
		requireSeries(t, getStats(t, cwWest, in), created, now, 300, 1,
			cwtypes.StandardUnitSeconds)

		in.Statistics = nil
		in.ExtendedStatistics = []string{"p50", "p99.9"}
		dps := getStats(t, cwWest, in)
		require.NotEmpty(t, dps)
		for _, dp := range dps {
			require.Equal(t, map[string]float64{"p50": 1, "p99.9": 1}, dp.ExtendedStatistics)
			require.Nil(t, dp.Maximum, "only the percentiles asked for")
		}
	})

	t.Run("no datapoints", func(t *testing.T) {
		now := clk.Now()
		inUnit := lagQuery(now, "ReplicaLag", "DBInstanceIdentifier", "orders-west")
		inUnit.Unit = cwtypes.StandardUnitMilliseconds
		otherNamespace := lagQuery(now, "ReplicaLag", "DBInstanceIdentifier", "orders-west")
		otherNamespace.Namespace = aws.String("AWS/EC2")
		twoDimensions := lagQuery(now, "ReplicaLag", "DBInstanceIdentifier", "orders-west")
		twoDimensions.Dimensions = append(twoDimensions.Dimensions, cwtypes.Dimension{
			Name: aws.String("Role"), Value: aws.String("replica")})
		tests := []struct {
			name   string
			client *cloudwatch.Client
			in     *cloudwatch.GetMetricStatisticsInput
		}{
			{"the primary", cwEast, lagQuery(now, "ReplicaLag", "DBInstanceIdentifier", "orders")},
			{"another region than the replica's", cwEast,
				lagQuery(now, "ReplicaLag", "DBInstanceIdentifier", "orders-west")},
			{"an unknown instance", cwWest,
				lagQuery(now, "ReplicaLag", "DBInstanceIdentifier", "nope")},
			{"another metric", cwWest,
				lagQuery(now, "CPUUtilization", "DBInstanceIdentifier", "orders-west")},
			{"another dimension", cwWest,
				lagQuery(now, "ReplicaLag", "DBClusterIdentifier", "orders-west")},
			{"another unit", cwWest, inUnit},
			{"another namespace", cwWest, otherNamespace},
			{"more dimensions", cwWest, twoDimensions},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				require.Empty(t, getStats(t, tt.client, tt.in))
			})
		}
	})

	t.Run("set through Control", func(t *testing.T) {
		ctl := awssim.NewControl(srv.URL)
		require.NoError(t, ctl.SetReplicaLag(ctx, "us-west-2", "db-instance", "orders-west",
			42*time.Second))
		now := clk.Now()
		requireSeries(t, getStats(t, cwWest, lagQuery(now, "ReplicaLag",
			"DBInstanceIdentifier", "orders-west")), created, now, 60, 42,
			cwtypes.StandardUnitSeconds)

		err := ctl.SetReplicaLag(ctx, "us-west-2", "db-proxy", "orders-west", time.Second)
		require.ErrorContains(t, err, "must be db-instance or db-cluster")
		err = ctl.SetReplicaLag(ctx, "us-east-1", "db-instance", "orders-west", time.Second)
		require.ErrorContains(t, err, `no db-instance "orders-west" in region "us-east-1"`)
		err = ctl.SetReplicaLag(ctx, "us-west-2", "db-cluster", "orders-west", time.Second)
		require.ErrorContains(t, err, `no db-cluster "orders-west"`)
		err = ctl.SetReplicaLag(ctx, "us-west-2", "db-instance", "orders-west", -time.Second)
		require.ErrorContains(t, err, "must not be negative")
	})

	t.Run("none once promoted", func(t *testing.T) {
		clk.advance(20 * time.Minute)
		require.Equal(t, "available",
			aws.ToString(describeInstance(t, west, "orders-west").DBInstanceStatus))
		_, err := west.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{
			DBInstanceIdentifier: aws.String("orders-west")})
		require.NoError(t, err)
		clk.advance(10 * time.Minute)
		// CloudWatch is asked first, so that it must bring the promotion
		// up to date itself.
		require.Empty(t, getStats(t, cwWest, lagQuery(clk.Now(), "ReplicaLag",
			"DBInstanceIdentifier", "orders-west")))
		promoted := describeInstance(t, west, "orders-west")
		require.Equal(t, "available", aws.ToString(promoted.DBInstanceStatus))
		require.Nil(t, promoted.ReadReplicaSourceDBInstanceIdentifier)
	})
}

func TestCloudWatchAuroraGlobalLag(t *testing.T) {
	t.Parallel()
	clk := &manualClock{now: time.Date(2030, 3, 4, 10, 0, 30, 0, time.UTC)}
	srv := startSimAt(t, rdsProfile(), clk)
	ctx := context.Background()
	east := rdsClient(t, srv, "us-east-1", 1)
	west := rdsClient(t, srv, "us-west-2", 1)
	cwEast := cwClient(t, srv, "us-east-1", 1)
	cwWest := cwClient(t, srv, "us-west-2", 1)

	addCluster := func(client *rds.Client, id, global string) string {
		in := &rds.CreateDBClusterInput{
			DBClusterIdentifier: aws.String(id), Engine: aws.String("aurora-postgresql"),
		}
		if global == "" {
			in.MasterUsername = aws.String("app")
			in.MasterUserPassword = aws.String("secret-password")
		} else {
			in.GlobalClusterIdentifier = aws.String(global)
		}
		out, err := client.CreateDBCluster(ctx, in)
		require.NoError(t, err)
		_, err = client.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(id + "-1"), DBClusterIdentifier: aws.String(id),
			Engine: aws.String("aurora-postgresql"), DBInstanceClass: aws.String("db.r6g.large"),
		})
		require.NoError(t, err)
		return aws.ToString(out.DBCluster.DBClusterArn)
	}
	primaryARN := addCluster(east, "ledger", "")
	clk.advance(20 * time.Minute)
	_, err := east.CreateGlobalCluster(ctx, &rds.CreateGlobalClusterInput{
		GlobalClusterIdentifier:   aws.String("ledger-global"),
		SourceDBClusterIdentifier: aws.String(primaryARN),
	})
	require.NoError(t, err)
	clk.advance(40 * time.Minute)
	secondaryARN := addCluster(west, "ledger-west", "ledger-global")
	joined := clk.Now()
	clk.advance(20 * time.Minute)

	globalLag := func(now time.Time, id string) *cloudwatch.GetMetricStatisticsInput {
		return lagQuery(now, "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", id)
	}

	now := clk.Now()
	requireSeries(t, getStats(t, cwWest, globalLag(now, "ledger-west")), joined, now, 60,
		1000, cwtypes.StandardUnitMilliseconds)
	require.Empty(t, getStats(t, cwEast, globalLag(now, "ledger")), "the writer has no lag")
	require.Empty(t, getStats(t, cwWest, lagQuery(now, "ReplicaLag", "DBInstanceIdentifier",
		"ledger-west-1")), "an Aurora instance is no read replica")

	require.NoError(t, srv.Sim.SetReplicaLag("us-west-2", "db-cluster", "ledger-west",
		250*time.Millisecond))
	requireSeries(t, getStats(t, cwWest, globalLag(now, "ledger-west")), joined, now, 60,
		250, cwtypes.StandardUnitMilliseconds)

	// After a switchover the old writer is the secondary, from the moment
	// the switchover ended; the new writer reports nothing.
	clk.advance(time.Hour)
	_, err = west.SwitchoverGlobalCluster(ctx, &rds.SwitchoverGlobalClusterInput{
		GlobalClusterIdentifier:   aws.String("ledger-global"),
		TargetDbClusterIdentifier: aws.String(secondaryARN),
	})
	require.NoError(t, err)
	clk.advance(10 * time.Minute)
	now = clk.Now()
	require.Empty(t, getStats(t, cwWest, globalLag(now, "ledger-west")))
	g := describeGlobal(t, west, "ledger-global")
	require.Equal(t, "available", aws.ToString(g.Status))
	require.Equal(t, secondaryARN, globalWriter(g))

	var switched time.Time
	for _, e := range srv.Sim.Events(time.Time{}) {
		if e.Resource == "global-cluster" && e.State == "available" {
			switched = e.At
		}
	}
	require.True(t, switched.After(joined))
	requireSeries(t, getStats(t, cwEast, globalLag(now, "ledger")), switched, now, 60,
		1000, cwtypes.StandardUnitMilliseconds)
}

func TestCloudWatchValidation(t *testing.T) {
	t.Parallel()
	srv := startSim(t, fastProfile())
	client := cwClient(t, srv, "us-east-1", 1)
	now := time.Now()

	valid := func(
		change func(in *cloudwatch.GetMetricStatisticsInput),
	) *cloudwatch.GetMetricStatisticsInput {
		in := lagQuery(now, "ReplicaLag", "DBInstanceIdentifier", "orders-west")
		in.StartTime = aws.Time(now.Add(-time.Hour))
		change(in)
		return in
	}
	invalidValue := func(err error) bool {
		var e *cwtypes.InvalidParameterValueException
		return errors.As(err, &e) && e.ErrorCode() == "InvalidParameterValue"
	}
	invalidCombination := func(err error) bool {
		var e *cwtypes.InvalidParameterCombinationException
		return errors.As(err, &e) && e.ErrorCode() == "InvalidParameterCombination"
	}
	tests := []struct {
		name   string
		change func(in *cloudwatch.GetMetricStatisticsInput)
		is     func(error) bool
	}{
		{"zero period", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.Period = aws.Int32(0)
		}, invalidValue},
		{"period under a minute", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.Period = aws.Int32(45)
		}, invalidValue},
		{"period not a multiple of 60", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.Period = aws.Int32(90)
		}, invalidValue},
		{"start at end", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.StartTime = in.EndTime
		}, invalidValue},
		{"start after end", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.StartTime, in.EndTime = in.EndTime, in.StartTime
		}, invalidValue},
		{"unknown statistic", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.Statistics = []cwtypes.Statistic{"Median"}
		}, invalidValue},
		{"percentile over 100", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.Statistics = nil
			in.ExtendedStatistics = []string{"p101"}
		}, invalidValue},
		{"unknown unit", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.Unit = "Furlongs"
		}, invalidValue},
		{"no statistics", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.Statistics = nil
		}, invalidCombination},
		{"statistics and percentiles", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.ExtendedStatistics = []string{"p99"}
		}, invalidCombination},
		{"too many datapoints", func(in *cloudwatch.GetMetricStatisticsInput) {
			in.Period = aws.Int32(1)
		}, invalidCombination},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.GetMetricStatistics(context.Background(), valid(tt.change))
			require.Error(t, err)
			require.True(t, tt.is(err), "%T: %v", errors.Unwrap(err), err)
		})
	}

	for _, period := range []int32{1, 5, 10, 30, 60, 300, 3600} {
		in := valid(func(in *cloudwatch.GetMetricStatisticsInput) {
			in.StartTime = aws.Time(now.Add(-10 * time.Minute))
			in.Period = aws.Int32(period)
		})
		_, err := client.GetMetricStatistics(context.Background(), in)
		require.NoError(t, err, "period %d", period)
	}
}

// rawCloudWatch posts a CBOR body to a CloudWatch operation as an SDK
// client in us-east-1 would, and returns the status, the Query error
// header and the body's error type and message.
func rawCloudWatch(t *testing.T, srv *awssim.Server, op string, body []byte,
	protocol string) (status int, queryError, errType, msg string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost,
		srv.URL+"/service/GraniteServiceVersion20100801/operation/"+op, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Smithy-Protocol", protocol)
	req.Header.Set("Content-Type", "application/cbor")
	req.Header.Set("Authorization", fakeAuth("us-east-1", "monitoring"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.Header.Get("Content-Type") != "application/cbor" {
		return resp.StatusCode, "", "", string(raw)
	}
	require.Equal(t, "rpc-v2-cbor", resp.Header.Get("Smithy-Protocol"))
	v, err := cbor.Decode(raw)
	require.NoError(t, err)
	m, ok := v.(cbor.Map)
	require.True(t, ok, "body is %T", v)
	typ, _ := m["__type"].(cbor.String)
	message, _ := m["message"].(cbor.String)
	return resp.StatusCode, resp.Header.Get("X-Amzn-Query-Error"), string(typ), string(message)
}

func TestCloudWatchProtocolErrors(t *testing.T) {
	t.Parallel()
	srv := startSim(t, fastProfile())
	tests := []struct {
		name, op   string
		body       []byte
		protocol   string
		status     int
		queryError string
		errType    string
	}{
		{name: "missing parameters", op: "GetMetricStatistics",
			body:     cbor.Encode(cbor.Map{"MetricName": cbor.String("ReplicaLag")}),
			protocol: "rpc-v2-cbor", status: 400, queryError: "MissingParameter;Sender",
			errType: "com.amazonaws.cloudwatch#MissingRequiredParameterException"},
		{name: "wrong member type", op: "GetMetricStatistics",
			body: cbor.Encode(cbor.Map{
				"Namespace": cbor.Uint(7), "MetricName": cbor.String("ReplicaLag"),
				"StartTime": &cbor.Tag{ID: 1, Value: cbor.Uint(1700000000)},
				"EndTime":   &cbor.Tag{ID: 1, Value: cbor.Uint(1700000600)},
				"Period":    cbor.Uint(60),
			}),
			protocol: "rpc-v2-cbor", status: 400, queryError: "SerializationException;Sender",
			errType: "SerializationException"},
		{name: "not CBOR", op: "GetMetricStatistics", body: []byte(`{"Namespace":`),
			protocol: "rpc-v2-cbor", status: 400, queryError: "SerializationException;Sender",
			errType: "SerializationException"},
		{name: "unknown operation", op: "DescribeAlarms", body: cbor.Encode(cbor.Map{}),
			protocol: "rpc-v2-cbor", status: 404, queryError: "UnknownOperationException;Sender",
			errType: "UnknownOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, queryError, errType, msg := rawCloudWatch(t, srv, tt.op, tt.body, tt.protocol)
			require.Equal(t, tt.status, status, msg)
			require.Equal(t, tt.queryError, queryError)
			require.Equal(t, tt.errType, errType)
			require.NotEmpty(t, msg)
		})
	}

	t.Run("another protocol", func(t *testing.T) {
		status, _, _, msg := rawCloudWatch(t, srv, "GetMetricStatistics", nil, "rpc-v2-json")
		require.Equal(t, http.StatusBadRequest, status)
		require.True(t, strings.HasPrefix(msg, "UnknownService"), msg)
	})

	counts := map[string]int64{}
	calls, err := awssim.NewControl(srv.URL).Calls(context.Background())
	require.NoError(t, err)
	for _, c := range calls {
		require.Equal(t, "us-east-1", c.Region)
		require.Equal(t, awssim.ServiceCloudWatch, c.Service)
		counts[c.Operation] = c.Count
	}
	require.Equal(t, map[string]int64{"GetMetricStatistics": 3, "unknown": 1}, counts)
}

// cwCalls counts the GetMetricStatistics calls made in region.
func cwCalls(t *testing.T, ctl *awssim.Control, region string) int64 {
	t.Helper()
	calls, err := ctl.Calls(context.Background())
	require.NoError(t, err)
	for _, c := range calls {
		if c.Region == region && c.Service == awssim.ServiceCloudWatch &&
			c.Operation == "GetMetricStatistics" {
			return c.Count
		}
	}
	return 0
}

func TestCloudWatchFaults(t *testing.T) {
	t.Parallel()
	srv := startSim(t, fastProfile())
	ctl := awssim.NewControl(srv.URL)
	ctx := context.Background()
	query := func() *cloudwatch.GetMetricStatisticsInput {
		return lagQuery(time.Now(), "ReplicaLag", "DBInstanceIdentifier", "orders-west")
	}
	addFault := func(t *testing.T, f awssim.Fault) {
		t.Helper()
		got, err := ctl.AddFault(ctx, f)
		require.NoError(t, err)
		t.Cleanup(func() { _ = ctl.RemoveFault(ctx, got.ID) })
	}
	east := cwClient(t, srv, "us-east-1", 1)
	west := cwClient(t, srv, "us-west-2", 1)

	t.Run("blackout of a region", func(t *testing.T) {
		addFault(t, awssim.Fault{Kind: awssim.FaultBlackout, Region: "us-west-2",
			Mode: awssim.BlackoutRefuse})
		before := cwCalls(t, ctl, "us-west-2")
		_, err := west.GetMetricStatistics(ctx, query())
		require.Error(t, err)
		var apiErr smithy.APIError
		require.False(t, errors.As(err, &apiErr), "a refused connection has no AWS error: %v", err)
		require.Equal(t, before+1, cwCalls(t, ctl, "us-west-2"))

		_, err = east.GetMetricStatistics(ctx, query())
		require.NoError(t, err, "the other region still answers")
	})

	t.Run("unavailable", func(t *testing.T) {
		addFault(t, awssim.Fault{Kind: awssim.FaultBlackout, Region: "us-west-2",
			Service: awssim.ServiceCloudWatch, Mode: awssim.BlackoutUnavailable})
		_, err := west.GetMetricStatistics(ctx, query())
		require.Equal(t, "ServiceUnavailable", errorCode(t, err))
		var respErr interface{ HTTPStatusCode() int }
		require.ErrorAs(t, err, &respErr)
		require.Equal(t, http.StatusServiceUnavailable, respErr.HTTPStatusCode())
	})

	t.Run("server errors are retried", func(t *testing.T) {
		addFault(t, awssim.Fault{Kind: awssim.FaultError, Region: "us-east-1",
			Service: awssim.ServiceCloudWatch, Rate: 1, Code: "InternalServiceError", Status: 500})
		before := cwCalls(t, ctl, "us-east-1")
		_, err := cwClient(t, srv, "us-east-1", 3).GetMetricStatistics(ctx, query())
		var fault *cwtypes.InternalServiceFault
		require.ErrorAs(t, err, &fault)
		require.Equal(t, "InternalServiceError", fault.ErrorCode())
		require.Equal(t, before+3, cwCalls(t, ctl, "us-east-1"))
	})

	t.Run("client errors by operation are not retried", func(t *testing.T) {
		addFault(t, awssim.Fault{Kind: awssim.FaultError, Service: awssim.ServiceCloudWatch,
			Operation: "GetMetricStatistics", Rate: 1, Code: "InvalidParameterValue",
			Message: "injected"})
		before := cwCalls(t, ctl, "us-east-1")
		_, err := cwClient(t, srv, "us-east-1", 3).GetMetricStatistics(ctx, query())
		var invalid *cwtypes.InvalidParameterValueException
		require.ErrorAs(t, err, &invalid)
		require.Equal(t, "injected", invalid.ErrorMessage())
		require.Equal(t, before+1, cwCalls(t, ctl, "us-east-1"))
	})

	t.Run("latency", func(t *testing.T) {
		addFault(t, awssim.Fault{Kind: awssim.FaultLatency, Service: awssim.ServiceCloudWatch,
			Latency: awssim.Duration(150 * time.Millisecond)})
		start := time.Now()
		_, err := east.GetMetricStatistics(ctx, query())
		require.NoError(t, err)
		require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	})

	t.Run("throttling is retried", func(t *testing.T) {
		addFault(t, awssim.Fault{Kind: awssim.FaultThrottle, Region: "us-east-1",
			Service: awssim.ServiceCloudWatch, PerSecond: 50, Burst: 1})
		before := cwCalls(t, ctl, "us-east-1")
		_, err := east.GetMetricStatistics(ctx, query())
		require.NoError(t, err, "the burst lets the first call through")
		_, err = east.GetMetricStatistics(ctx, query())
		require.Equal(t, "Throttling", errorCode(t, err))
		require.Equal(t, aws.TrueTernary,
			retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}.IsErrorThrottle(err))

		// Each backoff outlasts the 20 ms the throttle takes to allow a
		// call, so the retrying client gets through every time.
		retrying := cloudwatch.NewFromConfig(awsConfig(t, srv, "us-east-1", 5),
			func(o *cloudwatch.Options) {
				o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
					so.MaxAttempts = 5
					so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
						return 25 * time.Millisecond, nil
					})
				})
			})
		for range 5 {
			_, err := retrying.GetMetricStatistics(ctx, query())
			require.NoError(t, err)
		}
		require.Greater(t, cwCalls(t, ctl, "us-east-1"), before+2+5,
			"throttled attempts were retried")
	})
}
