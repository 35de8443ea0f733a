package topology

import (
	"fmt"
	"time"
)

// Region roles.
const (
	RolePrimary = "primary"
	RoleStandby = "standby"
)

// Database engines.
const (
	// EngineRDS is an RDS DB instance with a cross-region read replica.
	EngineRDS = "rds"
	// EngineAuroraGlobal is an Aurora global database with one cluster per
	// region.
	EngineAuroraGlobal = "aurora-global"
)

// Routing policies of the records a failover flips.
const (
	RoutingFailover = "failover"
	RoutingWeighted = "weighted"
)

// Record types a topology may name.
const (
	TypeA     = "A"
	TypeAAAA  = "AAAA"
	TypeCNAME = "CNAME"
)

// Route 53 failover roles, derived from the region roles: the record of
// the primary region is PRIMARY, the other one SECONDARY.
const (
	FailoverPrimary   = "PRIMARY"
	FailoverSecondary = "SECONDARY"
)

// Kinds of step that may require an operator's approval.
const (
	ApproveDatabase  = "database"
	ApproveService   = "service"
	ApproveDNS       = "dns"
	ApproveScaleDown = "scale-down"
)

// DefaultMaxLag is the replica lag above which preflight fails when a
// database does not set its own.
const DefaultMaxLag = Duration(60 * time.Second)

// DefaultTTL is the TTL of a sandbox record that does not set one.
const DefaultTTL = 60

// Topology is one application.
type Topology struct {
	// App names the application; workflow ids derive from it, so it is
	// lowercase letters, digits and dashes.
	App     string   `yaml:"app"`
	Regions []Region `yaml:"regions"`
	// Approvals lists the kinds of step (database, service, dns,
	// scale-down) that wait for an operator's approval before they run.
	Approvals []string   `yaml:"approvals,omitempty"`
	Databases []Database `yaml:"databases,omitempty"`
	Services  []Service  `yaml:"services,omitempty"`
	DNS       []Zone     `yaml:"dns,omitempty"`
}

// Region is one region the application runs in.
type Region struct {
	Name string `yaml:"name"`
	// Role is primary or standby: where the application serves from
	// today, and where it can move to.
	Role string `yaml:"role"`
	// HealthURL answers 2xx when the application serves well from this
	// region; checked after a failover. Either every region has one or
	// none does.
	HealthURL string `yaml:"healthURL,omitempty"`
}

// Service is one ECS service that runs in every region under the same
// cluster and service names.
type Service struct {
	// Name identifies the component in plans and reports.
	Name string `yaml:"name"`
	// Cluster is the ECS cluster's name in each region.
	Cluster string `yaml:"cluster"`
	// Service is the ECS service's name; it defaults to Name.
	Service string `yaml:"service,omitempty"`
	// Share of the source region's running tasks to run in the target,
	// in (0, 1]; 1 unless Count is set.
	Share float64 `yaml:"share,omitempty"`
	// Count, when set, is a fixed desired count in the target instead of
	// a share.
	Count *int32 `yaml:"count,omitempty"`
	// DependsOn names components that must recover first. Without it a
	// service depends on every database.
	DependsOn []string `yaml:"dependsOn"`
	// Sandbox says how seeding creates the service; a failover ignores it.
	Sandbox *ServiceSandbox `yaml:"sandbox,omitempty"`
}

// ServiceSandbox is what seeding needs to create a service.
type ServiceSandbox struct {
	Image string `yaml:"image"`
	// DesiredCount maps each region to the tasks it runs after seeding.
	DesiredCount map[string]int32 `yaml:"desiredCount"`
}

// Database is one database with a copy in each region.
type Database struct {
	Name   string `yaml:"name"`
	Engine string `yaml:"engine"`
	// Instances maps each region to its DB instance, as an identifier or
	// an ARN (rds): the primary's instance and the standbys' cross-region
	// read replicas.
	Instances map[string]string `yaml:"instances,omitempty"`
	// GlobalCluster names an Aurora global database and Clusters its
	// cluster in each region, as identifiers or ARNs (aurora-global).
	GlobalCluster string            `yaml:"globalCluster,omitempty"`
	Clusters      map[string]string `yaml:"clusters,omitempty"`
	// MaxLag is the replica lag above which preflight fails; 60s by
	// default. An ungraceful failover reports the lag and goes on.
	MaxLag    Duration         `yaml:"maxLag,omitempty"`
	DependsOn []string         `yaml:"dependsOn"`
	Sandbox   *DatabaseSandbox `yaml:"sandbox,omitempty"`
}

// DatabaseSandbox is what seeding needs to create a database. Names of
// subnet and parameter groups must already exist in every region.
type DatabaseSandbox struct {
	// Engine is the RDS engine, such as postgres (rds) or
	// aurora-postgresql (aurora-global).
	Engine        string `yaml:"engine"`
	EngineVersion string `yaml:"engineVersion,omitempty"`
	InstanceClass string `yaml:"instanceClass"`
	// SubnetGroup and ParameterGroup are names used in every region;
	// ParameterGroup is a DB parameter group (rds) or a DB cluster
	// parameter group (aurora-global).
	SubnetGroup    string `yaml:"subnetGroup,omitempty"`
	ParameterGroup string `yaml:"parameterGroup,omitempty"`
	// SecurityGroups maps each region to its VPC security group ids.
	SecurityGroups map[string][]string `yaml:"securityGroups,omitempty"`
	// BackupRetention is in days; 0 turns automated backups off.
	BackupRetention *int32 `yaml:"backupRetention,omitempty"`
	MultiAZ         bool   `yaml:"multiAZ,omitempty"`
}

// Zone is one Route 53 hosted zone and the records in it that a failover
// flips. Records are changed in one batch per zone.
type Zone struct {
	// Name identifies the component in plans and reports.
	Name string `yaml:"name"`
	// Domain is the hosted zone's name, such as shop.example.com.; it is
	// kept with its final dot.
	Domain string `yaml:"domain"`
	// ZoneID picks the zone when several share the domain name.
	ZoneID string `yaml:"zoneId,omitempty"`
	// FlipInPractice lets a practice run flip this zone's records too. A
	// practice run leaves production traffic alone, so set it only for a
	// zone that serves none, such as a sandbox's.
	FlipInPractice bool     `yaml:"flipInPractice,omitempty"`
	Records        []Record `yaml:"records"`
	DependsOn      []string `yaml:"dependsOn"`
}

// Record is a set of records of one name and type, one per region, told
// apart by their set identifiers.
type Record struct {
	// Name is the record's domain name, kept with its final dot.
	Name string `yaml:"name"`
	// Type is A, AAAA or CNAME.
	Type string `yaml:"type"`
	// Routing is failover or weighted.
	Routing string `yaml:"routing"`
	// Targets maps regions to the record that sends traffic there. A
	// failover record has two: the primary region's (PRIMARY) and one
	// standby's (SECONDARY). A weighted record has one per region.
	Targets map[string]RecordTarget `yaml:"targets"`
}

// RecordTarget is the record of one region.
type RecordTarget struct {
	SetIdentifier string `yaml:"setIdentifier"`
	// Weight is the weighted record's share of answers, 0 to 255.
	Weight *int64 `yaml:"weight,omitempty"`
	// Value, TTL and HealthCheck are used when seeding the sandbox; a
	// failover keeps the values and health checks it finds in the zone.
	// TTL is in seconds, 60 when left out or 0.
	Value       string       `yaml:"value,omitempty"`
	TTL         int64        `yaml:"ttl,omitempty"`
	HealthCheck *HealthCheck `yaml:"healthCheck,omitempty"`
}

// HealthCheck is a Route 53 health check the sandbox creates for a record.
type HealthCheck struct {
	// Type is HTTP, HTTPS or TCP.
	Type string `yaml:"type"`
	FQDN string `yaml:"fqdn"`
	// Port defaults to 80 for HTTP and 443 for HTTPS; TCP needs one.
	Port int32 `yaml:"port,omitempty"`
	// Path is the HTTP(S) resource path, / by default.
	Path string `yaml:"path,omitempty"`
}

// Duration is a time.Duration written as "30s" in YAML and JSON.
type Duration time.Duration

// String returns the duration as Go writes it.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler, which YAML and JSON
// encoders use.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("must be a duration such as 30s or 2m, not %q", b)
	}
	*d = Duration(v)
	return nil
}

// Kind tells which part of a topology a component comes from.
type Kind string

// Component kinds.
const (
	KindDatabase Kind = "database"
	KindService  Kind = "service"
	KindDNS      Kind = "dns"
)

// Component is one database, service or hosted zone, seen through what
// they have in common. Exactly one of Database, Service and Zone is set.
type Component struct {
	Name      string
	Kind      Kind
	DependsOn []string
	Database  *Database
	Service   *Service
	Zone      *Zone
}

// Primary returns the primary region.
func (t *Topology) Primary() Region {
	for _, r := range t.Regions {
		if r.Role == RolePrimary {
			return r
		}
	}
	return Region{}
}

// Standbys returns the standby regions in the file's order.
func (t *Topology) Standbys() []Region {
	var out []Region
	for _, r := range t.Regions {
		if r.Role == RoleStandby {
			out = append(out, r)
		}
	}
	return out
}

// Region returns the region of that name.
func (t *Topology) Region(name string) (Region, bool) {
	for _, r := range t.Regions {
		if r.Name == name {
			return r, true
		}
	}
	return Region{}, false
}

// RegionNames returns the names of every region, primary first.
func (t *Topology) RegionNames() []string {
	names := []string{t.Primary().Name}
	for _, r := range t.Standbys() {
		names = append(names, r.Name)
	}
	return names
}

// Components returns every database, then every service, then every
// hosted zone, each group in the file's order. The components point into
// t.
func (t *Topology) Components() []Component {
	out := make([]Component, 0, len(t.Databases)+len(t.Services)+len(t.DNS))
	for i := range t.Databases {
		d := &t.Databases[i]
		out = append(out, Component{Name: d.Name, Kind: KindDatabase,
			DependsOn: d.DependsOn, Database: d})
	}
	for i := range t.Services {
		s := &t.Services[i]
		out = append(out, Component{Name: s.Name, Kind: KindService,
			DependsOn: s.DependsOn, Service: s})
	}
	for i := range t.DNS {
		z := &t.DNS[i]
		out = append(out, Component{Name: z.Name, Kind: KindDNS,
			DependsOn: z.DependsOn, Zone: z})
	}
	return out
}

// Component returns the component of that name.
func (t *Topology) Component(name string) (Component, bool) {
	for _, c := range t.Components() {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// NeedsApproval reports whether steps of that kind wait for an operator.
func (t *Topology) NeedsApproval(kind string) bool {
	for _, a := range t.Approvals {
		if a == kind {
			return true
		}
	}
	return false
}

// FailoverRole returns the Route 53 failover role (PRIMARY or SECONDARY)
// of a failover record's target in region.
func (t *Topology) FailoverRole(region string) string {
	if t.Primary().Name == region {
		return FailoverPrimary
	}
	return FailoverSecondary
}

// RDSIdentifier returns the identifier that an RDS ARN ends with, or id
// itself when it is no ARN: what the RDS APIs' identifier parameters and
// answers use.
func RDSIdentifier(id string) string { return rdsName(id) }
