package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
)

func TestGeneratedTopologyLoadsWithTheExpectedCriticalPath(t *testing.T) {
	for _, tc := range []struct {
		services int
		aurora   bool
		clusters int
	}{
		{services: 100, aurora: true, clusters: 4},
		{services: 1000, aurora: false, clusters: 10},
		{services: 7, aurora: true, clusters: 1},
	} {
		path, err := Write(t.TempDir(), Options{Services: tc.services, Aurora: tc.aurora})
		require.NoError(t, err)
		topo, err := topology.Load(path)
		require.NoError(t, err)
		require.Len(t, topo.Services, tc.services)

		clusters := map[string]bool{}
		for _, s := range topo.Services {
			clusters[s.Cluster] = true
		}
		require.Len(t, clusters, tc.clusters)

		p := Profile(20)
		est := Estimates(p, 2)
		// AWS's durations at 20 times their speed: a promotion of 4
		// minutes, two tasks 2 s apart that take 30 s to start, and 40 s
		// of DNS propagation.
		require.Equal(t, 12*time.Second, est.PromoteInstance)
		require.Equal(t, 1600*time.Millisecond, est.ServiceStart)
		require.Equal(t, 2*time.Second, est.DNSPropagation)

		pl, err := plan.Build(topo, plan.Request{
			Kind: plan.Failover, To: Standby, Mode: plan.Ungraceful, SkipApprovals: true,
		}, est)
		require.NoError(t, err)
		require.Equal(t, []string{
			"preflight",
			"promote-database:" + OrdersDB,
			"scale-service:" + ServiceName(3),
			"scale-service:" + ServiceName(4),
			"flip-dns:" + PublicZone,
			// verify takes no simulated time, so it does not lengthen
			// the path and the plan leaves it out.
		}, pl.CriticalPath)
		require.Equal(t, est.PromoteInstance+2*est.ServiceStart+est.DNSPropagation, pl.Estimate)
	}
}

func TestSequentialTimeAddsEveryStep(t *testing.T) {
	topo := Generate(Options{Services: 10, Aurora: true})
	est := Estimates(Profile(1), 2)
	want := 4*time.Minute + 90*time.Second + 10*32*time.Second + 40*time.Second
	require.Equal(t, want, SequentialTime(topo, est, plan.Ungraceful))
}
