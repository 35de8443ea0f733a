package bench

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/drover-dev/drover/infra/awsconfig"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
)

// Runbook is the baseline a failover is compared with: the same changes
// made one after another, as a shell script of AWS CLI commands would make
// them. It promotes each database and waits for it, then scales each
// service and waits until it is stable, then flips each zone and waits
// until the change is in sync. It calls AWS through the SDK's clients and
// polls every Poll, with no Temporal and no parallelism.
type Runbook struct {
	Topology *topology.Topology
	From, To string
	Mode     plan.Mode
	// Endpoint points the clients at the simulator; empty means AWS.
	Endpoint string
	// Poll is the time between two reads of a resource being waited on.
	Poll time.Duration
}

// RunbookResult is how long each phase of a runbook took.
type RunbookResult struct {
	Databases, Services, DNS time.Duration
	Total                    time.Duration
}

// runbookClients are the target region's clients.
type runbookClients struct {
	ecs     *ecs.Client
	rds     *rds.Client
	route53 *route53.Client
}

// Run runs the runbook to the end, or until the first error.
func (rb Runbook) Run(ctx context.Context) (RunbookResult, error) {
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{
		Region: rb.To, Endpoint: rb.Endpoint, StaticCredentials: rb.Endpoint != "",
	})
	if err != nil {
		return RunbookResult{}, err
	}
	c := runbookClients{
		ecs: ecs.NewFromConfig(cfg), rds: rds.NewFromConfig(cfg),
		route53: route53.NewFromConfig(cfg),
	}

	var res RunbookResult
	start := time.Now()
	for _, db := range rb.Topology.Databases {
		if err := rb.promote(ctx, c, db); err != nil {
			return res, err
		}
	}
	res.Databases = time.Since(start)

	mark := time.Now()
	for _, svc := range servicesInOrder(rb.Topology) {
		if err := rb.scale(ctx, c, svc); err != nil {
			return res, err
		}
	}
	res.Services = time.Since(mark)

	mark = time.Now()
	for _, z := range rb.Topology.DNS {
		if err := rb.flip(ctx, c, z); err != nil {
			return res, err
		}
	}
	res.DNS = time.Since(mark)
	res.Total = time.Since(start)
	return res, nil
}

// waitFor calls check every Poll until it reports done.
func (rb Runbook) waitFor(ctx context.Context, what string,
	check func(context.Context) (bool, error)) error {
	t := time.NewTicker(rb.Poll)
	defer t.Stop()
	for {
		done, err := check(ctx)
		if err != nil {
			return fmt.Errorf("runbook: %s: %w", what, err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("runbook: gave up waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

func (rb Runbook) promote(ctx context.Context, c runbookClients, db topology.Database) error {
	if db.Engine == topology.EngineRDS {
		id := topology.RDSIdentifier(db.Instances[rb.To])
		if _, err := c.rds.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{
			DBInstanceIdentifier: aws.String(id),
		}); err != nil {
			return fmt.Errorf("runbook: promote %s: %w", id, err)
		}
		return rb.waitFor(ctx, "DB instance "+id, func(ctx context.Context) (bool, error) {
			out, err := c.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
				DBInstanceIdentifier: aws.String(id),
			})
			if err != nil || len(out.DBInstances) == 0 {
				return false, err
			}
			inst := out.DBInstances[0]
			return aws.ToString(inst.DBInstanceStatus) == "available" &&
				aws.ToString(inst.ReadReplicaSourceDBInstanceIdentifier) == "", nil
		})
	}

	gid := topology.RDSIdentifier(db.GlobalCluster)
	cid := topology.RDSIdentifier(db.Clusters[rb.To])
	out, err := c.rds.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{
		DBClusterIdentifier: aws.String(cid),
	})
	if err != nil {
		return fmt.Errorf("runbook: describe DB cluster %s: %w", cid, err)
	}
	if len(out.DBClusters) == 0 {
		return fmt.Errorf("runbook: DB cluster %s does not exist in %s", cid, rb.To)
	}
	arn := out.DBClusters[0].DBClusterArn
	if rb.Mode == plan.Ungraceful {
		_, err = c.rds.FailoverGlobalCluster(ctx, &rds.FailoverGlobalClusterInput{
			GlobalClusterIdentifier: aws.String(gid), TargetDbClusterIdentifier: arn,
			AllowDataLoss: aws.Bool(true),
		})
	} else {
		_, err = c.rds.SwitchoverGlobalCluster(ctx, &rds.SwitchoverGlobalClusterInput{
			GlobalClusterIdentifier: aws.String(gid), TargetDbClusterIdentifier: arn,
		})
	}
	if err != nil {
		return fmt.Errorf("runbook: make %s the writer of %s: %w", cid, gid, err)
	}
	return rb.waitFor(ctx, "global cluster "+gid, func(ctx context.Context) (bool, error) {
		out, err := c.rds.DescribeGlobalClusters(ctx, &rds.DescribeGlobalClustersInput{
			GlobalClusterIdentifier: aws.String(gid),
		})
		if err != nil || len(out.GlobalClusters) == 0 {
			return false, err
		}
		g := out.GlobalClusters[0]
		if aws.ToString(g.Status) != "available" ||
			g.FailoverState != nil && g.FailoverState.Status != "" {
			return false, nil
		}
		for _, m := range g.GlobalClusterMembers {
			if aws.ToString(m.DBClusterArn) == aws.ToString(arn) {
				return aws.ToBool(m.IsWriter), nil
			}
		}
		return false, nil
	})
}

// desired is what a runbook would hard-code for a service in the target:
// its fixed count, or its share of what the sandbox runs in the source.
func (rb Runbook) desired(svc topology.Service) int32 {
	if svc.Count != nil {
		return *svc.Count
	}
	if svc.Sandbox == nil {
		return 1
	}
	share := svc.Share
	if share == 0 {
		share = 1
	}
	return int32(math.Ceil(float64(svc.Sandbox.DesiredCount[rb.From]) * share))
}

func (rb Runbook) scale(ctx context.Context, c runbookClients, svc topology.Service) error {
	name := svc.Service
	if name == "" {
		name = svc.Name
	}
	want := rb.desired(svc)
	if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(svc.Cluster), Service: aws.String(name),
		DesiredCount: aws.Int32(want),
	}); err != nil {
		return fmt.Errorf("runbook: scale %s/%s: %w", svc.Cluster, name, err)
	}
	return rb.waitFor(ctx, "service "+svc.Cluster+"/"+name,
		func(ctx context.Context) (bool, error) {
			out, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{
				Cluster: aws.String(svc.Cluster), Services: []string{name},
			})
			if err != nil || len(out.Services) == 0 {
				return false, err
			}
			s := out.Services[0]
			return s.DesiredCount == want && s.RunningCount == want &&
				s.PendingCount == 0 && len(s.Deployments) == 1, nil
		})
}

func (rb Runbook) flip(ctx context.Context, c runbookClients, z topology.Zone) error {
	domain := strings.ToLower(z.Domain)
	zones, err := c.route53.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{
		DNSName: aws.String(domain),
	})
	if err != nil {
		return fmt.Errorf("runbook: find zone %s: %w", domain, err)
	}
	zoneID := ""
	for _, hz := range zones.HostedZones {
		if strings.EqualFold(aws.ToString(hz.Name), domain) {
			zoneID = aws.ToString(hz.Id)
			break
		}
	}
	if zoneID == "" {
		return fmt.Errorf("runbook: no hosted zone is named %s", domain)
	}

	var sets []r53types.ResourceRecordSet
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)}
	for {
		out, err := c.route53.ListResourceRecordSets(ctx, in)
		if err != nil {
			return fmt.Errorf("runbook: list records of %s: %w", domain, err)
		}
		sets = append(sets, out.ResourceRecordSets...)
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType = out.NextRecordName, out.NextRecordType
		in.StartRecordIdentifier = out.NextRecordIdentifier
	}

	var changes []r53types.Change
	for _, s := range sets {
		region, rec, ok := targetOf(z, s)
		if !ok {
			continue
		}
		if rec.Routing == topology.RoutingFailover {
			s.Failover = r53types.ResourceRecordSetFailoverSecondary
			if region == rb.To {
				s.Failover = r53types.ResourceRecordSetFailoverPrimary
			}
		} else {
			s.Weight = aws.Int64(0)
			if region == rb.To {
				s.Weight = aws.Int64(100)
			}
		}
		changes = append(changes, r53types.Change{
			Action: r53types.ChangeActionUpsert, ResourceRecordSet: &s,
		})
	}
	out, err := c.route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID),
		ChangeBatch:  &r53types.ChangeBatch{Changes: changes},
	})
	if err != nil {
		return fmt.Errorf("runbook: change records of %s: %w", domain, err)
	}
	id := out.ChangeInfo.Id
	return rb.waitFor(ctx, "change "+aws.ToString(id), func(ctx context.Context) (bool, error) {
		out, err := c.route53.GetChange(ctx, &route53.GetChangeInput{Id: id})
		if err != nil {
			return false, err
		}
		return out.ChangeInfo.Status == r53types.ChangeStatusInsync, nil
	})
}

// targetOf finds the topology record and region a record set belongs to.
func targetOf(z topology.Zone, s r53types.ResourceRecordSet) (string, topology.Record, bool) {
	for _, rec := range z.Records {
		if !strings.EqualFold(rec.Name, aws.ToString(s.Name)) || rec.Type != string(s.Type) {
			continue
		}
		for region, t := range rec.Targets {
			if t.SetIdentifier == aws.ToString(s.SetIdentifier) {
				return region, rec, true
			}
		}
	}
	return "", topology.Record{}, false
}

// servicesInOrder lists the services so that each comes after the
// services it depends on, as a runbook's author would order them.
func servicesInOrder(t *topology.Topology) []topology.Service {
	index := map[string]int{}
	for i, s := range t.Services {
		index[s.Name] = i
	}
	done := make([]bool, len(t.Services))
	var out []topology.Service
	var visit func(i int)
	visit = func(i int) {
		if done[i] {
			return
		}
		// Marked before its dependencies are visited, so that a cycle,
		// which topology validation rejects anyway, cannot loop.
		done[i] = true
		for _, d := range t.Services[i].DependsOn {
			if j, ok := index[d]; ok {
				visit(j)
			}
		}
		out = append(out, t.Services[i])
	}
	for i := range t.Services {
		visit(i)
	}
	return out
}
