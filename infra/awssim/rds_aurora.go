package awssim

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// Global database operation statuses, shown on the global cluster and in
// its FailoverState while the operation runs.
const (
	rdsSwitchingOver = "switching-over"
	rdsFailingOver   = "failing-over"
)

// dbCluster is an Aurora DB cluster: standalone, the primary or a
// secondary of a global database, or a cross-region replica of another
// cluster.
type dbCluster struct {
	id, region, arn, resourceID string
	status                      string
	gen                         int64

	engine, engineVersion  string
	port                   int32
	subnetGroup            string
	securityGroups         []string
	parameterGroup         string
	backupRetention        int32
	dbName, masterUsername string
	encrypted              bool
	deletionProtection     bool
	copyTags               bool
	tags                   []rdsTag
	created                time.Time
	// backupsFrom is the earliest restorable time: when the first
	// automated snapshot finished. Zero until then.
	backupsFrom time.Time

	// members are the cluster's instances in creation order; the first
	// is the writer when the cluster takes writes.
	members  []*dbInstance
	global   *globalCluster
	source   *dbCluster
	replicas []*dbCluster

	promotionFailed bool
	// removeWhenEmpty is set when a deletion came due while member
	// instances were still being deleted; the last one's removal ends it.
	removeWhenEmpty bool
	gone            bool
}

// takesWrites reports whether the cluster is a primary: neither a replica
// nor a global secondary.
func (cl *dbCluster) takesWrites() bool {
	return cl.source == nil && (cl.global == nil || cl.global.writer == cl)
}

// globalCluster is an Aurora global database, an account-wide resource.
type globalCluster struct {
	id, arn, resourceID string
	status              string
	gen                 int64
	// home is the region it was created from, where the simulator's
	// state lists it while it has no members.
	home string

	engine, engineVersion, dbName string
	encrypted                     bool
	deletionProtection            bool
	tags                          []rdsTag

	members  []*dbCluster
	writer   *dbCluster
	transfer *globalTransfer

	// failed is set when a PromotionFails fault ended a switchover or
	// failover; later ones are refused while the fault holds.
	failed bool
}

// globalTransfer is a running switchover or failover of the writer role.
type globalTransfer struct {
	status   string
	from, to *dbCluster
	dataLoss bool
}

func dbClusterNotFound(id string) *APIError {
	return errorf(http.StatusNotFound, "DBClusterNotFoundFault", "DBCluster %s not found.", id)
}

func globalClusterNotFound(id string) *APIError {
	return errorf(http.StatusNotFound, "GlobalClusterNotFoundFault",
		"Global cluster %s not found.", id)
}

func invalidDBClusterState(format string, args ...any) *APIError {
	return errorf(http.StatusBadRequest, "InvalidDBClusterStateFault", format, args...)
}

func invalidGlobalClusterState(format string, args ...any) *APIError {
	return errorf(http.StatusBadRequest, "InvalidGlobalClusterStateFault", format, args...)
}

func (s *Sim) setDBClusterStatus(cl *dbCluster, status string, at time.Time) {
	cl.status = status
	s.record(cl.region, ServiceRDS, "db-cluster", cl.id, status, at)
}

func (s *Sim) setGlobalClusterStatus(g *globalCluster, status string, at time.Time) {
	g.status = status
	s.record(GlobalRegion, ServiceRDS, "global-cluster", g.id, status, at)
}

// dbClusterStep schedules one step of the operation now running on cl.
func (s *Sim) dbClusterStep(cl *dbCluster, at time.Time, step func()) {
	gen := cl.gen
	s.rdsSchedule(at, func() {
		if !cl.gone && cl.gen == gen {
			step()
		}
	})
}

// findDBCluster resolves a cluster reference in the caller's region, or in
// the ARN's region when cross is true.
func (s *Sim) findDBCluster(c *call, param, ref string, cross bool) (*dbCluster, *APIError) {
	r, apiErr := s.rdsParseRef(param, ref, "cluster", c.region)
	if apiErr != nil {
		return nil, apiErr
	}
	if r.region != c.region && !cross {
		return nil, dbClusterNotFound(ref)
	}
	rr := s.rdsLookup(r.region)
	if rr == nil || rr.clusters[r.id] == nil {
		return nil, dbClusterNotFound(ref)
	}
	return rr.clusters[r.id], nil
}

func (s *Sim) findGlobalCluster(param, ref string) (*globalCluster, *APIError) {
	r, apiErr := s.rdsParseRef(param, ref, "global-cluster", "")
	if apiErr != nil {
		return nil, apiErr
	}
	g := s.rdsGlobals().globals[r.id]
	if g == nil {
		return nil, globalClusterNotFound(ref)
	}
	return g, nil
}

func (s *Sim) dbClusterHost(kind, id, region string) string {
	return fmt.Sprintf("%s.%s-%s.%s.rds.amazonaws.com", id, kind, s.rdsHostTag(), region)
}

func (s *Sim) dbClusterXML(cl *dbCluster, now time.Time) xmlDBCluster {
	x := xmlDBCluster{
		DBClusterIdentifier: cl.id, DBClusterArn: cl.arn, DbClusterResourceId: cl.resourceID,
		Status: cl.status, Engine: cl.engine, EngineVersion: cl.engineVersion,
		EngineMode: "provisioned", DatabaseName: cl.dbName, MasterUsername: cl.masterUsername,
		Endpoint:       s.dbClusterHost("cluster", cl.id, cl.region),
		ReaderEndpoint: s.dbClusterHost("cluster-ro", cl.id, cl.region),
		Port:           cl.port, HostedZoneId: rdsHostedZone(cl.region),
		MultiAZ:                 len(cl.members) > 1,
		BackupRetentionPeriod:   cl.backupRetention,
		DBSubnetGroup:           cl.subnetGroup,
		DBClusterParameterGroup: cl.parameterGroup,
		VpcSecurityGroups:       rdsXMLSecurityGroups(cl.securityGroups),
		AvailabilityZones:       []string{cl.region + "a", cl.region + "b", cl.region + "c"},
		ClusterCreateTime:       rdsTime(cl.created),
		EarliestRestorableTime:  rdsTime(cl.backupsFrom),
		LatestRestorableTime:    rdsTime(s.latestClusterRestorableTime(cl, now)),
		StorageEncrypted:        cl.encrypted,
		DeletionProtection:      cl.deletionProtection,
		CopyTagsToSnapshot:      cl.copyTags,
		TagList:                 rdsXMLTags(cl.tags),
	}
	writes := cl.takesWrites()
	for n, m := range cl.members {
		x.DBClusterMembers = append(x.DBClusterMembers, xmlClusterMember{
			DBInstanceIdentifier: m.id, IsClusterWriter: writes && n == 0,
			DBClusterParameterGroupStatus: "in-sync", PromotionTier: 1,
		})
	}
	if cl.source != nil {
		x.ReplicationSourceIdentifier = cl.source.arn
	}
	for _, r := range cl.replicas {
		x.ReadReplicaIdentifiers = append(x.ReadReplicaIdentifiers, r.arn)
	}
	if cl.global != nil {
		x.GlobalClusterIdentifier = cl.global.id
	}
	return x
}

func (s *Sim) globalClusterXML(g *globalCluster) xmlGlobalCluster {
	x := xmlGlobalCluster{
		GlobalClusterIdentifier: g.id, GlobalClusterArn: g.arn,
		GlobalClusterResourceId: g.resourceID, Status: g.status,
		Engine: g.engine, EngineVersion: g.engineVersion, DatabaseName: g.dbName,
		StorageEncrypted: g.encrypted, DeletionProtection: g.deletionProtection,
		TagList: rdsXMLTags(g.tags),
	}
	for _, m := range g.members {
		xm := xmlGlobalMember{DBClusterArn: m.arn, IsWriter: m == g.writer,
			SynchronizationStatus: "connected"}
		if m == g.writer {
			for _, r := range g.members {
				if r != m {
					xm.Readers = append(xm.Readers, r.arn)
				}
			}
		}
		x.GlobalClusterMembers = append(x.GlobalClusterMembers, xm)
	}
	if t := g.transfer; t != nil {
		x.FailoverState = &xmlFailoverState{
			Status: t.status, ToDbClusterArn: t.to.arn, IsDataLossAllowed: t.dataLoss,
		}
		if t.from != nil {
			x.FailoverState.FromDbClusterArn = t.from.arn
		}
	}
	return x
}

func dbClusterAlreadyExists(id string) *APIError {
	return errorf(http.StatusBadRequest, "DBClusterAlreadyExistsFault",
		"DB Cluster already exists: %s", id)
}

// clusterSettings are the parameters that cluster create and restore
// requests share.
type clusterSettings struct {
	subnetGroup    string
	securityGroups []string
	parameterGroup string
	retention      *int32
	port           *int32
	dbName         string
	protect        *bool
	copyTags       *bool
	tags           []rdsTag
}

func readClusterSettings(f *rdsForm) clusterSettings {
	var st clusterSettings
	st.subnetGroup = f.str("DBSubnetGroupName")
	st.securityGroups, _ = f.list("VpcSecurityGroupIds.VpcSecurityGroupId")
	st.parameterGroup = f.str("DBClusterParameterGroupName")
	st.retention = f.integer("BackupRetentionPeriod")
	if r := st.retention; r != nil && (*r < 1 || *r > 35) {
		f.fail(rdsInvalidValue("Invalid backup retention period %d: must be between 1 and 35",
			*r))
	}
	st.port = f.integer("Port")
	if p := st.port; p != nil && (*p < 1150 || *p > 65535) {
		f.fail(rdsInvalidValue("Invalid port %d: must be between 1150 and 65535", *p))
	}
	st.dbName = f.str("DatabaseName")
	st.protect = f.boolean("DeletionProtection")
	st.copyTags = f.boolean("CopyTagsToSnapshot")
	st.tags = f.tags()
	return st
}

// apply sets the parameters a request gave on cl, over the values cl got
// from its origin or from RDS's defaults. Tags come from the request
// only.
func (st clusterSettings) apply(cl *dbCluster) {
	if st.subnetGroup != "" {
		cl.subnetGroup = st.subnetGroup
	}
	if len(st.securityGroups) > 0 {
		cl.securityGroups = append([]string(nil), st.securityGroups...)
	}
	if st.parameterGroup != "" {
		cl.parameterGroup = st.parameterGroup
	}
	if st.retention != nil {
		cl.backupRetention = *st.retention
	}
	if st.port != nil {
		cl.port = *st.port
	}
	if st.dbName != "" {
		cl.dbName = st.dbName
	}
	if st.protect != nil {
		cl.deletionProtection = *st.protect
	}
	if st.copyTags != nil {
		cl.copyTags = *st.copyTags
	}
	cl.tags = st.tags
}

// newDBCluster makes a cluster with RDS's defaults for its engine and
// region; the caller copies an origin's settings and the request's over
// them, then adds it.
func (s *Sim) newDBCluster(region, id, engine, version string, now time.Time) *dbCluster {
	arn := s.arn("rds", region, "cluster:"+id)
	return &dbCluster{
		id: id, region: region, arn: arn, resourceID: rdsResourceID("cluster-", arn, now),
		engine: engine, engineVersion: version, port: rdsEngines[engine].port,
		subnetGroup:     RDSDefaultSubnetGroup,
		securityGroups:  []string{RDSDefaultSecurityGroup},
		parameterGroup:  rdsDefaultParameterGroup(engine, version),
		backupRetention: 1,
		created:         now,
	}
}

// launchDBCluster takes a new cluster through creating to available.
// Its first automated snapshot starts as it becomes available.
func (s *Sim) launchDBCluster(cl *dbCluster, start time.Time, total time.Duration) {
	cl.gen++
	s.setDBClusterStatus(cl, rdsCreating, start)
	done := start.Add(total)
	s.dbClusterStep(cl, done, func() {
		s.setDBClusterStatus(cl, rdsAvailable, done)
		s.backUpDBCluster(cl, done)
	})
}

func (s *Sim) rdsCreateDBCluster(c *call, f *rdsForm) (any, *APIError) {
	id := f.required("DBClusterIdentifier")
	engineName := f.required("Engine")
	globalRef := f.str("GlobalClusterIdentifier")
	sourceRef := f.str("ReplicationSourceIdentifier")
	version := f.str("EngineVersion")
	encrypted := f.boolean("StorageEncrypted")
	st := readClusterSettings(f)
	if f.err != nil {
		return nil, f.err
	}
	id, apiErr := rdsCheckID("DBClusterIdentifier", id)
	if apiErr != nil {
		return nil, apiErr
	}
	engine, apiErr := rdsCheckEngine(engineName)
	if apiErr != nil {
		return nil, apiErr
	}
	rr := s.region(c.region).rds
	switch {
	case !engine.aurora:
		return nil, rdsInvalidValue("The simulator's DB clusters are Aurora clusters; "+
			"engine %s is not Aurora", engineName)
	case rr.clusters[id] != nil:
		return nil, dbClusterAlreadyExists(id)
	case globalRef != "" && sourceRef != "":
		return nil, rdsInvalidCombination("GlobalClusterIdentifier and " +
			"ReplicationSourceIdentifier cannot both be given")
	}

	var g *globalCluster
	if globalRef != "" {
		if g, apiErr = s.findGlobalCluster("GlobalClusterIdentifier", globalRef); apiErr != nil {
			return nil, apiErr
		}
		switch {
		case g.engine != engineName:
			return nil, rdsInvalidCombination("The engine %s does not match the engine %s "+
				"of global cluster %s", engineName, g.engine, g.id)
		case g.status != rdsAvailable:
			return nil, invalidGlobalClusterState("Global cluster %s is %s; clusters join it "+
				"only when it is available", g.id, g.status)
		}
		for _, m := range g.members {
			if m.region == c.region {
				return nil, invalidGlobalClusterState("Global cluster %s already has a member "+
					"in %s: %s", g.id, c.region, m.id)
			}
		}
		version = g.engineVersion
	}
	var src *dbCluster
	if sourceRef != "" {
		if src, apiErr = s.findDBCluster(c, "ReplicationSourceIdentifier", sourceRef,
			true); apiErr != nil {
			return nil, apiErr
		}
		switch {
		case src.engine != engineName:
			return nil, rdsInvalidCombination("The engine %s does not match the engine %s "+
				"of DB cluster %s", engineName, src.engine, src.id)
		case src.status != rdsAvailable:
			return nil, invalidDBClusterState("DB cluster %s is %s; a replica can be created "+
				"only from an available cluster", src.id, src.status)
		case src.source != nil:
			return nil, invalidDBClusterState("DB cluster %s is itself a replica", src.id)
		}
		version = src.engineVersion
	}
	if version == "" {
		version = engine.version
	}

	cl := s.newDBCluster(c.region, id, engineName, version, c.now)
	cl.masterUsername = f.str("MasterUsername")
	st.apply(cl)
	if encrypted != nil {
		cl.encrypted = *encrypted
	}
	if g != nil {
		cl.global = g
		g.members = append(g.members, cl)
		if g.writer == nil {
			g.writer = cl
		}
		cl.encrypted = g.encrypted || cl.encrypted
	}
	if src != nil {
		cl.source = src
		src.replicas = append(src.replicas, cl)
		cl.dbName, cl.masterUsername = src.dbName, src.masterUsername
	}
	rr.clusters[id] = cl

	s.launchDBCluster(cl, c.now, s.duration(s.profile.AuroraClusterCreate))
	return xmlClusterResult{DBCluster: s.dbClusterXML(cl, c.now)}, nil
}

func (s *Sim) rdsDescribeDBClusters(c *call, f *rdsForm) (any, *APIError) {
	filters := f.filters("db-cluster-id", "engine", "db-cluster-resource-id")
	ref := f.str("DBClusterIdentifier")
	if f.err != nil {
		return nil, f.err
	}
	var list []*dbCluster
	if ref != "" {
		cl, apiErr := s.findDBCluster(c, "DBClusterIdentifier", ref, false)
		if apiErr != nil {
			return nil, apiErr
		}
		list = append(list, cl)
	} else {
		for _, cl := range s.region(c.region).rds.clusters {
			list = append(list, cl)
		}
	}
	var kept []*dbCluster
	for _, cl := range list {
		if rdsMatch(filters, func(name string) []string {
			switch name {
			case "db-cluster-id":
				return []string{cl.id, cl.arn}
			case "engine":
				return []string{cl.engine}
			case "db-cluster-resource-id":
				return []string{cl.resourceID}
			}
			return nil
		}) {
			kept = append(kept, cl)
		}
	}
	sort.Slice(kept, func(a, b int) bool { return kept[a].id < kept[b].id })
	items, marker := rdsPage(f, kept, func(cl *dbCluster) string { return cl.id })
	if f.err != nil {
		return nil, f.err
	}
	out := xmlClustersResult{Marker: marker}
	for _, cl := range items {
		out.DBClusters = append(out.DBClusters, s.dbClusterXML(cl, c.now))
	}
	return out, nil
}

func (s *Sim) rdsPromoteReadReplicaDBCluster(c *call, f *rdsForm) (any, *APIError) {
	ref := f.required("DBClusterIdentifier")
	if f.err != nil {
		return nil, f.err
	}
	cl, apiErr := s.findDBCluster(c, "DBClusterIdentifier", ref, false)
	if apiErr != nil {
		return nil, apiErr
	}
	switch {
	case cl.global != nil:
		return nil, invalidDBClusterState("DB cluster %s is a member of global cluster %s; "+
			"use FailoverGlobalCluster or SwitchoverGlobalCluster", cl.id, cl.global.id)
	case cl.source == nil:
		return nil, invalidDBClusterState("DB cluster %s is not a read replica.", cl.id)
	case cl.status != rdsAvailable:
		return nil, invalidDBClusterState("DB cluster %s is %s; a replica cluster can be "+
			"promoted only when it is available", cl.id, cl.status)
	case cl.promotionFailed && c.resourceFault(PromotionFails, cl.id):
		return nil, invalidDBClusterState("DB cluster %s is in an incompatible state "+
			"after a failed promotion", cl.id)
	}

	fails := c.resourceFault(PromotionFails, cl.id)
	done := c.now.Add(s.duration(s.profile.AuroraPromote))
	cl.gen++
	s.setDBClusterStatus(cl, rdsPromoting, c.now)
	s.dbClusterStep(cl, done, func() {
		if fails {
			cl.status = rdsAvailable
			cl.promotionFailed = true
			s.record(cl.region, ServiceRDS, "db-cluster", cl.id, RDSPromotionFailed, done)
			return
		}
		src := cl.source
		cl.source = nil
		for n, r := range src.replicas {
			if r == cl {
				src.replicas = append(src.replicas[:n:n], src.replicas[n+1:]...)
				break
			}
		}
		s.setDBClusterStatus(cl, rdsAvailable, done)
	})
	return xmlClusterResult{DBCluster: s.dbClusterXML(cl, c.now)}, nil
}

func (s *Sim) rdsCreateGlobalCluster(c *call, f *rdsForm) (any, *APIError) {
	id := f.required("GlobalClusterIdentifier")
	srcRef := f.str("SourceDBClusterIdentifier")
	engineName := f.str("Engine")
	version := f.str("EngineVersion")
	encrypted := f.boolean("StorageEncrypted")
	protect := f.boolean("DeletionProtection")
	tags := f.tags()
	if f.err != nil {
		return nil, f.err
	}
	id, apiErr := rdsCheckID("GlobalClusterIdentifier", id)
	if apiErr != nil {
		return nil, apiErr
	}
	globals := s.rdsGlobals().globals
	if globals[id] != nil {
		return nil, errorf(http.StatusBadRequest, "GlobalClusterAlreadyExistsFault",
			"Global cluster %s already exists.", id)
	}
	var src *dbCluster
	if srcRef != "" {
		if src, apiErr = s.findDBCluster(c, "SourceDBClusterIdentifier", srcRef,
			true); apiErr != nil {
			return nil, apiErr
		}
		switch {
		case engineName != "" && engineName != src.engine:
			return nil, rdsInvalidCombination("The engine %s does not match the engine %s "+
				"of DB cluster %s", engineName, src.engine, src.id)
		case src.global != nil:
			return nil, invalidDBClusterState("DB cluster %s is already a member of global "+
				"cluster %s", src.id, src.global.id)
		case src.source != nil:
			return nil, invalidDBClusterState("DB cluster %s is a replica; only a primary "+
				"cluster can start a global cluster", src.id)
		case src.status != rdsAvailable:
			return nil, invalidDBClusterState("DB cluster %s is %s; a global cluster starts "+
				"only from an available cluster", src.id, src.status)
		}
		engineName, version = src.engine, src.engineVersion
	}
	if engineName == "" {
		return nil, rdsInvalidCombination("Engine is required when SourceDBClusterIdentifier " +
			"is not given")
	}
	engine, apiErr := rdsCheckEngine(engineName)
	if apiErr != nil {
		return nil, apiErr
	}
	if !engine.aurora {
		return nil, rdsInvalidValue("Global clusters are Aurora only; engine %s is not Aurora",
			engineName)
	}
	if version == "" {
		version = engine.version
	}

	arn := s.arn("rds", GlobalRegion, "global-cluster:"+id)
	g := &globalCluster{
		id: id, arn: arn, resourceID: rdsResourceID("cluster-", arn, c.now), home: c.region,
		engine: engineName, engineVersion: version, tags: tags,
	}
	if encrypted != nil {
		g.encrypted = *encrypted
	}
	if protect != nil {
		g.deletionProtection = *protect
	}
	if src != nil {
		g.dbName = src.dbName
		g.encrypted = src.encrypted
		g.members = []*dbCluster{src}
		g.writer = src
		src.global = g
	}
	globals[id] = g
	s.setGlobalClusterStatus(g, rdsAvailable, c.now)
	return xmlGlobalResult{GlobalCluster: s.globalClusterXML(g)}, nil
}

func (s *Sim) rdsDescribeGlobalClusters(c *call, f *rdsForm) (any, *APIError) {
	filters := f.filters("global-cluster-id", "engine")
	ref := f.str("GlobalClusterIdentifier")
	if f.err != nil {
		return nil, f.err
	}
	var list []*globalCluster
	if ref != "" {
		g, apiErr := s.findGlobalCluster("GlobalClusterIdentifier", ref)
		if apiErr != nil {
			return nil, apiErr
		}
		list = append(list, g)
	} else {
		for _, g := range s.rdsGlobals().globals {
			list = append(list, g)
		}
	}
	var kept []*globalCluster
	for _, g := range list {
		if rdsMatch(filters, func(name string) []string {
			switch name {
			case "global-cluster-id":
				return []string{g.id, g.arn}
			case "engine":
				return []string{g.engine}
			}
			return nil
		}) {
			kept = append(kept, g)
		}
	}
	sort.Slice(kept, func(a, b int) bool { return kept[a].id < kept[b].id })
	items, marker := rdsPage(f, kept, func(g *globalCluster) string { return g.id })
	if f.err != nil {
		return nil, f.err
	}
	out := xmlGlobalsResult{Marker: marker}
	for _, g := range items {
		out.GlobalClusters = append(out.GlobalClusters, s.globalClusterXML(g))
	}
	return out, nil
}

// rdsFailoverGlobalCluster answers FailoverGlobalCluster. Without
// AllowDataLoss it is a switchover, as the RDS API documents; with it, the
// unplanned failover that accepts losing what the secondary had not yet
// received.
func (s *Sim) rdsFailoverGlobalCluster(c *call, f *rdsForm) (any, *APIError) {
	gRef := f.required("GlobalClusterIdentifier")
	target := f.required("TargetDbClusterIdentifier")
	allowLoss := f.boolean("AllowDataLoss")
	switchover := f.boolean("Switchover")
	if f.err != nil {
		return nil, f.err
	}
	if allowLoss != nil && switchover != nil {
		return nil, rdsInvalidCombination("AllowDataLoss and Switchover cannot both be given")
	}
	return s.transferGlobalWriter(c, gRef, target, allowLoss != nil && *allowLoss)
}

func (s *Sim) rdsSwitchoverGlobalCluster(c *call, f *rdsForm) (any, *APIError) {
	gRef := f.required("GlobalClusterIdentifier")
	target := f.required("TargetDbClusterIdentifier")
	if f.err != nil {
		return nil, f.err
	}
	return s.transferGlobalWriter(c, gRef, target, false)
}

// transferGlobalWriter moves a global cluster's writer role to target: a
// switchover (every member available, no data lost) or, with dataLoss, a
// failover that needs only the target. Either way the old writer stays on
// as a secondary.
func (s *Sim) transferGlobalWriter(c *call, gRef, targetRef string,
	dataLoss bool) (any, *APIError) {
	g, apiErr := s.findGlobalCluster("GlobalClusterIdentifier", gRef)
	if apiErr != nil {
		return nil, apiErr
	}
	to, apiErr := s.globalClusterMember(g, targetRef)
	if apiErr != nil {
		return nil, apiErr
	}
	switch {
	case g.status != rdsAvailable:
		return nil, invalidGlobalClusterState("Global cluster %s is %s; wait until it is available",
			g.id, g.status)
	case to == g.writer:
		return nil, invalidGlobalClusterState("DB cluster %s is already the primary of global "+
			"cluster %s", to.id, g.id)
	case to.status != rdsAvailable:
		return nil, invalidDBClusterState("DB cluster %s is %s; the target must be available",
			to.id, to.status)
	case g.failed && (c.resourceFault(PromotionFails, g.id) ||
		c.resourceFault(PromotionFails, to.id)):
		return nil, invalidGlobalClusterState("Global cluster %s is in an incompatible state after "+
			"a failed switchover or failover", g.id)
	}
	if !dataLoss {
		for _, m := range g.members {
			if m.status != rdsAvailable {
				return nil, invalidDBClusterState("DB cluster %s is %s; a switchover needs "+
					"every member available (a failover with AllowDataLoss does not)",
					m.id, m.status)
			}
		}
	}

	status, d, failed := rdsSwitchingOver, s.profile.AuroraSwitchover, RDSSwitchoverFailed
	if dataLoss {
		status, d, failed = rdsFailingOver, s.profile.AuroraFailover, RDSFailoverFailed
	}
	fails := c.resourceFault(PromotionFails, g.id) || c.resourceFault(PromotionFails, to.id)
	done := c.now.Add(s.duration(d))
	g.gen++
	gen := g.gen
	g.transfer = &globalTransfer{status: status, from: g.writer, to: to, dataLoss: dataLoss}
	s.setGlobalClusterStatus(g, status, c.now)
	s.rdsSchedule(done, func() {
		if g.gen != gen {
			return
		}
		g.transfer = nil
		if fails {
			g.status = rdsAvailable
			g.failed = true
			s.record(GlobalRegion, ServiceRDS, "global-cluster", g.id, failed, done)
			return
		}
		g.writer = to
		s.setGlobalClusterStatus(g, rdsAvailable, done)
	})
	return xmlGlobalResult{GlobalCluster: s.globalClusterXML(g)}, nil
}

// globalClusterMember finds a member of g by ARN or, when unambiguous, by
// identifier.
func (s *Sim) globalClusterMember(g *globalCluster, ref string) (*dbCluster, *APIError) {
	if strings.HasPrefix(ref, "arn:") {
		r, apiErr := s.rdsParseRef("TargetDbClusterIdentifier", ref, "cluster", "")
		if apiErr != nil {
			return nil, apiErr
		}
		for _, m := range g.members {
			if m.region == r.region && m.id == r.id {
				return m, nil
			}
		}
		if rr := s.rdsLookup(r.region); rr == nil || rr.clusters[r.id] == nil {
			return nil, dbClusterNotFound(ref)
		}
		return nil, rdsInvalidValue("DB cluster %s is not a member of global cluster %s",
			ref, g.id)
	}
	var found []*dbCluster
	for _, m := range g.members {
		if m.id == strings.ToLower(ref) {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return nil, dbClusterNotFound(ref)
	case 1:
		return found[0], nil
	}
	return nil, rdsInvalidValue("Global cluster %s has several members named %s; "+
		"give TargetDbClusterIdentifier as an ARN", g.id, ref)
}

// dbClusterSnapshot is a DB cluster snapshot with the settings of its
// cluster when it was taken, which a restore starts from.
type dbClusterSnapshot struct {
	id, region, arn string
	clusterID       string
	clusterRes      string
	snapType        string
	status          string
	created         time.Time
	gone            bool

	engine, engineVersion  string
	port                   int32
	vpcID                  string
	dbName, masterUsername string
	encrypted              bool
	retention              int32
	clusterCreated         time.Time
	tags                   []rdsTag
}

func dbClusterSnapshotNotFound(id string) *APIError {
	return errorf(http.StatusNotFound, "DBClusterSnapshotNotFoundFault",
		"DBClusterSnapshot %s not found.", id)
}

func dbClusterSnapshotAlreadyExists(id string) *APIError {
	return errorf(http.StatusBadRequest, "DBClusterSnapshotAlreadyExistsFault",
		"Cannot create the cluster snapshot because one with the identifier %s "+
			"already exists.", id)
}

// newDBClusterSnapshot starts a snapshot of cl; the caller schedules its
// end.
func (s *Sim) newDBClusterSnapshot(cl *dbCluster, id, snapType string,
	now time.Time) *dbClusterSnapshot {
	snap := &dbClusterSnapshot{
		id: id, region: cl.region, arn: s.arn("rds", cl.region, "cluster-snapshot:"+id),
		clusterID: cl.id, clusterRes: cl.resourceID, snapType: snapType, created: now,
		engine: cl.engine, engineVersion: cl.engineVersion, port: cl.port,
		vpcID:  rdsVPC(cl.region, cl.subnetGroup),
		dbName: cl.dbName, masterUsername: cl.masterUsername,
		encrypted: cl.encrypted, retention: cl.backupRetention, clusterCreated: cl.created,
	}
	if cl.copyTags {
		snap.tags = append([]rdsTag(nil), cl.tags...)
	}
	s.region(cl.region).rds.clusterSnapshots[id] = snap
	s.setDBClusterSnapshotStatus(snap, rdsCreating, now)
	return snap
}

func (s *Sim) setDBClusterSnapshotStatus(snap *dbClusterSnapshot, status string,
	at time.Time) {
	snap.status = status
	s.record(snap.region, ServiceRDS, "db-cluster-snapshot", snap.id, status, at)
}

// dbClusterSnapshotReady schedules the end of a snapshot, which completes
// even if its cluster is deleted meanwhile; then runs after, if given.
func (s *Sim) dbClusterSnapshotReady(snap *dbClusterSnapshot, at time.Time, after func()) {
	s.rdsSchedule(at, func() {
		if snap.gone {
			return
		}
		s.setDBClusterSnapshotStatus(snap, rdsAvailable, at)
		if after != nil {
			after()
		}
	})
}

// backUpDBCluster takes the automated snapshot of a cluster that keeps
// backups. Aurora backs up its storage continuously, so the cluster stays
// available meanwhile; point-in-time restores reach back to the end of
// its first snapshot.
func (s *Sim) backUpDBCluster(cl *dbCluster, at time.Time) {
	if cl.backupRetention == 0 {
		return
	}
	snap := s.newDBClusterSnapshot(cl, s.automatedDBClusterSnapshotID(cl, at), "automated", at)
	done := at.Add(s.duration(s.profile.RDSSnapshot))
	s.dbClusterSnapshotReady(snap, done, func() {
		if !cl.gone && cl.backupsFrom.IsZero() {
			cl.backupsFrom = done
		}
	})
}

func (s *Sim) automatedDBClusterSnapshotID(cl *dbCluster, at time.Time) string {
	base := "rds:" + cl.id + "-" + at.UTC().Format("2006-01-02-15-04")
	snaps := s.region(cl.region).rds.clusterSnapshots
	id := base
	for n := 2; snaps[id] != nil; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}

func (s *Sim) dropAutomatedDBClusterSnapshots(cl *dbCluster, at time.Time) {
	snaps := s.region(cl.region).rds.clusterSnapshots
	for id, snap := range snaps {
		if snap.snapType == "automated" && snap.clusterRes == cl.resourceID {
			snap.gone = true
			delete(snaps, id)
			s.setDBClusterSnapshotStatus(snap, rdsDeleted, at)
		}
	}
}

// latestClusterRestorableTime is the latest point-in-time restore target
// of cl, a few minutes behind now as for instances; zero before its first
// backup.
func (s *Sim) latestClusterRestorableTime(cl *dbCluster, now time.Time) time.Time {
	if cl.backupsFrom.IsZero() {
		return time.Time{}
	}
	t := now.Add(-s.profile.Scaled(Duration(5 * time.Minute)))
	if t.Before(cl.backupsFrom) {
		return cl.backupsFrom
	}
	return t
}

func (s *Sim) dbClusterSnapshotXML(snap *dbClusterSnapshot) xmlDBClusterSnapshot {
	progress := int32(0)
	if snap.status == rdsAvailable {
		progress = 100
	}
	r := snap.region
	return xmlDBClusterSnapshot{
		DBClusterSnapshotIdentifier: snap.id, DBClusterSnapshotArn: snap.arn,
		DBClusterIdentifier: snap.clusterID, DbClusterResourceId: snap.clusterRes,
		SnapshotType: snap.snapType, Status: snap.status,
		Engine: snap.engine, EngineMode: "provisioned", EngineVersion: snap.engineVersion,
		StorageType: "aurora", Port: snap.port, VpcId: snap.vpcID,
		MasterUsername:        snap.masterUsername,
		AvailabilityZones:     []string{r + "a", r + "b", r + "c"},
		StorageEncrypted:      snap.encrypted,
		PercentProgress:       progress,
		ClusterCreateTime:     rdsTime(snap.clusterCreated),
		SnapshotCreateTime:    rdsTime(snap.created),
		BackupRetentionPeriod: snap.retention,
		TagList:               rdsXMLTags(snap.tags),
	}
}

func (s *Sim) rdsCreateDBClusterSnapshot(c *call, f *rdsForm) (any, *APIError) {
	snapID := f.required("DBClusterSnapshotIdentifier")
	ref := f.required("DBClusterIdentifier")
	tags := f.tags()
	if f.err != nil {
		return nil, f.err
	}
	snapID, apiErr := rdsCheckID("DBClusterSnapshotIdentifier", snapID)
	if apiErr != nil {
		return nil, apiErr
	}
	cl, apiErr := s.findDBCluster(c, "DBClusterIdentifier", ref, false)
	if apiErr != nil {
		return nil, apiErr
	}
	switch {
	case s.region(c.region).rds.clusterSnapshots[snapID] != nil:
		return nil, dbClusterSnapshotAlreadyExists(snapID)
	case cl.status != rdsAvailable:
		return nil, invalidDBClusterState("Cannot create a snapshot because DB cluster %s "+
			"is not in the available state (it is %s).", cl.id, cl.status)
	}

	snap := s.newDBClusterSnapshot(cl, snapID, "manual", c.now)
	if len(tags) > 0 {
		snap.tags = tags
	}
	done := c.now.Add(s.duration(s.profile.RDSSnapshot))
	s.dbClusterSnapshotReady(snap, done, nil)
	cl.gen++
	s.setDBClusterStatus(cl, rdsBackingUp, c.now)
	s.dbClusterStep(cl, done, func() { s.setDBClusterStatus(cl, rdsAvailable, done) })
	return xmlClusterSnapshotResult{DBClusterSnapshot: s.dbClusterSnapshotXML(snap)}, nil
}

func (s *Sim) rdsDescribeDBClusterSnapshots(c *call, f *rdsForm) (any, *APIError) {
	filters := f.filters("db-cluster-id", "db-cluster-snapshot-id", "snapshot-type", "engine")
	snapRef := f.str("DBClusterSnapshotIdentifier")
	clusterRef := f.str("DBClusterIdentifier")
	resID := f.str("DbClusterResourceId")
	snapType := f.str("SnapshotType")
	if snapType != "" && !slices.Contains([]string{"automated", "manual", "shared", "public",
		"awsbackup"}, snapType) {
		f.fail(rdsInvalidValue("Invalid SnapshotType %q: use automated, manual, shared, "+
			"public or awsbackup", snapType))
	}
	if f.err != nil {
		return nil, f.err
	}
	snaps := s.region(c.region).rds.clusterSnapshots
	var wantID string
	if snapRef != "" {
		snap, apiErr := s.findDBClusterSnapshot(c, "DBClusterSnapshotIdentifier", snapRef)
		if apiErr != nil {
			return nil, apiErr
		}
		wantID = snap.id
	}
	var clusterID string
	if clusterRef != "" {
		r, apiErr := s.rdsParseRef("DBClusterIdentifier", clusterRef, "cluster", c.region)
		if apiErr != nil {
			return nil, apiErr
		}
		clusterID = r.id
	}
	var kept []*dbClusterSnapshot
	for _, snap := range snaps {
		switch {
		case wantID != "" && snap.id != wantID:
			continue
		case clusterID != "" && snap.clusterID != clusterID:
			continue
		case resID != "" && snap.clusterRes != resID:
			continue
		case snapType != "" && snap.snapType != snapType:
			continue
		}
		if rdsMatch(filters, func(name string) []string {
			switch name {
			case "db-cluster-id":
				return []string{snap.clusterID,
					s.arn("rds", snap.region, "cluster:"+snap.clusterID)}
			case "db-cluster-snapshot-id":
				return []string{snap.id, snap.arn}
			case "snapshot-type":
				return []string{snap.snapType}
			case "engine":
				return []string{snap.engine}
			}
			return nil
		}) {
			kept = append(kept, snap)
		}
	}
	sort.Slice(kept, func(a, b int) bool { return kept[a].id < kept[b].id })
	items, marker := rdsPage(f, kept, func(snap *dbClusterSnapshot) string { return snap.id })
	if f.err != nil {
		return nil, f.err
	}
	out := xmlClusterSnapshotsResult{Marker: marker}
	for _, snap := range items {
		out.DBClusterSnapshots = append(out.DBClusterSnapshots, s.dbClusterSnapshotXML(snap))
	}
	return out, nil
}

// findDBClusterSnapshot resolves a cluster snapshot reference in the
// caller's region.
func (s *Sim) findDBClusterSnapshot(c *call, param, ref string) (*dbClusterSnapshot,
	*APIError) {
	if strings.HasPrefix(ref, "arn:") && strings.Contains(ref, ":snapshot:") {
		return nil, rdsInvalidCombination("%s is a DB snapshot; the simulator restores "+
			"DB clusters from DB cluster snapshots only", ref)
	}
	r, apiErr := s.rdsParseRef(param, ref, "cluster-snapshot", c.region)
	if apiErr != nil {
		return nil, apiErr
	}
	snap := s.region(c.region).rds.clusterSnapshots[r.id]
	if r.region != c.region || snap == nil {
		return nil, dbClusterSnapshotNotFound(ref)
	}
	return snap, nil
}

// dbClusterRestoreTarget checks the identifier of a restore's new cluster.
func (s *Sim) dbClusterRestoreTarget(c *call, id string) (string, *APIError) {
	id, apiErr := rdsCheckID("DBClusterIdentifier", id)
	if apiErr != nil {
		return "", apiErr
	}
	if s.region(c.region).rds.clusters[id] != nil {
		return "", dbClusterAlreadyExists(id)
	}
	return id, nil
}

// startDBClusterRestore adds a restored cluster and schedules its way to
// available, unless a RestoreHangs fault keeps it creating.
func (s *Sim) startDBClusterRestore(c *call, cl *dbCluster) {
	s.region(c.region).rds.clusters[cl.id] = cl
	if c.resourceFault(RestoreHangs, cl.id) {
		cl.gen++
		s.setDBClusterStatus(cl, rdsCreating, c.now)
		return
	}
	s.launchDBCluster(cl, c.now, s.duration(s.profile.RDSRestore))
}

// rdsRestoreDBClusterFromSnapshot answers RestoreDBClusterFromSnapshot.
// The new cluster keeps the snapshot's engine, data and credentials, but
// gets the default network and parameter group unless the request names
// them, as on RDS; it has no instances until some are created in it.
func (s *Sim) rdsRestoreDBClusterFromSnapshot(c *call, f *rdsForm) (any, *APIError) {
	id := f.required("DBClusterIdentifier")
	snapRef := f.required("SnapshotIdentifier")
	engineName := f.required("Engine")
	version := f.str("EngineVersion")
	kmsKey := f.str("KmsKeyId")
	st := readClusterSettings(f)
	if f.err != nil {
		return nil, f.err
	}
	id, apiErr := s.dbClusterRestoreTarget(c, id)
	if apiErr != nil {
		return nil, apiErr
	}
	snap, apiErr := s.findDBClusterSnapshot(c, "SnapshotIdentifier", snapRef)
	if apiErr != nil {
		return nil, apiErr
	}
	switch {
	case snap.status != rdsAvailable:
		return nil, errorf(http.StatusBadRequest, "InvalidDBClusterSnapshotStateFault",
			"DBClusterSnapshot must have state available but actually has %s", snap.status)
	case engineName != snap.engine:
		return nil, rdsInvalidCombination("Cannot restore a %s cluster snapshot as engine %s",
			snap.engine, engineName)
	}
	if version == "" {
		version = snap.engineVersion
	}

	cl := s.newDBCluster(c.region, id, snap.engine, version, c.now)
	cl.port = snap.port
	cl.dbName, cl.masterUsername = snap.dbName, snap.masterUsername
	cl.backupRetention = snap.retention
	cl.encrypted = snap.encrypted || kmsKey != ""
	st.apply(cl)
	s.startDBClusterRestore(c, cl)
	return xmlClusterResult{DBCluster: s.dbClusterXML(cl, c.now)}, nil
}

func (s *Sim) rdsRestoreDBClusterToPointInTime(c *call, f *rdsForm) (any, *APIError) {
	id := f.required("DBClusterIdentifier")
	srcRef := f.str("SourceDBClusterIdentifier")
	srcRes := f.str("SourceDbClusterResourceId")
	restoreTime := f.timestamp("RestoreToTime")
	latest := f.boolean("UseLatestRestorableTime")
	restoreType := f.str("RestoreType")
	kmsKey := f.str("KmsKeyId")
	st := readClusterSettings(f)
	if srcRef == "" && srcRes == "" {
		f.required("SourceDBClusterIdentifier")
	}
	if restoreType != "" && restoreType != "full-copy" && restoreType != "copy-on-write" {
		f.fail(rdsInvalidValue("Invalid RestoreType %q: use full-copy or copy-on-write",
			restoreType))
	}
	if f.err != nil {
		return nil, f.err
	}
	useLatest := latest != nil && *latest
	switch {
	case restoreTime != nil && useLatest:
		return nil, rdsInvalidCombination("RestoreToTime cannot be given with " +
			"UseLatestRestorableTime enabled")
	case restoreTime == nil && !useLatest:
		return nil, rdsInvalidCombination("Give RestoreToTime or set UseLatestRestorableTime")
	case restoreTime != nil && restoreType == "copy-on-write":
		return nil, rdsInvalidCombination("RestoreToTime cannot be given for a " +
			"copy-on-write restore")
	}
	id, apiErr := s.dbClusterRestoreTarget(c, id)
	if apiErr != nil {
		return nil, apiErr
	}
	var src *dbCluster
	if srcRef != "" {
		src, apiErr = s.findDBCluster(c, "SourceDBClusterIdentifier", srcRef, false)
		if apiErr != nil {
			return nil, apiErr
		}
	} else {
		for _, cl := range s.region(c.region).rds.clusters {
			if cl.resourceID == srcRes {
				src = cl
			}
		}
		if src == nil {
			return nil, dbClusterNotFound(srcRes)
		}
	}
	if src.backupsFrom.IsZero() {
		return nil, invalidDBClusterState("DB cluster %s has no restorable time yet: "+
			"its first backup has not finished", src.id)
	}
	if restoreTime != nil {
		// The window is compared as Describe reports it, to the
		// millisecond, so that its ends can be given back as they are.
		earliest := src.backupsFrom.Truncate(time.Millisecond)
		last := s.latestClusterRestorableTime(src, c.now)
		if restoreTime.Before(earliest) || restoreTime.After(last) {
			return nil, rdsInvalidValue("Restore time %s is outside the restorable window "+
				"of %s, from %s to %s", rdsTime(*restoreTime), src.id, rdsTime(earliest),
				rdsTime(last))
		}
	}

	cl := s.newDBCluster(c.region, id, src.engine, src.engineVersion, c.now)
	cl.port = src.port
	cl.dbName, cl.masterUsername = src.dbName, src.masterUsername
	cl.backupRetention = src.backupRetention
	cl.encrypted = src.encrypted || kmsKey != ""
	st.apply(cl)
	s.startDBClusterRestore(c, cl)
	return xmlClusterResult{DBCluster: s.dbClusterXML(cl, c.now)}, nil
}

// rdsDeleteDBCluster answers DeleteDBCluster. As on RDS, a cluster goes
// only once each of its instances is being deleted; its automated
// snapshots go with it, a final snapshot stays.
func (s *Sim) rdsDeleteDBCluster(c *call, f *rdsForm) (any, *APIError) {
	ref := f.required("DBClusterIdentifier")
	skip := f.boolean("SkipFinalSnapshot")
	finalID := f.str("FinalDBSnapshotIdentifier")
	// TODO: keep automated backups when DeleteAutomatedBackups is false;
	// the simulator has no retained backups to keep them in.
	f.boolean("DeleteAutomatedBackups")
	if f.err != nil {
		return nil, f.err
	}
	cl, apiErr := s.findDBCluster(c, "DBClusterIdentifier", ref, false)
	if apiErr != nil {
		return nil, apiErr
	}
	skipping := skip != nil && *skip
	switch {
	case cl.status == rdsDeleting:
		return nil, invalidDBClusterState("DB cluster %s is already being deleted.", cl.id)
	case cl.deletionProtection:
		return nil, rdsInvalidCombination("Cannot delete protected Cluster, please disable " +
			"deletion protection and try again.")
	case cl.global != nil:
		return nil, invalidDBClusterState("DB cluster %s is a member of global cluster %s; "+
			"remove it from the global cluster before deleting it", cl.id, cl.global.id)
	case skipping && finalID != "":
		return nil, rdsInvalidCombination("FinalDBSnapshotIdentifier can not be specified " +
			"when deleting a DB cluster with SkipFinalSnapshot enabled.")
	case !skipping && finalID == "":
		return nil, rdsInvalidCombination("FinalDBSnapshotIdentifier is required unless " +
			"SkipFinalSnapshot is specified.")
	}
	for _, m := range cl.members {
		if m.status != rdsDeleting {
			return nil, invalidDBClusterState("Cluster cannot be deleted, it still contains "+
				"DB instances in non-deleting state: %s is %s.", m.id, m.status)
		}
	}
	total := s.duration(s.profile.RDSDelete)
	if finalID != "" {
		id, apiErr := rdsCheckID("FinalDBSnapshotIdentifier", finalID)
		if apiErr != nil {
			return nil, apiErr
		}
		if s.region(c.region).rds.clusterSnapshots[id] != nil {
			return nil, dbClusterSnapshotAlreadyExists(id)
		}
		if cl.status != rdsAvailable {
			return nil, invalidDBClusterState("DB cluster %s is %s; a final snapshot needs "+
				"an available cluster", cl.id, cl.status)
		}
		snapTime := s.duration(s.profile.RDSSnapshot)
		snap := s.newDBClusterSnapshot(cl, id, "manual", c.now)
		s.dbClusterSnapshotReady(snap, c.now.Add(snapTime), nil)
		total += snapTime
	}

	cl.gen++
	s.setDBClusterStatus(cl, rdsDeleting, c.now)
	done := c.now.Add(total)
	s.dbClusterStep(cl, done, func() {
		if len(cl.members) > 0 {
			cl.removeWhenEmpty = true
			return
		}
		s.removeDBCluster(cl, done)
	})
	return xmlClusterResult{DBCluster: s.dbClusterXML(cl, c.now)}, nil
}

// removeDBCluster ends a cluster's deletion. Replica clusters of it carry
// on as standalone clusters.
func (s *Sim) removeDBCluster(cl *dbCluster, at time.Time) {
	s.setDBClusterStatus(cl, rdsDeleted, at)
	cl.gone = true
	delete(s.region(cl.region).rds.clusters, cl.id)
	if src := cl.source; src != nil {
		cl.source = nil
		for n, r := range src.replicas {
			if r == cl {
				src.replicas = append(src.replicas[:n:n], src.replicas[n+1:]...)
				break
			}
		}
	}
	for _, r := range cl.replicas {
		r.source = nil
	}
	cl.replicas = nil
	s.dropAutomatedDBClusterSnapshots(cl, at)
}

// auroraState lists a region's clusters and the global clusters it takes
// part in.
func (r *rdsRegion) auroraState(s *Sim, region string) ([]RDSClusterState,
	[]RDSGlobalClusterState) {
	var clusters []RDSClusterState
	for _, cl := range r.clusters {
		x := RDSClusterState{ID: cl.id, ARN: cl.arn, Status: cl.status, Engine: cl.engine}
		for _, m := range cl.members {
			x.Members = append(x.Members, m.id)
		}
		if cl.takesWrites() && len(cl.members) > 0 {
			x.Writer = cl.members[0].id
		}
		if cl.global != nil {
			x.GlobalCluster = cl.global.id
		}
		if cl.source != nil {
			x.ReplicationSource = cl.source.arn
		}
		clusters = append(clusters, x)
	}
	sort.Slice(clusters, func(a, b int) bool { return clusters[a].ID < clusters[b].ID })

	var globals []RDSGlobalClusterState
	for _, g := range s.rdsGlobals().globals {
		here := len(g.members) == 0 && g.home == region
		x := RDSGlobalClusterState{ID: g.id, ARN: g.arn, Status: g.status, Engine: g.engine}
		for _, m := range g.members {
			x.Members = append(x.Members, m.arn)
			here = here || m.region == region
		}
		if g.writer != nil {
			x.Writer = g.writer.arn
		}
		if here {
			globals = append(globals, x)
		}
	}
	sort.Slice(globals, func(a, b int) bool { return globals[a].ID < globals[b].ID })
	return clusters, globals
}
