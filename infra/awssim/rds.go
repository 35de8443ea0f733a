package awssim

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// Statuses that RDS reports for instances, clusters, snapshots and global
// clusters.
const (
	rdsAvailable = "available"
	rdsCreating  = "creating"
	rdsBackingUp = "backing-up"
	rdsModifying = "modifying"
	rdsDeleting  = "deleting"
	rdsDeleted   = "deleted"
	rdsPromoting = "promoting"
	rdsRenaming  = "renaming"
)

// States recorded as events when a PromotionFails fault makes an operation
// fail. The resource goes back to the status and role it had before the
// operation; this event marks that return, and no "available" is recorded
// for it, so a check for "available" after a promotion never mistakes a
// failure for a success.
const (
	// RDSPromotionFailed ends a failed PromoteReadReplica (kind
	// "db-instance") or PromoteReadReplicaDBCluster ("db-cluster").
	RDSPromotionFailed = "promotion-failed"
	// RDSSwitchoverFailed ends a failed global switchover ("global-cluster").
	RDSSwitchoverFailed = "switchover-failed"
	// RDSFailoverFailed ends a failed global failover ("global-cluster").
	RDSFailoverFailed = "failover-failed"
)

// Network settings that RDS gives an instance whose create, replica or
// restore request names none. A restore that should keep the original's
// network must name them.
const (
	RDSDefaultSubnetGroup   = "default"
	RDSDefaultSecurityGroup = "sg-default"
)

// rdsRegion is one region's RDS resources, keyed by lowercase identifier.
type rdsRegion struct {
	instances map[string]*dbInstance
	snapshots map[string]*dbSnapshot
	clusters  map[string]*dbCluster
	// clusterSnapshots are DB cluster snapshots, whose identifiers RDS
	// keeps apart from those of DB snapshots.
	clusterSnapshots map[string]*dbClusterSnapshot
}

func newRDSRegion() *rdsRegion {
	return &rdsRegion{
		instances:        map[string]*dbInstance{},
		snapshots:        map[string]*dbSnapshot{},
		clusters:         map[string]*dbCluster{},
		clusterSnapshots: map[string]*dbClusterSnapshot{},
	}
}

// rdsGlobalState holds what RDS keeps for the whole account: global
// clusters, which every region lists, and the timeline of scheduled
// transitions, which may cross regions (a promotion changes the source's
// replica list).
type rdsGlobalState struct {
	globals  map[string]*globalCluster
	timeline []*rdsTransition
	seq      int64
}

// rdsTransition is a state change due at a time. Transitions run in time
// order, and in scheduling order for equal times.
type rdsTransition struct {
	at  time.Time
	seq int64
	run func()
}

func (s *Sim) rdsGlobals() *rdsGlobalState {
	if s.rdsGlobal == nil {
		s.rdsGlobal = &rdsGlobalState{globals: map[string]*globalCluster{}}
	}
	return s.rdsGlobal
}

// rdsSchedule queues run for time at. The caller holds s.mu.
func (s *Sim) rdsSchedule(at time.Time, run func()) {
	g := s.rdsGlobals()
	g.seq++
	t := &rdsTransition{at: at, seq: g.seq, run: run}
	i := sort.Search(len(g.timeline), func(i int) bool { return g.timeline[i].at.After(at) })
	g.timeline = append(g.timeline, nil)
	copy(g.timeline[i+1:], g.timeline[i:])
	g.timeline[i] = t
}

// rdsAdvance applies every transition due by now. A transition may
// schedule the next phase of its operation, which runs in the same pass
// when it is due too.
func (s *Sim) rdsAdvance(now time.Time) {
	g := s.rdsGlobals()
	for len(g.timeline) > 0 && !g.timeline[0].at.After(now) {
		t := g.timeline[0]
		g.timeline[0] = nil
		g.timeline = g.timeline[1:]
		t.run()
	}
}

// rdsLookup returns a region's RDS state without creating the region.
func (s *Sim) rdsLookup(region string) *rdsRegion {
	if r, ok := s.regions[region]; ok {
		return r.rds
	}
	return nil
}

// rdsHandler answers one RDS action with the result to write inside
// <ActionResult>.
type rdsHandler func(s *Sim, c *call, f *rdsForm) (any, *APIError)

var rdsHandlers = map[string]rdsHandler{
	"CreateDBInstance":                (*Sim).rdsCreateDBInstance,
	"CreateDBInstanceReadReplica":     (*Sim).rdsCreateReadReplica,
	"DescribeDBInstances":             (*Sim).rdsDescribeDBInstances,
	"PromoteReadReplica":              (*Sim).rdsPromoteReadReplica,
	"ModifyDBInstance":                (*Sim).rdsModifyDBInstance,
	"DeleteDBInstance":                (*Sim).rdsDeleteDBInstance,
	"CreateDBSnapshot":                (*Sim).rdsCreateDBSnapshot,
	"DescribeDBSnapshots":             (*Sim).rdsDescribeDBSnapshots,
	"RestoreDBInstanceFromDBSnapshot": (*Sim).rdsRestoreFromSnapshot,
	"RestoreDBInstanceToPointInTime":  (*Sim).rdsRestoreToPointInTime,
	"CreateDBCluster":                 (*Sim).rdsCreateDBCluster,
	"DescribeDBClusters":              (*Sim).rdsDescribeDBClusters,
	"DeleteDBCluster":                 (*Sim).rdsDeleteDBCluster,
	"CreateDBClusterSnapshot":         (*Sim).rdsCreateDBClusterSnapshot,
	"DescribeDBClusterSnapshots":      (*Sim).rdsDescribeDBClusterSnapshots,
	"RestoreDBClusterFromSnapshot":    (*Sim).rdsRestoreDBClusterFromSnapshot,
	"RestoreDBClusterToPointInTime":   (*Sim).rdsRestoreDBClusterToPointInTime,
	"PromoteReadReplicaDBCluster":     (*Sim).rdsPromoteReadReplicaDBCluster,
	"CreateGlobalCluster":             (*Sim).rdsCreateGlobalCluster,
	"DescribeGlobalClusters":          (*Sim).rdsDescribeGlobalClusters,
	"FailoverGlobalCluster":           (*Sim).rdsFailoverGlobalCluster,
	"SwitchoverGlobalCluster":         (*Sim).rdsSwitchoverGlobalCluster,
}

// serveRDS answers an RDS Query call. The caller holds s.mu.
func (s *Sim) serveRDS(w http.ResponseWriter, c *call) *APIError {
	v, err := url.ParseQuery(string(c.body))
	if err != nil {
		return errorf(http.StatusBadRequest, "MalformedQueryString",
			"The request body is not a valid URL-encoded form: %v", err)
	}
	action := v.Get("Action")
	if action == "" {
		return errorf(http.StatusBadRequest, "MissingAction",
			"The request must contain the parameter Action")
	}
	h, ok := rdsHandlers[action]
	if !ok {
		return errorf(http.StatusBadRequest, "InvalidAction",
			"The action %s is not valid for this web service", action)
	}

	s.rdsAdvance(c.now)
	f := &rdsForm{v: v}
	result, apiErr := h(s, c, f)
	if apiErr == nil {
		apiErr = f.err
	}
	if apiErr != nil {
		return apiErr
	}
	return writeRDSResult(w, action, c.requestID, result)
}

// rdsEngine is what the simulator knows of a database engine.
type rdsEngine struct {
	version string // the default version
	port    int32
	aurora  bool
}

var rdsEngines = map[string]rdsEngine{
	"postgres":          {version: "16.4", port: 5432},
	"mysql":             {version: "8.0.39", port: 3306},
	"mariadb":           {version: "10.11.9", port: 3306},
	"aurora-postgresql": {version: "16.4", port: 5432, aurora: true},
	"aurora-mysql":      {version: "8.0.mysql_aurora.3.07.1", port: 3306, aurora: true},
}

func rdsCheckEngine(engine string) (rdsEngine, *APIError) {
	e, ok := rdsEngines[engine]
	if !ok {
		names := make([]string, 0, len(rdsEngines))
		for n := range rdsEngines {
			names = append(names, n)
		}
		sort.Strings(names)
		return rdsEngine{}, errorf(http.StatusBadRequest, "InvalidParameterValue",
			"Invalid DB engine: %s; the simulator knows %s", engine, strings.Join(names, ", "))
	}
	return e, nil
}

// rdsEngineFamily is the parameter group family of an engine version, such
// as postgres16 or mysql8.0.
func rdsEngineFamily(engine, version string) string {
	parts := strings.Split(version, ".")
	if strings.HasSuffix(engine, "postgresql") || engine == "postgres" || len(parts) < 2 {
		return engine + parts[0]
	}
	return engine + parts[0] + "." + parts[1]
}

func rdsDefaultParameterGroup(engine, version string) string {
	return "default." + rdsEngineFamily(engine, version)
}

func rdsDefaultOptionGroup(engine, version string) string {
	major := strings.TrimPrefix(rdsEngineFamily(engine, version), engine)
	return "default:" + engine + "-" + strings.ReplaceAll(major, ".", "-")
}

// rdsHostTag is the account's part of RDS endpoint names, stable for an
// account as on AWS.
func (s *Sim) rdsHostTag() string {
	h := fnv.New64a()
	h.Write([]byte(s.account))
	return fmt.Sprintf("c%011x", h.Sum64()&0xfffffffffff)
}

func (s *Sim) rdsHost(prefix, region string) string {
	return fmt.Sprintf("%s.%s.%s.rds.amazonaws.com", prefix, s.rdsHostTag(), region)
}

func rdsHostedZone(region string) string {
	h := fnv.New32a()
	h.Write([]byte(region))
	return fmt.Sprintf("Z%012X", h.Sum32())
}

// rdsResourceID derives the immutable resource id RDS gives a resource
// (db-..., cluster-...) from its ARN and creation time.
func rdsResourceID(prefix, arn string, created time.Time) string {
	sum := sha256.Sum256([]byte(arn + "@" + created.Format(time.RFC3339Nano)))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:26]
}

// dbInstance is a DB instance: standalone, read replica or Aurora member.
type dbInstance struct {
	id, region, arn, resourceID string
	status                      string
	// gen counts the operations started on the instance; a scheduled
	// step of an operation that a later one superseded does nothing.
	gen int64

	engine, engineVersion, class string
	allocatedStorage             int32
	storageType                  string
	iops                         *int32
	multiAZ                      bool
	backupRetention              int32
	subnetGroup                  string
	securityGroups               []string
	parameterGroup               string
	optionGroup                  string
	dbName, masterUsername       string
	port                         int32
	az                           string
	publiclyAccessible           bool
	deletionProtection           bool
	encrypted                    bool
	copyTags                     bool
	tags                         []rdsTag
	created                      time.Time
	// backupsFrom is the earliest restorable time: when the first
	// automated backup finished. Zero without backups.
	backupsFrom time.Time

	cluster  *dbCluster
	source   *dbInstance
	replicas []*dbInstance
	pending  instancePending

	// promotionFailed is set when a PromotionFails fault ended a
	// promotion; later promotions are refused while the fault holds.
	promotionFailed bool
	gone            bool
}

// instancePending holds modifications waiting for the maintenance window,
// which never comes in the simulator, or for a running modification.
type instancePending struct {
	class         string
	multiAZ       *bool
	storage       *int32
	storageType   string
	iops          *int32
	retention     *int32
	engineVersion string
	// identifier is a rename waiting for the maintenance window; an
	// immediate rename never waits here.
	identifier string
}

func (p instancePending) empty() bool { return p == instancePending{} }

func (s *Sim) setDBInstanceStatus(i *dbInstance, status string, at time.Time) {
	i.status = status
	s.record(i.region, ServiceRDS, "db-instance", i.id, status, at)
}

// dbInstanceStep schedules one step of the operation now running on i.
func (s *Sim) dbInstanceStep(i *dbInstance, at time.Time, step func()) {
	gen := i.gen
	s.rdsSchedule(at, func() {
		if i.gone || i.gen != gen {
			return
		}
		step()
	})
}

// rdsRefTo names other as i's region would: by identifier in the same
// region and by ARN across regions.
func rdsRefTo(from string, otherRegion, otherID, otherARN string) string {
	if from == otherRegion {
		return otherID
	}
	return otherARN
}

// latestRestorableTime is the latest point-in-time restore target: a few
// minutes behind now, as transaction logs reach backup storage.
func (s *Sim) latestRestorableTime(i *dbInstance, now time.Time) time.Time {
	if i.backupsFrom.IsZero() || i.backupRetention == 0 {
		return time.Time{}
	}
	t := now.Add(-s.profile.Scaled(Duration(5 * time.Minute)))
	if t.Before(i.backupsFrom) {
		return i.backupsFrom
	}
	return t
}

// launchInstance takes a new instance through creating and, when it keeps
// backups, backing-up while its first automated snapshot is taken (the
// last fifth of total), to available.
func (s *Sim) launchInstance(i *dbInstance, start time.Time, total time.Duration) {
	i.gen++
	s.setDBInstanceStatus(i, rdsCreating, start)
	if i.backupRetention == 0 || i.cluster != nil {
		done := start.Add(total)
		s.dbInstanceStep(i, done, func() { s.setDBInstanceStatus(i, rdsAvailable, done) })
		return
	}
	backup := total / 5
	created := start.Add(total - backup)
	s.dbInstanceStep(i, created, func() { s.backUpInstance(i, created, backup) })
}

// backUpInstance puts i in backing-up for d while an automated snapshot
// is taken, then makes it available.
func (s *Sim) backUpInstance(i *dbInstance, at time.Time, d time.Duration) {
	s.setDBInstanceStatus(i, rdsBackingUp, at)
	snap := s.newDBSnapshot(i, s.automatedDBSnapshotID(i, at), "automated", at)
	done := at.Add(d)
	s.dbSnapshotReady(snap, done)
	s.dbInstanceStep(i, done, func() {
		if i.backupsFrom.IsZero() {
			i.backupsFrom = done
		}
		s.setDBInstanceStatus(i, rdsAvailable, done)
	})
}

func (s *Sim) automatedDBSnapshotID(i *dbInstance, at time.Time) string {
	base := "rds:" + i.id + "-" + at.UTC().Format("2006-01-02-15-04")
	rr := s.region(i.region).rds
	id := base
	for n := 2; rr.snapshots[id] != nil; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}

func (s *Sim) dbInstanceXML(i *dbInstance, now time.Time) xmlDBInstance {
	x := xmlDBInstance{
		DBInstanceIdentifier:       i.id,
		DBInstanceArn:              i.arn,
		DbiResourceId:              i.resourceID,
		DBInstanceClass:            i.class,
		Engine:                     i.engine,
		EngineVersion:              i.engineVersion,
		DBInstanceStatus:           i.status,
		MasterUsername:             i.masterUsername,
		DBName:                     i.dbName,
		AllocatedStorage:           i.allocatedStorage,
		StorageType:                i.storageType,
		Iops:                       i.iops,
		InstanceCreateTime:         rdsTime(i.created),
		LatestRestorableTime:       rdsTime(s.latestRestorableTime(i, now)),
		PreferredBackupWindow:      "03:00-03:30",
		PreferredMaintenanceWindow: "sun:05:00-sun:05:30",
		BackupRetentionPeriod:      i.backupRetention,
		VpcSecurityGroups:          rdsXMLSecurityGroups(i.securityGroups),
		DBParameterGroups: []xmlParamStatus{
			{DBParameterGroupName: i.parameterGroup, ParameterApplyStatus: "in-sync"},
		},
		OptionGroupMemberships: []xmlOptionGroup{
			{OptionGroupName: i.optionGroup, Status: "in-sync"},
		},
		AvailabilityZone: i.az,
		DBSubnetGroup: &xmlSubnetGroup{
			DBSubnetGroupName:        i.subnetGroup,
			DBSubnetGroupDescription: i.subnetGroup,
			VpcId:                    rdsVPC(i.region, i.subnetGroup),
			SubnetGroupStatus:        "Complete",
		},
		PendingModifiedValues:   i.pending.xml(),
		MultiAZ:                 i.multiAZ,
		AutoMinorVersionUpgrade: true,
		StorageEncrypted:        i.encrypted,
		DeletionProtection:      i.deletionProtection,
		CopyTagsToSnapshot:      i.copyTags,
		PubliclyAccessible:      i.publiclyAccessible,
		TagList:                 rdsXMLTags(i.tags),
	}
	if i.status != rdsCreating {
		x.Endpoint = &xmlEndpoint{
			Address: s.rdsHost(i.id, i.region), Port: i.port,
			HostedZoneId: rdsHostedZone(i.region),
		}
	}
	if i.multiAZ {
		x.SecondaryAvailabilityZone = i.region + "b"
	}
	if i.cluster != nil {
		x.DBClusterIdentifier = i.cluster.id
	}
	if i.source != nil {
		x.ReadReplicaSourceDBInstanceIdentifier = rdsRefTo(i.region, i.source.region,
			i.source.id, i.source.arn)
	}
	for _, r := range i.replicas {
		x.ReadReplicaDBInstanceIdentifiers = append(x.ReadReplicaDBInstanceIdentifiers,
			rdsRefTo(i.region, r.region, r.id, r.arn))
	}
	return x
}

func (p instancePending) xml() xmlPending {
	return xmlPending{
		DBInstanceClass: p.class, MultiAZ: p.multiAZ, AllocatedStorage: p.storage,
		StorageType: p.storageType, Iops: p.iops, BackupRetentionPeriod: p.retention,
		EngineVersion: p.engineVersion, DBInstanceIdentifier: p.identifier,
	}
}

// rdsVPC names the VPC of a subnet group. The simulator has no VPCs; a
// name derived from the group keeps "same subnet group, same VPC" true.
func rdsVPC(region, subnetGroup string) string {
	h := fnv.New64a()
	h.Write([]byte(region + "/" + subnetGroup))
	return fmt.Sprintf("vpc-%017x", h.Sum64()&0xfffffffffffffff)
}

func dbInstanceNotFound(id string) *APIError {
	return errorf(http.StatusNotFound, "DBInstanceNotFound", "DBInstance %s not found.", id)
}

func invalidDBInstanceState(format string, args ...any) *APIError {
	return errorf(http.StatusBadRequest, "InvalidDBInstanceState", format, args...)
}

func rdsInvalidValue(format string, args ...any) *APIError {
	return errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

func rdsInvalidCombination(format string, args ...any) *APIError {
	return errorf(http.StatusBadRequest, "InvalidParameterCombination", format, args...)
}

// findDBInstance resolves an instance reference (identifier or ARN) in the
// caller's region, or in the ARN's region when cross is true.
func (s *Sim) findDBInstance(c *call, param, ref string, cross bool) (*dbInstance, *APIError) {
	r, apiErr := s.rdsParseRef(param, ref, "db", c.region)
	if apiErr != nil {
		return nil, apiErr
	}
	if r.region != c.region && !cross {
		return nil, dbInstanceNotFound(ref)
	}
	rr := s.rdsLookup(r.region)
	if rr == nil || rr.instances[r.id] == nil {
		return nil, dbInstanceNotFound(ref)
	}
	return rr.instances[r.id], nil
}

// instanceSettings are the parameters that create, replica and restore
// requests share.
type instanceSettings struct {
	class          string
	storage        *int32
	storageType    string
	iops           *int32
	multiAZ        *bool
	retention      *int32
	subnetGroup    string
	securityGroups []string
	sgGiven        bool
	parameterGroup string
	optionGroup    string
	port           *int32
	az             string
	public         *bool
	protect        *bool
	copyTags       *bool
	tags           []rdsTag
}

func readInstanceSettings(f *rdsForm) instanceSettings {
	var st instanceSettings
	st.class = f.str("DBInstanceClass")
	if st.class != "" && !strings.HasPrefix(st.class, "db.") {
		f.fail(rdsInvalidValue("Invalid DB instance class: %s", st.class))
	}
	st.storage = f.integer("AllocatedStorage")
	st.storageType = f.str("StorageType")
	if st.storageType != "" && !slices.Contains([]string{"gp2", "gp3", "io1", "io2", "standard"},
		st.storageType) {
		f.fail(rdsInvalidValue("Invalid storage type: %s", st.storageType))
	}
	st.iops = f.integer("Iops")
	st.multiAZ = f.boolean("MultiAZ")
	st.retention = f.integer("BackupRetentionPeriod")
	if st.retention != nil && (*st.retention < 0 || *st.retention > 35) {
		f.fail(rdsInvalidValue("Invalid backup retention period %d: must be between 0 and 35",
			*st.retention))
	}
	st.subnetGroup = f.str("DBSubnetGroupName")
	st.securityGroups, st.sgGiven = f.list("VpcSecurityGroupIds.VpcSecurityGroupId")
	st.parameterGroup = f.str("DBParameterGroupName")
	st.optionGroup = f.str("OptionGroupName")
	st.port = f.integer("Port")
	if st.port != nil && (*st.port < 1150 || *st.port > 65535) {
		f.fail(rdsInvalidValue("Invalid port %d: must be between 1150 and 65535", *st.port))
	}
	st.az = f.str("AvailabilityZone")
	st.public = f.boolean("PubliclyAccessible")
	st.protect = f.boolean("DeletionProtection")
	st.copyTags = f.boolean("CopyTagsToSnapshot")
	st.tags = f.tags()
	return st
}

// apply sets the parameters a request gave on i, over the values i got
// from its origin or from RDS's defaults.
func (st instanceSettings) apply(i *dbInstance) {
	if st.class != "" {
		i.class = st.class
	}
	if st.storage != nil {
		i.allocatedStorage = *st.storage
	}
	if st.storageType != "" {
		i.storageType = st.storageType
	}
	if st.iops != nil {
		i.iops = st.iops
	}
	if st.multiAZ != nil {
		i.multiAZ = *st.multiAZ
	}
	if st.retention != nil {
		i.backupRetention = *st.retention
	}
	if st.subnetGroup != "" {
		i.subnetGroup = st.subnetGroup
	}
	if st.sgGiven && len(st.securityGroups) > 0 {
		i.securityGroups = append([]string(nil), st.securityGroups...)
	}
	if st.parameterGroup != "" {
		i.parameterGroup = st.parameterGroup
	}
	if st.optionGroup != "" {
		i.optionGroup = st.optionGroup
	}
	if st.port != nil {
		i.port = *st.port
	}
	if st.az != "" {
		i.az = st.az
	}
	if st.public != nil {
		i.publiclyAccessible = *st.public
	}
	if st.protect != nil {
		i.deletionProtection = *st.protect
	}
	if st.copyTags != nil {
		i.copyTags = *st.copyTags
	}
	i.tags = st.tags
}

// newDBInstance makes an instance with RDS's defaults for its engine and
// region; the caller copies an origin's settings and the request's over
// them, then adds it.
func (s *Sim) newDBInstance(region, id, engine, version string, now time.Time) *dbInstance {
	arn := s.arn("rds", region, "db:"+id)
	return &dbInstance{
		id: id, region: region, arn: arn, resourceID: rdsResourceID("db-", arn, now),
		engine: engine, engineVersion: version,
		storageType:     "gp2",
		backupRetention: 1,
		subnetGroup:     RDSDefaultSubnetGroup,
		securityGroups:  []string{RDSDefaultSecurityGroup},
		parameterGroup:  rdsDefaultParameterGroup(engine, version),
		optionGroup:     rdsDefaultOptionGroup(engine, version),
		port:            rdsEngines[engine].port,
		az:              region + "a",
		created:         now,
	}
}

func (s *Sim) rdsCreateDBInstance(c *call, f *rdsForm) (any, *APIError) {
	id := f.required("DBInstanceIdentifier")
	class := f.required("DBInstanceClass")
	engineName := f.required("Engine")
	st := readInstanceSettings(f)
	clusterID := strings.ToLower(f.str("DBClusterIdentifier"))
	encrypted := f.boolean("StorageEncrypted")
	if f.err != nil {
		return nil, f.err
	}
	id, apiErr := rdsCheckID("DBInstanceIdentifier", id)
	if apiErr != nil {
		return nil, apiErr
	}
	engine, apiErr := rdsCheckEngine(engineName)
	if apiErr != nil {
		return nil, apiErr
	}
	rr := s.region(c.region).rds
	if rr.instances[id] != nil {
		return nil, errorf(http.StatusBadRequest, "DBInstanceAlreadyExists",
			"DB instance already exists: %s", id)
	}
	version := f.str("EngineVersion")
	if version == "" {
		version = engine.version
	}

	i := s.newDBInstance(c.region, id, engineName, version, c.now)
	i.class = class
	i.dbName = f.str("DBName")
	i.masterUsername = f.str("MasterUsername")
	if encrypted != nil {
		i.encrypted = *encrypted
	}

	if engine.aurora {
		if clusterID == "" {
			return nil, rdsInvalidCombination("An instance of engine %s must join a DB cluster: "+
				"set DBClusterIdentifier", engineName)
		}
		cl := rr.clusters[clusterID]
		if cl == nil {
			return nil, dbClusterNotFound(clusterID)
		}
		if cl.engine != engineName {
			return nil, rdsInvalidCombination("The engine %s does not match the engine %s "+
				"of DB cluster %s", engineName, cl.engine, cl.id)
		}
		if cl.status == rdsDeleting {
			return nil, invalidDBClusterState("DB cluster %s is being deleted; it takes no "+
				"new instances", cl.id)
		}
		if st.multiAZ != nil && *st.multiAZ {
			return nil, rdsInvalidCombination("MultiAZ is set on the DB cluster, not on its instances")
		}
		// An Aurora instance takes its storage, network and backups
		// from its cluster.
		st.storage, st.storageType, st.retention, st.subnetGroup = nil, "", nil, ""
		st.sgGiven = false
		i.engineVersion = cl.engineVersion
		i.allocatedStorage = 1
		i.storageType = "aurora"
		i.backupRetention = cl.backupRetention
		i.subnetGroup = cl.subnetGroup
		i.securityGroups = append([]string(nil), cl.securityGroups...)
		i.port = cl.port
		i.encrypted = cl.encrypted
		i.cluster = cl
	} else {
		if clusterID != "" {
			return nil, rdsInvalidCombination("Only Aurora instances join a DB cluster; "+
				"engine %s does not", engineName)
		}
		if st.storage == nil || *st.storage < 20 || *st.storage > 65536 {
			return nil, rdsInvalidValue("Invalid storage size for engine name %s: "+
				"AllocatedStorage must be between 20 and 65536 GiB", engineName)
		}
		if st.iops != nil && st.storageType == "" {
			st.storageType = "io1"
		}
	}
	st.apply(i)

	rr.instances[id] = i
	if i.cluster != nil {
		i.cluster.members = append(i.cluster.members, i)
	}
	s.launchInstance(i, c.now, s.duration(s.profile.RDSCreate))
	return xmlInstanceResult{DBInstance: s.dbInstanceXML(i, c.now)}, nil
}

func (s *Sim) rdsCreateReadReplica(c *call, f *rdsForm) (any, *APIError) {
	id := f.required("DBInstanceIdentifier")
	srcRef := f.required("SourceDBInstanceIdentifier")
	st := readInstanceSettings(f)
	if f.err != nil {
		return nil, f.err
	}
	id, apiErr := rdsCheckID("DBInstanceIdentifier", id)
	if apiErr != nil {
		return nil, apiErr
	}
	rr := s.region(c.region).rds
	if rr.instances[id] != nil {
		return nil, errorf(http.StatusBadRequest, "DBInstanceAlreadyExists",
			"DB instance already exists: %s", id)
	}
	src, apiErr := s.findDBInstance(c, "SourceDBInstanceIdentifier", srcRef, true)
	if apiErr != nil {
		return nil, apiErr
	}
	switch {
	case src.cluster != nil:
		return nil, rdsInvalidCombination("DB instance %s is an Aurora cluster member; "+
			"create a replica DB cluster instead", src.id)
	case src.status != rdsAvailable:
		return nil, invalidDBInstanceState("DB instance %s is %s; a read replica can be "+
			"created only from an available instance", src.id, src.status)
	case src.backupRetention == 0:
		return nil, invalidDBInstanceState("Automated backups are not enabled for DB instance "+
			"%s. Set its backup retention period to a non-zero value first.", src.id)
	}

	i := s.newDBInstance(c.region, id, src.engine, src.engineVersion, c.now)
	i.class = src.class
	i.allocatedStorage = src.allocatedStorage
	i.storageType = src.storageType
	i.iops = src.iops
	i.dbName, i.masterUsername = src.dbName, src.masterUsername
	i.encrypted = src.encrypted
	i.port = src.port
	i.backupRetention = 0
	if src.region == c.region {
		// A replica in its source's region shares its network and
		// configuration; across regions it gets the defaults.
		i.subnetGroup = src.subnetGroup
		i.parameterGroup = src.parameterGroup
		i.optionGroup = src.optionGroup
	}
	st.apply(i)
	i.source = src
	src.replicas = append(src.replicas, i)
	rr.instances[id] = i

	i.gen++
	s.setDBInstanceStatus(i, rdsCreating, c.now)
	done := c.now.Add(s.duration(s.profile.RDSReplicaCreate))
	s.dbInstanceStep(i, done, func() { s.setDBInstanceStatus(i, rdsAvailable, done) })
	return xmlInstanceResult{DBInstance: s.dbInstanceXML(i, c.now)}, nil
}

func (s *Sim) rdsDescribeDBInstances(c *call, f *rdsForm) (any, *APIError) {
	filters := f.filters("db-instance-id", "db-cluster-id", "engine", "dbi-resource-id")
	ref := f.str("DBInstanceIdentifier")
	if f.err != nil {
		return nil, f.err
	}
	rr := s.region(c.region).rds
	var list []*dbInstance
	if ref != "" {
		i, apiErr := s.findDBInstance(c, "DBInstanceIdentifier", ref, false)
		if apiErr != nil {
			return nil, apiErr
		}
		list = append(list, i)
	} else {
		for _, i := range rr.instances {
			list = append(list, i)
		}
	}
	var kept []*dbInstance
	for _, i := range list {
		if rdsMatch(filters, func(name string) []string {
			switch name {
			case "db-instance-id":
				return []string{i.id, i.arn}
			case "db-cluster-id":
				if i.cluster != nil {
					return []string{i.cluster.id, i.cluster.arn}
				}
			case "engine":
				return []string{i.engine}
			case "dbi-resource-id":
				return []string{i.resourceID}
			}
			return nil
		}) {
			kept = append(kept, i)
		}
	}
	sort.Slice(kept, func(a, b int) bool { return kept[a].id < kept[b].id })
	items, marker := rdsPage(f, kept, func(i *dbInstance) string { return i.id })
	if f.err != nil {
		return nil, f.err
	}
	out := xmlInstancesResult{Marker: marker}
	for _, i := range items {
		out.DBInstances = append(out.DBInstances, s.dbInstanceXML(i, c.now))
	}
	return out, nil
}

func (s *Sim) rdsPromoteReadReplica(c *call, f *rdsForm) (any, *APIError) {
	ref := f.required("DBInstanceIdentifier")
	retention := f.integer("BackupRetentionPeriod")
	if f.err != nil {
		return nil, f.err
	}
	i, apiErr := s.findDBInstance(c, "DBInstanceIdentifier", ref, false)
	if apiErr != nil {
		return nil, apiErr
	}
	switch {
	case i.source == nil:
		return nil, invalidDBInstanceState("DB Instance is not a read replica.")
	case i.status == rdsBackingUp:
		return nil, invalidDBInstanceState("DB instance %s is backing up; a read replica "+
			"cannot be promoted while a backup is running", i.id)
	case i.status != rdsAvailable:
		return nil, invalidDBInstanceState("DB instance %s is %s; a read replica can be "+
			"promoted only when it is available", i.id, i.status)
	case i.promotionFailed && c.resourceFault(PromotionFails, i.id):
		return nil, invalidDBInstanceState("DB instance %s is in an incompatible state "+
			"after a failed promotion", i.id)
	}
	keep := int32(1)
	if retention != nil {
		if *retention < 0 || *retention > 35 {
			return nil, rdsInvalidValue("Invalid backup retention period %d: "+
				"must be between 0 and 35", *retention)
		}
		keep = *retention
	}

	start := c.now
	promoted := start.Add(s.duration(s.profile.RDSPromoteModifying))
	backup := s.duration(s.profile.RDSPromoteBackingUp)
	fails := c.resourceFault(PromotionFails, i.id)
	i.gen++
	s.setDBInstanceStatus(i, rdsModifying, start)
	s.dbInstanceStep(i, promoted, func() {
		if fails {
			i.status = rdsAvailable
			i.promotionFailed = true
			s.record(i.region, ServiceRDS, "db-instance", i.id, RDSPromotionFailed, promoted)
			return
		}
		// The replica leaves replication when its promotion reboot is
		// done; the first backup of the new primary follows.
		s.detachDBReplica(i)
		i.backupRetention = keep
		if keep == 0 {
			s.setDBInstanceStatus(i, rdsAvailable, promoted)
			return
		}
		s.backUpInstance(i, promoted, backup)
	})
	return xmlInstanceResult{DBInstance: s.dbInstanceXML(i, c.now)}, nil
}

// detachDBReplica ends i's replication from its source.
func (s *Sim) detachDBReplica(i *dbInstance) {
	src := i.source
	if src == nil {
		return
	}
	i.source = nil
	for n, r := range src.replicas {
		if r == i {
			src.replicas = append(src.replicas[:n:n], src.replicas[n+1:]...)
			break
		}
	}
}

func (s *Sim) rdsModifyDBInstance(c *call, f *rdsForm) (any, *APIError) {
	ref := f.required("DBInstanceIdentifier")
	st := readInstanceSettings(f)
	immediately := f.boolean("ApplyImmediately")
	version := f.str("EngineVersion")
	newID := f.str("NewDBInstanceIdentifier")
	if f.err != nil {
		return nil, f.err
	}
	if newID != "" {
		var apiErr *APIError
		if newID, apiErr = rdsCheckID("NewDBInstanceIdentifier", newID); apiErr != nil {
			return nil, apiErr
		}
	}
	i, apiErr := s.findDBInstance(c, "DBInstanceIdentifier", ref, false)
	if apiErr != nil {
		return nil, apiErr
	}
	switch {
	case i.status != rdsAvailable:
		return nil, invalidDBInstanceState("DB instance %s is %s; it can be modified only "+
			"when it is available", i.id, i.status)
	case st.sgGiven && len(st.securityGroups) == 0:
		return nil, rdsInvalidValue("VpcSecurityGroupIds must name at least one security group")
	case newID != "" && s.region(c.region).rds.instances[newID] != nil:
		return nil, errorf(http.StatusBadRequest, "DBInstanceAlreadyExists",
			"Cannot rename DB instance %s: DB instance %s already exists", i.id, newID)
	}

	// Network, configuration and retention changes that need no outage
	// take effect at once, as on RDS.
	if st.sgGiven {
		i.securityGroups = append([]string(nil), st.securityGroups...)
	}
	if st.parameterGroup != "" {
		i.parameterGroup = st.parameterGroup
	}
	if st.optionGroup != "" {
		i.optionGroup = st.optionGroup
	}
	if st.protect != nil {
		i.deletionProtection = *st.protect
	}
	if st.copyTags != nil {
		i.copyTags = *st.copyTags
	}
	if st.public != nil {
		i.publiclyAccessible = *st.public
	}
	if st.subnetGroup != "" {
		i.subnetGroup = st.subnetGroup
	}
	var p instancePending
	if r := st.retention; r != nil {
		if (*r == 0) == (i.backupRetention == 0) {
			i.backupRetention = *r
		} else {
			p.retention = r
		}
	}
	if st.class != "" && st.class != i.class {
		p.class = st.class
	}
	if st.multiAZ != nil && *st.multiAZ != i.multiAZ {
		p.multiAZ = st.multiAZ
	}
	if st.storage != nil && *st.storage != i.allocatedStorage {
		if *st.storage < i.allocatedStorage {
			return nil, rdsInvalidValue("Invalid storage size: AllocatedStorage cannot shrink "+
				"from %d to %d", i.allocatedStorage, *st.storage)
		}
		p.storage = st.storage
	}
	if st.storageType != "" && st.storageType != i.storageType {
		p.storageType = st.storageType
	}
	if st.iops != nil {
		p.iops = st.iops
	}
	if version != "" && version != i.engineVersion {
		p.engineVersion = version
	}
	p.identifier = newID

	switch {
	case p.empty():
		// Only changes that need no outage, applied above.
	case immediately == nil || !*immediately:
		i.pending = mergeInstancePending(i.pending, p)
	case p.identifier != "":
		s.renameDBInstanceNow(i, p, c.now)
	default:
		s.modifyDBInstanceNow(i, p, c.now)
	}
	return xmlInstanceResult{DBInstance: s.dbInstanceXML(i, c.now)}, nil
}

// renameDBInstanceNow gives i the identifier p names and holds it in
// renaming for a while. The old identifier is free from the start, as on
// RDS once the rename is applied; the rest of p follows through a
// modifying phase.
func (s *Sim) renameDBInstanceNow(i *dbInstance, p instancePending, now time.Time) {
	newID := p.identifier
	p.identifier = ""
	i.gen++
	s.setDBInstanceStatus(i, rdsRenaming, now)
	s.moveDBInstance(i, newID)
	if p.empty() {
		i.pending.identifier = ""
	} else {
		i.pending = p
	}

	done := now.Add(s.duration(s.profile.RDSModify))
	s.dbInstanceStep(i, done, func() {
		if !p.empty() {
			s.modifyDBInstanceNow(i, p, done)
			return
		}
		s.setDBInstanceStatus(i, rdsAvailable, done)
	})
}

// moveDBInstance files i under a new identifier. Replicas, sources and
// cluster members hold i itself and name it by its current identifier or
// ARN, so they follow; its automated snapshots are listed under the new
// identifier, while manual ones keep the name they were taken under.
func (s *Sim) moveDBInstance(i *dbInstance, id string) {
	rr := s.region(i.region).rds
	delete(rr.instances, i.id)
	i.id = id
	i.arn = s.arn("rds", i.region, "db:"+id)
	rr.instances[id] = i
	for _, snap := range rr.snapshots {
		if snap.snapType == "automated" && snap.instanceRes == i.resourceID {
			snap.instanceID = id
		}
	}
}

// modifyDBInstanceNow applies p through a modifying phase. Turning backups on ends
// with the first backup, turning them off drops the automated snapshots.
func (s *Sim) modifyDBInstanceNow(i *dbInstance, p instancePending, now time.Time) {
	i.pending = p
	i.gen++
	s.setDBInstanceStatus(i, rdsModifying, now)
	done := now.Add(s.duration(s.profile.RDSModify))
	backup := s.duration(s.profile.RDSSnapshot)
	s.dbInstanceStep(i, done, func() {
		if p.class != "" {
			i.class = p.class
		}
		if p.multiAZ != nil {
			i.multiAZ = *p.multiAZ
		}
		if p.storage != nil {
			i.allocatedStorage = *p.storage
		}
		if p.storageType != "" {
			i.storageType = p.storageType
		}
		if p.iops != nil {
			i.iops = p.iops
		}
		if p.engineVersion != "" {
			i.engineVersion = p.engineVersion
		}
		i.pending = instancePending{}
		if p.retention != nil {
			enabling := i.backupRetention == 0 && *p.retention > 0
			i.backupRetention = *p.retention
			if *p.retention == 0 {
				i.backupsFrom = time.Time{}
				s.dropAutomatedDBSnapshots(i, done)
			}
			if enabling && i.cluster == nil {
				s.backUpInstance(i, done, backup)
				return
			}
		}
		s.setDBInstanceStatus(i, rdsAvailable, done)
	})
}

func mergeInstancePending(old, p instancePending) instancePending {
	if p.class != "" {
		old.class = p.class
	}
	if p.multiAZ != nil {
		old.multiAZ = p.multiAZ
	}
	if p.storage != nil {
		old.storage = p.storage
	}
	if p.storageType != "" {
		old.storageType = p.storageType
	}
	if p.iops != nil {
		old.iops = p.iops
	}
	if p.retention != nil {
		old.retention = p.retention
	}
	if p.engineVersion != "" {
		old.engineVersion = p.engineVersion
	}
	if p.identifier != "" {
		old.identifier = p.identifier
	}
	return old
}

func (s *Sim) rdsDeleteDBInstance(c *call, f *rdsForm) (any, *APIError) {
	ref := f.required("DBInstanceIdentifier")
	skip := f.boolean("SkipFinalSnapshot")
	finalID := f.str("FinalDBSnapshotIdentifier")
	if f.err != nil {
		return nil, f.err
	}
	i, apiErr := s.findDBInstance(c, "DBInstanceIdentifier", ref, false)
	if apiErr != nil {
		return nil, apiErr
	}
	skipping := skip != nil && *skip
	switch {
	case i.status == rdsDeleting:
		return nil, invalidDBInstanceState("DB instance %s is already being deleted.", i.id)
	case i.deletionProtection:
		return nil, rdsInvalidCombination("Cannot delete protected DB Instance, please disable " +
			"deletion protection and try again.")
	case i.cluster != nil && finalID != "":
		return nil, rdsInvalidCombination("FinalDBSnapshotIdentifier cannot be specified when " +
			"deleting a cluster instance.")
	case i.source != nil && finalID != "":
		return nil, rdsInvalidCombination("FinalDBSnapshotIdentifier cannot be specified when " +
			"deleting a read replica.")
	case skipping && finalID != "":
		return nil, rdsInvalidCombination("FinalDBSnapshotIdentifier can not be specified when " +
			"deleting a database instance with SkipFinalSnapshot enabled.")
	case i.cluster == nil && i.source == nil && !skipping && finalID == "":
		return nil, rdsInvalidCombination("FinalDBSnapshotIdentifier is required unless " +
			"SkipFinalSnapshot is specified.")
	}
	rr := s.region(c.region).rds
	total := s.duration(s.profile.RDSDelete)
	if finalID != "" {
		id, apiErr := rdsCheckID("FinalDBSnapshotIdentifier", finalID)
		if apiErr != nil {
			return nil, apiErr
		}
		if rr.snapshots[id] != nil {
			return nil, errorf(http.StatusBadRequest, "DBSnapshotAlreadyExists",
				"Cannot create the snapshot because a snapshot with the identifier %s "+
					"already exists.", id)
		}
		if i.status != rdsAvailable {
			return nil, invalidDBInstanceState("DB instance %s is %s; a final snapshot "+
				"needs an available instance", i.id, i.status)
		}
		snapTime := s.duration(s.profile.RDSSnapshot)
		snap := s.newDBSnapshot(i, id, "manual", c.now)
		s.dbSnapshotReady(snap, c.now.Add(snapTime))
		total += snapTime
	}

	i.gen++
	s.setDBInstanceStatus(i, rdsDeleting, c.now)
	done := c.now.Add(total)
	s.dbInstanceStep(i, done, func() { s.removeDBInstance(i, done) })
	return xmlInstanceResult{DBInstance: s.dbInstanceXML(i, c.now)}, nil
}

// removeDBInstance ends an instance's deletion. Its replicas carry on as
// standalone instances, as on RDS.
func (s *Sim) removeDBInstance(i *dbInstance, at time.Time) {
	s.setDBInstanceStatus(i, rdsDeleted, at)
	i.gone = true
	delete(s.region(i.region).rds.instances, i.id)
	s.detachDBReplica(i)
	for _, r := range i.replicas {
		r.source = nil
	}
	i.replicas = nil
	if cl := i.cluster; cl != nil {
		for n, m := range cl.members {
			if m == i {
				cl.members = append(cl.members[:n:n], cl.members[n+1:]...)
				break
			}
		}
		if cl.removeWhenEmpty && len(cl.members) == 0 {
			s.removeDBCluster(cl, at)
		}
	}
	s.dropAutomatedDBSnapshots(i, at)
}

// dbSnapshot is a DB snapshot with the settings of its instance when it
// was taken, which a restore starts from.
type dbSnapshot struct {
	id, region, arn string
	instanceID      string
	instanceRes     string
	snapType        string
	status          string
	created         time.Time
	gone            bool

	engine, engineVersion, class string
	allocatedStorage             int32
	storageType                  string
	iops                         *int32
	port                         int32
	az, vpcID                    string
	dbName, masterUsername       string
	optionGroup                  string
	encrypted                    bool
	retention                    int32
	instanceCreated              time.Time
	tags                         []rdsTag
}

// newDBSnapshot starts a snapshot of i; the caller schedules its end.
func (s *Sim) newDBSnapshot(i *dbInstance, id, snapType string, now time.Time) *dbSnapshot {
	snap := &dbSnapshot{
		id: id, region: i.region, arn: s.arn("rds", i.region, "snapshot:"+id),
		instanceID: i.id, instanceRes: i.resourceID, snapType: snapType, created: now,
		engine: i.engine, engineVersion: i.engineVersion, class: i.class,
		allocatedStorage: i.allocatedStorage, storageType: i.storageType, iops: i.iops,
		port: i.port, az: i.az, vpcID: rdsVPC(i.region, i.subnetGroup),
		dbName: i.dbName, masterUsername: i.masterUsername, optionGroup: i.optionGroup,
		encrypted: i.encrypted, retention: i.backupRetention, instanceCreated: i.created,
	}
	if i.copyTags {
		snap.tags = append([]rdsTag(nil), i.tags...)
	}
	s.region(i.region).rds.snapshots[id] = snap
	s.setDBSnapshotStatus(snap, rdsCreating, now)
	return snap
}

func (s *Sim) setDBSnapshotStatus(snap *dbSnapshot, status string, at time.Time) {
	snap.status = status
	s.record(snap.region, ServiceRDS, "db-snapshot", snap.id, status, at)
}

// dbSnapshotReady schedules the end of a snapshot; it completes even if its
// instance is deleted meanwhile.
func (s *Sim) dbSnapshotReady(snap *dbSnapshot, at time.Time) {
	s.rdsSchedule(at, func() {
		if !snap.gone {
			s.setDBSnapshotStatus(snap, rdsAvailable, at)
		}
	})
}

func (s *Sim) dropAutomatedDBSnapshots(i *dbInstance, at time.Time) {
	rr := s.region(i.region).rds
	for id, snap := range rr.snapshots {
		if snap.snapType == "automated" && snap.instanceRes == i.resourceID {
			snap.gone = true
			delete(rr.snapshots, id)
			s.setDBSnapshotStatus(snap, rdsDeleted, at)
		}
	}
}

func (s *Sim) dbSnapshotXML(snap *dbSnapshot) xmlDBSnapshot {
	progress := int32(0)
	if snap.status == rdsAvailable {
		progress = 100
	}
	return xmlDBSnapshot{
		DBSnapshotIdentifier: snap.id, DBSnapshotArn: snap.arn,
		DBInstanceIdentifier: snap.instanceID, DbiResourceId: snap.instanceRes,
		SnapshotType: snap.snapType, Status: snap.status,
		Engine: snap.engine, EngineVersion: snap.engineVersion,
		AllocatedStorage: snap.allocatedStorage, StorageType: snap.storageType, Iops: snap.iops,
		Port: snap.port, AvailabilityZone: snap.az, VpcId: snap.vpcID,
		MasterUsername: snap.masterUsername, OptionGroupName: snap.optionGroup,
		Encrypted: snap.encrypted, PercentProgress: progress,
		InstanceCreateTime: rdsTime(snap.instanceCreated),
		SnapshotCreateTime: rdsTime(snap.created), BackupRetentionPeriod: snap.retention,
		TagList: rdsXMLTags(snap.tags),
	}
}

func (s *Sim) rdsCreateDBSnapshot(c *call, f *rdsForm) (any, *APIError) {
	snapID := f.required("DBSnapshotIdentifier")
	ref := f.required("DBInstanceIdentifier")
	tags := f.tags()
	if f.err != nil {
		return nil, f.err
	}
	snapID, apiErr := rdsCheckID("DBSnapshotIdentifier", snapID)
	if apiErr != nil {
		return nil, apiErr
	}
	i, apiErr := s.findDBInstance(c, "DBInstanceIdentifier", ref, false)
	if apiErr != nil {
		return nil, apiErr
	}
	rr := s.region(c.region).rds
	switch {
	case rr.snapshots[snapID] != nil:
		return nil, errorf(http.StatusBadRequest, "DBSnapshotAlreadyExists",
			"Cannot create the snapshot because a snapshot with the identifier %s "+
				"already exists.", snapID)
	case i.cluster != nil:
		return nil, rdsInvalidCombination("DB instance %s is an Aurora cluster member; "+
			"snapshot its DB cluster instead", i.id)
	case i.status != rdsAvailable:
		return nil, invalidDBInstanceState("Cannot create a snapshot because the database "+
			"instance %s is not currently in the available state (it is %s).", i.id, i.status)
	}

	snap := s.newDBSnapshot(i, snapID, "manual", c.now)
	if len(tags) > 0 {
		snap.tags = tags
	}
	done := c.now.Add(s.duration(s.profile.RDSSnapshot))
	s.dbSnapshotReady(snap, done)
	i.gen++
	s.setDBInstanceStatus(i, rdsBackingUp, c.now)
	s.dbInstanceStep(i, done, func() { s.setDBInstanceStatus(i, rdsAvailable, done) })
	return xmlSnapshotResult{DBSnapshot: s.dbSnapshotXML(snap)}, nil
}

func (s *Sim) rdsDescribeDBSnapshots(c *call, f *rdsForm) (any, *APIError) {
	filters := f.filters("db-instance-id", "db-snapshot-id", "snapshot-type", "engine",
		"dbi-resource-id")
	snapRef := f.str("DBSnapshotIdentifier")
	instRef := f.str("DBInstanceIdentifier")
	snapType := f.str("SnapshotType")
	if snapType != "" && !slices.Contains([]string{"automated", "manual", "shared", "public",
		"awsbackup"}, snapType) {
		f.fail(rdsInvalidValue("Invalid SnapshotType %q: use automated, manual, shared, "+
			"public or awsbackup", snapType))
	}
	if f.err != nil {
		return nil, f.err
	}
	rr := s.region(c.region).rds
	var want rdsRef
	if snapRef != "" {
		r, apiErr := s.rdsParseRef("DBSnapshotIdentifier", snapRef, "snapshot", c.region)
		if apiErr != nil {
			return nil, apiErr
		}
		if r.region != c.region || rr.snapshots[r.id] == nil {
			return nil, dbSnapshotNotFound(snapRef)
		}
		want = r
	}
	var instID string
	if instRef != "" {
		r, apiErr := s.rdsParseRef("DBInstanceIdentifier", instRef, "db", c.region)
		if apiErr != nil {
			return nil, apiErr
		}
		instID = r.id
	}
	var kept []*dbSnapshot
	for _, snap := range rr.snapshots {
		switch {
		case want.id != "" && snap.id != want.id:
			continue
		case instID != "" && snap.instanceID != instID:
			continue
		case snapType != "" && snap.snapType != snapType:
			continue
		}
		if rdsMatch(filters, func(name string) []string {
			switch name {
			case "db-instance-id":
				return []string{snap.instanceID, s.arn("rds", snap.region, "db:"+snap.instanceID)}
			case "db-snapshot-id":
				return []string{snap.id, snap.arn}
			case "snapshot-type":
				return []string{snap.snapType}
			case "engine":
				return []string{snap.engine}
			case "dbi-resource-id":
				return []string{snap.instanceRes}
			}
			return nil
		}) {
			kept = append(kept, snap)
		}
	}
	sort.Slice(kept, func(a, b int) bool { return kept[a].id < kept[b].id })
	items, marker := rdsPage(f, kept, func(snap *dbSnapshot) string { return snap.id })
	if f.err != nil {
		return nil, f.err
	}
	out := xmlSnapshotsResult{Marker: marker}
	for _, snap := range items {
		out.DBSnapshots = append(out.DBSnapshots, s.dbSnapshotXML(snap))
	}
	return out, nil
}

func dbSnapshotNotFound(id string) *APIError {
	return errorf(http.StatusNotFound, "DBSnapshotNotFound", "DBSnapshot %s not found.", id)
}

// dbRestoreTarget checks the identifier of a restore's new instance.
func (s *Sim) dbRestoreTarget(c *call, param, id string) (string, *APIError) {
	id, apiErr := rdsCheckID(param, id)
	if apiErr != nil {
		return "", apiErr
	}
	if s.region(c.region).rds.instances[id] != nil {
		return "", errorf(http.StatusBadRequest, "DBInstanceAlreadyExists",
			"DB instance already exists: %s", id)
	}
	return id, nil
}

// startDBRestore adds a restored instance and schedules its way to
// available, unless a RestoreHangs fault keeps it creating.
func (s *Sim) startDBRestore(c *call, i *dbInstance) {
	s.region(c.region).rds.instances[i.id] = i
	if c.resourceFault(RestoreHangs, i.id) {
		i.gen++
		s.setDBInstanceStatus(i, rdsCreating, c.now)
		return
	}
	s.launchInstance(i, c.now, s.duration(s.profile.RDSRestore))
}

func (s *Sim) rdsRestoreFromSnapshot(c *call, f *rdsForm) (any, *APIError) {
	id := f.required("DBInstanceIdentifier")
	snapRef := f.required("DBSnapshotIdentifier")
	engine := f.str("Engine")
	st := readInstanceSettings(f)
	if f.err != nil {
		return nil, f.err
	}
	id, apiErr := s.dbRestoreTarget(c, "DBInstanceIdentifier", id)
	if apiErr != nil {
		return nil, apiErr
	}
	r, apiErr := s.rdsParseRef("DBSnapshotIdentifier", snapRef, "snapshot", c.region)
	if apiErr != nil {
		return nil, apiErr
	}
	snap := s.region(c.region).rds.snapshots[r.id]
	switch {
	case r.region != c.region || snap == nil:
		return nil, dbSnapshotNotFound(snapRef)
	case snap.status != rdsAvailable:
		return nil, errorf(http.StatusBadRequest, "InvalidDBSnapshotState",
			"DBSnapshot must have state available but actually has %s", snap.status)
	case engine != "" && engine != snap.engine:
		return nil, rdsInvalidCombination("Cannot restore a %s snapshot as engine %s",
			snap.engine, engine)
	}

	i := s.newDBInstance(c.region, id, snap.engine, snap.engineVersion, c.now)
	i.class = snap.class
	i.allocatedStorage = snap.allocatedStorage
	i.storageType = snap.storageType
	i.iops = snap.iops
	i.port = snap.port
	i.dbName, i.masterUsername = snap.dbName, snap.masterUsername
	i.optionGroup = snap.optionGroup
	i.encrypted = snap.encrypted
	i.backupRetention = snap.retention
	st.apply(i)
	s.startDBRestore(c, i)
	return xmlInstanceResult{DBInstance: s.dbInstanceXML(i, c.now)}, nil
}

func (s *Sim) rdsRestoreToPointInTime(c *call, f *rdsForm) (any, *APIError) {
	id := f.required("TargetDBInstanceIdentifier")
	srcRef := f.str("SourceDBInstanceIdentifier")
	srcRes := f.str("SourceDbiResourceId")
	restoreTime := f.timestamp("RestoreTime")
	latest := f.boolean("UseLatestRestorableTime")
	engine := f.str("Engine")
	st := readInstanceSettings(f)
	if srcRef == "" && srcRes == "" {
		f.required("SourceDBInstanceIdentifier")
	}
	if f.err != nil {
		return nil, f.err
	}
	useLatest := latest != nil && *latest
	switch {
	case restoreTime != nil && useLatest:
		return nil, rdsInvalidCombination("RestoreTime cannot be given with " +
			"UseLatestRestorableTime enabled")
	case restoreTime == nil && !useLatest:
		return nil, rdsInvalidCombination("Give RestoreTime or set UseLatestRestorableTime")
	}
	id, apiErr := s.dbRestoreTarget(c, "TargetDBInstanceIdentifier", id)
	if apiErr != nil {
		return nil, apiErr
	}
	var src *dbInstance
	if srcRef != "" {
		src, apiErr = s.findDBInstance(c, "SourceDBInstanceIdentifier", srcRef, false)
		if apiErr != nil {
			return nil, apiErr
		}
	} else {
		for _, i := range s.region(c.region).rds.instances {
			if i.resourceID == srcRes {
				src = i
			}
		}
		if src == nil {
			return nil, dbInstanceNotFound(srcRes)
		}
	}
	switch {
	case src.cluster != nil:
		return nil, rdsInvalidCombination("DB instance %s is an Aurora cluster member; "+
			"restore its DB cluster instead", src.id)
	case src.backupRetention == 0:
		return nil, errorf(http.StatusBadRequest, "PointInTimeRestoreNotEnabled",
			"Point-in-time restore is not enabled for DB instance %s: "+
				"its backup retention period is 0", src.id)
	case src.backupsFrom.IsZero():
		return nil, invalidDBInstanceState("DB instance %s has no restorable time yet: "+
			"its first backup has not finished", src.id)
	case engine != "" && engine != src.engine:
		return nil, rdsInvalidCombination("Cannot restore a %s instance as engine %s",
			src.engine, engine)
	}
	if restoreTime != nil {
		// The window is compared as Describe reports it, to the
		// millisecond, so that its ends can be given back as they are.
		earliest := src.backupsFrom.Truncate(time.Millisecond)
		last := s.latestRestorableTime(src, c.now)
		if restoreTime.Before(earliest) || restoreTime.After(last) {
			return nil, rdsInvalidValue("Restore time %s is outside the restorable window "+
				"of %s, from %s to %s", rdsTime(*restoreTime), src.id, rdsTime(earliest),
				rdsTime(last))
		}
	}

	i := s.newDBInstance(c.region, id, src.engine, src.engineVersion, c.now)
	i.class = src.class
	i.allocatedStorage = src.allocatedStorage
	i.storageType = src.storageType
	i.iops = src.iops
	i.port = src.port
	i.dbName, i.masterUsername = src.dbName, src.masterUsername
	i.optionGroup = src.optionGroup
	i.encrypted = src.encrypted
	i.backupRetention = src.backupRetention
	st.apply(i)
	s.startDBRestore(c, i)
	return xmlInstanceResult{DBInstance: s.dbInstanceXML(i, c.now)}, nil
}

// RDSState is one region's RDS resources. Global clusters are listed in
// every region that holds one of their members (or, while they have none,
// in the region they were created from).
type RDSState struct {
	Instances        []RDSInstanceState        `json:"instances"`
	Clusters         []RDSClusterState         `json:"clusters"`
	GlobalClusters   []RDSGlobalClusterState   `json:"globalClusters"`
	Snapshots        []RDSSnapshotState        `json:"snapshots"`
	ClusterSnapshots []RDSClusterSnapshotState `json:"clusterSnapshots"`
}

// RDSInstanceState is a DB instance. ReplicationSource and ReadReplicas
// name other instances as RDS does: by identifier in the same region, by
// ARN across regions.
type RDSInstanceState struct {
	ID                  string   `json:"id"`
	ARN                 string   `json:"arn"`
	Status              string   `json:"status"`
	Engine              string   `json:"engine"`
	Class               string   `json:"class"`
	MultiAZ             bool     `json:"multiAZ"`
	ReplicationSource   string   `json:"replicationSource,omitempty"`
	ReadReplicas        []string `json:"readReplicas,omitempty"`
	DBClusterIdentifier string   `json:"dbClusterIdentifier,omitempty"`
	SubnetGroup         string   `json:"subnetGroup"`
	SecurityGroups      []string `json:"securityGroups"`
	ParameterGroup      string   `json:"parameterGroup"`
}

// RDSClusterState is an Aurora DB cluster. Writer is the member instance
// that takes writes, empty in a secondary or replica cluster.
type RDSClusterState struct {
	ID                string   `json:"id"`
	ARN               string   `json:"arn"`
	Status            string   `json:"status"`
	Engine            string   `json:"engine"`
	Members           []string `json:"members"`
	Writer            string   `json:"writer,omitempty"`
	GlobalCluster     string   `json:"globalCluster,omitempty"`
	ReplicationSource string   `json:"replicationSource,omitempty"`
}

// RDSGlobalClusterState is an Aurora global database. Members and Writer
// are cluster ARNs.
type RDSGlobalClusterState struct {
	ID      string   `json:"id"`
	ARN     string   `json:"arn"`
	Status  string   `json:"status"`
	Engine  string   `json:"engine"`
	Members []string `json:"members"`
	Writer  string   `json:"writer,omitempty"`
}

// RDSSnapshotState is a DB snapshot.
type RDSSnapshotState struct {
	ID       string `json:"id"`
	ARN      string `json:"arn"`
	Instance string `json:"instance"`
	Type     string `json:"type"`
	Status   string `json:"status"`
}

// RDSClusterSnapshotState is a DB cluster snapshot.
type RDSClusterSnapshotState struct {
	ID      string `json:"id"`
	ARN     string `json:"arn"`
	Cluster string `json:"cluster"`
	Type    string `json:"type"`
	Status  string `json:"status"`
}

// state brings every RDS resource up to now and returns the region's.
func (r *rdsRegion) state(s *Sim, region string, now time.Time) RDSState {
	s.rdsAdvance(now)
	var st RDSState
	for _, i := range r.instances {
		x := RDSInstanceState{
			ID: i.id, ARN: i.arn, Status: i.status, Engine: i.engine, Class: i.class,
			MultiAZ: i.multiAZ, SubnetGroup: i.subnetGroup,
			SecurityGroups: append([]string(nil), i.securityGroups...),
			ParameterGroup: i.parameterGroup,
		}
		if i.source != nil {
			x.ReplicationSource = rdsRefTo(i.region, i.source.region, i.source.id, i.source.arn)
		}
		for _, rep := range i.replicas {
			x.ReadReplicas = append(x.ReadReplicas, rdsRefTo(i.region, rep.region, rep.id, rep.arn))
		}
		if i.cluster != nil {
			x.DBClusterIdentifier = i.cluster.id
		}
		st.Instances = append(st.Instances, x)
	}
	sort.Slice(st.Instances, func(a, b int) bool { return st.Instances[a].ID < st.Instances[b].ID })
	for _, snap := range r.snapshots {
		st.Snapshots = append(st.Snapshots, RDSSnapshotState{
			ID: snap.id, ARN: snap.arn, Instance: snap.instanceID,
			Type: snap.snapType, Status: snap.status,
		})
	}
	sort.Slice(st.Snapshots, func(a, b int) bool { return st.Snapshots[a].ID < st.Snapshots[b].ID })
	for _, snap := range r.clusterSnapshots {
		st.ClusterSnapshots = append(st.ClusterSnapshots, RDSClusterSnapshotState{
			ID: snap.id, ARN: snap.arn, Cluster: snap.clusterID,
			Type: snap.snapType, Status: snap.status,
		})
	}
	sort.Slice(st.ClusterSnapshots, func(a, b int) bool {
		return st.ClusterSnapshots[a].ID < st.ClusterSnapshots[b].ID
	})
	st.Clusters, st.GlobalClusters = r.auroraState(s, region)
	return st
}
