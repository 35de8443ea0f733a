package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
)

// heartbeatTimeout bounds how long a waiting activity may go silent before
// Temporal retries it elsewhere: how fast a dead worker is noticed.
const heartbeatTimeout = 20 * time.Second

// retryPolicy retries what AWS may fix by itself (throttling, 5xx, a
// worker that died). Activities mark what retrying cannot fix as
// non-retryable; the step then waits for the operator.
var retryPolicy = &temporal.RetryPolicy{
	InitialInterval:    time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    30 * time.Second,
	MaximumAttempts:    10,
}

// activityOptions picks timeouts by what a step waits for. A best-effort
// step in the source region gets a short, bounded budget instead.
func (s *switchRun) activityOptions(sr *stepRun) workflow.ActivityOptions {
	ao := workflow.ActivityOptions{
		TaskQueue:        activities.TaskQueue(sr.p.Region),
		HeartbeatTimeout: heartbeatTimeout,
		RetryPolicy:      retryPolicy,
	}
	switch sr.p.Kind {
	case plan.StepPreflight, plan.StepObserveSource:
		ao.StartToCloseTimeout = 2 * time.Minute
		ao.HeartbeatTimeout = 0
	case plan.StepPromoteDatabase:
		ao.StartToCloseTimeout = time.Hour
	case plan.StepResyncDatabase, plan.StepRebuildReplica:
		ao.StartToCloseTimeout = 3 * time.Hour
	case plan.StepFlipDNS, plan.StepVerify:
		ao.StartToCloseTimeout = 15 * time.Minute
	default:
		ao.StartToCloseTimeout = 30 * time.Minute
	}
	if s.bestEffort(sr) {
		ao.StartToCloseTimeout = 20 * time.Second
		ao.ScheduleToCloseTimeout = 45 * time.Second
		ao.HeartbeatTimeout = 0
		ao.RetryPolicy = &temporal.RetryPolicy{MaximumAttempts: 2}
	}
	if s.critical[sr.p.ID] {
		// When a thousand services are scaled at once, the critical
		// one's task would otherwise wait its turn in the region's
		// queue behind the others, seconds at a time.
		ao.Priority = temporal.Priority{PriorityKey: criticalPriority}
	}
	return ao
}

// criticalPriority is the task-queue priority of critical steps: ahead of
// Temporal's default, the middle of its five levels. A server without
// priority matching (before 1.28, or 1.28 and 1.29 without
// matching.useNewMatcher) ignores it.
const criticalPriority = 1

// execStep runs the activity of one step. A nil result with a nil error
// means the step had nothing to measure.
func (s *switchRun) execStep(ctx workflow.Context, sr *stepRun) (*activities.StepResult, error) {
	actx := workflow.WithActivityOptions(ctx, s.activityOptions(sr))
	from, to := s.plan.From, s.plan.To
	var res activities.StepResult

	switch sr.p.Kind {
	case plan.StepPreflight:
		return nil, s.preflight(ctx, actx, sr)

	case plan.StepObserveSource:
		var out activities.ObserveServicesResult
		err := workflow.ExecuteActivity(actx, activities.ObserveServicesName,
			activities.ObserveServicesInput{Services: s.serviceRefs()}).Get(ctx, &out)
		if err != nil {
			return nil, err
		}
		s.sourceRunning, s.sourceDesired = out.Running, out.Desired
		sr.p.Detail = fmt.Sprintf("read %d of %d services", len(out.Running), len(s.topo.Services))
		return nil, nil

	case plan.StepStopWriters, plan.StepScaleDownSource:
		in := activities.ScaleServiceInput{Service: s.serviceRef(sr.p.Component), Desired: 0}
		err := workflow.ExecuteActivity(actx, activities.ScaleServiceName, in).Get(ctx, &res)
		return &res, err

	case plan.StepScaleService:
		svc := s.service(sr.p.Component)
		in := activities.ScaleServiceInput{Service: s.serviceRef(svc.Name),
			Desired: s.desiredCount(svc), Critical: s.critical[sr.p.ID]}
		err := workflow.ExecuteActivity(actx, activities.ScaleServiceName, in).Get(ctx, &res)
		return &res, err

	case plan.StepPromoteDatabase:
		in := activities.PromoteDatabaseInput{
			Database: s.database(sr.p.Component), Source: from, Target: to,
			Ungraceful: s.in.Mode == plan.Ungraceful,
		}
		err := workflow.ExecuteActivity(actx, activities.PromoteDatabaseName, in).Get(ctx, &res)
		return &res, err

	case plan.StepResyncDatabase, plan.StepRebuildReplica:
		source, target := from, to
		if sr.p.Kind == plan.StepRebuildReplica {
			source, target = to, from
		}
		db := s.database(sr.p.Component)
		if sr.staleName == "" {
			sr.staleName = staleName(topology.RDSIdentifier(db.Instances[target]),
				workflow.Now(ctx), workflow.GetInfo(ctx).WorkflowExecution.RunID)
		}
		in := activities.ResyncDatabaseInput{
			Database: db, Source: source, Target: target, StaleName: sr.staleName,
		}
		err := workflow.ExecuteActivity(actx, activities.ResyncDatabaseName, in).Get(ctx, &res)
		return &res, err

	case plan.StepFlipDNS:
		zone := s.zone(sr.p.Component)
		if s.in.Purpose == Practice && !zone.FlipInPractice {
			sr.p.State = StepSkipped
			sr.p.Detail = "practice run: production records left alone"
			return nil, nil
		}
		in := activities.FlipDNSInput{Zone: zone, Source: from, Target: to}
		err := workflow.ExecuteActivity(actx, activities.FlipDNSName, in).Get(ctx, &res)
		return &res, err

	case plan.StepVerify:
		in := activities.VerifyInput{Target: to, HealthURL: s.region(to).HealthURL}
		for _, z := range s.topo.DNS {
			if s.in.Purpose == Practice && !z.FlipInPractice {
				continue
			}
			in.Zones = append(in.Zones, z)
		}
		err := workflow.ExecuteActivity(actx, activities.VerifyName, in).Get(ctx, &res)
		return &res, err
	}
	return nil, temporal.NewNonRetryableApplicationError(
		"no activity for step kind "+string(sr.p.Kind), "InvalidPlan", nil)
}

// preflight runs the read-only checks. Problems stop the run unless it
// was forced.
func (s *switchRun) preflight(ctx, actx workflow.Context, sr *stepRun) error {
	in := activities.PreflightInput{
		App: s.topo.App, Source: s.plan.From, Target: s.plan.To,
		Failback:   s.kind == plan.Failback,
		Ungraceful: s.in.Mode == plan.Ungraceful,
		Databases:  s.topo.Databases, Services: s.topo.Services, Zones: s.topo.DNS,
	}
	var out activities.PreflightResult
	if err := workflow.ExecuteActivity(actx, activities.PreflightName, in).Get(ctx, &out); err != nil {
		return err
	}
	s.progress.Preflight = append(s.progress.Preflight, out.Checks...)
	problems := out.Problems()
	if len(problems) == 0 {
		sr.p.Detail = fmt.Sprintf("%d checks passed", len(out.Checks))
		return nil
	}
	var lines []string
	for _, p := range problems {
		lines = append(lines, p.Component+": "+p.Detail)
	}
	if s.in.Force {
		sr.p.Detail = fmt.Sprintf("%d problems, forced past: %s",
			len(problems), strings.Join(lines, "; "))
		s.log.Warn("Preflight found problems; forced past them", "Problems", len(problems))
		return nil
	}
	s.progress.Status = RunPreflightFailed
	s.progress.Message = fmt.Sprintf("preflight found %d problems: %s",
		len(problems), strings.Join(lines, "; "))
	s.aborted = true
	return temporal.NewNonRetryableApplicationError(s.progress.Message, "PreflightFailed", nil)
}

func (s *switchRun) service(name string) topology.Service {
	for _, svc := range s.topo.Services {
		if svc.Name == name {
			return svc
		}
	}
	return topology.Service{Name: name}
}

func (s *switchRun) serviceRef(name string) activities.ServiceRef {
	svc := s.service(name)
	ref := activities.ServiceRef{Name: svc.Name, Cluster: svc.Cluster, Service: svc.Service}
	if ref.Service == "" {
		ref.Service = svc.Name
	}
	return ref
}

func (s *switchRun) serviceRefs() []activities.ServiceRef {
	refs := make([]activities.ServiceRef, 0, len(s.topo.Services))
	for _, svc := range s.topo.Services {
		refs = append(refs, s.serviceRef(svc.Name))
	}
	return refs
}

func (s *switchRun) database(name string) topology.Database {
	for _, d := range s.topo.Databases {
		if d.Name == name {
			return d
		}
	}
	return topology.Database{Name: name}
}

func (s *switchRun) zone(name string) topology.Zone {
	for _, z := range s.topo.DNS {
		if z.Name == name {
			return z
		}
	}
	return topology.Zone{Name: name}
}

func (s *switchRun) region(name string) topology.Region {
	for _, r := range s.topo.Regions {
		if r.Name == name {
			return r
		}
	}
	return topology.Region{Name: name}
}

// staleName names an instance a resync moves out of the way: the time
// says when, and the end of the run id keeps two runs in one minute apart.
// RDS identifiers hold at most 63 letters, digits and hyphens.
func staleName(id string, now time.Time, runID string) string {
	var tag []rune
	for _, r := range strings.ToLower(runID) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			tag = append(tag, r)
		}
	}
	if len(tag) > 6 {
		tag = tag[len(tag)-6:]
	}
	suffix := "-stale-" + now.UTC().Format("20060102-1504")
	if len(tag) > 0 {
		suffix += "-" + string(tag)
	}
	if len(id)+len(suffix) > 63 {
		id = strings.TrimRight(id[:63-len(suffix)], "-")
	}
	return id + suffix
}
