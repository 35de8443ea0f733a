package activities

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"go.temporal.io/sdk/activity"

	"github.com/drover-dev/drover/topology"
)

// ResyncDatabase makes the target region's instance identifier a read
// replica of the source region's instance, the writer since a failover.
// A standalone instance holding the identifier (the old writer) is renamed
// to StaleName and kept, never deleted; the new replica copies its
// instance class, subnet group, security groups and parameter group.
// Nothing is called in the source region: the source's ARN is built from
// the source region, the account of the target's instances and the
// topology's identifier.
func (r *Region) ResyncDatabase(ctx context.Context, in ResyncDatabaseInput) (StepResult, error) {
	db := in.Database
	if in.Target != r.cfg.Region {
		return StepResult{}, nonRetryable(ErrInvalid,
			"ResyncDatabase for %s ran on the worker of %s; schedule it on %s",
			in.Target, r.cfg.Region, TaskQueue(in.Target))
	}
	if db.Engine != topology.EngineRDS {
		return StepResult{}, nonRetryable(ErrInvalid,
			"database %q: ResyncDatabase handles engine rds only, not %q; an Aurora "+
				"global database keeps replicating after a switchover", db.Name, db.Engine)
	}
	ref, err := r.localRef("instance", db.Name, db.Instances[in.Target])
	if err != nil {
		return StepResult{}, err
	}
	sourceValue := db.Instances[in.Source]
	if sourceValue == "" {
		return StepResult{}, nonRetryable(ErrInvalid,
			"database %q names no instance in %s to replicate from", db.Name, in.Source)
	}
	if src := parseRDSRef(sourceValue); src.region != "" && src.region != in.Source {
		return StepResult{}, nonRetryable(ErrInvalid,
			"database %q: the instance for %s is the ARN %s, which is in %s; fix the topology",
			db.Name, in.Source, sourceValue, src.region)
	}
	if in.StaleName == ref.id {
		return StepResult{}, nonRetryable(ErrInvalid,
			"the stale name %q is the instance's own identifier; pick another", in.StaleName)
	}

	prog := resumeProgress(ctx)
	first := r.now()
	replicaReady := func(inst *rdstypes.DBInstance) (bool, string, error) {
		if inst == nil {
			// A new instance may take a moment to be listed.
			return false, "waiting for the replica to appear", nil
		}
		st := aws.ToString(inst.DBInstanceStatus)
		if failedStates[st] {
			return false, "", nonRetryable(ErrInvalidState,
				"replica %s in %s is %s; repair or delete it, then retry the step",
				ref.id, r.cfg.Region, st)
		}
		if src := sourceOf(inst); !r.isReplicaOf(src, in.Source, sourceValue) {
			return false, "", r.wrongSource(ref.id, src, in.Source, sourceValue)
		}
		return st == "available", "replica " + st, nil
	}
	result := func(detail string) (StepResult, error) {
		at, _, err := r.waitInstance(ctx, ref.id, &prog, replicaReady)
		if err != nil {
			return StepResult{}, err
		}
		res := StepResult{ActionStarted: prog.ActionStarted, HealthyAt: at, Detail: detail}
		if res.ActionStarted.IsZero() {
			res.ActionStarted, res.AlreadyDone = first, true
		}
		return res, nil
	}

	inst, err := r.describeInstance(ctx, ref.id)
	if err != nil {
		return StepResult{}, err
	}
	switch {
	case inst != nil && r.isReplicaOf(sourceOf(inst), in.Source, sourceValue):
		return result(fmt.Sprintf("DB instance %s replicates from %s", ref.id, in.Source))
	case inst != nil && sourceOf(inst) != "":
		return StepResult{}, r.wrongSource(ref.id, sourceOf(inst), in.Source, sourceValue)
	case inst != nil:
		if err := r.renameStale(ctx, ref.id, in.StaleName, &prog); err != nil {
			return StepResult{}, err
		}
	}

	var template *rdstypes.DBInstance
	if in.StaleName != "" {
		if template, err = r.describeInstance(ctx, in.StaleName); err != nil {
			return StepResult{}, err
		}
	}
	sourceARN, err := r.sourceARN(sourceValue, in.Source, template)
	if err != nil {
		return StepResult{}, err
	}
	create := &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String(ref.id),
		SourceDBInstanceIdentifier: aws.String(sourceARN),
		// SourceRegion makes the SDK presign, locally, the request an
		// encrypted source needs; nothing is sent to the source region.
		SourceRegion: aws.String(in.Source),
	}
	if template != nil {
		copySettings(create, template)
	}
	if err := r.waitRDSChange(ctx); err != nil {
		return StepResult{}, err
	}
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	prog.Detail = "creating read replica " + ref.id + " of " + sourceARN
	activity.RecordHeartbeat(ctx, prog)
	_, err = r.clients.RDS.CreateDBInstanceReadReplica(ctx, create)
	// An earlier attempt may have created it and died before it could
	// tell; replicaReady checks that it replicates the right source.
	if err != nil && !hasCode(err, "DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault") {
		return StepResult{}, r.awsError(err, "create read replica "+ref.id)
	}
	res, err := result(fmt.Sprintf("DB instance %s created as a read replica of %s",
		ref.id, sourceARN))
	if err == nil && template != nil {
		res.Leftover = in.StaleName
	}
	return res, err
}

// renameStale renames the standalone instance id to stale, once it is
// available, and waits until id is free.
func (r *Region) renameStale(ctx context.Context, id, stale string, prog *Progress) error {
	if stale == "" {
		return nonRetryable(ErrInvalid,
			"DB instance %s in %s is standalone; the workflow must give a stale name "+
				"to rename it to before a replica can take its identifier", id, r.cfg.Region)
	}
	existing, err := r.describeInstance(ctx, stale)
	if err != nil {
		return err
	}
	if existing != nil {
		return nonRetryable(ErrInvalidState,
			"both %s and its stale name %s exist in %s; rename or delete %s by hand",
			id, stale, r.cfg.Region, stale)
	}
	_, _, err = r.waitInstance(ctx, id, prog, func(inst *rdstypes.DBInstance) (bool, string, error) {
		if inst == nil {
			return true, "", nil // renamed by an earlier attempt meanwhile
		}
		st := aws.ToString(inst.DBInstanceStatus)
		if failedStates[st] {
			return false, "", nonRetryable(ErrInvalidState,
				"DB instance %s in %s is %s and cannot be renamed; repair it first",
				id, r.cfg.Region, st)
		}
		return st == "available", "waiting to rename " + id + ", now " + st, nil
	})
	if err != nil {
		return err
	}

	if err := r.waitRDSChange(ctx); err != nil {
		return err
	}
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	prog.Detail = "renaming " + id + " to " + stale
	activity.RecordHeartbeat(ctx, *prog)
	_, err = r.clients.RDS.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{
		DBInstanceIdentifier:    aws.String(id),
		NewDBInstanceIdentifier: aws.String(stale),
		ApplyImmediately:        aws.Bool(true),
	})
	if err != nil && !hasCode(err, "DBInstanceNotFound", "DBInstanceNotFoundFault") {
		return r.awsError(err, "rename DB instance "+id+" to "+stale)
	}
	_, _, err = r.waitInstance(ctx, id, prog, func(inst *rdstypes.DBInstance) (bool, string, error) {
		if inst == nil {
			return true, "", nil
		}
		return false, "waiting for " + id + " to be renamed, now " +
			aws.ToString(inst.DBInstanceStatus), nil
	})
	return err
}

// sourceARN is the source instance's ARN, built without asking the
// source region: the topology's ARN if it gave one, else one made of the
// source region, the partition and account of an instance in this region
// (accounts are the same across a cross-region pair) and the identifier.
func (r *Region) sourceARN(sourceValue, sourceRegion string, local *rdstypes.DBInstance) (
	string, error) {
	src := parseRDSRef(sourceValue)
	if src.arn != "" {
		return src.arn, nil
	}
	if local != nil {
		if l := parseRDSRef(aws.ToString(local.DBInstanceArn)); l.arn != "" {
			return fmt.Sprintf("arn:%s:rds:%s:%s:db:%s",
				l.partition, sourceRegion, l.account, src.id), nil
		}
	}
	return "", nonRetryable(ErrInvalid,
		"cannot tell the account of DB instance %s in %s without calling that region; "+
			"write it in the topology as an ARN", src.id, sourceRegion)
}

// copySettings gives a new replica the settings of the instance it
// replaces, which it would otherwise take from the account's defaults.
func copySettings(in *rds.CreateDBInstanceReadReplicaInput, from *rdstypes.DBInstance) {
	in.DBInstanceClass = from.DBInstanceClass
	if from.DBSubnetGroup != nil {
		in.DBSubnetGroupName = from.DBSubnetGroup.DBSubnetGroupName
	}
	for _, sg := range from.VpcSecurityGroups {
		if id := aws.ToString(sg.VpcSecurityGroupId); id != "" {
			in.VpcSecurityGroupIds = append(in.VpcSecurityGroupIds, id)
		}
	}
	if len(from.DBParameterGroups) > 0 {
		in.DBParameterGroupName = from.DBParameterGroups[0].DBParameterGroupName
	}
}

// wrongSource is the error for a replica of something other than the
// source: resyncing cannot fix that without deleting data.
func (r *Region) wrongSource(id, got, sourceRegion, sourceValue string) error {
	if got == "" {
		got = "nothing (it is standalone)"
	}
	return nonRetryable(ErrInvalidState,
		"DB instance %s in %s replicates from %s, not from %s in %s; rename or delete it "+
			"by hand, then retry the step", id, r.cfg.Region, got, sourceValue, sourceRegion)
}
