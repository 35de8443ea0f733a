package activities_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/seed"
)

// recordSets reads the zone's record sets by set identifier.
func (f *fixture) recordSets(t *testing.T) map[string]r53types.ResourceRecordSet {
	t.Helper()
	out, err := f.clients[east].Route53.ListResourceRecordSets(context.Background(),
		&route53.ListResourceRecordSetsInput{
			HostedZoneId: aws.String(f.seeded.ZoneIDs[f.zone().Name])})
	require.NoError(t, err)
	require.False(t, out.IsTruncated)
	sets := map[string]r53types.ResourceRecordSet{}
	for _, s := range out.ResourceRecordSets {
		if s.SetIdentifier != nil {
			sets[*s.SetIdentifier] = s
		}
	}
	return sets
}

func TestFlipDNS(t *testing.T) {
	f := newFixture(t, fixtureOpts{timeScale: timed})
	zone := f.zone()
	before := f.recordSets(t)
	require.Equal(t, r53types.ResourceRecordSetFailoverPrimary, before["api-use1"].Failover)
	require.Equal(t, int64(100), aws.ToInt64(before["www-use1"].Weight))

	t.Run("failover and weighted records in one change", func(t *testing.T) {
		start := time.Now()
		var res activities.StepResult
		require.NoError(t, run(t, f.env(west), activities.FlipDNSName,
			activities.FlipDNSInput{Zone: zone, Source: east, Target: west}, &res))
		require.False(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("ChangeResourceRecordSets"))

		after := f.recordSets(t)
		require.Equal(t, r53types.ResourceRecordSetFailoverPrimary, after["api-usw2"].Failover)
		require.Equal(t, r53types.ResourceRecordSetFailoverSecondary, after["api-use1"].Failover)
		require.Equal(t, int64(100), aws.ToInt64(after["www-usw2"].Weight))
		require.Equal(t, int64(0), aws.ToInt64(after["www-use1"].Weight))
		for id, was := range before {
			now := after[id]
			require.Equal(t, was.ResourceRecords, now.ResourceRecords, id)
			require.Equal(t, aws.ToInt64(was.TTL), aws.ToInt64(now.TTL), id)
			require.Equal(t, aws.ToString(was.HealthCheckId), aws.ToString(now.HealthCheckId), id)
		}

		insync := f.lastInsync(t, start)
		lag := res.HealthyAt.Sub(insync)
		t.Logf("INSYNC at %s, observed %s later", insync.Format(time.RFC3339Nano), lag)
		require.GreaterOrEqual(t, lag, time.Duration(0))
		require.LessOrEqual(t, lag, poll+25*time.Millisecond)
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		var res activities.StepResult
		require.NoError(t, run(t, f.env(west), activities.FlipDNSName,
			activities.FlipDNSInput{Zone: zone, Source: east, Target: west}, &res))
		require.True(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("ChangeResourceRecordSets"))
	})

	t.Run("a retry resumes waiting on the heartbeated change", func(t *testing.T) {
		// An earlier attempt sent the zone back to us-east-1 and
		// heartbeated the change's id before its worker died.
		sets := f.recordSets(t)
		use1, usw2 := sets["api-use1"], sets["api-usw2"]
		use1.Failover = r53types.ResourceRecordSetFailoverPrimary
		usw2.Failover = r53types.ResourceRecordSetFailoverSecondary
		out, err := f.clients[east].Route53.ChangeResourceRecordSets(context.Background(),
			&route53.ChangeResourceRecordSetsInput{
				HostedZoneId: aws.String(f.seeded.ZoneIDs[zone.Name]),
				ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
					{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &use1},
					{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &usw2},
				}},
			})
		require.NoError(t, err)
		f.srv.Sim.ResetCalls()

		started := time.Now().Add(-time.Second).UTC().Truncate(time.Millisecond)
		id := strings.TrimPrefix(aws.ToString(out.ChangeInfo.Id), "/change/")
		env := f.env(east)
		env.SetHeartbeatDetails(activities.Progress{ActionStarted: started, Token: id})
		var res activities.StepResult
		require.NoError(t, run(t, env, activities.FlipDNSName,
			activities.FlipDNSInput{Zone: zone, Source: west, Target: east}, &res))
		require.Zero(t, f.calls("ChangeResourceRecordSets"))
		require.NotZero(t, f.calls("GetChange"))
		require.False(t, res.AlreadyDone)
		require.True(t, res.ActionStarted.Equal(started))
		require.Contains(t, res.Detail, id)
	})

	t.Run("a retry that lost the change id waits for a confirming change", func(t *testing.T) {
		// An earlier attempt sent the zone to us-west-2 and died before
		// it heartbeated the change's id.
		sets := f.recordSets(t)
		use1, usw2 := sets["api-use1"], sets["api-usw2"]
		use1.Failover = r53types.ResourceRecordSetFailoverSecondary
		usw2.Failover = r53types.ResourceRecordSetFailoverPrimary
		www1, www2 := sets["www-use1"], sets["www-usw2"]
		www1.Weight, www2.Weight = aws.Int64(0), aws.Int64(100)
		out, err := f.clients[west].Route53.ChangeResourceRecordSets(context.Background(),
			&route53.ChangeResourceRecordSetsInput{
				HostedZoneId: aws.String(f.seeded.ZoneIDs[zone.Name]),
				ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
					{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &use1},
					{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &usw2},
					{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &www1},
					{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &www2},
				}},
			})
		require.NoError(t, err)
		lost := strings.TrimPrefix(aws.ToString(out.ChangeInfo.Id), "/change/")
		flipped := f.recordSets(t)
		f.srv.Sim.ResetCalls()

		started := time.Now().Add(-time.Second).UTC().Truncate(time.Millisecond)
		env := f.env(west)
		env.SetHeartbeatDetails(activities.Progress{ActionStarted: started})
		var res activities.StepResult
		require.NoError(t, run(t, env, activities.FlipDNSName,
			activities.FlipDNSInput{Zone: zone, Source: east, Target: west}, &res))
		require.Equal(t, int64(1), f.calls("ChangeResourceRecordSets"), "one confirming change")
		require.False(t, res.AlreadyDone)
		require.True(t, res.ActionStarted.Equal(started))
		require.Contains(t, res.Detail, "confirmed")
		require.Equal(t, flipped, f.recordSets(t), "the confirming change alters nothing")

		lostInsync := f.insyncAt(t, lost)
		require.False(t, res.HealthyAt.Before(lostInsync),
			"healthy at %s, before the lost change was INSYNC at %s", res.HealthyAt, lostInsync)
	})
}

func TestVerify(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	check := f.seeded.HealthCheckIDs[seed.HealthCheckKey("api.shop.example.com.", "A", west)]
	require.NotEmpty(t, check)

	var up atomic.Bool
	var requests atomic.Int32
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		if !up.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(site.Close)

	tests := []struct {
		name string
		// breakIt makes one thing unhealthy; fix makes it healthy.
		breakIt, fix func()
		// seen reports whether Verify has seen the problem at least twice.
		seen func() bool
	}{
		{
			name:    "health URL answers 503, then 200",
			breakIt: func() { up.Store(false) },
			fix:     func() { up.Store(true) },
		},
		{
			name: "health check unhealthy, then healthy",
			breakIt: func() {
				up.Store(true)
				require.NoError(t, f.srv.Sim.SetHealthCheckHealthy(check, false))
			},
			fix:  func() { require.NoError(t, f.srv.Sim.SetHealthCheckHealthy(check, true)) },
			seen: func() bool { return f.calls("GetHealthCheckStatus") >= 2 },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.breakIt()
			f.srv.Sim.ResetCalls()
			requests.Store(0)
			var fixedAt time.Time
			seen := tc.seen
			if seen == nil {
				seen = func() bool { return requests.Load() >= 2 }
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				eventually(t, "Verify to see the problem", seen)
				fixedAt = time.Now()
				tc.fix()
			}()

			var res activities.StepResult
			err := run(t, f.env(west), activities.VerifyName, activities.VerifyInput{
				Target: west, HealthURL: site.URL, Zones: f.top.DNS}, &res)
			<-done
			require.NoError(t, err)
			require.False(t, res.HealthyAt.Before(fixedAt), "healthy before it was fixed")
			require.LessOrEqual(t, res.HealthyAt.Sub(fixedAt), poll+25*time.Millisecond)
			require.Contains(t, res.Detail, "1 Route 53 health checks")
		})
	}
}
