package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"go.temporal.io/sdk/activity"

	"github.com/drover-dev/drover/topology"
)

// rdsRef is a DB instance, cluster or global cluster as a topology names
// it: an identifier, or an ARN that also says where it lives.
type rdsRef struct {
	id string
	// arn, partition, region and account are set when it was an ARN.
	arn       string
	partition string
	region    string
	account   string
}

// parseRDSRef reads an identifier or an ARN such as
// arn:aws:rds:us-east-1:123456789012:db:orders.
func parseRDSRef(s string) rdsRef {
	if !strings.HasPrefix(s, "arn:") {
		return rdsRef{id: s}
	}
	parts := strings.SplitN(s, ":", 7)
	if len(parts) != 7 {
		return rdsRef{id: s}
	}
	return rdsRef{id: parts[6], arn: s, partition: parts[1], region: parts[3], account: parts[4]}
}

// localRef resolves what the topology names in this Region. An ARN of
// another region is a topology mistake, caught here rather than sent to
// the wrong endpoint.
func (r *Region) localRef(kind, name, value string) (rdsRef, error) {
	if value == "" {
		return rdsRef{}, nonRetryable(ErrInvalid,
			"database %q names no %s in %s; add it to the topology", name, kind, r.cfg.Region)
	}
	ref := parseRDSRef(value)
	if ref.region != "" && ref.region != r.cfg.Region {
		return rdsRef{}, nonRetryable(ErrInvalid,
			"database %q: the %s for %s is the ARN %s, which is in %s; fix the topology",
			name, kind, r.cfg.Region, value, ref.region)
	}
	return ref, nil
}

// describeInstance reads one DB instance of this region; nil when it does
// not exist.
func (r *Region) describeInstance(ctx context.Context, id string) (*rdstypes.DBInstance, error) {
	if err := r.waitRDS(ctx); err != nil {
		return nil, err
	}
	out, err := r.clients.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
		DBInstanceIdentifier: aws.String(id),
	})
	if hasCode(err, "DBInstanceNotFound", "DBInstanceNotFoundFault") {
		return nil, nil
	}
	if err != nil {
		return nil, r.awsError(err, "describe DB instance "+id)
	}
	for i := range out.DBInstances {
		if aws.ToString(out.DBInstances[i].DBInstanceIdentifier) == id {
			return &out.DBInstances[i], nil
		}
	}
	return nil, nil
}

// describeCluster reads one DB cluster of this region; nil when it does
// not exist.
func (r *Region) describeCluster(ctx context.Context, id string) (*rdstypes.DBCluster, error) {
	if err := r.waitRDS(ctx); err != nil {
		return nil, err
	}
	out, err := r.clients.RDS.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{
		DBClusterIdentifier: aws.String(id),
	})
	if hasCode(err, "DBClusterNotFoundFault", "DBClusterNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, r.awsError(err, "describe DB cluster "+id)
	}
	for i := range out.DBClusters {
		if aws.ToString(out.DBClusters[i].DBClusterIdentifier) == id {
			return &out.DBClusters[i], nil
		}
	}
	return nil, nil
}

// describeGlobal reads a global cluster through this region's endpoint;
// nil when it does not exist.
func (r *Region) describeGlobal(ctx context.Context, id string) (*rdstypes.GlobalCluster, error) {
	if err := r.waitRDS(ctx); err != nil {
		return nil, err
	}
	out, err := r.clients.RDS.DescribeGlobalClusters(ctx, &rds.DescribeGlobalClustersInput{
		GlobalClusterIdentifier: aws.String(id),
	})
	if hasCode(err, "GlobalClusterNotFoundFault", "GlobalClusterNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, r.awsError(err, "describe global cluster "+id)
	}
	for i := range out.GlobalClusters {
		if aws.ToString(out.GlobalClusters[i].GlobalClusterIdentifier) == id {
			return &out.GlobalClusters[i], nil
		}
	}
	return nil, nil
}

// failedStates are instance and cluster states that no amount of waiting
// leaves.
var failedStates = map[string]bool{
	"failed": true, "incompatible-network": true, "incompatible-option-group": true,
	"incompatible-parameters": true, "incompatible-restore": true,
	"inaccessible-encryption-credentials":             true,
	"inaccessible-encryption-credentials-recoverable": true,
	"storage-full": true, "deleting": true, "stopped": true, "stopping": true,
	"restore-error": true, "insufficient-capacity": true,
}

// sourceOf returns a replica's source as AWS reports it, or "" for a
// standalone instance.
func sourceOf(inst *rdstypes.DBInstance) string {
	return aws.ToString(inst.ReadReplicaSourceDBInstanceIdentifier)
}

// isReplicaOf reports whether a replica source, as DescribeDBInstances
// gives it, is the instance that the topology names for sourceRegion. A
// cross-region replica's source is an ARN; a plain identifier means a
// source in the replica's own region.
func (r *Region) isReplicaOf(reported, sourceRegion, sourceValue string) bool {
	if reported == "" {
		return false
	}
	want := parseRDSRef(sourceValue)
	got := parseRDSRef(reported)
	if got.region == "" {
		got.region = r.cfg.Region
	}
	if got.id != want.id || got.region != sourceRegion {
		return false
	}
	return want.account == "" || got.account == "" || want.account == got.account
}

// instanceCheck judges one read of an instance during a wait: done ends
// the wait; reason says what it still waits for; err ends the wait in
// failure.
type instanceCheck func(inst *rdstypes.DBInstance) (done bool, reason string, err error)

// waitInstance reads an instance every PollInterval until check is done,
// heartbeating prog. It returns when the done state was first seen. check
// gets nil while the instance does not exist.
func (r *Region) waitInstance(ctx context.Context, id string, prog *Progress,
	check instanceCheck) (time.Time, *rdstypes.DBInstance, error) {
	pace := r.pacer()
	defer pace.stop()
	for {
		inst, err := r.describeInstance(ctx, id)
		at := r.now()
		switch {
		case err != nil && !isRetryable(err):
			return time.Time{}, nil, err
		case err != nil:
			prog.Detail = "reading the instance failed, will retry: " + err.Error()
		default:
			done, reason, err := check(inst)
			if err != nil {
				return time.Time{}, nil, err
			}
			if done {
				return at, inst, nil
			}
			prog.Detail = reason
		}
		activity.RecordHeartbeat(ctx, *prog)
		if err := pace.wait(ctx); err != nil {
			return time.Time{}, nil, fmt.Errorf("DB instance %s in %s: gave up waiting (%s): %w",
				id, r.cfg.Region, prog.Detail, err)
		}
	}
}

// PromoteDatabase makes the target region's copy of a database the
// writer: an RDS read replica is promoted to a standalone instance; an
// Aurora global database is switched over (graceful) or failed over with
// data loss allowed (ungraceful) to the target's cluster. Every call goes
// to the target region, so an impaired source cannot hold it up.
func (r *Region) PromoteDatabase(ctx context.Context, in PromoteDatabaseInput) (StepResult, error) {
	if in.Target != r.cfg.Region {
		return StepResult{}, nonRetryable(ErrInvalid,
			"PromoteDatabase for %s ran on the worker of %s; schedule it on %s",
			in.Target, r.cfg.Region, TaskQueue(in.Target))
	}
	switch in.Database.Engine {
	case topology.EngineRDS:
		return r.promoteInstance(ctx, in)
	case topology.EngineAuroraGlobal:
		return r.promoteCluster(ctx, in)
	}
	return StepResult{}, nonRetryable(ErrInvalid, "database %q has engine %q; want %s or %s",
		in.Database.Name, in.Database.Engine, topology.EngineRDS, topology.EngineAuroraGlobal)
}

func (r *Region) promoteInstance(ctx context.Context, in PromoteDatabaseInput) (StepResult, error) {
	db := in.Database
	ref, err := r.localRef("instance", db.Name, db.Instances[in.Target])
	if err != nil {
		return StepResult{}, err
	}
	prog := resumeProgress(ctx)
	inst, err := r.describeInstance(ctx, ref.id)
	if err != nil {
		return StepResult{}, err
	}
	if inst == nil {
		return StepResult{}, nonRetryable(ErrNotFound,
			"DB instance %s does not exist in %s; create the read replica or fix "+
				"the topology's instances", ref.id, r.cfg.Region)
	}
	first := r.now()
	status := aws.ToString(inst.DBInstanceStatus)
	if failedStates[status] {
		return StepResult{}, nonRetryable(ErrInvalidState,
			"DB instance %s in %s is %s and cannot be promoted; repair it first",
			ref.id, r.cfg.Region, status)
	}

	standalone := func(inst *rdstypes.DBInstance) (bool, string, error) {
		if inst == nil {
			return false, "", nonRetryable(ErrNotFound,
				"DB instance %s in %s disappeared while being promoted", ref.id, r.cfg.Region)
		}
		st := aws.ToString(inst.DBInstanceStatus)
		if failedStates[st] {
			return false, "", nonRetryable(ErrInvalidState,
				"DB instance %s in %s is %s after promotion; repair it and retry the step",
				ref.id, r.cfg.Region, st)
		}
		if sourceOf(inst) != "" {
			return false, "still a read replica, " + st, nil
		}
		return st == "available", st, nil
	}

	if sourceOf(inst) == "" {
		if status == "available" && prog.ActionStarted.IsZero() {
			return StepResult{ActionStarted: first, HealthyAt: first, AlreadyDone: true,
				Detail: fmt.Sprintf("DB instance %s is already standalone and available", ref.id)}, nil
		}
		// Promoted already, by an earlier attempt or by hand, and not
		// yet available: only the wait is left.
		return r.finishPromotion(ctx, ref.id, first, &prog, standalone,
			fmt.Sprintf("DB instance %s promoted", ref.id))
	}

	// A replica cannot be promoted while it is busy (backing up,
	// modifying); wait until it is available first.
	_, inst, err = r.waitInstance(ctx, ref.id, &prog, func(inst *rdstypes.DBInstance) (
		bool, string, error) {
		if inst == nil {
			return false, "", nonRetryable(ErrNotFound,
				"DB instance %s in %s disappeared before its promotion", ref.id, r.cfg.Region)
		}
		st := aws.ToString(inst.DBInstanceStatus)
		if failedStates[st] {
			return false, "", nonRetryable(ErrInvalidState,
				"DB instance %s in %s is %s and cannot be promoted; repair it first",
				ref.id, r.cfg.Region, st)
		}
		return st == "available", "waiting for the replica to be available, now " + st, nil
	})
	if err != nil {
		return StepResult{}, err
	}
	if sourceOf(inst) == "" {
		return r.finishPromotion(ctx, ref.id, first, &prog, standalone,
			fmt.Sprintf("DB instance %s promoted", ref.id))
	}

	if err := r.waitRDSChange(ctx); err != nil {
		return StepResult{}, err
	}
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	prog.Detail = "promoting read replica " + ref.id
	activity.RecordHeartbeat(ctx, prog)
	out, err := r.clients.RDS.PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{
		DBInstanceIdentifier: aws.String(ref.id),
	})
	if err != nil {
		return StepResult{}, r.awsError(err, "promote read replica "+ref.id)
	}

	// A promotion that fails leaves the replica where it was. Once the
	// instance has been seen busy (the answer to the promotion itself
	// shows it so), seeing it available and still a replica means
	// exactly that.
	busy := out.DBInstance != nil && aws.ToString(out.DBInstance.DBInstanceStatus) != "available"
	check := func(inst *rdstypes.DBInstance) (bool, string, error) {
		if inst == nil {
			return standalone(inst)
		}
		st := aws.ToString(inst.DBInstanceStatus)
		if st != "available" {
			busy = true
		} else if busy && sourceOf(inst) != "" {
			return false, "", nonRetryable(ErrPromotionFailed,
				"promotion of DB instance %s in %s ended with it still a read replica; "+
					"read its RDS events for the cause", ref.id, r.cfg.Region)
		}
		return standalone(inst)
	}
	return r.finishPromotion(ctx, ref.id, first, &prog, check,
		fmt.Sprintf("DB instance %s promoted to standalone", ref.id))
}

// finishPromotion waits for a promoted instance to be standalone and
// available. acted is known from prog: an attempt that acted heartbeated
// its start.
func (r *Region) finishPromotion(ctx context.Context, id string, first time.Time,
	prog *Progress, check instanceCheck, detail string) (StepResult, error) {
	at, _, err := r.waitInstance(ctx, id, prog, check)
	if err != nil {
		return StepResult{}, err
	}
	started := prog.ActionStarted
	if started.IsZero() {
		// Promoted by somebody else before this activity looked.
		started = first
	}
	return StepResult{ActionStarted: started, HealthyAt: at, Detail: detail}, nil
}

// globalMember returns the member of a global cluster with that cluster
// ARN.
func globalMember(gc *rdstypes.GlobalCluster, clusterARN string) (
	rdstypes.GlobalClusterMember, bool) {
	for _, m := range gc.GlobalClusterMembers {
		if aws.ToString(m.DBClusterArn) == clusterARN {
			return m, true
		}
	}
	return rdstypes.GlobalClusterMember{}, false
}

// globalBusy reports whether a switchover or failover of the global
// cluster is under way.
func globalBusy(gc *rdstypes.GlobalCluster) bool {
	if gc.FailoverState != nil && gc.FailoverState.Status != "" {
		return true
	}
	return aws.ToString(gc.Status) != "available"
}

// auroraState is what a failover of a global cluster waits on.
type auroraState struct {
	clusterARN string
	writer     bool // the target cluster is the global cluster's writer
	busy       bool // a switchover or failover is under way
	global     string
	cluster    string
	created    time.Time // when the target cluster was created
}

func (s auroraState) done() bool {
	return s.writer && !s.busy && s.cluster == "available"
}

func (s auroraState) String() string {
	role := "not yet the writer"
	if s.writer {
		role = "the writer"
	}
	return fmt.Sprintf("target cluster %s and %s, global cluster %s", s.cluster, role, s.global)
}

// readAurora reads the target cluster and the global cluster, both
// through this region's endpoint.
func (r *Region) readAurora(ctx context.Context, gid, clusterID string) (auroraState, error) {
	cl, err := r.describeCluster(ctx, clusterID)
	if err != nil {
		return auroraState{}, err
	}
	if cl == nil {
		return auroraState{}, nonRetryable(ErrNotFound,
			"DB cluster %s does not exist in %s; fix the topology's clusters",
			clusterID, r.cfg.Region)
	}
	gc, err := r.describeGlobal(ctx, gid)
	if err != nil {
		return auroraState{}, err
	}
	if gc == nil {
		return auroraState{}, nonRetryable(ErrNotFound,
			"global cluster %s does not exist; fix the topology's globalCluster", gid)
	}
	st := auroraState{
		clusterARN: aws.ToString(cl.DBClusterArn),
		busy:       globalBusy(gc),
		global:     aws.ToString(gc.Status),
		cluster:    aws.ToString(cl.Status),
		created:    aws.ToTime(cl.ClusterCreateTime),
	}
	m, ok := globalMember(gc, st.clusterARN)
	if !ok {
		return auroraState{}, nonRetryable(ErrInvalidState,
			"DB cluster %s in %s is not a member of global cluster %s; add it as a "+
				"secondary before failing over to it", clusterID, r.cfg.Region, gid)
	}
	st.writer = aws.ToBool(m.IsWriter)
	return st, nil
}

func (r *Region) promoteCluster(ctx context.Context, in PromoteDatabaseInput) (StepResult, error) {
	db := in.Database
	if db.GlobalCluster == "" {
		return StepResult{}, nonRetryable(ErrInvalid,
			"database %q is aurora-global but names no globalCluster", db.Name)
	}
	gid := parseRDSRef(db.GlobalCluster).id
	ref, err := r.localRef("cluster", db.Name, db.Clusters[in.Target])
	if err != nil {
		return StepResult{}, err
	}
	prog := resumeProgress(ctx)
	st, err := r.readAurora(ctx, gid, ref.id)
	if err != nil {
		return StepResult{}, err
	}
	first := r.now()
	if st.done() && prog.ActionStarted.IsZero() {
		return StepResult{ActionStarted: first, HealthyAt: first, AlreadyDone: true,
			Detail: fmt.Sprintf("DB cluster %s is already the writer of %s", ref.id, gid)}, nil
	}

	// Act unless the target is the writer already or an operation is
	// under way, which this attempt then waits for: an earlier attempt,
	// or a person, started it.
	if !st.writer && !st.busy {
		if err := r.waitRDSChange(ctx); err != nil {
			return StepResult{}, err
		}
		if prog.ActionStarted.IsZero() {
			prog.ActionStarted = r.now()
		}
		var gc *rdstypes.GlobalCluster
		if in.Ungraceful {
			prog.Detail = "failing over " + gid + " with data loss allowed"
			activity.RecordHeartbeat(ctx, prog)
			var out *rds.FailoverGlobalClusterOutput
			out, err = r.clients.RDS.FailoverGlobalCluster(ctx, &rds.FailoverGlobalClusterInput{
				GlobalClusterIdentifier:   aws.String(gid),
				TargetDbClusterIdentifier: aws.String(st.clusterARN),
				AllowDataLoss:             aws.Bool(true),
			})
			if out != nil {
				gc = out.GlobalCluster
			}
		} else {
			prog.Detail = "switching over " + gid
			activity.RecordHeartbeat(ctx, prog)
			var out *rds.SwitchoverGlobalClusterOutput
			out, err = r.clients.RDS.SwitchoverGlobalCluster(ctx, &rds.SwitchoverGlobalClusterInput{
				GlobalClusterIdentifier:   aws.String(gid),
				TargetDbClusterIdentifier: aws.String(st.clusterARN),
			})
			if out != nil {
				gc = out.GlobalCluster
			}
		}
		if err != nil {
			return StepResult{}, r.awsError(err, "make "+ref.id+" the writer of "+gid)
		}
		st.busy = st.busy || gc != nil && globalBusy(gc)
	}

	// As with an instance, an operation seen under way (in the answer
	// that started it, or since) that ends with the target not the writer
	// has failed.
	sawBusy := st.busy
	pace := r.pacer()
	defer pace.stop()
	for {
		st, err := r.readAurora(ctx, gid, ref.id)
		at := r.now()
		switch {
		case err != nil && !isRetryable(err):
			return StepResult{}, err
		case err != nil:
			prog.Detail = "reading the clusters failed, will retry: " + err.Error()
		case st.done():
			started := prog.ActionStarted
			if started.IsZero() {
				started = first
			}
			verb := "switched over"
			if in.Ungraceful {
				verb = "failed over"
			}
			return StepResult{ActionStarted: started, HealthyAt: at,
				Detail: fmt.Sprintf("global cluster %s %s to %s", gid, verb, ref.id)}, nil
		case !st.writer && !st.busy && sawBusy:
			return StepResult{}, nonRetryable(ErrPromotionFailed,
				"the operation on global cluster %s ended without making %s the writer; "+
					"read its RDS events for the cause", gid, ref.id)
		default:
			sawBusy = sawBusy || st.busy
			prog.Detail = st.String()
		}
		activity.RecordHeartbeat(ctx, prog)
		if err := pace.wait(ctx); err != nil {
			return StepResult{}, fmt.Errorf("global cluster %s: gave up waiting (%s): %w",
				gid, prog.Detail, err)
		}
	}
}
