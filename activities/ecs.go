package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"go.temporal.io/sdk/activity"
)

// describeBatch is the most services one DescribeServices call takes.
const describeBatch = 10

// describeServices reads up to ten services of one cluster. Services ECS
// reports missing come back in missing, by the name asked for.
func (r *Region) describeServices(ctx context.Context, cluster string, names []string) (
	found map[string]ecstypes.Service, missing []string, err error) {
	if err := r.waitECS(ctx); err != nil {
		return nil, nil, err
	}
	return r.describeServicesNoWait(ctx, cluster, names)
}

// describeServicesNoWait is describeServices for a caller that has taken
// the limiter's token itself.
func (r *Region) describeServicesNoWait(ctx context.Context, cluster string, names []string) (
	found map[string]ecstypes.Service, missing []string, err error) {
	out, err := r.clients.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster:  aws.String(cluster),
		Services: names,
	})
	if err != nil {
		return nil, nil, r.awsError(err, fmt.Sprintf("describe services of cluster %s", cluster))
	}
	found = make(map[string]ecstypes.Service, len(out.Services))
	for _, s := range out.Services {
		found[aws.ToString(s.ServiceName)] = s
		// The caller may have named the service by its ARN.
		found[aws.ToString(s.ServiceArn)] = s
	}
	for _, n := range names {
		if _, ok := found[n]; !ok {
			missing = append(missing, n)
		}
	}
	return found, missing, nil
}

// ObserveServices reads the running and desired task counts of services,
// ten per call. A service that does not exist, or whose cluster does not,
// is left out of the result rather than failing the others.
func (r *Region) ObserveServices(ctx context.Context, in ObserveServicesInput) (
	ObserveServicesResult, error) {
	res := ObserveServicesResult{Running: map[string]int32{}, Desired: map[string]int32{}}
	byCluster := map[string][]ServiceRef{}
	var clusters []string
	for _, s := range in.Services {
		if _, ok := byCluster[s.Cluster]; !ok {
			clusters = append(clusters, s.Cluster)
		}
		byCluster[s.Cluster] = append(byCluster[s.Cluster], s)
	}
	for _, c := range clusters {
		refs := byCluster[c]
		for start := 0; start < len(refs); start += describeBatch {
			chunk := refs[start:min(start+describeBatch, len(refs))]
			names := make([]string, len(chunk))
			for i, s := range chunk {
				names[i] = s.Service
			}
			found, _, err := r.describeServices(ctx, c, names)
			if err != nil {
				if errorTypeOf(err) == ErrNotFound {
					break // the cluster is gone: none of its services can be read
				}
				return ObserveServicesResult{}, err
			}
			for _, s := range chunk {
				if svc, ok := found[s.Service]; ok && aws.ToString(svc.Status) == "ACTIVE" {
					res.Running[s.Name] = svc.RunningCount
					res.Desired[s.Name] = svc.DesiredCount
				}
			}
		}
	}
	return res, nil
}

// serviceStable reports whether a service has settled at goal tasks: one
// deployment, every desired task running, none pending, and a rollout
// that has completed where ECS reports one. The reason says, for a
// heartbeat, what it still waits for.
func serviceStable(s ecstypes.Service, goal int32) (ok bool, reason string) {
	switch {
	case s.DesiredCount != goal:
		return false, fmt.Sprintf("desired count is %d, not %d", s.DesiredCount, goal)
	case len(s.Deployments) != 1:
		return false, fmt.Sprintf("%d deployments in progress", len(s.Deployments))
	case s.RunningCount != goal:
		return false, fmt.Sprintf("%d of %d tasks running", s.RunningCount, goal)
	case s.PendingCount != 0:
		return false, fmt.Sprintf("%d tasks pending", s.PendingCount)
	}
	rs := s.Deployments[0].RolloutState
	if rs != "" && rs != ecstypes.DeploymentRolloutStateCompleted {
		return false, "rollout " + strings.ToLower(string(rs))
	}
	return true, fmt.Sprintf("%d of %d tasks running", s.RunningCount, goal)
}

// ScaleService sets a service's desired count, unless it already has it,
// and waits until the service is stable at that count. The wait is shared
// with every other ScaleService of this Region through one poller, so
// that many services cost one DescribeServices call per ten of them.
func (r *Region) ScaleService(ctx context.Context, in ScaleServiceInput) (StepResult, error) {
	svc := in.Service
	if svc.Cluster == "" || svc.Service == "" {
		return StepResult{}, nonRetryable(ErrInvalid,
			"service %q needs a cluster and a service name", svc.Name)
	}
	what := fmt.Sprintf("service %s/%s", svc.Cluster, svc.Service)
	ctx = withUrgency(ctx, in.Critical)
	prog := resumeProgress(ctx)
	prog.Detail = "reading the service"

	w := r.services.watch(ctx, svcKey{cluster: svc.Cluster, service: svc.Service})
	defer w.close()

	first, err := w.next(ctx, &prog)
	if err != nil {
		return StepResult{}, err
	}
	if st := aws.ToString(first.svc.Status); st != "ACTIVE" {
		return StepResult{}, nonRetryable(ErrInvalidState,
			"%s in %s is %s, not ACTIVE; recreate it or remove it from the topology",
			what, r.cfg.Region, st)
	}

	if in.Desired < 0 {
		// The source's size is unknown: keep what the target wants, and
		// never leave it serving nothing.
		in.Desired = max(first.svc.DesiredCount, 1)
	}

	acted := !prog.ActionStarted.IsZero()
	if ok, _ := serviceStable(first.svc, in.Desired); ok {
		// The goal held at the first look: nothing to do and nothing to
		// wait for. A previous attempt that acted still counts.
		res := StepResult{ActionStarted: first.at, HealthyAt: first.at, AlreadyDone: !acted,
			Detail: fmt.Sprintf("%s already runs %d tasks", what, in.Desired)}
		if acted {
			res.ActionStarted = prog.ActionStarted
			res.Detail = fmt.Sprintf("%s runs %d tasks", what, in.Desired)
		}
		return res, nil
	}

	if first.svc.DesiredCount != in.Desired {
		if err := r.waitECSChange(ctx); err != nil {
			return StepResult{}, err
		}
		if prog.ActionStarted.IsZero() {
			prog.ActionStarted = r.now()
		}
		prog.Detail = fmt.Sprintf("setting desired count %d -> %d",
			first.svc.DesiredCount, in.Desired)
		// An activity's first heartbeat is a call to Temporal that the
		// SDK makes before RecordHeartbeat returns; with a thousand
		// services scaled at once it queues for seconds. So it goes
		// alongside the change rather than before it.
		heartbeated := heartbeatAlongside(ctx, prog)
		_, err := r.clients.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster:      aws.String(svc.Cluster),
			Service:      aws.String(svc.Service),
			DesiredCount: aws.Int32(in.Desired),
		})
		heartbeated()
		if err != nil {
			return StepResult{}, r.awsError(err, "update "+what)
		}
		acted = true
	}
	if prog.ActionStarted.IsZero() {
		// The desired count was already set, by someone else: the
		// recovery began before this activity, but no earlier than it
		// can tell.
		prog.ActionStarted = first.at
	}

	for {
		o, err := w.next(ctx, &prog)
		if err != nil {
			return StepResult{}, err
		}
		if len(o.svc.Deployments) > 0 &&
			o.svc.Deployments[0].RolloutState == ecstypes.DeploymentRolloutStateFailed {
			return StepResult{}, nonRetryable(ErrInvalidState,
				"%s in %s: deployment failed: %s; fix the service and retry the step",
				what, r.cfg.Region, aws.ToString(o.svc.Deployments[0].RolloutStateReason))
		}
		ok, reason := serviceStable(o.svc, in.Desired)
		prog.Detail = reason
		if ok {
			detail := fmt.Sprintf("%s scaled to %d tasks", what, in.Desired)
			if !acted {
				detail = fmt.Sprintf("%s reached its desired %d tasks", what, in.Desired)
			}
			return StepResult{ActionStarted: prog.ActionStarted, HealthyAt: o.at,
				Detail: detail}, nil
		}
	}
}

// heartbeatAlongside records a heartbeat while the caller goes on, and
// returns a function that waits until it has been recorded (or given up).
func heartbeatAlongside(ctx context.Context, details Progress) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		activity.RecordHeartbeat(ctx, details)
	}()
	return func() { <-done }
}

// resumeProgress returns what an earlier attempt of this activity
// heartbeated, or nothing.
func resumeProgress(ctx context.Context) Progress {
	var p Progress
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &p); err != nil {
			// Details of another shape mean nothing to resume from.
			return Progress{}
		}
	}
	return p
}

// errorTypeOf returns the type of a classified error, or "".
func errorTypeOf(err error) string {
	if t, ok := applicationType(err); ok {
		return t
	}
	return ""
}
