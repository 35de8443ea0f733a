package activities

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/topology"
)

// fakeCloudWatch answers GetMetricStatistics with fixed datapoints, or an
// error, and keeps the last request.
type fakeCloudWatch struct {
	points []cwtypes.Datapoint
	err    error
	got    *cloudwatch.GetMetricStatisticsInput
}

func (f *fakeCloudWatch) GetMetricStatistics(_ context.Context,
	in *cloudwatch.GetMetricStatisticsInput,
	_ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricStatisticsOutput, error) {
	f.got = in
	if f.err != nil {
		return nil, f.err
	}
	return &cloudwatch.GetMetricStatisticsOutput{Datapoints: f.points}, nil
}

func TestCheckLag(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 30, 0, time.UTC)
	point := func(ago time.Duration, v float64, unit cwtypes.StandardUnit) cwtypes.Datapoint {
		return cwtypes.Datapoint{Timestamp: aws.Time(now.Add(-ago).Truncate(time.Minute)),
			Maximum: aws.Float64(v), Unit: unit}
	}
	db := topology.Database{Name: "orders", MaxLag: topology.Duration(30 * time.Second)}
	old := now.Add(-time.Hour)

	tests := []struct {
		name    string
		metric  lagMetric
		points  []cwtypes.Datapoint
		err     error
		created time.Time
		ok      bool
		detail  string
	}{
		{name: "within maxLag, the newest datapoint counts", metric: instanceLag,
			points: []cwtypes.Datapoint{
				point(3*time.Minute, 90, cwtypes.StandardUnitSeconds),
				point(time.Minute, 2, cwtypes.StandardUnitSeconds),
				point(2*time.Minute, 45, cwtypes.StandardUnitSeconds),
			},
			created: old, ok: true, detail: "lags 2s behind its source (maxLag 30s)"},
		{name: "above maxLag", metric: instanceLag,
			points:  []cwtypes.Datapoint{point(time.Minute, 75, cwtypes.StandardUnitSeconds)},
			created: old, detail: "lags 1m15s behind its source (ReplicaLag at 11:59:00), " +
				"more than the topology's maxLag of 30s"},
		{name: "an Aurora secondary's lag is in milliseconds", metric: clusterLag,
			points: []cwtypes.Datapoint{
				point(time.Minute, 850, cwtypes.StandardUnitMilliseconds)},
			created: old, ok: true, detail: "lags 850ms behind"},
		{name: "no datapoint for an old replica", metric: instanceLag, created: old,
			detail: "has no ReplicaLag of shop-orders in the last 5m0s"},
		{name: "no datapoint yet for a new replica", metric: instanceLag,
			created: now.Add(-40 * time.Second), ok: true,
			detail: "too new for CloudWatch to report its ReplicaLag (created 40s ago)"},
		{name: "access denied is a finding, which --force can pass", metric: instanceLag,
			err: apiErr("AccessDenied", 403), created: old,
			detail: "; drover's role needs cloudwatch:GetMetricStatistics"},
		{name: "a datapoint in bytes is refused", metric: instanceLag,
			points:  []cwtypes.Datapoint{point(time.Minute, 2, cwtypes.StandardUnitBytes)},
			created: old, detail: `unit "Bytes" is not a time`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cw := &fakeCloudWatch{points: tc.points, err: tc.err}
			r := NewRegion(Config{Region: "us-west-2", Now: func() time.Time { return now }},
				Clients{CloudWatch: cw})
			var c checks
			require.NoError(t, r.checkLag(context.Background(), &c, db, tc.metric,
				"shop-orders", tc.created, false))
			require.Len(t, c.list, 1)
			require.Equal(t, tc.ok, c.list[0].OK, c.list[0].Detail)
			require.Contains(t, c.list[0].Detail, tc.detail)

			in := cw.got
			require.Equal(t, "AWS/RDS", aws.ToString(in.Namespace))
			require.Equal(t, tc.metric.name, aws.ToString(in.MetricName))
			require.Equal(t, []cwtypes.Dimension{{Name: aws.String(tc.metric.dimension),
				Value: aws.String("shop-orders")}}, in.Dimensions)
			require.Equal(t, now, aws.ToTime(in.EndTime))
			require.Equal(t, now.Add(-lagWindow), aws.ToTime(in.StartTime))
		})
	}

	t.Run("a failing CloudWatch is a failed check, not a failed preflight", func(t *testing.T) {
		r := NewRegion(Config{Region: "us-west-2", Now: func() time.Time { return now }},
			Clients{CloudWatch: &fakeCloudWatch{err: apiErr("Throttling", 400)}})
		var c checks
		require.NoError(t, r.checkLag(context.Background(), &c, db, instanceLag, "shop-orders",
			old, false))
		require.Len(t, c.list, 1)
		require.False(t, c.list[0].OK)
		require.Contains(t, c.list[0].Detail, "could not be read")
		require.Contains(t, c.list[0].Detail, "force it to go on with the lag unknown")
	})

	t.Run("an ungraceful failover reports the lag and goes on", func(t *testing.T) {
		for _, cw := range []*fakeCloudWatch{
			{points: []cwtypes.Datapoint{point(time.Minute, 600, cwtypes.StandardUnitSeconds)}},
			{},
			{err: apiErr("Throttling", 400)},
		} {
			r := NewRegion(Config{Region: "us-west-2", Now: func() time.Time { return now }},
				Clients{CloudWatch: cw})
			var c checks
			require.NoError(t, r.checkLag(context.Background(), &c, db, instanceLag,
				"shop-orders", old, true))
			require.Len(t, c.list, 1)
			require.True(t, c.list[0].OK, c.list[0].Detail)
			require.Contains(t, c.list[0].Detail, "; the ungraceful failover goes on, "+
				"accepting the loss")
			require.NotContains(t, c.list[0].Detail, "force", "no advice to act on")
		}
	})

	t.Run("a cancelled preflight ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := NewRegion(Config{Region: "us-west-2", Now: func() time.Time { return now }},
			Clients{CloudWatch: &fakeCloudWatch{err: context.Canceled}})
		var c checks
		require.ErrorIs(t, r.checkLag(ctx, &c, db, instanceLag, "shop-orders", old, false),
			context.Canceled)
		require.Empty(t, c.list)
	})
}
