package seed_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/infra/awsconfig"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/infra/seed"
	"github.com/drover-dev/drover/topology"
)

// sandbox is a simulator fast enough that seeding the example takes about a
// second, and SDK clients for each region that talk to it.
type sandbox struct {
	srv *awssim.Server

	mu      sync.Mutex
	clients map[string]seed.Clients
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	p := awssim.DefaultProfile()
	p.TimeScale = 1200
	srv, err := awssim.Listen("127.0.0.1:0", awssim.New(awssim.Options{Profile: &p}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return &sandbox{srv: srv, clients: map[string]seed.Clients{}}
}

func (sb *sandbox) clientsFor(t *testing.T) func(region string) seed.Clients {
	return func(region string) seed.Clients {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		if c, ok := sb.clients[region]; ok {
			return c
		}
		cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{
			Region: region, Endpoint: sb.srv.URL, StaticCredentials: true,
			Timeout: 10 * time.Second,
		})
		require.NoError(t, err)
		c := seed.Clients{
			ECS:     ecs.NewFromConfig(cfg),
			RDS:     rds.NewFromConfig(cfg),
			Route53: route53.NewFromConfig(cfg),
		}
		sb.clients[region] = c
		return c
	}
}

func (sb *sandbox) rds(t *testing.T, region string) *rds.Client {
	return sb.clientsFor(t)(region).RDS.(*rds.Client)
}

func loadExample(t *testing.T) *topology.Topology {
	t.Helper()
	top, err := topology.Load("../../examples/shop.yaml")
	require.NoError(t, err)
	return top
}

// mutations counts the calls of each operation that is not a read.
func mutations(t *testing.T, srv *awssim.Server) map[string]int64 {
	t.Helper()
	calls, err := awssim.NewControl(srv.URL).Calls(context.Background())
	require.NoError(t, err)
	out := map[string]int64{}
	for _, c := range calls {
		op := c.Operation
		if strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "List") ||
			strings.HasPrefix(op, "Get") {
			continue
		}
		out[c.Region+" "+c.Service+" "+op] += c.Count
	}
	return out
}

func resourceIDs(rs []seed.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

func TestApplySeedsTheExampleAndIsIdempotent(t *testing.T) {
	sb := newSandbox(t)
	top := loadExample(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var progress bytes.Buffer
	res, err := seed.Apply(ctx, top, sb.clientsFor(t), &progress)
	require.NoError(t, err, "progress:\n%s", progress.String())
	require.Empty(t, res.Existing)
	require.Contains(t, progress.String(), "us-east-1 ecs service shop/web: 4/4 running\n")
	require.Contains(t, progress.String(), "us-west-2 rds instance shop-orders-replica: available\n")

	created := resourceIDs(res.Created)
	for _, want := range []string{
		"us-east-1 ecs cluster shop",
		"us-west-2 ecs service shop/shop-checkout",
		"us-east-1 ecs task definition shop-web",
		"us-east-1 rds instance shop-orders",
		"us-west-2 rds instance shop-orders-replica",
		"us-east-1 rds cluster shop-catalog-use1",
		"us-west-2 rds cluster shop-catalog-usw2",
		"us-east-1 rds instance shop-catalog-use1-1",
		"us-west-2 rds instance shop-catalog-usw2-1",
		"global rds global cluster shop-catalog",
		"global route53 zone shop.example.com.",
		"global route53 health check api.shop.example.com. A us-east-1",
		"global route53 record www.shop.example.com. CNAME www-usw2",
	} {
		require.Contains(t, created, want)
	}

	t.Run("ecs", func(t *testing.T) {
		state := sb.srv.Sim.Snapshot()
		for _, region := range []string{"us-east-1", "us-west-2"} {
			ecsState := state.Regions[region].ECS
			require.Equal(t, []string{"shop"}, ecsState.Clusters)
			require.Len(t, ecsState.Services, 5)
			for _, svc := range ecsState.Services {
				require.Equal(t, "ACTIVE", svc.Status, svc.Name)
				require.Equal(t, svc.DesiredCount, svc.RunningCount, "%s %s", region, svc.Name)
			}
		}

		out, err := sb.clientsFor(t)("us-east-1").ECS.DescribeServices(ctx,
			&ecs.DescribeServicesInput{Cluster: aws.String("shop"),
				Services: []string{"web", "cart", "shop-checkout"}})
		require.NoError(t, err)
		desired := map[string]int32{}
		for _, s := range out.Services {
			desired[aws.ToString(s.ServiceName)] = s.DesiredCount
		}
		require.Equal(t, map[string]int32{"web": 4, "cart": 2, "shop-checkout": 2}, desired)

		out, err = sb.clientsFor(t)("us-west-2").ECS.DescribeServices(ctx,
			&ecs.DescribeServicesInput{Cluster: aws.String("shop"), Services: []string{"web"}})
		require.NoError(t, err)
		require.Equal(t, int32(1), out.Services[0].DesiredCount)
		require.Equal(t, int32(1), out.Services[0].RunningCount)
	})

	t.Run("rds instance and its cross-region replica", func(t *testing.T) {
		primary, err := sb.rds(t, "us-east-1").DescribeDBInstances(ctx,
			&rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("shop-orders")})
		require.NoError(t, err)
		p := primary.DBInstances[0]
		require.Equal(t, "available", aws.ToString(p.DBInstanceStatus))
		require.Equal(t, "postgres", aws.ToString(p.Engine))
		require.Equal(t, "db.r6g.large", aws.ToString(p.DBInstanceClass))
		require.True(t, aws.ToBool(p.MultiAZ))
		require.Equal(t, int32(7), aws.ToInt32(p.BackupRetentionPeriod))
		require.Equal(t, "shop-db", aws.ToString(p.DBSubnetGroup.DBSubnetGroupName))
		require.Equal(t, "shop-postgres16",
			aws.ToString(p.DBParameterGroups[0].DBParameterGroupName))
		require.Equal(t, "sg-0a1b2c3d4e5f60718",
			aws.ToString(p.VpcSecurityGroups[0].VpcSecurityGroupId))

		replica, err := sb.rds(t, "us-west-2").DescribeDBInstances(ctx,
			&rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("shop-orders-replica")})
		require.NoError(t, err)
		r := replica.DBInstances[0]
		require.Equal(t, "available", aws.ToString(r.DBInstanceStatus))
		require.Equal(t, aws.ToString(p.DBInstanceArn),
			aws.ToString(r.ReadReplicaSourceDBInstanceIdentifier))
		require.Equal(t, "sg-0f1e2d3c4b5a69788",
			aws.ToString(r.VpcSecurityGroups[0].VpcSecurityGroupId))

		state := sb.srv.Sim.Snapshot()
		var found bool
		for _, inst := range state.Regions["us-east-1"].RDS.Instances {
			if inst.ID == "shop-orders" {
				found = true
				require.Equal(t, []string{aws.ToString(r.DBInstanceArn)}, inst.ReadReplicas)
			}
		}
		require.True(t, found, "the snapshot lists shop-orders")
	})

	t.Run("aurora global cluster", func(t *testing.T) {
		out, err := sb.rds(t, "us-east-1").DescribeGlobalClusters(ctx,
			&rds.DescribeGlobalClustersInput{GlobalClusterIdentifier: aws.String("shop-catalog")})
		require.NoError(t, err)
		g := out.GlobalClusters[0]
		require.Equal(t, "available", aws.ToString(g.Status))
		require.Len(t, g.GlobalClusterMembers, 2)
		writers := map[string]bool{}
		for _, m := range g.GlobalClusterMembers {
			writers[topology.RDSIdentifier(aws.ToString(m.DBClusterArn))] = aws.ToBool(m.IsWriter)
		}
		require.Equal(t, map[string]bool{"shop-catalog-use1": true, "shop-catalog-usw2": false},
			writers)

		var globals []awssim.RDSGlobalClusterState
		for _, region := range []string{"us-east-1", "us-west-2"} {
			globals = append(globals, sb.srv.Sim.Snapshot().Regions[region].RDS.GlobalClusters...)
		}
		require.NotEmpty(t, globals)
		for _, g := range globals {
			require.Equal(t, "shop-catalog", g.ID)
			require.Len(t, g.Members, 2)
			require.Equal(t, "shop-catalog-use1", topology.RDSIdentifier(g.Writer))
		}

		for region, cluster := range map[string]string{
			"us-east-1": "shop-catalog-use1", "us-west-2": "shop-catalog-usw2",
		} {
			out, err := sb.rds(t, region).DescribeDBClusters(ctx,
				&rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(cluster)})
			require.NoError(t, err)
			c := out.DBClusters[0]
			require.Equal(t, "available", aws.ToString(c.Status))
			require.Len(t, c.DBClusterMembers, 1, "one instance in %s", cluster)
			require.Equal(t, cluster+"-1", aws.ToString(c.DBClusterMembers[0].DBInstanceIdentifier))
		}
	})

	t.Run("route 53", func(t *testing.T) {
		zoneID := res.ZoneIDs["public"]
		require.NotEmpty(t, zoneID)
		require.Len(t, res.HealthCheckIDs, 2)

		r53 := sb.clientsFor(t)("us-east-1").Route53.(*route53.Client)
		out, err := r53.ListResourceRecordSets(ctx,
			&route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
		require.NoError(t, err)
		type rec struct {
			failover    r53types.ResourceRecordSetFailover
			weight      int64
			value       string
			healthCheck string
		}
		got := map[string]rec{}
		for _, rr := range out.ResourceRecordSets {
			if rr.SetIdentifier == nil {
				continue // SOA and NS
			}
			got[aws.ToString(rr.Name)+" "+string(rr.Type)+" "+aws.ToString(rr.SetIdentifier)] = rec{
				failover: rr.Failover, weight: aws.ToInt64(rr.Weight),
				value:       aws.ToString(rr.ResourceRecords[0].Value),
				healthCheck: aws.ToString(rr.HealthCheckId),
			}
		}
		require.Equal(t, map[string]rec{
			"api.shop.example.com. A api-use1": {failover: "PRIMARY", value: "192.0.2.10",
				healthCheck: res.HealthCheckIDs["api.shop.example.com. A us-east-1"]},
			"api.shop.example.com. A api-usw2": {failover: "SECONDARY", value: "198.51.100.10",
				healthCheck: res.HealthCheckIDs["api.shop.example.com. A us-west-2"]},
			"www.shop.example.com. CNAME www-use1": {weight: 100, value: "web-use1.shop.example.com"},
			"www.shop.example.com. CNAME www-usw2": {weight: 0, value: "web-usw2.shop.example.com"},
		}, got)

		hc, err := r53.GetHealthCheck(ctx, &route53.GetHealthCheckInput{
			HealthCheckId: aws.String(res.HealthCheckIDs["api.shop.example.com. A us-west-2"]),
		})
		require.NoError(t, err)
		cfg := hc.HealthCheck.HealthCheckConfig
		require.Equal(t, r53types.HealthCheckTypeHttps, cfg.Type)
		require.Equal(t, "api-usw2.shop.example.com", aws.ToString(cfg.FullyQualifiedDomainName))
		require.Equal(t, int32(443), aws.ToInt32(cfg.Port))
		require.Equal(t, "/healthz", aws.ToString(cfg.ResourcePath))

		for _, c := range sb.srv.Sim.Snapshot().Route53.Changes {
			require.Equal(t, "INSYNC", c.Status, c.ID)
		}
	})

	t.Run("a second run creates nothing", func(t *testing.T) {
		before := mutations(t, sb.srv)
		var progress bytes.Buffer
		again, err := seed.Apply(ctx, top, sb.clientsFor(t), &progress)
		require.NoError(t, err, "progress:\n%s", progress.String())
		require.Equal(t, before, mutations(t, sb.srv), "no call of the second run changed anything")
		require.Empty(t, again.Created)
		require.ElementsMatch(t, created, resourceIDs(again.Existing))
		require.Equal(t, res.ZoneIDs, again.ZoneIDs)
		require.Equal(t, res.HealthCheckIDs, again.HealthCheckIDs)
		require.NotContains(t, progress.String(), "differs")
	})
}

func TestApplyRefusesAPromotedReplica(t *testing.T) {
	sb := newSandbox(t)
	top := loadExample(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := seed.Apply(ctx, top, sb.clientsFor(t), nil)
	require.NoError(t, err)

	west := sb.rds(t, "us-west-2")
	_, err = west.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{
		DBInstanceIdentifier: aws.String("shop-orders-replica"),
	})
	require.NoError(t, err)
	waiter := rds.NewDBInstanceAvailableWaiter(west, func(o *rds.DBInstanceAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	})
	require.NoError(t, waiter.Wait(ctx, &rds.DescribeDBInstancesInput{
		DBInstanceIdentifier: aws.String("shop-orders-replica"),
	}, 30*time.Second))
	out, err := west.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
		DBInstanceIdentifier: aws.String("shop-orders-replica"),
	})
	require.NoError(t, err)
	require.Empty(t, aws.ToString(out.DBInstances[0].ReadReplicaSourceDBInstanceIdentifier))

	_, err = seed.Apply(ctx, top, sb.clientsFor(t), nil)
	require.ErrorContains(t, err,
		"us-west-2: DB instance shop-orders-replica exists but replicates nothing")
}

func TestApplyRefusesAnIncompleteSandbox(t *testing.T) {
	data := `app: bare
regions:
  - {name: us-east-1, role: primary}
  - {name: us-west-2, role: standby}
databases:
  - name: orders
    engine: rds
    instances: {us-east-1: orders, us-west-2: orders-replica}
services:
  - {name: web, cluster: shop}
dns:
  - name: public
    domain: bare.example.com.
    records:
      - name: www.bare.example.com.
        type: A
        routing: failover
        targets:
          us-east-1: {setIdentifier: a, value: 192.0.2.1}
          us-west-2: {setIdentifier: b}
`
	top, err := topology.Parse("bare.yaml", []byte(data))
	require.NoError(t, err)
	called := false
	_, err = seed.Apply(context.Background(), top, func(string) seed.Clients {
		called = true
		return seed.Clients{}
	}, nil)
	require.EqualError(t, err, "topology bare cannot be seeded:\n"+
		"  service web has no sandbox block (image and desiredCount)\n"+
		"  database orders has no sandbox block (engine and instanceClass)\n"+
		"  record www.bare.example.com. A has no value for us-west-2")
	require.False(t, called, "nothing is asked of AWS before the topology is known to suffice")
}

func TestApplyGivesUpAtTheDeadline(t *testing.T) {
	sb := newSandbox(t)
	top := loadExample(t)
	// Only the services, so that nothing else is still on its way when
	// the deadline comes.
	top.Databases, top.DNS = nil, nil
	_, err := awssim.NewControl(sb.srv.URL).AddFault(context.Background(), awssim.Fault{
		Kind: awssim.FaultResource, Region: "us-east-1",
		ResourceFault: awssim.TasksNeverStart, Resource: "shop/cart",
	})
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = seed.Apply(ctx, top, sb.clientsFor(t), nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "us-east-1 ecs cluster shop: gave up waiting")
	require.ErrorContains(t, err, "not steady: cart 0/2 running")
}
