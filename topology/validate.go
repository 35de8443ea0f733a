package topology

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

var (
	// nameRE is for the app and its components: their names go into
	// workflow ids and step names.
	nameRE   = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	ecsRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	rdsIDRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,62}$`)
	rdsARNRE = regexp.MustCompile(
		`^arn:(aws|aws-cn|aws-us-gov):rds:([^:]*):([^:]*):([^:]*):(.*)$`)
	accountRE       = regexp.MustCompile(`^[0-9]{12}$`)
	instanceClassRE = regexp.MustCompile(`^db\.[a-z0-9-]+\.[a-z0-9]+$`)
	securityGroupRE = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	zoneIDRE        = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	dnsLabelRE      = regexp.MustCompile(`^(\*|[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)$`)
)

const nameRule = "lowercase letters, digits and dashes, starting with a letter, " +
	"not ending with a dash, at most 63 characters"

var (
	engines      = []string{EngineRDS, EngineAuroraGlobal}
	roles        = []string{RolePrimary, RoleStandby}
	approvals    = []string{ApproveDatabase, ApproveService, ApproveDNS, ApproveScaleDown}
	recordTypes  = []string{TypeA, TypeAAAA, TypeCNAME}
	routings     = []string{RoutingFailover, RoutingWeighted}
	checkTypes   = []string{"HTTP", "HTTPS", "TCP"}
	rdsEngines   = []string{"postgres", "mysql", "mariadb"}
	auroraEngine = []string{"aurora-postgresql", "aurora-mysql"}
)

// validator checks a decoded topology. Each check reports what it finds
// and carries on, so that one run lists every problem.
type validator struct {
	t  *Topology
	ps *problems
	// regions holds the well-formed region names, primary the primary's
	// name when there is exactly one, and named every name given, so
	// that a malformed one is reported once, under regions, and not again
	// wherever a per-region map uses it.
	regions []string
	primary string
	named   []string
}

func validate(t *Topology, ps *problems) {
	v := &validator{t: t, ps: ps}
	v.checkApp()
	v.checkRegions()
	v.checkApprovals()
	v.checkDatabases()
	v.checkServices()
	v.checkZones()
	v.checkComponents()
}

func (v *validator) required(path, value string) bool {
	if value == "" {
		v.ps.at(path, "required")
		return false
	}
	return true
}

func (v *validator) oneOf(path, value string, allowed []string) bool {
	if !v.required(path, value) {
		return false
	}
	if !slices.Contains(allowed, value) {
		v.ps.at(path, "%q is not one of %s", value, strings.Join(allowed, ", "))
		return false
	}
	return true
}

func (v *validator) checkName(path, name string) {
	if v.required(path, name) && !nameRE.MatchString(name) {
		v.ps.at(path, "%q must be %s", name, nameRule)
	}
}

func (v *validator) checkApp() {
	v.checkName("app", v.t.App)
}

func (v *validator) checkRegions() {
	if len(v.t.Regions) == 0 {
		v.ps.at("regions", "required: a primary region and at least one standby")
		return
	}
	seen := map[string]int{}
	var primaries []int
	standbys, healthURLs := 0, 0
	for i, r := range v.t.Regions {
		path := fmt.Sprintf("regions[%d]", i)
		v.named = append(v.named, r.Name)
		if v.required(path+".name", r.Name) {
			if !regionRE.MatchString(r.Name) {
				v.ps.at(path+".name", "%q is not a region name such as us-east-1", r.Name)
			} else if j, dup := seen[r.Name]; dup {
				v.ps.at(path+".name", "region %s is already regions[%d]", r.Name, j)
			} else {
				seen[r.Name] = i
				v.regions = append(v.regions, r.Name)
			}
		}
		if v.oneOf(path+".role", r.Role, roles) {
			if r.Role == RolePrimary {
				primaries = append(primaries, i)
			} else {
				standbys++
			}
		}
		if r.HealthURL != "" {
			healthURLs++
			v.checkURL(path+".healthURL", r.HealthURL)
		}
	}
	switch {
	case len(primaries) == 0:
		v.ps.at("regions", "no region has role primary; exactly one must")
	case len(primaries) > 1:
		for _, i := range primaries[1:] {
			v.ps.at(fmt.Sprintf("regions[%d].role", i),
				"a second primary; exactly one region is primary")
		}
	default:
		if r := v.t.Regions[primaries[0]]; regionRE.MatchString(r.Name) {
			v.primary = r.Name
		}
	}
	if standbys == 0 {
		v.ps.at("regions", "no region has role standby; a failover needs at least one")
	}
	if healthURLs > 0 && healthURLs < len(v.t.Regions) {
		for i, r := range v.t.Regions {
			if r.HealthURL == "" {
				v.ps.at(fmt.Sprintf("regions[%d].healthURL", i),
					"required, since other regions have one: a failover to this "+
						"region could not check its health")
			}
		}
	}
}

func (v *validator) checkURL(path, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.ps.at(path, "%q is not an http or https URL", raw)
	}
}

func (v *validator) knownRegion(name string) bool {
	return slices.Contains(v.regions, name)
}

// perRegion checks that a per-region map names each region once and no
// other. It is quiet about regions whose names are themselves wrong, since
// those are reported under regions.
func (v *validator) perRegion(path string, keys []string) {
	for _, k := range sortedCopy(keys) {
		v.checkRegionKey(path, k)
	}
	for _, r := range v.regions {
		if !slices.Contains(keys, r) {
			v.ps.at(path, "no entry for region %s; every region needs its counterpart", r)
		}
	}
}

// checkRegionKey reports a per-region map's key that names no region.
func (v *validator) checkRegionKey(path, key string) bool {
	if v.knownRegion(key) {
		return true
	}
	if !slices.Contains(v.named, key) {
		v.ps.at(childPath(path, key), "region %s is not among regions (%s)",
			key, strings.Join(v.regions, ", "))
	}
	return false
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (v *validator) checkApprovals() {
	seen := map[string]bool{}
	for i, a := range v.t.Approvals {
		path := fmt.Sprintf("approvals[%d]", i)
		if !v.oneOf(path, a, approvals) {
			continue
		}
		if seen[a] {
			v.ps.at(path, "%s is listed twice", a)
		}
		seen[a] = true
	}
}

func (v *validator) checkDatabases() {
	// owners maps "kind/region/identifier" to the database path that
	// claims it, so that two components never drive one resource.
	owners := map[string]string{}
	claim := func(path, kind, region, id string) {
		key := kind + "/" + region + "/" + rdsName(id)
		if other, dup := owners[key]; dup {
			v.ps.at(path, "%s %s is already %s", kind, rdsName(id), other)
			return
		}
		owners[key] = path
	}

	for i, d := range v.t.Databases {
		path := fmt.Sprintf("databases[%d]", i)
		v.checkName(path+".name", d.Name)
		engineOK := v.oneOf(path+".engine", d.Engine, engines)
		if v.ps.has(path+".maxLag") && d.MaxLag <= 0 {
			v.ps.at(path+".maxLag", "must be positive, not %s", d.MaxLag)
		}
		if !engineOK {
			continue
		}

		switch d.Engine {
		case EngineRDS:
			for _, f := range []string{"globalCluster", "clusters"} {
				if v.ps.has(path + "." + f) {
					v.ps.at(path+"."+f, "only for engine aurora-global; "+
						"engine rds names its instances")
				}
			}
			if len(d.Instances) == 0 {
				v.ps.at(path+".instances", "required for engine rds: each region's DB instance")
				break
			}
			v.perRegion(path+".instances", keysOf(d.Instances))
			for _, r := range keysOf(d.Instances) {
				p := childPath(path+".instances", r)
				if v.checkRDSID(p, d.Instances[r], "db", r) {
					claim(p, "DB instance", r, d.Instances[r])
				}
			}
		case EngineAuroraGlobal:
			if v.ps.has(path + ".instances") {
				v.ps.at(path+".instances", "only for engine rds; "+
					"engine aurora-global names its global cluster and clusters")
			}
			if v.required(path+".globalCluster", d.GlobalCluster) &&
				v.checkRDSID(path+".globalCluster", d.GlobalCluster, "global-cluster", "") {
				claim(path+".globalCluster", "global cluster", "", d.GlobalCluster)
			}
			if len(d.Clusters) == 0 {
				v.ps.at(path+".clusters", "required for engine aurora-global: "+
					"each region's DB cluster")
				break
			}
			v.perRegion(path+".clusters", keysOf(d.Clusters))
			for _, r := range keysOf(d.Clusters) {
				p := childPath(path+".clusters", r)
				if v.checkRDSID(p, d.Clusters[r], "cluster", r) {
					claim(p, "DB cluster", r, d.Clusters[r])
				}
			}
		}
		if d.Sandbox != nil {
			v.checkDatabaseSandbox(path+".sandbox", d.Engine, d.Sandbox)
		}
	}
}

// rdsName returns the identifier inside an RDS ARN, or id itself.
func rdsName(id string) string {
	if m := rdsARNRE.FindStringSubmatch(id); m != nil {
		return m[5]
	}
	return id
}

// checkRDSID checks an identifier or ARN of the given resource type (db,
// cluster or global-cluster) that lives in region, or in no region for a
// global cluster.
func (v *validator) checkRDSID(path, id, resource, region string) bool {
	what := map[string]string{
		"db": "DB instance", "cluster": "DB cluster", "global-cluster": "global cluster",
	}[resource]
	name := id
	if strings.HasPrefix(id, "arn:") {
		m := rdsARNRE.FindStringSubmatch(id)
		if m == nil {
			v.ps.at(path, "%q is not an RDS ARN such as arn:aws:rds:%s:123456789012:%s:name",
				id, orDefault(region, "us-east-1"), resource)
			return false
		}
		arnRegion, account, kind := m[2], m[3], m[4]
		ok := true
		if kind != resource {
			v.ps.at(path, "ARN %s names a %s, not a %s", id, kind, what)
			ok = false
		}
		if !accountRE.MatchString(account) {
			v.ps.at(path, "ARN %s: account %q must be 12 digits", id, account)
			ok = false
		}
		switch {
		case resource == "global-cluster" && arnRegion != "":
			v.ps.at(path, "ARN %s: a global cluster's ARN has no region", id)
			ok = false
		case resource != "global-cluster" && !regionRE.MatchString(arnRegion):
			v.ps.at(path, "ARN %s: %q is not a region name such as us-east-1", id, arnRegion)
			ok = false
		case resource != "global-cluster" && arnRegion != region:
			v.ps.at(path, "ARN %s is in region %s but is given for %s", id, arnRegion, region)
			ok = false
		}
		if !ok {
			return false
		}
		name = m[5]
	}
	if !rdsIDRE.MatchString(name) || strings.Contains(name, "--") ||
		strings.HasSuffix(name, "-") {
		v.ps.at(path, "%q is not a %s identifier: 1 to 63 letters, digits and "+
			"single dashes, starting with a letter", name, what)
		return false
	}
	return true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (v *validator) checkDatabaseSandbox(path, engine string, s *DatabaseSandbox) {
	allowed := rdsEngines
	if engine == EngineAuroraGlobal {
		allowed = auroraEngine
	}
	if v.required(path+".engine", s.Engine) && !slices.Contains(allowed, s.Engine) {
		v.ps.at(path+".engine", "%q does not suit engine %s; use one of %s",
			s.Engine, engine, strings.Join(allowed, ", "))
	}
	if v.required(path+".instanceClass", s.InstanceClass) &&
		!instanceClassRE.MatchString(s.InstanceClass) {
		v.ps.at(path+".instanceClass", "%q is not an instance class such as db.r6g.large",
			s.InstanceClass)
	}
	if s.SecurityGroups != nil {
		v.perRegion(path+".securityGroups", keysOf(s.SecurityGroups))
		for _, r := range keysOf(s.SecurityGroups) {
			for i, sg := range s.SecurityGroups[r] {
				if !securityGroupRE.MatchString(sg) {
					v.ps.at(fmt.Sprintf("%s[%d]", childPath(path+".securityGroups", r), i),
						"%q is not a security group id such as sg-0123456789abcdef0", sg)
				}
			}
		}
	}
	if b := s.BackupRetention; b != nil {
		switch {
		case *b < 0 || *b > 35:
			v.ps.at(path+".backupRetention", "must be 0 to 35 days, not %d", *b)
		case *b == 0 && engine == EngineRDS:
			v.ps.at(path+".backupRetention", "must be at least 1: a cross-region "+
				"read replica needs automated backups on its source")
		case *b == 0:
			v.ps.at(path+".backupRetention", "must be at least 1: Aurora always "+
				"keeps automated backups")
		}
	}
}

func (v *validator) checkServices() {
	owners := map[string]string{}
	for i, s := range v.t.Services {
		path := fmt.Sprintf("services[%d]", i)
		v.checkName(path+".name", s.Name)
		clusterOK := v.required(path+".cluster", s.Cluster)
		if clusterOK && !ecsRE.MatchString(s.Cluster) {
			clusterOK = false
			if strings.HasPrefix(s.Cluster, "arn:") {
				v.ps.at(path+".cluster", "must be a cluster name, not an ARN: "+
					"the same name is used in every region")
			} else {
				v.ps.at(path+".cluster", "%q is not an ECS cluster name: letters, "+
					"digits, dashes and underscores", s.Cluster)
			}
		}
		name := s.Service
		if name == "" {
			name = s.Name
		} else if !ecsRE.MatchString(name) {
			v.ps.at(path+".service", "%q is not an ECS service name: letters, "+
				"digits, dashes and underscores", name)
		}
		if clusterOK && name != "" {
			key := s.Cluster + "/" + name
			if other, dup := owners[key]; dup {
				v.ps.at(path, "ECS service %s in cluster %s is already %s",
					name, s.Cluster, other)
			}
			owners[key] = path
		}

		if v.ps.has(path+".share") && (s.Share <= 0 || s.Share > 1) {
			v.ps.at(path+".share", "must be more than 0 and at most 1, not %g", s.Share)
		}
		if s.Count != nil {
			if *s.Count < 0 {
				v.ps.at(path+".count", "must be 0 or more, not %d", *s.Count)
			}
			if v.ps.has(path + ".share") {
				v.ps.at(path+".count", "set share or count, not both")
			}
		}
		if s.Sandbox != nil {
			v.checkServiceSandbox(path+".sandbox", s.Sandbox)
		}
	}
}

func (v *validator) checkServiceSandbox(path string, s *ServiceSandbox) {
	v.required(path+".image", s.Image)
	if s.DesiredCount == nil {
		v.ps.at(path+".desiredCount", "required: the tasks each region runs")
		return
	}
	v.perRegion(path+".desiredCount", keysOf(s.DesiredCount))
	for _, r := range keysOf(s.DesiredCount) {
		if n := s.DesiredCount[r]; n < 0 {
			v.ps.at(childPath(path+".desiredCount", r), "must be 0 or more, not %d", n)
		}
	}
}

func (v *validator) checkZones() {
	domains := map[string]string{}
	for i, z := range v.t.DNS {
		path := fmt.Sprintf("dns[%d]", i)
		v.checkName(path+".name", z.Name)
		domain := fqdn(z.Domain)
		domainOK := v.required(path+".domain", z.Domain) && v.checkDomain(path+".domain", z.Domain)
		if z.ZoneID != "" {
			if !zoneIDRE.MatchString(strings.TrimPrefix(z.ZoneID, "/hostedzone/")) {
				v.ps.at(path+".zoneId", "%q is not a hosted zone id such as Z0123456789ABC",
					z.ZoneID)
			}
		} else if domainOK {
			if other, dup := domains[strings.ToLower(domain)]; dup {
				v.ps.at(path+".domain", "%s is also %s; give both a zoneId to tell them apart",
					domain, other)
			}
			domains[strings.ToLower(domain)] = path
		}
		if len(z.Records) == 0 {
			v.ps.at(path+".records", "required: the records a failover flips")
			continue
		}
		types := map[string]map[string]string{} // name -> type -> path
		for j, r := range z.Records {
			rpath := fmt.Sprintf("%s.records[%d]", path, j)
			v.checkRecord(rpath, domain, domainOK, r)
			if r.Name == "" || r.Type == "" {
				continue
			}
			name := strings.ToLower(fqdn(r.Name))
			if types[name] == nil {
				types[name] = map[string]string{}
			}
			if other, dup := types[name][r.Type]; dup {
				v.ps.at(rpath, "%s %s is already %s; give each region a target in one record",
					r.Type, fqdn(r.Name), other)
				continue
			}
			for _, t := range keysOf(types[name]) {
				other := types[name][t]
				if t == TypeCNAME || r.Type == TypeCNAME {
					v.ps.at(rpath, "%s %s cannot share its name with %s %s (%s): "+
						"a CNAME stands alone", r.Type, fqdn(r.Name), t, fqdn(r.Name), other)
				}
			}
			types[name][r.Type] = rpath
		}
	}
}

// fqdn adds the final dot that Route 53 writes.
func fqdn(name string) string {
	if name == "" || strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

func (v *validator) checkDomain(path, name string) bool {
	if !validDomain(name) {
		v.ps.at(path, "%q is not a domain name such as shop.example.com.", name)
		return false
	}
	return true
}

func validDomain(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if !dnsLabelRE.MatchString(label) {
			return false
		}
	}
	return true
}

func (v *validator) checkRecord(path, domain string, domainOK bool, r Record) {
	if v.required(path+".name", r.Name) && v.checkDomain(path+".name", r.Name) && domainOK {
		name := strings.ToLower(fqdn(r.Name))
		zone := strings.ToLower(domain)
		if name != zone && !strings.HasSuffix(name, "."+zone) {
			v.ps.at(path+".name", "%s is outside the zone %s", fqdn(r.Name), domain)
		} else if name == zone && r.Type == TypeCNAME {
			v.ps.at(path+".type", "a CNAME cannot be at the zone apex %s", domain)
		}
	}
	typeOK := v.oneOf(path+".type", r.Type, recordTypes)
	routingOK := v.oneOf(path+".routing", r.Routing, routings)
	if len(r.Targets) == 0 {
		v.ps.at(path+".targets", "required: each region's record")
		return
	}
	tpath := path + ".targets"
	if routingOK {
		switch r.Routing {
		case RoutingWeighted:
			v.perRegion(tpath, keysOf(r.Targets))
		case RoutingFailover:
			v.checkFailoverTargets(tpath, keysOf(r.Targets))
		}
	}

	sets := map[string]string{}
	for _, region := range keysOf(r.Targets) {
		t := r.Targets[region]
		p := childPath(tpath, region)
		if v.required(p+".setIdentifier", t.SetIdentifier) {
			if len(t.SetIdentifier) > 128 {
				v.ps.at(p+".setIdentifier", "longer than Route 53's 128 characters")
			}
			if other, dup := sets[t.SetIdentifier]; dup {
				v.ps.at(p+".setIdentifier", "%q is also the set identifier of %s; "+
					"each target needs its own", t.SetIdentifier, other)
			}
			sets[t.SetIdentifier] = region
		}
		switch {
		case routingOK && r.Routing == RoutingWeighted && t.Weight == nil:
			v.ps.at(p+".weight", "required for a weighted record: 0 to 255")
		case t.Weight != nil && r.Routing == RoutingFailover:
			v.ps.at(p+".weight", "only weighted records take a weight")
		case t.Weight != nil && (*t.Weight < 0 || *t.Weight > 255):
			v.ps.at(p+".weight", "must be 0 to 255, not %d", *t.Weight)
		}
		if t.Value != "" && typeOK {
			v.checkValue(p+".value", r.Type, t.Value)
		}
		if v.ps.has(p+".ttl") && (t.TTL < 0 || t.TTL > 2147483647) {
			v.ps.at(p+".ttl", "must be 0 to 2147483647 seconds, not %d", t.TTL)
		}
		if t.HealthCheck != nil {
			v.checkHealthCheck(p+".healthCheck", t.HealthCheck)
		}
	}
}

// checkFailoverTargets holds a failover record to Route 53's shape: one
// PRIMARY, the primary region's, and one SECONDARY, a standby's.
func (v *validator) checkFailoverTargets(path string, keys []string) {
	standbys := 0
	for _, k := range keys {
		if v.checkRegionKey(path, k) && k != v.primary {
			standbys++
		}
	}
	if v.primary != "" && !slices.Contains(keys, v.primary) {
		v.ps.at(path, "no entry for the primary region %s: a failover record needs "+
			"its PRIMARY target", v.primary)
	}
	if standbys != 1 {
		v.ps.at(path, "a failover record has one SECONDARY target: name exactly one "+
			"standby region, not %d", standbys)
	}
}

func (v *validator) checkValue(path, typ, value string) {
	switch typ {
	case TypeA:
		if a, err := netip.ParseAddr(value); err != nil || !a.Is4() {
			v.ps.at(path, "%q is not an IPv4 address, as an A record needs", value)
		}
	case TypeAAAA:
		if a, err := netip.ParseAddr(value); err != nil || !a.Is6() || a.Is4In6() {
			v.ps.at(path, "%q is not an IPv6 address, as an AAAA record needs", value)
		}
	case TypeCNAME:
		if !validDomain(value) {
			v.ps.at(path, "%q is not a domain name, as a CNAME record needs", value)
		}
	}
}

func (v *validator) checkHealthCheck(path string, h *HealthCheck) {
	typeOK := v.oneOf(path+".type", h.Type, checkTypes)
	if v.required(path+".fqdn", h.FQDN) {
		v.checkDomain(path+".fqdn", h.FQDN)
	}
	if v.ps.has(path+".port") && (h.Port < 1 || h.Port > 65535) {
		v.ps.at(path+".port", "must be 1 to 65535, not %d", h.Port)
	}
	if !typeOK {
		return
	}
	if h.Type == "TCP" {
		if !v.ps.has(path + ".port") {
			v.ps.at(path+".port", "required for a TCP health check")
		}
		if h.Path != "" {
			v.ps.at(path+".path", "only HTTP and HTTPS health checks take a path")
		}
	} else if h.Path != "" && !strings.HasPrefix(h.Path, "/") {
		v.ps.at(path+".path", "%q must start with /", h.Path)
	}
}

// checkComponents checks what spans components: unique names, dependsOn
// naming known components, and a dependency graph without cycles.
func (v *validator) checkComponents() {
	comps := v.t.Components()
	if len(comps) == 0 {
		v.ps.at("", "nothing to fail over: no databases, services or dns")
		return
	}
	paths := componentPaths(v.t)
	byName := map[string]int{}
	for i, c := range comps {
		if c.Name == "" {
			continue
		}
		if j, dup := byName[c.Name]; dup {
			v.ps.at(paths[i]+".name", "%q is already the name of %s", c.Name, paths[j])
			continue
		}
		byName[c.Name] = i
	}

	for i, c := range comps {
		seen := map[string]bool{}
		for j, dep := range c.DependsOn {
			p := fmt.Sprintf("%s.dependsOn[%d]", paths[i], j)
			switch _, known := byName[dep]; {
			case dep == "":
				v.ps.at(p, "empty; name a component")
			case dep == c.Name:
				v.ps.at(p, "%s depends on itself", c.Name)
			case seen[dep]:
				v.ps.at(p, "%s is listed twice", dep)
			case !known:
				v.ps.at(p, "%q names no database, service or dns component", dep)
			}
			seen[dep] = true
		}
	}
	v.checkCycles(comps, paths, byName)
}

// componentPaths returns each component's field path, in Components order.
func componentPaths(t *Topology) []string {
	var out []string
	for i := range t.Databases {
		out = append(out, fmt.Sprintf("databases[%d]", i))
	}
	for i := range t.Services {
		out = append(out, fmt.Sprintf("services[%d]", i))
	}
	for i := range t.DNS {
		out = append(out, fmt.Sprintf("dns[%d]", i))
	}
	return out
}

// checkCycles finds every cycle in the dependency graph as it will be
// once defaults apply, and reports each once, at the dependsOn of its
// first component in file order that names its dependencies.
func (v *validator) checkCycles(comps []Component, paths []string, byName map[string]int) {
	deps := effectiveDeps(comps)
	edges := make([][]int, len(comps))
	for i, names := range deps {
		for _, n := range names {
			if j, ok := byName[n]; ok && j != i {
				edges[i] = append(edges[i], j)
			}
		}
	}

	const (
		unvisited = iota
		onStack
		done
	)
	state := make([]int, len(comps))
	var stack []int
	reported := map[string]bool{}
	var visit func(i int)
	visit = func(i int) {
		state[i] = onStack
		stack = append(stack, i)
		for _, j := range edges[i] {
			switch state[j] {
			case unvisited:
				visit(j)
			case onStack:
				start := slices.Index(stack, j)
				v.reportCycle(slices.Clone(stack[start:]), comps, paths, reported)
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
	}
	for i := range comps {
		if state[i] == unvisited {
			visit(i)
		}
	}
}

func (v *validator) reportCycle(cycle []int, comps []Component, paths []string,
	reported map[string]bool) {
	// Rotate the cycle to begin at its first component in file order that
	// has its own dependsOn: that is where an edit will break it.
	first := 0
	for k, i := range cycle {
		if comps[i].DependsOn != nil &&
			(comps[cycle[first]].DependsOn == nil || i < cycle[first]) {
			first = k
		}
	}
	cycle = append(cycle[first:], cycle[:first]...)
	names := make([]string, 0, len(cycle)+1)
	for _, i := range cycle {
		names = append(names, comps[i].Name)
	}
	names = append(names, comps[cycle[0]].Name)
	key := strings.Join(sortedCopy(names[1:]), ",")
	if reported[key] {
		return
	}
	reported[key] = true

	msg := "dependency cycle: " + strings.Join(names, " -> ")
	var implicit []string
	for _, i := range cycle {
		switch c := comps[i]; {
		case c.DependsOn != nil:
		case c.Kind == KindService:
			implicit = append(implicit, c.Name+" waits for every database")
		case c.Kind == KindDNS:
			implicit = append(implicit, c.Name+" waits for every database and service")
		}
	}
	if len(implicit) > 0 {
		msg += " (without dependsOn, " + strings.Join(implicit, "; ") + ")"
	}
	v.ps.at(paths[cycle[0]]+".dependsOn", "%s", msg)
}

// effectiveDeps returns each component's dependencies once defaults apply:
// a service without dependsOn waits for every database, a zone without
// dependsOn for every database and service.
func effectiveDeps(comps []Component) [][]string {
	var databases, services []string
	for _, c := range comps {
		switch c.Kind {
		case KindDatabase:
			databases = append(databases, c.Name)
		case KindService:
			services = append(services, c.Name)
		}
	}
	out := make([][]string, len(comps))
	for i, c := range comps {
		switch {
		case c.DependsOn != nil:
			out[i] = c.DependsOn
		case c.Kind == KindService:
			out[i] = slices.Clone(databases)
		case c.Kind == KindDNS:
			out[i] = append(slices.Clone(databases), services...)
		default:
			out[i] = []string{}
		}
	}
	return out
}

// ValidName reports whether name may name an application or a component:
// lowercase letters, digits and inner dashes, at most 63 characters, since
// it goes into workflow ids and AWS names.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// ValidRegionName reports whether name has the form of an AWS region, such
// as us-east-1 or us-gov-west-1.
func ValidRegionName(name string) bool { return regionRE.MatchString(name) }
