package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/topology"
)

// Tags drover puts on every database it restores. They say what the
// database is a restore of and from which point, so that a retried
// restore can tell its own work from a stranger's that happens to have
// the target identifier, and report what it restored.
const (
	TagRestoreOf    = "drover:restore-of"
	TagRestoredFrom = "drover:restored-from"
)

// connectTimeout bounds VerifyDatabase's TCP check and the name lookup
// before it.
const connectTimeout = 2 * time.Second

// quotaCodes are the RDS errors of an exhausted account quota, with what
// the quota counts.
var quotaCodes = map[string]string{
	"InstanceQuotaExceeded":       "DB instances",
	"InstanceQuotaExceededFault":  "DB instances",
	"StorageQuotaExceeded":        "allocated storage",
	"StorageQuotaExceededFault":   "allocated storage",
	"SnapshotQuotaExceeded":       "DB snapshots",
	"SnapshotQuotaExceededFault":  "DB snapshots",
	"DBClusterQuotaExceededFault": "DB clusters",
	"DBClusterQuotaExceeded":      "DB clusters",
}

// restoreError classifies an error of a restore's AWS call: an exhausted
// quota is not retryable and says which quota; the rest as awsError does.
func (r *Region) restoreError(err error, what string) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		if quota, ok := quotaCodes[api.ErrorCode()]; ok {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"%s in %s: %s; the account's quota of %s in %s is used up: delete what is "+
					"no longer needed or ask AWS for more in Service Quotas (Amazon RDS)",
				what, r.cfg.Region, apiMessage(err), quota, r.cfg.Region), ErrQuota, err)
		}
	}
	return r.awsError(err, what)
}

// rdsIdentifier is what RDS accepts as an instance or cluster
// identifier: a letter, then letters, digits and single hyphens, not
// ending in a hyphen.
var rdsIdentifier = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// maxClusterTargetLen leaves room in a 63-character identifier for the
// "-<n>" of a restored cluster's instances.
const maxClusterTargetLen = 60

// LiveDatabaseIDs returns the identifier of every instance and cluster a
// topology names, in every region, lowercased: the databases a restore
// must never take the identifier of, and DeleteDatabase must never
// delete.
func LiveDatabaseIDs(t *topology.Topology) []string {
	var ids []string
	for _, db := range t.Databases {
		ids = append(ids, liveIDs(db)...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func liveIDs(db topology.Database) []string {
	var ids []string
	for _, v := range db.Instances {
		ids = append(ids, strings.ToLower(topology.RDSIdentifier(v)))
	}
	for _, v := range db.Clusters {
		ids = append(ids, strings.ToLower(topology.RDSIdentifier(v)))
	}
	if db.GlobalCluster != "" {
		ids = append(ids, strings.ToLower(topology.RDSIdentifier(db.GlobalCluster)))
	}
	return ids
}

// CheckRestoreTarget says what is wrong with a restore's target
// identifier, or nil: it must be a valid RDS identifier (short enough
// for a cluster's instances to be named after it) that no live database
// of the topology has.
func CheckRestoreTarget(target string, cluster bool, live []string) error {
	id := strings.ToLower(target)
	switch {
	case id == "":
		return errors.New("a database restore needs a target identifier for the new database")
	case len(id) > 63 || !rdsIdentifier.MatchString(id):
		return fmt.Errorf("target identifier %q is not a valid RDS identifier: up to 63 "+
			"letters, digits and single hyphens, starting with a letter", target)
	case cluster && len(id) > maxClusterTargetLen:
		return fmt.Errorf("target identifier %q is longer than %d characters, which leaves no "+
			"room to name the restored cluster's instances after it", target, maxClusterTargetLen)
	case slices.Contains(live, id):
		return fmt.Errorf("target identifier %q is a live database of the topology; a restore "+
			"never replaces one, so pick a new identifier", target)
	}
	return nil
}

// restorePoint is what a restore restores: a snapshot, a point in time,
// or the latest restorable time.
type restorePoint struct {
	snapshot string
	time     time.Time
	// latest restores the latest restorable time; time is then that
	// time as read before the restore, or zero when unknown.
	latest bool
}

// token encodes the point for the heartbeat, so that a retried attempt
// restores the same one.
func (p restorePoint) token() string {
	switch {
	case p.snapshot != "":
		return "snapshot:" + p.snapshot
	case p.latest:
		if p.time.IsZero() {
			return "latest:"
		}
		return "latest:" + p.time.UTC().Format(time.RFC3339Nano)
	}
	return "time:" + p.time.UTC().Format(time.RFC3339Nano)
}

// parseRestorePoint reads a token (or a TagRestoredFrom value, which
// holds the same).
func parseRestorePoint(s string) (restorePoint, bool) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return restorePoint{}, false
	}
	switch kind {
	case "snapshot":
		return restorePoint{snapshot: rest}, rest != ""
	case "time", "latest":
		p := restorePoint{latest: kind == "latest"}
		if rest == "" {
			return p, p.latest
		}
		t, err := time.Parse(time.RFC3339Nano, rest)
		if err != nil {
			return restorePoint{}, false
		}
		p.time = t
		return p, true
	}
	return restorePoint{}, false
}

func (p restorePoint) String() string {
	switch {
	case p.snapshot != "":
		return "snapshot " + p.snapshot
	case p.latest && p.time.IsZero():
		return "the latest restorable time"
	case p.latest:
		return "the latest restorable time (about " + p.time.UTC().Format(time.RFC3339) + ")"
	case p.time.IsZero():
		return "an unrecorded point" // a restore whose tag was removed
	}
	return "point in time " + p.time.UTC().Format(time.RFC3339)
}

// fill sets the result's snapshot and time from the point.
func (p restorePoint) fill(res *RestoreDatabaseResult) {
	res.SnapshotID = p.snapshot
	if p.snapshot == "" && !p.time.IsZero() {
		t := p.time.UTC()
		res.RestoreTime = &t
	}
}

// RestoreDatabase restores an RDS instance (from its latest or a named
// snapshot, or to a point in time) or an Aurora cluster with its
// instances, under TargetID, with the original's settings: the live
// original's when it can be read, else the capture's. A target that
// already exists is a restore made before, by an earlier attempt that
// died or by an operator, and is only waited for; so a retried restore
// never creates a second database.
func (r *Region) RestoreDatabase(ctx context.Context, in RestoreDatabaseInput) (
	RestoreDatabaseResult, error) {
	if err := r.checkRestore(&in); err != nil {
		return RestoreDatabaseResult{}, err
	}
	if in.Database.Engine == topology.EngineAuroraGlobal {
		return r.restoreCluster(ctx, in)
	}
	return r.restoreInstance(ctx, in)
}

// checkRestore checks a restore's input before anything is read, and
// fills in its defaults.
func (r *Region) checkRestore(in *RestoreDatabaseInput) error {
	db := in.Database
	if in.Region != r.cfg.Region {
		return nonRetryable(ErrInvalid, "RestoreDatabase for %s ran on the worker of %s; "+
			"schedule it on %s", in.Region, r.cfg.Region, TaskQueue(in.Region))
	}
	if db.Engine != topology.EngineRDS && db.Engine != topology.EngineAuroraGlobal {
		return nonRetryable(ErrInvalid, "database %q has engine %q; want %s or %s",
			db.Name, db.Engine, topology.EngineRDS, topology.EngineAuroraGlobal)
	}
	if in.Source == "" {
		in.Source = RestoreFromSnapshot
	}
	switch {
	case in.Source != RestoreFromSnapshot && in.Source != RestoreToPointInTime:
		return nonRetryable(ErrInvalid, "restore source %q: want %s or %s",
			in.Source, RestoreFromSnapshot, RestoreToPointInTime)
	case in.Source == RestoreFromSnapshot && in.RestoreTime != nil:
		return nonRetryable(ErrInvalid, "a restore time needs source %s, not %s",
			RestoreToPointInTime, in.Source)
	case in.Source == RestoreToPointInTime && in.SnapshotID != "":
		return nonRetryable(ErrInvalid, "a snapshot id needs source %s, not %s",
			RestoreFromSnapshot, in.Source)
	}
	err := CheckRestoreTarget(in.TargetID, db.Engine == topology.EngineAuroraGlobal, liveIDs(db))
	if err != nil {
		return nonRetryable(ErrInvalid, "database %q: %v", db.Name, err)
	}
	in.TargetID = strings.ToLower(in.TargetID)
	return nil
}

// checkRestoredTags makes sure an existing target is a restore of orig,
// not some other database that happens to have the identifier.
func (r *Region) checkRestoredTags(kind, target, orig string, tags map[string]string) error {
	if got := tags[TagRestoreOf]; got != orig {
		return nonRetryable(ErrRefused,
			"DB %s %s already exists in %s and is not a drover restore of %s (its %s tag is "+
				"%q); pick another target identifier", kind, target, r.cfg.Region, orig,
			TagRestoreOf, got)
	}
	return nil
}

// restoreTags are the tags of a restore: the original's, and drover's.
func restoreTags(set *DatabaseSettings, orig string, p restorePoint) []rdstypes.Tag {
	keys := make([]string, 0, len(set.Tags))
	for k := range set.Tags {
		if k != TagRestoreOf && k != TagRestoredFrom {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	tags := make([]rdstypes.Tag, 0, len(keys)+2)
	for _, k := range keys {
		tags = append(tags, rdstypes.Tag{Key: aws.String(k), Value: aws.String(set.Tags[k])})
	}
	return append(tags,
		rdstypes.Tag{Key: aws.String(TagRestoreOf), Value: aws.String(orig)},
		rdstypes.Tag{Key: aws.String(TagRestoredFrom), Value: aws.String(p.token())})
}

// originalSettings returns the settings to copy: the live original's if
// it exists, else the capture's; nil when there are neither.
func originalSettings(live *DatabaseSettings, capture *drills.Capture, kind string) (
	*DatabaseSettings, string, error) {
	if live != nil {
		return live, "live", nil
	}
	if capture == nil {
		return nil, "", nil
	}
	var set DatabaseSettings
	if err := decodeDefinition(capture, &set, kind); err != nil {
		return nil, "", err
	}
	return &set, "capture of " + capture.CapturedAt.UTC().Format(time.RFC3339), nil
}

// restoreInstance restores an RDS instance.
func (r *Region) restoreInstance(ctx context.Context, in RestoreDatabaseInput) (
	RestoreDatabaseResult, error) {
	db := in.Database
	orig, err := r.localRef("instance", db.Name, db.Instances[r.cfg.Region])
	if err != nil {
		return RestoreDatabaseResult{}, err
	}
	target := in.TargetID
	prog := resumeProgress(ctx)
	first := r.now()

	existing, err := r.describeInstance(ctx, target)
	if err != nil {
		return RestoreDatabaseResult{}, err
	}
	original, err := r.describeInstance(ctx, orig.id)
	if err != nil {
		return RestoreDatabaseResult{}, err
	}
	var live *DatabaseSettings
	if original != nil {
		s := instanceSettings(original)
		live = &s
	}
	set, from, err := originalSettings(live, in.Settings, CaptureRDSInstance)
	if err != nil {
		return RestoreDatabaseResult{}, err
	}

	var point restorePoint
	acted := !prog.ActionStarted.IsZero()
	if existing != nil {
		tags := rdsTags(existing.TagList)
		if err := r.checkRestoredTags("instance", target, orig.id, tags); err != nil {
			return RestoreDatabaseResult{}, err
		}
		point, _ = parseRestorePoint(tags[TagRestoredFrom])
		if !acted && existing.InstanceCreateTime != nil {
			// Restored by an attempt whose heartbeat was lost: its
			// creation is when the restore began.
			prog.ActionStarted = *existing.InstanceCreateTime
		}
	} else {
		if set == nil {
			return RestoreDatabaseResult{}, nonRetryable(ErrNotFound,
				"DB instance %s does not exist in %s and no capture of its settings was "+
					"given; run the Capture workflow while it exists, or restore by hand",
				orig.id, r.cfg.Region)
		}
		if point, err = r.instancePoint(ctx, in, orig.id, original, prog.Token); err != nil {
			return RestoreDatabaseResult{}, err
		}
		if err := r.startInstanceRestore(ctx, in, orig.id, set, original, point,
			&prog); err != nil {
			return RestoreDatabaseResult{}, err
		}
	}

	alreadyDone := existing != nil && !acted &&
		aws.ToString(existing.DBInstanceStatus) == "available"
	at, inst, err := r.waitInstance(ctx, target, &prog, restoredReady(target, r.cfg.Region))
	if err != nil {
		return RestoreDatabaseResult{}, err
	}

	var fixed []string
	if set != nil {
		var mod *rds.ModifyDBInstanceInput
		mod, fixed = instanceFixups(set, inst)
		if mod != nil {
			alreadyDone = false
			if at, inst, err = r.fixInstance(ctx, mod, fixed, &prog); err != nil {
				return RestoreDatabaseResult{}, err
			}
		}
	}

	res := RestoreDatabaseResult{TargetARN: aws.ToString(inst.DBInstanceArn), SettingsFrom: from}
	point.fill(&res)
	res.ActionStarted, res.HealthyAt = prog.ActionStarted, at
	if res.ActionStarted.IsZero() {
		res.ActionStarted = first
	}
	res.Detail = fmt.Sprintf("DB instance %s restored from %s of %s", target, point, orig.id)
	if alreadyDone {
		res.ActionStarted, res.HealthyAt, res.AlreadyDone = first, first, true
		res.Detail = fmt.Sprintf("DB instance %s, a restore of %s from %s, already exists "+
			"and is available", target, orig.id, point)
	}
	if from != "" {
		res.Detail += ", with the settings of the " + from
	}
	if len(fixed) > 0 {
		res.Detail += "; then set " + strings.Join(fixed, ", ")
	}
	return res, nil
}

// restoredReady is the check of a wait for a restored instance.
func restoredReady(id, region string) instanceCheck {
	return func(inst *rdstypes.DBInstance) (bool, string, error) {
		if inst == nil {
			// A new instance may take a moment to be listed.
			return false, "waiting for " + id + " to appear", nil
		}
		st := aws.ToString(inst.DBInstanceStatus)
		if failedStates[st] {
			return false, "", nonRetryable(ErrInvalidState,
				"restored DB instance %s in %s is %s; read its RDS events, delete it and "+
					"restore again", id, region, st)
		}
		return st == "available", "restored instance " + st, nil
	}
}

// instancePoint picks what to restore: the point an earlier attempt
// picked, the snapshot or time asked for, or the latest snapshot.
func (r *Region) instancePoint(ctx context.Context, in RestoreDatabaseInput, orig string,
	original *rdstypes.DBInstance, token string) (restorePoint, error) {
	if p, ok := parseRestorePoint(token); ok {
		return p, nil
	}
	if in.Source == RestoreToPointInTime {
		if in.RestoreTime != nil {
			return restorePoint{time: *in.RestoreTime}, nil
		}
		p := restorePoint{latest: true}
		if original != nil && original.LatestRestorableTime != nil {
			p.time = *original.LatestRestorableTime
		}
		return p, nil
	}
	snaps, err := r.dbSnapshots(ctx, orig, in.SnapshotID)
	if err != nil {
		return restorePoint{}, err
	}
	return pickSnapshot(snaps, "DB instance "+orig, in.SnapshotID, r.cfg.Region)
}

// snapshotInfo is what picking a snapshot needs of instance and cluster
// snapshots alike.
type snapshotInfo struct {
	id      string
	status  string
	created time.Time
}

// pickSnapshot returns the snapshot asked for, or the newest available
// one; none is a non-retryable NotFound that says whose snapshot is
// missing.
func pickSnapshot(snaps []snapshotInfo, of, asked, region string) (restorePoint, error) {
	if asked != "" {
		for _, s := range snaps {
			if s.id != asked {
				continue
			}
			if s.status != "available" {
				return restorePoint{}, nonRetryable(ErrInvalidState,
					"snapshot %s of %s in %s is %s, not available; wait for it or pick "+
						"another", asked, of, region, s.status)
			}
			return restorePoint{snapshot: asked}, nil
		}
		return restorePoint{}, nonRetryable(ErrNotFound,
			"snapshot %s of %s does not exist in %s; check its identifier", asked, of, region)
	}
	var best *snapshotInfo
	pending := 0
	for i, s := range snaps {
		if s.status != "available" {
			pending++
			continue
		}
		if best == nil || s.created.After(best.created) {
			best = &snaps[i]
		}
	}
	if best == nil {
		msg := fmt.Sprintf("%s in %s has no available snapshot, automated or manual", of, region)
		if pending > 0 {
			msg += fmt.Sprintf(" (%d still being taken)", pending)
		}
		return restorePoint{}, nonRetryable(ErrNotFound, "%s; take one, name one with "+
			"snapshotId, or restore to a point in time", msg)
	}
	return restorePoint{snapshot: best.id}, nil
}

// dbSnapshots lists the automated and manual snapshots of an instance,
// or only the one named.
func (r *Region) dbSnapshots(ctx context.Context, instance, only string) (
	[]snapshotInfo, error) {
	in := &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(instance)}
	if only != "" {
		in = &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(only)}
	}
	var out []snapshotInfo
	for {
		if err := r.waitRDS(ctx); err != nil {
			return nil, err
		}
		page, err := r.clients.RDS.DescribeDBSnapshots(ctx, in)
		if hasCode(err, "DBSnapshotNotFound", "DBSnapshotNotFoundFault") {
			return nil, nil
		}
		if err != nil {
			return nil, r.awsError(err, "list the snapshots of DB instance "+instance)
		}
		for _, s := range page.DBSnapshots {
			out = append(out, snapshotInfo{id: aws.ToString(s.DBSnapshotIdentifier),
				status: aws.ToString(s.Status), created: aws.ToTime(s.SnapshotCreateTime)})
		}
		if aws.ToString(page.Marker) == "" {
			return out, nil
		}
		in.Marker = page.Marker
	}
}

// startInstanceRestore makes the restore call, with every setting of the
// original that RDS would otherwise reset.
func (r *Region) startInstanceRestore(ctx context.Context, in RestoreDatabaseInput,
	orig string, set *DatabaseSettings, original *rdstypes.DBInstance, p restorePoint,
	prog *Progress) error {
	target := in.TargetID
	tags := restoreTags(set, orig, p)
	storage := optionalInt32(set.AllocatedStorage)
	if strings.HasPrefix(set.Engine, "sqlserver") {
		storage = nil // RDS for SQL Server takes the snapshot's storage only
	}
	if err := r.waitRDSChange(ctx); err != nil {
		return err
	}
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	prog.Token = p.token()
	prog.Detail = fmt.Sprintf("restoring %s from %s of %s", target, p, orig)
	activity.RecordHeartbeat(ctx, *prog)

	var err error
	if p.snapshot != "" {
		_, err = r.clients.RDS.RestoreDBInstanceFromDBSnapshot(ctx,
			&rds.RestoreDBInstanceFromDBSnapshotInput{
				DBInstanceIdentifier:  aws.String(target),
				DBSnapshotIdentifier:  aws.String(p.snapshot),
				DBInstanceClass:       optionalString(set.InstanceClass),
				DBSubnetGroupName:     optionalString(set.SubnetGroup),
				VpcSecurityGroupIds:   set.SecurityGroups,
				DBParameterGroupName:  optionalString(set.ParameterGroup),
				OptionGroupName:       optionalString(set.OptionGroup),
				MultiAZ:               aws.Bool(set.MultiAZ),
				StorageType:           optionalString(set.StorageType),
				AllocatedStorage:      storage,
				Iops:                  set.Iops,
				StorageThroughput:     set.StorageThroughput,
				Port:                  optionalInt32(set.Port),
				PubliclyAccessible:    aws.Bool(set.PubliclyAccessible),
				DeletionProtection:    aws.Bool(set.DeletionProtection),
				CopyTagsToSnapshot:    aws.Bool(set.CopyTagsToSnapshot),
				BackupRetentionPeriod: aws.Int32(set.BackupRetention),
				Tags:                  tags,
			})
	} else {
		pitr := &rds.RestoreDBInstanceToPointInTimeInput{
			TargetDBInstanceIdentifier: aws.String(target),
			DBInstanceClass:            optionalString(set.InstanceClass),
			DBSubnetGroupName:          optionalString(set.SubnetGroup),
			VpcSecurityGroupIds:        set.SecurityGroups,
			DBParameterGroupName:       optionalString(set.ParameterGroup),
			OptionGroupName:            optionalString(set.OptionGroup),
			MultiAZ:                    aws.Bool(set.MultiAZ),
			StorageType:                optionalString(set.StorageType),
			AllocatedStorage:           storage,
			Iops:                       set.Iops,
			StorageThroughput:          set.StorageThroughput,
			Port:                       optionalInt32(set.Port),
			PubliclyAccessible:         aws.Bool(set.PubliclyAccessible),
			DeletionProtection:         aws.Bool(set.DeletionProtection),
			CopyTagsToSnapshot:         aws.Bool(set.CopyTagsToSnapshot),
			BackupRetentionPeriod:      aws.Int32(set.BackupRetention),
			Tags:                       tags,
		}
		if original != nil {
			pitr.SourceDBInstanceIdentifier = aws.String(orig)
		} else {
			// The original is gone; its retained automated backups are
			// found by its resource id.
			pitr.SourceDbiResourceId = optionalString(set.ResourceID)
		}
		if p.latest {
			pitr.UseLatestRestorableTime = aws.Bool(true)
		} else {
			pitr.RestoreTime = aws.Time(p.time)
		}
		_, err = r.clients.RDS.RestoreDBInstanceToPointInTime(ctx, pitr)
	}
	// An earlier attempt may have restored it and died before it could
	// tell; the wait that follows checks the instance.
	if err != nil && !hasCode(err, "DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault") {
		return r.restoreError(err, fmt.Sprintf("restore DB instance %s from %s of %s",
			target, p, orig))
	}
	return nil
}

// instanceFixups compares a restored instance with the settings it
// should have and returns the modification that sets what the restore
// did not, with a description of each change; nil when nothing differs.
// Storage only grows: a restore may start larger than the original.
func instanceFixups(want *DatabaseSettings, got *rdstypes.DBInstance) (
	*rds.ModifyDBInstanceInput, []string) {
	have := instanceSettings(got)
	mod := &rds.ModifyDBInstanceInput{
		DBInstanceIdentifier: got.DBInstanceIdentifier,
		ApplyImmediately:     aws.Bool(true),
	}
	var fixed []string
	if want.InstanceClass != "" && want.InstanceClass != have.InstanceClass {
		mod.DBInstanceClass = aws.String(want.InstanceClass)
		fixed = append(fixed, "instance class "+want.InstanceClass)
	}
	if want.MultiAZ != have.MultiAZ {
		mod.MultiAZ = aws.Bool(want.MultiAZ)
		fixed = append(fixed, "Multi-AZ "+strconv.FormatBool(want.MultiAZ))
	}
	if len(want.SecurityGroups) > 0 && !slices.Equal(want.SecurityGroups, have.SecurityGroups) {
		mod.VpcSecurityGroupIds = want.SecurityGroups
		fixed = append(fixed, "security groups "+strings.Join(want.SecurityGroups, ","))
	}
	if want.ParameterGroup != "" && want.ParameterGroup != have.ParameterGroup {
		mod.DBParameterGroupName = aws.String(want.ParameterGroup)
		fixed = append(fixed, "parameter group "+want.ParameterGroup)
	}
	if want.OptionGroup != "" && want.OptionGroup != have.OptionGroup {
		mod.OptionGroupName = aws.String(want.OptionGroup)
		fixed = append(fixed, "option group "+want.OptionGroup)
	}
	if want.BackupRetention != have.BackupRetention {
		mod.BackupRetentionPeriod = aws.Int32(want.BackupRetention)
		fixed = append(fixed, fmt.Sprintf("backup retention %d days", want.BackupRetention))
	}
	if want.StorageType != "" && want.StorageType != have.StorageType {
		mod.StorageType = aws.String(want.StorageType)
		fixed = append(fixed, "storage type "+want.StorageType)
	}
	if want.AllocatedStorage > have.AllocatedStorage {
		mod.AllocatedStorage = aws.Int32(want.AllocatedStorage)
		fixed = append(fixed, fmt.Sprintf("storage %d GiB", want.AllocatedStorage))
	}
	if want.DeletionProtection != have.DeletionProtection {
		mod.DeletionProtection = aws.Bool(want.DeletionProtection)
		fixed = append(fixed, "deletion protection "+strconv.FormatBool(want.DeletionProtection))
	}
	if len(fixed) == 0 {
		return nil, nil
	}
	return mod, fixed
}

// fixInstance applies a fixup and waits until the instance is available
// with nothing of it pending.
func (r *Region) fixInstance(ctx context.Context, mod *rds.ModifyDBInstanceInput,
	fixed []string, prog *Progress) (time.Time, *rdstypes.DBInstance, error) {
	id := aws.ToString(mod.DBInstanceIdentifier)
	if err := r.waitRDSChange(ctx); err != nil {
		return time.Time{}, nil, err
	}
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	prog.Detail = "setting " + strings.Join(fixed, ", ")
	activity.RecordHeartbeat(ctx, *prog)
	if _, err := r.clients.RDS.ModifyDBInstance(ctx, mod); err != nil {
		return time.Time{}, nil, r.restoreError(err, "modify restored DB instance "+id)
	}
	ready := restoredReady(id, r.cfg.Region)
	return r.waitInstance(ctx, id, prog, func(inst *rdstypes.DBInstance) (bool, string, error) {
		done, reason, err := ready(inst)
		if !done || err != nil {
			return done, reason, err
		}
		if p := inst.PendingModifiedValues; p != nil && (p.DBInstanceClass != nil ||
			p.MultiAZ != nil || p.AllocatedStorage != nil || p.StorageType != nil ||
			p.Iops != nil || p.BackupRetentionPeriod != nil) {
			return false, "modifications pending", nil
		}
		return true, "", nil
	})
}

// restoreCluster restores an Aurora cluster, then creates its instances
// with the classes of the original's, and waits until all are available.
func (r *Region) restoreCluster(ctx context.Context, in RestoreDatabaseInput) (
	RestoreDatabaseResult, error) {
	db := in.Database
	orig, err := r.localRef("cluster", db.Name, db.Clusters[r.cfg.Region])
	if err != nil {
		return RestoreDatabaseResult{}, err
	}
	target := in.TargetID
	prog := resumeProgress(ctx)
	first := r.now()

	existing, err := r.describeCluster(ctx, target)
	if err != nil {
		return RestoreDatabaseResult{}, err
	}
	original, err := r.describeCluster(ctx, orig.id)
	if err != nil {
		return RestoreDatabaseResult{}, err
	}
	var live *DatabaseSettings
	if original != nil {
		s, err := r.clusterSettings(ctx, original)
		if err != nil {
			return RestoreDatabaseResult{}, err
		}
		live = &s
	}
	set, from, err := originalSettings(live, in.Settings, CaptureRDSCluster)
	if err != nil {
		return RestoreDatabaseResult{}, err
	}

	var point restorePoint
	acted := !prog.ActionStarted.IsZero()
	if existing != nil {
		tags := rdsTags(existing.TagList)
		if err := r.checkRestoredTags("cluster", target, orig.id, tags); err != nil {
			return RestoreDatabaseResult{}, err
		}
		point, _ = parseRestorePoint(tags[TagRestoredFrom])
		if !acted && existing.ClusterCreateTime != nil {
			prog.ActionStarted = *existing.ClusterCreateTime
		}
	} else {
		if set == nil {
			return RestoreDatabaseResult{}, nonRetryable(ErrNotFound,
				"DB cluster %s does not exist in %s and no capture of its settings was "+
					"given; run the Capture workflow while it exists, or restore by hand",
				orig.id, r.cfg.Region)
		}
		if point, err = r.clusterPoint(ctx, in, orig.id, original, prog.Token); err != nil {
			return RestoreDatabaseResult{}, err
		}
		if err := r.startClusterRestore(ctx, in, orig.id, set, original, point,
			&prog); err != nil {
			return RestoreDatabaseResult{}, err
		}
	}

	members, err := restoreMembers(target, set, existing)
	if err != nil {
		return RestoreDatabaseResult{}, err
	}
	created, err := r.ensureMembers(ctx, target, orig.id, set, members, point, &prog)
	if err != nil {
		return RestoreDatabaseResult{}, err
	}
	alreadyDone := false
	if existing != nil && !acted && created == 0 {
		waiting, _, err := r.clusterReady(ctx, target, members)
		if err != nil {
			return RestoreDatabaseResult{}, err
		}
		alreadyDone = waiting == ""
	}
	at, cl, err := r.waitCluster(ctx, target, &prog, members)
	if err != nil {
		return RestoreDatabaseResult{}, err
	}

	res := RestoreDatabaseResult{TargetARN: aws.ToString(cl.DBClusterArn),
		SettingsFrom: from}
	for _, m := range members {
		res.Instances = append(res.Instances, m.Identifier)
	}
	point.fill(&res)
	res.ActionStarted, res.HealthyAt = prog.ActionStarted, at
	if res.ActionStarted.IsZero() {
		res.ActionStarted = first
	}
	res.Detail = fmt.Sprintf("DB cluster %s restored from %s of %s, with %d instances",
		target, point, orig.id, len(members))
	if alreadyDone {
		res.ActionStarted, res.HealthyAt, res.AlreadyDone = first, first, true
		res.Detail = fmt.Sprintf("DB cluster %s, a restore of %s from %s, already exists "+
			"with its %d instances available", target, orig.id, point, len(members))
	}
	if from != "" {
		res.Detail += ", with the settings of the " + from
	}
	return res, nil
}

// clusterPoint is instancePoint for a cluster.
func (r *Region) clusterPoint(ctx context.Context, in RestoreDatabaseInput, orig string,
	original *rdstypes.DBCluster, token string) (restorePoint, error) {
	if p, ok := parseRestorePoint(token); ok {
		return p, nil
	}
	if in.Source == RestoreToPointInTime {
		if in.RestoreTime != nil {
			return restorePoint{time: *in.RestoreTime}, nil
		}
		p := restorePoint{latest: true}
		if original != nil && original.LatestRestorableTime != nil {
			p.time = *original.LatestRestorableTime
		}
		return p, nil
	}
	snaps, err := r.clusterSnapshots(ctx, orig, in.SnapshotID)
	if err != nil {
		return restorePoint{}, err
	}
	return pickSnapshot(snaps, "DB cluster "+orig, in.SnapshotID, r.cfg.Region)
}

// clusterSnapshots lists the automated and manual snapshots of a
// cluster, or only the one named.
func (r *Region) clusterSnapshots(ctx context.Context, cluster, only string) (
	[]snapshotInfo, error) {
	in := &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String(cluster)}
	if only != "" {
		in = &rds.DescribeDBClusterSnapshotsInput{
			DBClusterSnapshotIdentifier: aws.String(only),
		}
	}
	var out []snapshotInfo
	for {
		if err := r.waitRDS(ctx); err != nil {
			return nil, err
		}
		page, err := r.clients.RDS.DescribeDBClusterSnapshots(ctx, in)
		if hasCode(err, "DBClusterSnapshotNotFoundFault", "DBClusterSnapshotNotFound") {
			return nil, nil
		}
		if err != nil {
			return nil, r.awsError(err, "list the snapshots of DB cluster "+cluster)
		}
		for _, s := range page.DBClusterSnapshots {
			out = append(out, snapshotInfo{id: aws.ToString(s.DBClusterSnapshotIdentifier),
				status: aws.ToString(s.Status), created: aws.ToTime(s.SnapshotCreateTime)})
		}
		if aws.ToString(page.Marker) == "" {
			return out, nil
		}
		in.Marker = page.Marker
	}
}

// startClusterRestore makes the cluster's restore call.
func (r *Region) startClusterRestore(ctx context.Context, in RestoreDatabaseInput,
	orig string, set *DatabaseSettings, original *rdstypes.DBCluster, p restorePoint,
	prog *Progress) error {
	target := in.TargetID
	var retention *int32
	if set.BackupRetention > 0 {
		retention = aws.Int32(set.BackupRetention)
	}
	tags := restoreTags(set, orig, p)
	if err := r.waitRDSChange(ctx); err != nil {
		return err
	}
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	prog.Token = p.token()
	prog.Detail = fmt.Sprintf("restoring cluster %s from %s of %s", target, p, orig)
	activity.RecordHeartbeat(ctx, *prog)

	var err error
	if p.snapshot != "" {
		_, err = r.clients.RDS.RestoreDBClusterFromSnapshot(ctx,
			&rds.RestoreDBClusterFromSnapshotInput{
				DBClusterIdentifier:         aws.String(target),
				SnapshotIdentifier:          aws.String(p.snapshot),
				Engine:                      aws.String(set.Engine),
				DBSubnetGroupName:           optionalString(set.SubnetGroup),
				VpcSecurityGroupIds:         set.SecurityGroups,
				DBClusterParameterGroupName: optionalString(set.ClusterParameterGroup),
				Port:                        optionalInt32(set.Port),
				BackupRetentionPeriod:       retention,
				DeletionProtection:          aws.Bool(set.DeletionProtection),
				CopyTagsToSnapshot:          aws.Bool(set.CopyTagsToSnapshot),
				Tags:                        tags,
			})
	} else {
		pitr := &rds.RestoreDBClusterToPointInTimeInput{
			DBClusterIdentifier:         aws.String(target),
			DBSubnetGroupName:           optionalString(set.SubnetGroup),
			VpcSecurityGroupIds:         set.SecurityGroups,
			DBClusterParameterGroupName: optionalString(set.ClusterParameterGroup),
			Port:                        optionalInt32(set.Port),
			BackupRetentionPeriod:       retention,
			DeletionProtection:          aws.Bool(set.DeletionProtection),
			CopyTagsToSnapshot:          aws.Bool(set.CopyTagsToSnapshot),
			Tags:                        tags,
		}
		if original != nil {
			pitr.SourceDBClusterIdentifier = aws.String(orig)
		} else {
			pitr.SourceDbClusterResourceId = optionalString(set.ResourceID)
		}
		if p.latest {
			pitr.UseLatestRestorableTime = aws.Bool(true)
		} else {
			pitr.RestoreToTime = aws.Time(p.time)
		}
		_, err = r.clients.RDS.RestoreDBClusterToPointInTime(ctx, pitr)
	}
	if err != nil && !hasCode(err, "DBClusterAlreadyExistsFault", "DBClusterAlreadyExists") {
		return r.restoreError(err, fmt.Sprintf("restore DB cluster %s from %s of %s",
			target, p, orig))
	}
	return nil
}

// restoreMembers names the instances a restored cluster gets, one per
// instance of the original, writer first: <target>-1, <target>-2...
// Without settings (the target exists and the original is gone without a
// capture), the target's own instances are all it needs.
func restoreMembers(target string, set *DatabaseSettings, existing *rdstypes.DBCluster) (
	[]MemberSettings, error) {
	if set == nil || len(set.Members) == 0 {
		var own []MemberSettings
		if existing != nil {
			for _, m := range existing.DBClusterMembers {
				own = append(own, MemberSettings{Identifier: aws.ToString(m.DBInstanceIdentifier)})
			}
		}
		if len(own) > 0 {
			return own, nil
		}
		return nil, nonRetryable(ErrNotFound,
			"the instance classes of DB cluster %s's instances are unknown: the original has "+
				"no instances and no capture lists any; create the instances by hand", target)
	}
	out := make([]MemberSettings, len(set.Members))
	for i, m := range set.Members {
		m.Identifier = fmt.Sprintf("%s-%d", target, i+1)
		out[i] = m
	}
	return out, nil
}

// ensureMembers creates the restored cluster's instances that do not
// exist yet, and returns how many it created. RDS takes them while the
// cluster is still being restored; if it refuses, the cluster is waited
// for first.
func (r *Region) ensureMembers(ctx context.Context, target, orig string, set *DatabaseSettings,
	members []MemberSettings, p restorePoint, prog *Progress) (int, error) {
	if set == nil {
		return 0, nil // the target's own instances, which exist
	}
	pace := r.pacer()
	defer pace.stop()
	created := 0
	for _, m := range members {
		inst, err := r.describeInstance(ctx, m.Identifier)
		if err != nil {
			return created, err
		}
		if inst != nil {
			if c := aws.ToString(inst.DBClusterIdentifier); c != target {
				return created, nonRetryable(ErrRefused,
					"DB instance %s exists in %s but is not an instance of cluster %s (it "+
						"belongs to %q); delete or rename it, or pick another target", m.Identifier,
					r.cfg.Region, target, c)
			}
			continue
		}
		create := &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(m.Identifier),
			DBClusterIdentifier:  aws.String(target),
			Engine:               aws.String(set.Engine),
			DBInstanceClass:      aws.String(m.InstanceClass),
			DBParameterGroupName: optionalString(m.ParameterGroup),
			PromotionTier:        m.PromotionTier,
			Tags:                 restoreTags(&DatabaseSettings{}, orig, p),
		}
		for {
			if err := r.waitRDSChange(ctx); err != nil {
				return created, err
			}
			if prog.ActionStarted.IsZero() {
				prog.ActionStarted = r.now()
			}
			prog.Detail = "creating instance " + m.Identifier + " of " + target
			activity.RecordHeartbeat(ctx, *prog)
			_, err = r.clients.RDS.CreateDBInstance(ctx, create)
			if !hasCode(err, "InvalidDBClusterStateFault", "InvalidDBClusterState") {
				break
			}
			if _, _, err := r.waitCluster(ctx, target, prog, nil); err != nil {
				return created, err
			}
			// An available cluster may still refuse for a moment (RDS
			// settling after the restore); ask again a poll later.
			if err := pace.wait(ctx); err != nil {
				return created, err
			}
		}
		switch {
		case hasCode(err, "DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"):
		case err != nil:
			return created, r.restoreError(err, fmt.Sprintf("create instance %s of "+
				"restored DB cluster %s", m.Identifier, target))
		default:
			created++
		}
	}
	return created, nil
}

// waitCluster reads a cluster every PollInterval until it is available
// and, when members are given, every one of them is too. It returns when
// that was first seen.
func (r *Region) waitCluster(ctx context.Context, id string, prog *Progress,
	members []MemberSettings) (time.Time, *rdstypes.DBCluster, error) {
	pace := r.pacer()
	defer pace.stop()
	for {
		done, cl, err := r.clusterReady(ctx, id, members)
		at := r.now()
		switch {
		case err != nil && !isRetryable(err):
			return time.Time{}, nil, err
		case err != nil:
			prog.Detail = "reading the cluster failed, will retry: " + err.Error()
		case done == "":
			return at, cl, nil
		default:
			prog.Detail = done
		}
		activity.RecordHeartbeat(ctx, *prog)
		if err := pace.wait(ctx); err != nil {
			return time.Time{}, nil, fmt.Errorf("DB cluster %s in %s: gave up waiting (%s): %w",
				id, r.cfg.Region, prog.Detail, err)
		}
	}
}

// clusterReady reads a cluster and its members once; it returns "" when
// they are all available, else what it still waits for.
func (r *Region) clusterReady(ctx context.Context, id string, members []MemberSettings) (
	string, *rdstypes.DBCluster, error) {
	cl, err := r.describeCluster(ctx, id)
	if err != nil {
		return "", nil, err
	}
	if cl == nil {
		return "waiting for cluster " + id + " to appear", nil, nil
	}
	st := aws.ToString(cl.Status)
	if failedStates[st] {
		return "", nil, nonRetryable(ErrInvalidState,
			"restored DB cluster %s in %s is %s; read its RDS events, delete it and restore "+
				"again", id, r.cfg.Region, st)
	}
	if st != "available" {
		return "restored cluster " + st, cl, nil
	}
	for _, m := range members {
		inst, err := r.describeInstance(ctx, m.Identifier)
		if err != nil {
			return "", nil, err
		}
		if inst == nil {
			return "waiting for instance " + m.Identifier + " to appear", cl, nil
		}
		ist := aws.ToString(inst.DBInstanceStatus)
		if failedStates[ist] {
			return "", nil, nonRetryable(ErrInvalidState,
				"instance %s of restored DB cluster %s in %s is %s; delete it and retry",
				m.Identifier, id, r.cfg.Region, ist)
		}
		if ist != "available" {
			return "instance " + m.Identifier + " " + ist, cl, nil
		}
	}
	return "", cl, nil
}

// DeleteDatabase deletes a scratch database without a final snapshot (a
// restore, or an instance a drill's failback renamed out of the way): an
// RDS instance, or an Aurora cluster after its instances, and waits until
// it is gone. It refuses what the topology names as live and what serves
// something that is: an instance of a live cluster, an instance with read
// replicas, a cluster in a global database or with replica clusters. A
// database that is gone already is AlreadyDone.
func (r *Region) DeleteDatabase(ctx context.Context, in DeleteDatabaseInput) (StepResult, error) {
	if in.Region != r.cfg.Region {
		return StepResult{}, nonRetryable(ErrInvalid, "DeleteDatabase for %s ran on the "+
			"worker of %s; schedule it on %s", in.Region, r.cfg.Region, TaskQueue(in.Region))
	}
	if (in.InstanceID == "") == (in.ClusterID == "") {
		return StepResult{}, nonRetryable(ErrInvalid,
			"DeleteDatabase needs exactly one of instanceId and clusterId")
	}
	id := strings.ToLower(in.InstanceID + in.ClusterID)
	live := make([]string, len(in.LiveIDs))
	for i, l := range in.LiveIDs {
		live[i] = strings.ToLower(topology.RDSIdentifier(l))
	}
	if slices.Contains(live, id) {
		return StepResult{}, nonRetryable(ErrRefused,
			"%s is a live database of the topology; DeleteDatabase deletes only scratch "+
				"databases", id)
	}
	prog := resumeProgress(ctx)
	first := r.now()
	kind := "instance"
	step := r.deleteInstanceStep
	if in.ClusterID != "" {
		kind, step = "cluster", r.deleteClusterStep
	}

	pace := r.pacer()
	defer pace.stop()
	for n := 0; ; n++ {
		gone, err := step(ctx, id, live, &prog)
		at := r.now()
		switch {
		case err != nil && !isRetryable(err):
			return StepResult{}, err
		case err != nil:
			prog.Detail = "deleting failed, will retry: " + err.Error()
		case gone && n == 0 && prog.ActionStarted.IsZero():
			return StepResult{ActionStarted: first, HealthyAt: first, AlreadyDone: true,
				Detail: fmt.Sprintf("DB %s %s does not exist in %s", kind, id, r.cfg.Region)}, nil
		case gone:
			started := prog.ActionStarted
			if started.IsZero() {
				started = first // deleted by someone else meanwhile
			}
			return StepResult{ActionStarted: started, HealthyAt: at,
				Detail: fmt.Sprintf("DB %s %s deleted from %s", kind, id, r.cfg.Region)}, nil
		}
		activity.RecordHeartbeat(ctx, prog)
		if err := pace.wait(ctx); err != nil {
			return StepResult{}, fmt.Errorf("DB %s %s in %s: gave up waiting for its deletion "+
				"(%s): %w", kind, id, r.cfg.Region, prog.Detail, err)
		}
	}
}

// markAction stamps the start of a deletion as its first change leaves.
func (r *Region) markAction(ctx context.Context, prog *Progress, detail string) error {
	if err := r.waitRDSChange(ctx); err != nil {
		return err
	}
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	prog.Detail = detail
	activity.RecordHeartbeat(ctx, *prog)
	return nil
}

// deleteInstanceStep reads an instance once and moves its deletion on:
// it turns deletion protection off and asks for the deletion, unless that
// is under way. It reports whether the instance is gone.
func (r *Region) deleteInstanceStep(ctx context.Context, id string, live []string,
	prog *Progress) (bool, error) {
	inst, err := r.describeInstance(ctx, id)
	if err != nil || inst == nil {
		return inst == nil && err == nil, err
	}
	// The topology names clusters, not their instances, and a replica's
	// source need not be in it at all.
	if c := aws.ToString(inst.DBClusterIdentifier); slices.Contains(live, strings.ToLower(c)) {
		return false, nonRetryable(ErrRefused, "DB instance %s in %s is an instance of the "+
			"live cluster %s; DeleteDatabase deletes only scratch databases", id,
			r.cfg.Region, c)
	}
	if n := len(inst.ReadReplicaDBInstanceIdentifiers); n > 0 {
		return false, nonRetryable(ErrRefused, "DB instance %s in %s has %d read replicas, so "+
			"something depends on it; a scratch database has none", id, r.cfg.Region, n)
	}
	return false, r.deleteInstance(ctx, inst, prog)
}

// deleteInstance asks for an instance's deletion, unless it is under way.
// A state that does not allow it yet (creating, modifying) is waited out
// by the caller's next step.
func (r *Region) deleteInstance(ctx context.Context, inst *rdstypes.DBInstance,
	prog *Progress) error {
	id := aws.ToString(inst.DBInstanceIdentifier)
	st := aws.ToString(inst.DBInstanceStatus)
	prog.Detail = "DB instance " + id + " " + st
	if st == "deleting" {
		return nil
	}
	if aws.ToBool(inst.DeletionProtection) {
		if err := r.markAction(ctx, prog, "turning off deletion protection of "+id); err != nil {
			return err
		}
		_, err := r.clients.RDS.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{
			DBInstanceIdentifier: aws.String(id),
			DeletionProtection:   aws.Bool(false),
			ApplyImmediately:     aws.Bool(true),
		})
		if hasCode(err, "InvalidDBInstanceState", "InvalidDBInstanceStateFault") {
			return nil
		}
		if err != nil {
			return r.awsError(err, "turn off deletion protection of DB instance "+id)
		}
	}
	if err := r.markAction(ctx, prog, "deleting DB instance "+id); err != nil {
		return err
	}
	_, err := r.clients.RDS.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{
		DBInstanceIdentifier:   aws.String(id),
		SkipFinalSnapshot:      aws.Bool(true),
		DeleteAutomatedBackups: aws.Bool(true),
	})
	switch {
	case hasCode(err, "DBInstanceNotFound", "DBInstanceNotFoundFault"):
		return nil
	case hasCode(err, "InvalidDBInstanceState", "InvalidDBInstanceStateFault"):
		prog.Detail = "waiting until DB instance " + id + " can be deleted, now " + st
		return nil
	case err != nil:
		return r.awsError(err, "delete DB instance "+id)
	}
	return nil
}

// deleteClusterStep reads a cluster once and moves its deletion on: its
// instances first, then the cluster. It reports whether it is gone.
func (r *Region) deleteClusterStep(ctx context.Context, id string, _ []string,
	prog *Progress) (bool, error) {
	cl, err := r.describeCluster(ctx, id)
	if err != nil || cl == nil {
		return cl == nil && err == nil, err
	}
	if g := aws.ToString(cl.GlobalClusterIdentifier); g != "" {
		return false, nonRetryable(ErrRefused,
			"DB cluster %s in %s belongs to global cluster %s; a scratch database never "+
				"does, so it is not deleted", id, r.cfg.Region, g)
	}
	if n := len(cl.ReadReplicaIdentifiers); n > 0 {
		return false, nonRetryable(ErrRefused, "DB cluster %s in %s has %d replica clusters, "+
			"so something depends on it; a scratch database has none", id, r.cfg.Region, n)
	}
	st := aws.ToString(cl.Status)
	if st == "deleting" {
		prog.Detail = "DB cluster " + id + " deleting"
		return false, nil
	}
	members := 0
	for _, m := range cl.DBClusterMembers {
		inst, err := r.describeInstance(ctx, aws.ToString(m.DBInstanceIdentifier))
		if err != nil {
			return false, err
		}
		if inst == nil {
			continue
		}
		if aws.ToString(inst.DBInstanceStatus) != "deleting" {
			members++
		}
		if err := r.deleteInstance(ctx, inst, prog); err != nil {
			return false, err
		}
	}
	if members > 0 {
		// Asked for now; the cluster goes once they are all deleting.
		prog.Detail = fmt.Sprintf("deleting %d instances of DB cluster %s", members, id)
		return false, nil
	}
	if aws.ToBool(cl.DeletionProtection) {
		if err := r.markAction(ctx, prog, "turning off deletion protection of "+id); err != nil {
			return false, err
		}
		_, err := r.clients.RDS.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{
			DBClusterIdentifier: aws.String(id),
			DeletionProtection:  aws.Bool(false),
			ApplyImmediately:    aws.Bool(true),
		})
		if err != nil && !hasCode(err, "InvalidDBClusterStateFault", "InvalidDBClusterState") {
			return false, r.awsError(err, "turn off deletion protection of DB cluster "+id)
		}
	}
	if err := r.markAction(ctx, prog, "deleting DB cluster "+id); err != nil {
		return false, err
	}
	_, err = r.clients.RDS.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{
		DBClusterIdentifier: aws.String(id),
		SkipFinalSnapshot:   aws.Bool(true),
	})
	switch {
	case hasCode(err, "DBClusterNotFoundFault", "DBClusterNotFound"):
		return true, nil
	case hasCode(err, "InvalidDBClusterStateFault", "InvalidDBClusterState"):
		prog.Detail = "waiting until DB cluster " + id + " can be deleted, now " + st
		return false, nil
	case err != nil:
		return false, r.awsError(err, "delete DB cluster "+id)
	}
	return false, nil
}

// VerifyDatabase checks that a restored database answers: it is
// available, its endpoint has an address and a port, and, when the
// address resolves from the worker, the port accepts a TCP connection
// within two seconds. It tries every PollInterval until all that holds or
// its context ends. Detail says which checks were made.
func (r *Region) VerifyDatabase(ctx context.Context, in VerifyDatabaseInput) (
	StepResult, error) {
	if in.Region != r.cfg.Region {
		return StepResult{}, nonRetryable(ErrInvalid, "VerifyDatabase for %s ran on the "+
			"worker of %s; schedule it on %s", in.Region, r.cfg.Region, TaskQueue(in.Region))
	}
	if (in.InstanceID == "") == (in.ClusterID == "") {
		return StepResult{}, nonRetryable(ErrInvalid,
			"VerifyDatabase needs exactly one of instanceId and clusterId")
	}
	prog := resumeProgress(ctx)
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	activity.RecordHeartbeat(ctx, prog)

	pace := r.pacer()
	defer pace.stop()
	for {
		ok, detail, err := r.verifyOnce(ctx, in)
		if err != nil && !isRetryable(err) {
			return StepResult{}, err
		}
		if ok {
			return StepResult{ActionStarted: prog.ActionStarted, HealthyAt: r.now(),
				Detail: detail}, nil
		}
		prog.Detail = detail
		if err != nil {
			prog.Detail = "reading the database failed, will retry: " + err.Error()
		}
		activity.RecordHeartbeat(ctx, prog)
		if err := pace.wait(ctx); err != nil {
			return StepResult{}, fmt.Errorf("restored database %s in %s does not answer: %s: %w",
				in.InstanceID+in.ClusterID, r.cfg.Region, prog.Detail, err)
		}
	}
}

// verifyOnce makes VerifyDatabase's checks once.
func (r *Region) verifyOnce(ctx context.Context, in VerifyDatabaseInput) (bool, string, error) {
	var what, status, host string
	var port int32
	if in.InstanceID != "" {
		what = "DB instance " + in.InstanceID
		inst, err := r.describeInstance(ctx, in.InstanceID)
		if err != nil {
			return false, "", err
		}
		if inst == nil {
			return false, "", nonRetryable(ErrNotFound, "%s does not exist in %s; restore it "+
				"first", what, r.cfg.Region)
		}
		status = aws.ToString(inst.DBInstanceStatus)
		if inst.Endpoint != nil {
			host, port = aws.ToString(inst.Endpoint.Address), aws.ToInt32(inst.Endpoint.Port)
		}
	} else {
		what = "DB cluster " + in.ClusterID
		cl, err := r.describeCluster(ctx, in.ClusterID)
		if err != nil {
			return false, "", err
		}
		if cl == nil {
			return false, "", nonRetryable(ErrNotFound, "%s does not exist in %s; restore it "+
				"first", what, r.cfg.Region)
		}
		status = aws.ToString(cl.Status)
		host, port = aws.ToString(cl.Endpoint), aws.ToInt32(cl.Port)
		if status == "available" {
			// A cluster answers through its writer instance.
			writer, err := r.clusterWriterStatus(ctx, cl)
			if err != nil {
				return false, "", err
			}
			if writer != "available" {
				return false, what + ": its writer instance is " + writer, nil
			}
		}
	}
	if failedStates[status] {
		return false, "", nonRetryable(ErrInvalidState, "%s in %s is %s", what, r.cfg.Region,
			status)
	}
	if status != "available" {
		return false, what + " is " + status, nil
	}
	if host == "" || port == 0 {
		return false, what + " is available but has no endpoint yet", nil
	}
	addr := net.JoinHostPort(host, strconv.Itoa(int(port)))
	checked := fmt.Sprintf("%s is available at %s", what, addr)
	// TODO: connect with the engine's protocol and run a query; a TCP
	// connection proves a listener, not a database that serves its data.
	reached, why := checkEndpoint(ctx, host, port)
	switch {
	case reached:
		return true, checked + ", which accepts TCP connections", nil
	case why == "":
		return true, checked + "; the address does not resolve from the worker, so no " +
			"connection was tried", nil
	}
	return false, checked + " but " + why, nil
}

// clusterWriterStatus returns the status of a cluster's writer instance,
// or "missing" when it has none.
func (r *Region) clusterWriterStatus(ctx context.Context, cl *rdstypes.DBCluster) (
	string, error) {
	for _, m := range cl.DBClusterMembers {
		if !aws.ToBool(m.IsClusterWriter) {
			continue
		}
		inst, err := r.describeInstance(ctx, aws.ToString(m.DBInstanceIdentifier))
		if err != nil || inst == nil {
			return "missing", err
		}
		return aws.ToString(inst.DBInstanceStatus), nil
	}
	return "missing", nil
}

// checkEndpoint resolves host and connects to its port. A name that does
// not resolve from the worker (a private zone, the simulator's made-up
// names) cannot be checked, which is not a failure: reached and why are
// then both empty. A name that resolves but whose port refuses or does
// not answer within connectTimeout is a database that does not answer.
func checkEndpoint(ctx context.Context, host string, port int32) (reached bool, why string) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil || len(addrs) == 0 {
		return false, ""
	}
	// Dialling the name tries each of its addresses, as a client would.
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		return false, "its port does not accept a TCP connection: " + err.Error()
	}
	_ = conn.Close()
	return true, ""
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func optionalInt32(v int32) *int32 {
	if v == 0 {
		return nil
	}
	return aws.Int32(v)
}

// canonicalJSON encodes v with empty members left out (null, "", [],
// {}), so that two values that differ only in how absent members are
// written compare equal. Maps are encoded in key order.
func canonicalJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return "", err
	}
	b, err = json.Marshal(prune(tree))
	return string(b), err
}

func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			p := prune(e)
			if isEmpty(p) {
				delete(t, k)
				continue
			}
			t[k] = p
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = prune(e)
		}
		return t
	}
	return v
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

// RestoreService recreates a service from its capture when it is missing
// or INACTIVE (waiting out DRAINING first): it registers the captured
// task definition unless the region holds that content already, creates
// the service with the captured settings, and waits until it is stable
// at the captured desired count. The client token derives from the
// application, region, service and capture time, so a retried create
// returns the service the first one made. A service that is ACTIVE is
// left as it is and waited for at its own desired count.
func (r *Region) RestoreService(ctx context.Context, in RestoreServiceInput) (
	StepResult, error) {
	ref := in.Service
	if in.Region != r.cfg.Region {
		return StepResult{}, nonRetryable(ErrInvalid, "RestoreService for %s ran on the "+
			"worker of %s; schedule it on %s", in.Region, r.cfg.Region, TaskQueue(in.Region))
	}
	var def ServiceDefinition
	if err := decodeDefinition(&in.Capture, &def, drills.CaptureECSService); err != nil {
		return StepResult{}, err
	}
	switch {
	case in.Capture.Region != r.cfg.Region:
		return StepResult{}, nonRetryable(ErrInvalid,
			"the capture of %s was taken in %s, not %s; its network settings and task "+
				"definition belong to that region", in.Capture.Name, in.Capture.Region,
			r.cfg.Region)
	case def.Cluster != ref.Cluster || def.Service != ref.Service:
		return StepResult{}, nonRetryable(ErrInvalid,
			"the capture is of service %s/%s, not %s/%s", def.Cluster, def.Service,
			ref.Cluster, ref.Service)
	}
	what := fmt.Sprintf("service %s/%s", ref.Cluster, ref.Service)
	prog := resumeProgress(ctx)
	first := r.now()

	svc, err := r.readService(ctx, ref)
	if err != nil {
		return StepResult{}, err
	}
	status := ""
	if svc != nil {
		status = aws.ToString(svc.Status)
	}
	goal := def.DesiredCount
	created := false
	switch status {
	case "ACTIVE":
		// There already: recreated by an earlier attempt or by hand. It
		// keeps the desired count it has.
		goal = svc.DesiredCount
		if ok, _ := serviceStable(*svc, goal); ok && prog.ActionStarted.IsZero() {
			return StepResult{ActionStarted: first, HealthyAt: first, AlreadyDone: true,
				Detail: fmt.Sprintf("%s is ACTIVE and stable at %d tasks", what, goal)}, nil
		}
	case "DRAINING":
		if err := r.awaitInactive(ctx, ref, &prog); err != nil {
			return StepResult{}, err
		}
		fallthrough
	default:
		if created, err = r.createService(ctx, in, def, &prog); err != nil {
			return StepResult{}, err
		}
	}

	w := r.services.watch(ctx, svcKey{cluster: ref.Cluster, service: ref.Service})
	defer w.close()
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
		ok, reason := serviceStable(o.svc, goal)
		prog.Detail = reason
		if !ok {
			continue
		}
		started := prog.ActionStarted
		if started.IsZero() {
			started = first
		}
		detail := fmt.Sprintf("%s is ACTIVE and reached %d tasks", what, goal)
		if created {
			detail = fmt.Sprintf("%s recreated from the capture of %s with task definition %s:%d, "+
				"stable at %d tasks", what, in.Capture.CapturedAt.UTC().Format(time.RFC3339),
				aws.ToString(def.TaskDefinition.Family), def.TaskDefinition.Revision, goal)
		}
		return StepResult{ActionStarted: started, HealthyAt: o.at, Detail: detail}, nil
	}
}

// readService reads one service, INACTIVE ones included; nil when ECS
// does not know it.
func (r *Region) readService(ctx context.Context, ref ServiceRef) (*ecstypes.Service, error) {
	found, _, err := r.describeServices(ctx, ref.Cluster, []string{ref.Service})
	if err != nil {
		return nil, err
	}
	if s, ok := found[ref.Service]; ok {
		return &s, nil
	}
	return nil, nil
}

// awaitInactive waits until a DRAINING service is INACTIVE or gone: ECS
// refuses to create a service of that name before.
func (r *Region) awaitInactive(ctx context.Context, ref ServiceRef, prog *Progress) error {
	pace := r.pacer()
	defer pace.stop()
	for {
		svc, err := r.readService(ctx, ref)
		switch {
		case err != nil && !isRetryable(err):
			return err
		case err != nil:
			prog.Detail = "reading the service failed, will retry: " + err.Error()
		case svc == nil || aws.ToString(svc.Status) != "DRAINING":
			return nil
		default:
			prog.Detail = "waiting for the draining service to become INACTIVE"
		}
		activity.RecordHeartbeat(ctx, *prog)
		if err := pace.wait(ctx); err != nil {
			return fmt.Errorf("service %s/%s in %s: gave up waiting (%s): %w",
				ref.Cluster, ref.Service, r.cfg.Region, prog.Detail, err)
		}
	}
}

// createService registers the task definition if needed and creates the
// service. It reports false when ECS had the service already (an
// earlier attempt's create, whose answer was lost).
func (r *Region) createService(ctx context.Context, in RestoreServiceInput,
	def ServiceDefinition, prog *Progress) (bool, error) {
	taskDef, err := r.ensureTaskDefinition(ctx, def, prog)
	if err != nil {
		return false, err
	}
	create := &ecs.CreateServiceInput{
		Cluster:                       aws.String(def.Cluster),
		ServiceName:                   aws.String(def.Service),
		TaskDefinition:                aws.String(taskDef),
		DesiredCount:                  aws.Int32(def.DesiredCount),
		ClientToken:                   aws.String(serviceToken(in)),
		LaunchType:                    def.LaunchType,
		CapacityProviderStrategy:      def.CapacityProviders,
		PlatformVersion:               optionalString(def.PlatformVersion),
		SchedulingStrategy:            def.SchedulingStrategy,
		NetworkConfiguration:          def.NetworkConfiguration,
		LoadBalancers:                 def.LoadBalancers,
		ServiceRegistries:             def.ServiceRegistries,
		HealthCheckGracePeriodSeconds: def.HealthCheckGracePeriodSeconds,
		DeploymentConfiguration:       def.Deployment,
		DeploymentController:          def.DeploymentController,
		PlacementConstraints:          def.PlacementConstraints,
		PlacementStrategy:             def.PlacementStrategy,
		EnableECSManagedTags:          def.EnableECSManagedTags,
		EnableExecuteCommand:          def.EnableExecuteCommand,
		PropagateTags:                 def.PropagateTags,
		Tags:                          def.Tags,
	}
	if len(def.CapacityProviders) > 0 {
		create.LaunchType = "" // ECS takes one or the other
	}
	if err := r.waitECSChange(ctx); err != nil {
		return false, err
	}
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	prog.Detail = "creating service " + def.Cluster + "/" + def.Service + " with " + taskDef
	activity.RecordHeartbeat(ctx, *prog)
	_, err = r.clients.ECS.CreateService(ctx, create)
	if err == nil {
		return true, nil
	}
	// "Creation of service was not idempotent": an ACTIVE service of
	// the name exists, made by someone else meanwhile. Anything else is
	// an error of its own.
	if svc, rerr := r.readService(ctx, ServiceRef{Cluster: def.Cluster,
		Service: def.Service}); rerr == nil && svc != nil && aws.ToString(svc.Status) == "ACTIVE" {
		return false, nil
	}
	return false, r.awsError(err, fmt.Sprintf("create service %s/%s", def.Cluster, def.Service))
}

// serviceToken is the CreateService client token of a restore: the same
// for every attempt of one restore from one capture, and at most the 36
// characters ECS allows.
func serviceToken(in RestoreServiceInput) string {
	key := strings.Join([]string{in.App, in.Region, in.Service.Cluster, in.Service.Service,
		in.Capture.CapturedAt.UTC().Format(time.RFC3339Nano)}, "|")
	sum := sha256.Sum256([]byte(key))
	return "drover-" + hex.EncodeToString(sum[:])[:29]
}

// ensureTaskDefinition returns the ARN of a task definition with the
// captured content: the captured revision if it still has that content,
// else the family's latest if that has it, else one it registers. A
// retry after a registration whose answer was lost finds the family's
// latest and registers nothing more.
func (r *Region) ensureTaskDefinition(ctx context.Context, def ServiceDefinition,
	prog *Progress) (string, error) {
	want, err := canonicalJSON(taskDefinitionInput(def.TaskDefinition, nil))
	if err != nil {
		return "", nonRetryable(ErrInvalid, "encode the captured task definition: %v", err)
	}
	family := aws.ToString(def.TaskDefinition.Family)
	for _, ref := range []string{aws.ToString(def.TaskDefinition.TaskDefinitionArn), family} {
		if ref == "" {
			continue
		}
		td, err := r.describeTaskDefinition(ctx, ref)
		if err != nil {
			return "", err
		}
		if td == nil || td.Status != ecstypes.TaskDefinitionStatusActive {
			continue
		}
		if got, err := canonicalJSON(taskDefinitionInput(*td, nil)); err == nil && got == want {
			return aws.ToString(td.TaskDefinitionArn), nil
		}
	}

	if err := r.waitECSChange(ctx); err != nil {
		return "", err
	}
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	prog.Detail = "registering task definition family " + family
	activity.RecordHeartbeat(ctx, *prog)
	out, err := r.clients.ECS.RegisterTaskDefinition(ctx,
		taskDefinitionInput(def.TaskDefinition, def.TaskDefinitionTags))
	if err != nil {
		return "", r.awsError(err, "register task definition family "+family)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

// describeTaskDefinition reads a task definition; nil when ECS does not
// know it.
func (r *Region) describeTaskDefinition(ctx context.Context, ref string) (
	*ecstypes.TaskDefinition, error) {
	if err := r.waitECS(ctx); err != nil {
		return nil, err
	}
	out, err := r.clients.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(ref),
	})
	// ECS answers a task definition it does not know with a
	// ClientException, the code of every bad request.
	if hasCode(err, "ClientException") {
		return nil, nil
	}
	if err != nil {
		return nil, r.awsError(err, "describe task definition "+ref)
	}
	return out.TaskDefinition, nil
}

// taskDefinitionInput is the registration that makes a task definition
// of td's content.
func taskDefinitionInput(td ecstypes.TaskDefinition,
	tags []ecstypes.Tag) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family:                  td.Family,
		ContainerDefinitions:    td.ContainerDefinitions,
		Cpu:                     td.Cpu,
		Memory:                  td.Memory,
		ExecutionRoleArn:        td.ExecutionRoleArn,
		TaskRoleArn:             td.TaskRoleArn,
		NetworkMode:             td.NetworkMode,
		RequiresCompatibilities: td.RequiresCompatibilities,
		Volumes:                 td.Volumes,
		PlacementConstraints:    td.PlacementConstraints,
		ProxyConfiguration:      td.ProxyConfiguration,
		IpcMode:                 td.IpcMode,
		PidMode:                 td.PidMode,
		RuntimePlatform:         td.RuntimePlatform,
		EphemeralStorage:        td.EphemeralStorage,
		EnableFaultInjection:    td.EnableFaultInjection,
		Tags:                    tags,
	}
}

// RestoreZone puts a zone's captured record sets back: every one that is
// missing or differs is UPSERTed, in as few change batches as Route 53's
// quotas on one request allow, sent in order, and the last change is
// waited for until INSYNC. Record sets the capture lacks are left alone,
// never deleted, and so are the SOA and NS records at the apex, which
// belong to the zone itself. Each change id is heartbeated as it is made,
// so a retried attempt waits on the last one it learns of, then reads the
// zone again and sends only what is still missing.
func (r *Region) RestoreZone(ctx context.Context, in RestoreZoneInput) (StepResult, error) {
	var def ZoneDefinition
	if err := decodeDefinition(&in.Capture, &def, drills.CaptureRoute53Zone); err != nil {
		return StepResult{}, err
	}
	domain := dnsName(in.Zone.Domain)
	if dnsName(def.Domain) != domain {
		return StepResult{}, nonRetryable(ErrInvalid, "the capture is of zone %s, not %s",
			def.Domain, domain)
	}
	capturedAt := in.Capture.CapturedAt.UTC().Format(time.RFC3339)

	// A retry first waits for the last change the earlier attempt
	// heartbeated: should the zone then hold every captured record set,
	// that change being INSYNC is when the restore took effect.
	prog := resumeProgress(ctx)
	var earlier *StepResult
	if prog.Token != "" {
		res, err := r.awaitChange(ctx, prog, in.Zone)
		switch {
		case hasCode(err, "NoSuchChange"):
			prog.Token = "" // unknown change: look afresh
		case err != nil:
			return StepResult{}, err
		default:
			earlier = &res
		}
	}
	earlierChange := prog.Token

	zoneID, err := r.findZone(ctx, in.Zone)
	if err != nil {
		return StepResult{}, err
	}
	sets, err := r.listRecordSets(ctx, zoneID)
	if err != nil {
		return StepResult{}, err
	}
	changes, missing, differ, err := zoneChanges(domain, def.RecordSets, indexRecords(sets))
	if err != nil {
		return StepResult{}, err
	}
	extra := extraRecordSets(domain, def.RecordSets, sets)
	leftAlone := ""
	if extra > 0 {
		leftAlone = fmt.Sprintf("; left alone %d record sets the capture lacks", extra)
	}
	if len(changes) == 0 && earlier != nil {
		res := *earlier
		res.Detail = fmt.Sprintf("zone %s: restored record sets from the capture of %s "+
			"(change %s)%s", in.Zone.Name, capturedAt, earlierChange, leftAlone)
		return res, nil
	}
	// An attempt that died after sending its last change but before it
	// heartbeated the change's id leaves the zone whole and no way to
	// learn whether that change is INSYNC. As FlipDNS does, send one
	// captured record set again as it stands: Route 53 applies a zone's
	// changes in order, so this change is INSYNC no earlier than the lost.
	confirming := false
	if len(changes) == 0 && !prog.ActionStarted.IsZero() {
		for _, set := range def.RecordSets {
			if !zoneOwned(domain, set) {
				changes = []r53types.Change{{Action: r53types.ChangeActionUpsert,
					ResourceRecordSet: &set}}
				confirming = true
				break
			}
		}
	}
	if len(changes) == 0 {
		now := r.now()
		res := StepResult{ActionStarted: prog.ActionStarted, HealthyAt: now,
			Detail: fmt.Sprintf("zone %s holds every captured record set%s", in.Zone.Name,
				leftAlone)}
		if res.ActionStarted.IsZero() {
			res.ActionStarted, res.AlreadyDone = now, true
		}
		return res, nil
	}
	batches, err := splitChanges(changes)
	if err != nil {
		return StepResult{}, err
	}

	for i, batch := range batches {
		if err := r.waitRoute53Change(ctx); err != nil {
			return StepResult{}, err
		}
		if prog.ActionStarted.IsZero() {
			prog.ActionStarted = r.now()
		}
		prog.Detail = fmt.Sprintf("restoring %d record sets in %s: sending change %d of %d",
			len(changes), zoneID, i+1, len(batches))
		activity.RecordHeartbeat(ctx, prog)
		out, err := r.clients.Route53.ChangeResourceRecordSets(ctx,
			&route53.ChangeResourceRecordSetsInput{
				HostedZoneId: aws.String(zoneID),
				ChangeBatch: &r53types.ChangeBatch{
					Comment: aws.String(fmt.Sprintf("drover: restore %s from the capture of %s "+
						"(%d of %d)", in.Zone.Name, capturedAt, i+1, len(batches))),
					Changes: batch,
				},
			})
		if err != nil {
			return StepResult{}, r.awsError(err, fmt.Sprintf("restore the records of hosted "+
				"zone %s (change %d of %d, %d record sets)", zoneID, i+1, len(batches),
				len(batch)))
		}
		prog.Token = strings.TrimPrefix(aws.ToString(out.ChangeInfo.Id), "/change/")
		prog.Detail = fmt.Sprintf("restoring %d record sets in %s: sent change %d of %d, %s",
			len(changes), zoneID, i+1, len(batches), prog.Token)
		activity.RecordHeartbeat(ctx, prog)
	}

	// Route 53 applies a zone's changes in order, so the last change is
	// INSYNC no earlier than every one sent before it.
	res, err := r.awaitChange(ctx, prog, in.Zone)
	if err != nil {
		return StepResult{}, err
	}
	if confirming {
		res.Detail = fmt.Sprintf("zone %s holds every captured record set%s; an unchanged "+
			"change, %s, confirmed the earlier attempt's are INSYNC", in.Zone.Name, leftAlone,
			prog.Token)
		return res, nil
	}
	after := ""
	if earlier != nil {
		after = fmt.Sprintf(", after an earlier attempt's change %s,", earlierChange)
	}
	res.Detail = fmt.Sprintf("zone %s: restored %d record sets (%d missing, %d different) in "+
		"%s%s from the capture of %s%s", in.Zone.Name, len(changes), missing, differ,
		changeCount(len(batches)), after, capturedAt, leftAlone)
	return res, nil
}

// changeCount says how many Route 53 changes were made.
func changeCount(n int) string {
	if n == 1 {
		return "1 change"
	}
	return fmt.Sprintf("%d changes", n)
}

// Route 53's quotas on one ChangeResourceRecordSets request: the
// ResourceRecord elements it holds, and the characters of their values.
const (
	maxBatchRecords = 1000
	maxBatchChars   = 32000
)

// batchWeight is what a change counts towards the quotas of its batch.
// Route 53 counts the records and characters of an UPSERT twice; an alias
// has no records and counts nothing.
func batchWeight(c r53types.Change) (records, chars int) {
	if c.ResourceRecordSet != nil {
		for _, rr := range c.ResourceRecordSet.ResourceRecords {
			records++
			chars += utf8.RuneCountInString(aws.ToString(rr.Value))
		}
	}
	if c.Action == r53types.ChangeActionUpsert {
		return 2 * records, 2 * chars
	}
	return records, chars
}

// splitChanges cuts changes into batches that each fit Route 53's quotas
// on one request, keeping their order, each batch as full as the next
// change allows. A change that fits no batch on its own is an error that
// no retry can fix.
func splitChanges(changes []r53types.Change) ([][]r53types.Change, error) {
	var batches [][]r53types.Change
	var batch []r53types.Change
	records, chars := 0, 0
	for _, c := range changes {
		n, m := batchWeight(c)
		if n > maxBatchRecords || m > maxBatchChars {
			set := c.ResourceRecordSet
			id := ""
			if s := aws.ToString(set.SetIdentifier); s != "" {
				id = fmt.Sprintf(" (set identifier %q)", s)
			}
			return nil, nonRetryable(ErrInvalid, "record set %s %s%s is too large for one "+
				"Route 53 change: as an %s it counts %d records and %d characters of values, "+
				"and a change takes at most %d and %d; restore it by hand (a CREATE counts "+
				"each once) or trim its values in the capture", aws.ToString(set.Name), set.Type,
				id, c.Action, n, m, maxBatchRecords, maxBatchChars)
		}
		if len(batch) > 0 && (records+n > maxBatchRecords || chars+m > maxBatchChars) {
			batches = append(batches, batch)
			batch, records, chars = nil, 0, 0
		}
		batch = append(batch, c)
		records += n
		chars += m
	}
	if len(batch) > 0 {
		batches = append(batches, batch)
	}
	return batches, nil
}

// zoneOwned reports whether a record set belongs to the zone itself: the
// SOA and NS records at its apex, which a restore leaves alone.
func zoneOwned(domain string, s r53types.ResourceRecordSet) bool {
	return dnsName(aws.ToString(s.Name)) == domain &&
		(s.Type == r53types.RRTypeSoa || s.Type == r53types.RRTypeNs)
}

// zoneChanges returns an UPSERT for every captured record set that the
// zone lacks or holds otherwise, in the capture's order but with aliases
// last. An alias may target a record set of the zone that the restore
// puts back, and Route 53 refuses an alias whose target the zone lacks;
// aliases count nothing towards a batch's quotas, so last they all fall
// in the final batch, with or after their targets.
func zoneChanges(domain string, captured []r53types.ResourceRecordSet, current zoneRecords) (
	changes []r53types.Change, missing, differ int, err error) {
	var aliases []r53types.Change
	for _, want := range captured {
		if zoneOwned(domain, want) {
			continue
		}
		have, ok := current[keyOf(want)]
		if ok {
			same, err := sameRecordSet(want, have)
			if err != nil {
				return nil, 0, 0, nonRetryable(ErrInvalid, "compare record set %s %s: %v",
					aws.ToString(want.Name), want.Type, err)
			}
			if same {
				continue
			}
			differ++
		} else {
			missing++
		}
		set := want
		change := r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &set}
		if set.AliasTarget != nil {
			aliases = append(aliases, change)
		} else {
			changes = append(changes, change)
		}
	}
	return slices.Concat(changes, aliases), missing, differ, nil
}

// sameRecordSet compares two record sets, names in Route 53's form.
func sameRecordSet(a, b r53types.ResourceRecordSet) (bool, error) {
	a.Name, b.Name = aws.String(dnsName(aws.ToString(a.Name))),
		aws.String(dnsName(aws.ToString(b.Name)))
	ja, err := canonicalJSON(a)
	if err != nil {
		return false, err
	}
	jb, err := canonicalJSON(b)
	return ja == jb, err
}

// extraRecordSets counts the zone's record sets that the capture lacks,
// apart from the zone's own.
func extraRecordSets(domain string, captured, current []r53types.ResourceRecordSet) int {
	in := indexRecords(captured)
	n := 0
	for _, s := range current {
		if _, ok := in[keyOf(s)]; !ok && !zoneOwned(domain, s) {
			n++
		}
	}
	return n
}
