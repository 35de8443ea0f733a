package plan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/topology"
)

func shop() *topology.Topology {
	return &topology.Topology{
		App: "shop",
		Regions: []topology.Region{
			{Name: "us-east-1", Role: topology.RolePrimary},
			{Name: "us-west-2", Role: topology.RoleStandby},
		},
		Databases: []topology.Database{
			{Name: "orders", Engine: topology.EngineRDS},
			{Name: "catalog", Engine: topology.EngineAuroraGlobal},
		},
		Services: []topology.Service{
			// Listed before what it depends on: the plan still orders it after.
			{Name: "web", DependsOn: []string{"api"}},
			{Name: "api", DependsOn: []string{"orders", "catalog"}},
		},
		DNS: []topology.Zone{{Name: "public", DependsOn: []string{"web", "api"}}},
	}
}

func ids(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.ID)
	}
	return out
}

func TestFailoverPlanOrdersStepsAndBindsRegions(t *testing.T) {
	p, err := Build(shop(), Request{Kind: Failover, To: "us-west-2", Mode: Graceful},
		DefaultEstimates())
	require.NoError(t, err)
	require.Equal(t, "us-east-1", p.From)
	require.Equal(t, []string{
		"preflight", "preflight-source", "observe-source",
		"stop-writers:web", "stop-writers:api",
		"promote-database:orders", "promote-database:catalog",
		"scale-service:api", "scale-service:web",
		"flip-dns:public", "verify",
	}, ids(p))

	seen := map[string]bool{}
	for _, s := range p.Steps {
		for _, d := range s.DependsOn {
			require.True(t, seen[d], "%s depends on %s, which comes later", s.ID, d)
		}
		seen[s.ID] = true
		want := "us-west-2"
		if s.Kind == StepStopWriters || s.Kind == StepObserveSource || s.ID == "preflight-source" {
			want = "us-east-1"
		}
		require.Equal(t, want, s.Region, s.ID)
	}
	require.ElementsMatch(t, []string{"preflight", "preflight-source", "stop-writers:web",
		"stop-writers:api"},
		p.Step("promote-database:orders").DependsOn)
}

func TestCriticalPathIsTheLongestChain(t *testing.T) {
	est := DefaultEstimates()
	p, err := Build(shop(), Request{Kind: Failover, Mode: Ungraceful}, est)
	require.NoError(t, err)
	require.Equal(t, []string{
		"preflight", "promote-database:orders", "scale-service:api",
		"scale-service:web", "flip-dns:public", "verify",
	}, p.CriticalPath)
	require.Equal(t, est.Preflight+est.PromoteInstance+2*est.ServiceStart+
		est.DNSPropagation+est.Verify, p.Estimate)

	// Ungraceful: no writers to stop, and services never wait on the
	// source region's observation.
	require.Nil(t, p.Step("stop-writers:api"))
	require.NotContains(t, p.Step("scale-service:api").DependsOn, "observe-source")
	require.True(t, p.Step("observe-source").BestEffort)
}

func TestAuroraOnlyCriticalPathUsesSwitchoverOrFailover(t *testing.T) {
	topo := shop()
	topo.Databases = topo.Databases[1:]
	topo.Services[1].DependsOn = []string{"catalog"}
	est := DefaultEstimates()
	est.AuroraSwitchover = 10 * time.Second
	est.AuroraFailover = 20 * time.Second

	g, err := Build(topo, Request{Kind: Failover, Mode: Graceful}, est)
	require.NoError(t, err)
	require.Equal(t, 10*time.Second, g.Step("promote-database:catalog").Estimate)
	u, err := Build(topo, Request{Kind: Failover, Mode: Ungraceful}, est)
	require.NoError(t, err)
	require.Equal(t, 20*time.Second, u.Step("promote-database:catalog").Estimate)
}

func TestApprovalGates(t *testing.T) {
	topo := shop()
	topo.Approvals = []string{ApproveDatabase, ApproveService, ApproveDNS, ApproveScaleDown}
	p, err := Build(topo, Request{Kind: Failover, Mode: Graceful, ScaleDownSource: true},
		DefaultEstimates())
	require.NoError(t, err)
	require.Equal(t, []string{"preflight", "preflight-source"}, p.Step("approve:database").DependsOn)
	require.Contains(t, p.Step("stop-writers:api").DependsOn, "approve:database")
	require.Contains(t, p.Step("promote-database:orders").DependsOn, "approve:database")
	require.Contains(t, p.Step("scale-service:web").DependsOn, "approve:service")
	require.Contains(t, p.Step("flip-dns:public").DependsOn, "approve:dns")
	require.Contains(t, p.Step("scale-down-source:api").DependsOn, "approve:scale-down")

	p, err = Build(topo, Request{Kind: Failover, Mode: Graceful, SkipApprovals: true},
		DefaultEstimates())
	require.NoError(t, err)
	require.Nil(t, p.Step("approve:database"))
}

func TestFailbackResyncsBeforePromotingAndRebuildsAfter(t *testing.T) {
	p, err := Build(shop(), Request{Kind: Failback}, DefaultEstimates())
	require.NoError(t, err)
	require.Equal(t, "us-west-2", p.From)
	require.Equal(t, "us-east-1", p.To)
	require.Equal(t, Graceful, p.Mode)
	require.Contains(t, p.Step("promote-database:orders").DependsOn, "resync-database:orders")
	require.Nil(t, p.Step("resync-database:catalog"), "Aurora keeps its global replication")
	rebuild := p.Step("rebuild-replica:orders")
	require.Equal(t, "us-west-2", rebuild.Region)
	require.Equal(t, []string{"verify"}, rebuild.DependsOn)
}

func TestBuildIsDeterministic(t *testing.T) {
	a, err := Build(shop(), Request{Kind: Failover, Mode: Graceful}, DefaultEstimates())
	require.NoError(t, err)
	for range 20 {
		b, err := Build(shop(), Request{Kind: Failover, Mode: Graceful}, DefaultEstimates())
		require.NoError(t, err)
		require.Equal(t, a, b)
	}
}

func TestRequestsThatDoNotFitAreRejected(t *testing.T) {
	cases := []struct {
		name string
		req  Request
		want string
	}{
		{"kind", Request{Kind: "sideways"}, "failover or failback"},
		{"mode", Request{Kind: Failover, Mode: "fast"}, "graceful or ungraceful"},
		{"unknown region", Request{Kind: Failover, To: "eu-west-9"}, "eu-west-9 is not a region of shop"},
		{"to itself", Request{Kind: Failover, To: "us-east-1"}, "to itself"},
		{"ungraceful failback", Request{Kind: Failback, Mode: Ungraceful}, "always graceful"},
		{"failback elsewhere", Request{Kind: Failback, To: "us-west-2"}, "returns to the primary region"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Build(shop(), c.req, DefaultEstimates())
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestRemainingRanksTheCriticalPathFirst(t *testing.T) {
	est := DefaultEstimates()
	p, err := Build(shop(), Request{Kind: Failover, Mode: Ungraceful}, est)
	require.NoError(t, err)
	rest := p.Remaining()
	require.Equal(t, p.Estimate, rest["preflight"])
	// api has web after it; web only DNS and verify.
	require.Equal(t, 2*est.ServiceStart+est.DNSPropagation+est.Verify, rest["scale-service:api"])
	require.Equal(t, est.ServiceStart+est.DNSPropagation+est.Verify, rest["scale-service:web"])
	require.Equal(t, est.Verify, rest["verify"])
}

// TestCriticalHoldsEveryLongestChain: a plan with several equal longest
// chains has all of them critical, though its critical path names one;
// a step with time to spare is not critical.
func TestCriticalHoldsEveryLongestChain(t *testing.T) {
	top := shop()
	top.Services = append(top.Services,
		// A second chain as long as api then web.
		topology.Service{Name: "cart", DependsOn: []string{"orders"}},
		topology.Service{Name: "checkout", DependsOn: []string{"cart"}},
		// Nothing waits on admin: it has a service start to spare.
		topology.Service{Name: "admin", DependsOn: []string{"orders"}})
	top.DNS[0].DependsOn = []string{"web", "api", "checkout", "admin"}
	p, err := Build(top, Request{Kind: Failover, Mode: Ungraceful}, DefaultEstimates())
	require.NoError(t, err)

	critical := p.Critical()
	for _, id := range p.CriticalPath {
		require.True(t, critical[id], "%s is on the critical path", id)
	}
	for _, id := range []string{"scale-service:api", "scale-service:web",
		"scale-service:cart", "scale-service:checkout", "promote-database:orders",
		"flip-dns:public", "verify"} {
		require.True(t, critical[id], id)
	}
	require.False(t, critical["scale-service:admin"], "admin has time to spare")
	require.NotContains(t, p.CriticalPath, "scale-service:cart", "the path names one chain")
}
