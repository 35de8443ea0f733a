package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/drover-dev/drover/topology"
)

// checks collects the outcome of a preflight.
type checks struct{ list []Check }

func (c *checks) add(component string, ok bool, format string, args ...any) {
	c.list = append(c.list, Check{Component: component, OK: ok,
		Detail: fmt.Sprintf(format, args...)})
}

// findingOf tells apart an error that is a finding of the preflight (a
// resource that does not exist) from one that stops it (AWS could not be
// reached, or refused the worker). A finding comes back as its message.
func findingOf(err error) (string, bool) {
	if errorTypeOf(err) == ErrNotFound || errorTypeOf(err) == ErrInvalid {
		return err.Error(), true
	}
	return "", false
}

// Preflight checks, read-only, whether the application can move from
// Source to Target, for the region it runs in. In the target region it
// checks that the standby is ready: replicas healthy, services ACTIVE,
// records and health checks in place. In the source region (a failback's
// current writer, or a graceful failover's primary) it checks that the
// writer is available and the services exist. Every problem becomes a
// failed Check; the activity fails only when AWS cannot be read.
func (r *Region) Preflight(ctx context.Context, in PreflightInput) (PreflightResult, error) {
	var c checks
	switch r.cfg.Region {
	case in.Target:
		for _, db := range in.Databases {
			if err := r.preflightTargetDB(ctx, db, in, &c); err != nil {
				return PreflightResult{}, err
			}
		}
	case in.Source:
		for _, db := range in.Databases {
			if err := r.preflightSourceDB(ctx, db, in, &c); err != nil {
				return PreflightResult{}, err
			}
		}
	default:
		return PreflightResult{}, nonRetryable(ErrInvalid,
			"Preflight from %s to %s ran on the worker of %s; schedule it on %s or %s",
			in.Source, in.Target, r.cfg.Region, TaskQueue(in.Target), TaskQueue(in.Source))
	}
	if err := r.preflightServices(ctx, in.Services, &c); err != nil {
		return PreflightResult{}, err
	}
	// Route 53 is global: the target's worker checks it, once.
	if r.cfg.Region == in.Target {
		for _, z := range in.Zones {
			if err := r.preflightZone(ctx, z, in, &c); err != nil {
				return PreflightResult{}, err
			}
		}
	}
	return PreflightResult{Checks: c.list}, nil
}

func (r *Region) preflightTargetDB(ctx context.Context, db topology.Database,
	in PreflightInput, c *checks) error {
	switch db.Engine {
	case topology.EngineRDS:
		return r.preflightReplica(ctx, db, in, c)
	case topology.EngineAuroraGlobal:
		return r.preflightAurora(ctx, db, in, c, false)
	}
	c.add(db.Name, false, "engine %q is neither %s nor %s", db.Engine,
		topology.EngineRDS, topology.EngineAuroraGlobal)
	return nil
}

func (r *Region) preflightSourceDB(ctx context.Context, db topology.Database,
	in PreflightInput, c *checks) error {
	if db.Engine == topology.EngineAuroraGlobal {
		return r.preflightAurora(ctx, db, in, c, true)
	}
	ref, err := r.localRef("instance", db.Name, db.Instances[in.Source])
	if msg, ok := findingOf(err); ok {
		c.add(db.Name, false, "%s", msg)
		return nil
	}
	inst, err := r.describeInstance(ctx, ref.id)
	if err != nil {
		return err
	}
	switch {
	case inst == nil:
		c.add(db.Name, false, "writer %s does not exist in %s", ref.id, r.cfg.Region)
	case aws.ToString(inst.DBInstanceStatus) != "available":
		c.add(db.Name, false, "writer %s in %s is %s, not available", ref.id, r.cfg.Region,
			aws.ToString(inst.DBInstanceStatus))
	case sourceOf(inst) != "":
		c.add(db.Name, false, "%s in %s is a read replica of %s, not the writer",
			ref.id, r.cfg.Region, sourceOf(inst))
	default:
		c.add(db.Name, true, "writer %s in %s is available", ref.id, r.cfg.Region)
	}
	return nil
}

// preflightReplica checks the target's RDS instance.
func (r *Region) preflightReplica(ctx context.Context, db topology.Database,
	in PreflightInput, c *checks) error {
	ref, err := r.localRef("instance", db.Name, db.Instances[in.Target])
	if msg, ok := findingOf(err); ok {
		c.add(db.Name, false, "%s", msg)
		return nil
	}
	sourceValue := db.Instances[in.Source]
	inst, err := r.describeInstance(ctx, ref.id)
	if err != nil {
		return err
	}
	if inst == nil {
		if in.Failback {
			c.add(db.Name, true, "%s does not exist in %s; resyncing will create it as a "+
				"replica of %s", ref.id, r.cfg.Region, in.Source)
		} else {
			c.add(db.Name, false, "read replica %s does not exist in %s; create it from %s",
				ref.id, r.cfg.Region, sourceValue)
		}
		return nil
	}
	status := aws.ToString(inst.DBInstanceStatus)
	src := sourceOf(inst)
	switch {
	case src == "" && in.Failback:
		c.add(db.Name, true, "%s in %s is standalone; it will be resynced from %s",
			ref.id, r.cfg.Region, in.Source)
		return nil
	case src == "":
		// Promoted already, by an earlier run: promotion will do nothing.
		c.add(db.Name, status == "available", "%s in %s is already standalone (%s); "+
			"promoting it will change nothing", ref.id, r.cfg.Region, status)
		return nil
	case !r.isReplicaOf(src, in.Source, sourceValue):
		c.add(db.Name, false, "%s in %s replicates from %s, not from %s in %s",
			ref.id, r.cfg.Region, src, sourceValue, in.Source)
		return nil
	case status != "available":
		c.add(db.Name, false, "read replica %s in %s is %s, not available",
			ref.id, r.cfg.Region, status)
		return nil
	}
	if ok, why := replicationNormal(inst); !ok {
		if !in.Ungraceful {
			c.add(db.Name, false, "replication of %s in %s: %s", ref.id, r.cfg.Region, why)
			return nil
		}
		// With its source impaired a replica stops replicating; it can
		// still be promoted, which is what an ungraceful failover is for.
		c.add(db.Name, true, "replication of %s in %s: %s; the ungraceful failover promotes "+
			"it as it stands", ref.id, r.cfg.Region, why)
	} else {
		c.add(db.Name, true, "read replica %s in %s is available and replicating from %s",
			ref.id, r.cfg.Region, in.Source)
	}
	// DescribeDBInstances does not tell the lag; CloudWatch does.
	return r.checkLag(ctx, c, db, instanceLag, ref.id, aws.ToTime(inst.InstanceCreateTime),
		in.Ungraceful)
}

// replicationNormal reads a replica's replication status.
func replicationNormal(inst *rdstypes.DBInstance) (bool, string) {
	for _, s := range inst.StatusInfos {
		if !strings.Contains(strings.ToLower(aws.ToString(s.StatusType)), "replication") {
			continue
		}
		if !aws.ToBool(s.Normal) || aws.ToString(s.Status) != "replicating" {
			msg := aws.ToString(s.Status)
			if m := aws.ToString(s.Message); m != "" {
				msg += ": " + m
			}
			return false, msg
		}
	}
	return true, ""
}

// preflightAurora checks a global database from this region: as target,
// that its cluster is an available member (or already the writer); as
// source, that its cluster is the available writer.
func (r *Region) preflightAurora(ctx context.Context, db topology.Database, in PreflightInput,
	c *checks, asSource bool) error {
	ref, err := r.localRef("cluster", db.Name, db.Clusters[r.cfg.Region])
	if msg, ok := findingOf(err); ok {
		c.add(db.Name, false, "%s", msg)
		return nil
	}
	if db.GlobalCluster == "" {
		c.add(db.Name, false, "names no globalCluster")
		return nil
	}
	st, err := r.readAurora(ctx, parseRDSRef(db.GlobalCluster).id, ref.id)
	if msg, ok := findingOf(err); ok {
		c.add(db.Name, false, "%s", msg)
		return nil
	}
	if errorTypeOf(err) == ErrInvalidState {
		c.add(db.Name, false, "%v", err)
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case st.cluster != "available":
		c.add(db.Name, false, "cluster %s in %s is %s, not available",
			ref.id, r.cfg.Region, st.cluster)
	case st.busy:
		c.add(db.Name, false, "global cluster %s is %s; wait for the operation to end",
			db.GlobalCluster, st.global)
	case asSource && !st.writer:
		c.add(db.Name, false, "cluster %s in %s is not the writer of %s",
			ref.id, r.cfg.Region, db.GlobalCluster)
	case asSource:
		c.add(db.Name, true, "cluster %s in %s is the available writer", ref.id, r.cfg.Region)
	case st.writer:
		c.add(db.Name, true, "cluster %s in %s is already the writer of %s; promoting "+
			"will change nothing", ref.id, r.cfg.Region, db.GlobalCluster)
	default:
		c.add(db.Name, true, "cluster %s in %s is an available secondary of %s",
			ref.id, r.cfg.Region, db.GlobalCluster)
		return r.checkLag(ctx, c, db, clusterLag, ref.id, st.created, in.Ungraceful)
	}
	return nil
}

// preflightServices checks that every service exists and is ACTIVE, ten
// per DescribeServices call.
func (r *Region) preflightServices(ctx context.Context, services []topology.Service,
	c *checks) error {
	byCluster := map[string][]topology.Service{}
	var clusters []string
	for _, s := range services {
		if _, ok := byCluster[s.Cluster]; !ok {
			clusters = append(clusters, s.Cluster)
		}
		byCluster[s.Cluster] = append(byCluster[s.Cluster], s)
	}
	name := func(s topology.Service) string {
		if s.Service != "" {
			return s.Service
		}
		return s.Name
	}
	for _, cl := range clusters {
		list := byCluster[cl]
		for start := 0; start < len(list); start += describeBatch {
			chunk := list[start:min(start+describeBatch, len(list))]
			names := make([]string, len(chunk))
			for i, s := range chunk {
				names[i] = name(s)
			}
			found, _, err := r.describeServices(ctx, cl, names)
			if msg, ok := findingOf(err); ok {
				for _, s := range chunk {
					c.add(s.Name, false, "%s", msg)
				}
				continue
			}
			if err != nil {
				return err
			}
			for _, s := range chunk {
				svc, ok := found[name(s)]
				switch {
				case !ok:
					c.add(s.Name, false, "service %s does not exist in cluster %s in %s",
						name(s), cl, r.cfg.Region)
				case aws.ToString(svc.Status) != "ACTIVE":
					c.add(s.Name, false, "service %s in %s is %s, not ACTIVE",
						name(s), r.cfg.Region, aws.ToString(svc.Status))
				default:
					c.add(s.Name, true, "service %s/%s in %s is ACTIVE with %d of %d tasks",
						cl, name(s), r.cfg.Region, svc.RunningCount, svc.DesiredCount)
				}
			}
		}
	}
	return nil
}

// preflightZone checks that each record has a record set for every
// region's set identifier, of the routing the topology says, and that the
// target's health checks exist.
func (r *Region) preflightZone(ctx context.Context, z topology.Zone, in PreflightInput,
	c *checks) error {
	zoneID, err := r.findZone(ctx, z)
	if msg, ok := findingOf(err); ok {
		c.add(z.Name, false, "%s", msg)
		return nil
	}
	if err != nil {
		return err
	}
	sets, err := r.listRecordSets(ctx, zoneID)
	if msg, ok := findingOf(err); ok {
		c.add(z.Name, false, "%s", msg)
		return nil
	}
	if err != nil {
		return err
	}
	zr := indexRecords(sets)
	var problems []string
	for _, rec := range z.Records {
		if _, ok := rec.Targets[in.Target]; !ok {
			problems = append(problems, fmt.Sprintf("%s %s has no target for %s",
				rec.Name, rec.Type, in.Target))
		}
		for _, region := range sortedRegions(rec) {
			s, ok := zr.target(rec, region)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s %s has no record set %q for %s",
					dnsName(rec.Name), rec.Type, rec.Targets[region].SetIdentifier, region))
				continue
			}
			if rec.Routing == topology.RoutingFailover && s.Failover == "" ||
				rec.Routing == topology.RoutingWeighted && s.Weight == nil {
				problems = append(problems, fmt.Sprintf("record set %q of %s is not %s",
					aws.ToString(s.SetIdentifier), rec.Name, rec.Routing))
			}
			hc := aws.ToString(s.HealthCheckId)
			if region != in.Target || hc == "" {
				continue
			}
			if err := r.waitRoute53(ctx); err != nil {
				return err
			}
			_, err := r.clients.Route53.GetHealthCheck(ctx, &route53.GetHealthCheckInput{
				HealthCheckId: aws.String(hc),
			})
			if err != nil {
				err = r.awsError(err, "read health check "+hc)
				if errorTypeOf(err) != ErrNotFound {
					return err
				}
				problems = append(problems, fmt.Sprintf("health check %s of %s (%s) does not exist",
					hc, rec.Name, region))
			}
		}
	}
	if len(problems) > 0 {
		c.add(z.Name, false, "zone %s: %s", zoneID, strings.Join(problems, "; "))
		return nil
	}
	c.add(z.Name, true, "zone %s has every record set, and %s's health checks exist",
		zoneID, in.Target)
	return nil
}
