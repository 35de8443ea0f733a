package awssim

import (
	"fmt"
	"net/http"
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
	tags                   []rdsTag
	created                time.Time

	// members are the cluster's instances in creation order; the first
	// is the writer when the cluster takes writes.
	members  []*dbInstance
	global   *globalCluster
	source   *dbCluster
	replicas []*dbCluster

	promotionFailed bool
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
		if cl.gen == gen {
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

func (s *Sim) dbClusterXML(cl *dbCluster) xmlDBCluster {
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
		StorageEncrypted:        cl.encrypted,
		DeletionProtection:      cl.deletionProtection,
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

func (s *Sim) rdsCreateDBCluster(c *call, f *rdsForm) (any, *APIError) {
	id := f.required("DBClusterIdentifier")
	engineName := f.required("Engine")
	globalRef := f.str("GlobalClusterIdentifier")
	sourceRef := f.str("ReplicationSourceIdentifier")
	version := f.str("EngineVersion")
	sgs, _ := f.list("VpcSecurityGroupIds.VpcSecurityGroupId")
	retention := f.integer("BackupRetentionPeriod")
	port := f.integer("Port")
	encrypted := f.boolean("StorageEncrypted")
	protect := f.boolean("DeletionProtection")
	tags := f.tags()
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
		return nil, errorf(http.StatusBadRequest, "DBClusterAlreadyExistsFault",
			"DB Cluster already exists: %s", id)
	case globalRef != "" && sourceRef != "":
		return nil, rdsInvalidCombination("GlobalClusterIdentifier and " +
			"ReplicationSourceIdentifier cannot both be given")
	case retention != nil && (*retention < 1 || *retention > 35):
		return nil, rdsInvalidValue("Invalid backup retention period %d: "+
			"must be between 1 and 35", *retention)
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

	arn := s.arn("rds", c.region, "cluster:"+id)
	cl := &dbCluster{
		id: id, region: c.region, arn: arn, resourceID: rdsResourceID("cluster-", arn, c.now),
		engine: engineName, engineVersion: version, port: engine.port,
		subnetGroup:     RDSDefaultSubnetGroup,
		securityGroups:  []string{RDSDefaultSecurityGroup},
		parameterGroup:  rdsDefaultParameterGroup(engineName, version),
		backupRetention: 1,
		dbName:          f.str("DatabaseName"), masterUsername: f.str("MasterUsername"),
		tags:    tags,
		created: c.now,
	}
	if v := f.str("DBSubnetGroupName"); v != "" {
		cl.subnetGroup = v
	}
	if len(sgs) > 0 {
		cl.securityGroups = sgs
	}
	if v := f.str("DBClusterParameterGroupName"); v != "" {
		cl.parameterGroup = v
	}
	if retention != nil {
		cl.backupRetention = *retention
	}
	if port != nil {
		cl.port = *port
	}
	if encrypted != nil {
		cl.encrypted = *encrypted
	}
	if protect != nil {
		cl.deletionProtection = *protect
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

	cl.gen++
	s.setDBClusterStatus(cl, rdsCreating, c.now)
	done := c.now.Add(s.duration(s.profile.AuroraClusterCreate))
	s.dbClusterStep(cl, done, func() { s.setDBClusterStatus(cl, rdsAvailable, done) })
	return xmlClusterResult{DBCluster: s.dbClusterXML(cl)}, nil
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
		out.DBClusters = append(out.DBClusters, s.dbClusterXML(cl))
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
	return xmlClusterResult{DBCluster: s.dbClusterXML(cl)}, nil
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
