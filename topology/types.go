// Package topology describes one application across AWS regions: which
// region is primary and which stands by, and the ECS services, databases and
// Route 53 records that a failover moves. A topology is read from YAML and
// checked whole before anything acts on it.
package topology

import "time"

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

// Topology is one application.
type Topology struct {
	// App names the application; workflow ids derive from it.
	App       string     `yaml:"app"`
	Regions   []Region   `yaml:"regions"`
	Databases []Database `yaml:"databases,omitempty"`
	Services  []Service  `yaml:"services,omitempty"`
	DNS       []Zone     `yaml:"dns,omitempty"`
	// Approvals lists the kinds of step ("database", "dns", "scale-down")
	// that wait for an operator's approval before they run.
	Approvals []string `yaml:"approvals,omitempty"`
}

// Region is one region the application runs in.
type Region struct {
	Name string `yaml:"name"`
	// Role is primary or standby: where the application serves from
	// today, and where it can move to.
	Role string `yaml:"role"`
	// HealthURL answers 2xx when the application serves well from this
	// region; checked after a failover.
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
	// 1 by default. Count, when set, is a fixed desired count instead.
	Share float64 `yaml:"share,omitempty"`
	Count *int32  `yaml:"count,omitempty"`
	// DependsOn names components that must recover first. Without it a
	// service depends on every database.
	DependsOn []string `yaml:"dependsOn,omitempty"`
	// Sandbox says how the sandbox seeds the service; production ignores it.
	Sandbox *ServiceSandbox `yaml:"sandbox,omitempty"`
}

// ServiceSandbox is what seeding needs to create a service.
type ServiceSandbox struct {
	Image string `yaml:"image"`
	// DesiredCount per region name.
	DesiredCount map[string]int32 `yaml:"desiredCount"`
}

// Database is one database with a copy in each region.
type Database struct {
	Name   string `yaml:"name"`
	Engine string `yaml:"engine"`
	// Instances maps each region to its DB instance identifier (rds): the
	// primary's instance and the standby's cross-region read replica.
	Instances map[string]string `yaml:"instances,omitempty"`
	// GlobalCluster and Clusters name an Aurora global database and its
	// cluster identifier in each region (aurora-global).
	GlobalCluster string            `yaml:"globalCluster,omitempty"`
	Clusters      map[string]string `yaml:"clusters,omitempty"`
	// MaxLag is the replica lag above which preflight fails; 60s by default.
	MaxLag    Duration         `yaml:"maxLag,omitempty"`
	DependsOn []string         `yaml:"dependsOn,omitempty"`
	Sandbox   *DatabaseSandbox `yaml:"sandbox,omitempty"`
}

// DatabaseSandbox is what seeding needs to create a database.
type DatabaseSandbox struct {
	EngineName    string `yaml:"engine"` // e.g. postgres, aurora-postgresql
	InstanceClass string `yaml:"instanceClass"`
}

// Zone is one Route 53 hosted zone and the records in it that a failover
// flips. Records are changed in one batch per zone.
type Zone struct {
	Name string `yaml:"name"`
	// Domain is the hosted zone's name, such as shop.example.com.
	Domain string `yaml:"domain"`
	// ZoneID picks the zone when several share the domain name.
	ZoneID    string   `yaml:"zoneId,omitempty"`
	Records   []Record `yaml:"records"`
	DependsOn []string `yaml:"dependsOn,omitempty"`
}

// Record is a set of records of one name and type, one per region, told
// apart by their set identifiers.
type Record struct {
	Name    string `yaml:"name"`
	Type    string `yaml:"type"`
	Routing string `yaml:"routing"`
	// Targets maps each region to the record that sends traffic there.
	Targets map[string]RecordTarget `yaml:"targets"`
}

// RecordTarget is the record of one region.
type RecordTarget struct {
	SetIdentifier string `yaml:"setIdentifier"`
	// Value, TTL and HealthCheck are used when seeding the sandbox; a
	// failover keeps the values and health checks it finds in the zone.
	Value       string       `yaml:"value,omitempty"`
	TTL         int64        `yaml:"ttl,omitempty"`
	HealthCheck *HealthCheck `yaml:"healthCheck,omitempty"`
}

// HealthCheck is a Route 53 health check the sandbox creates for a record.
type HealthCheck struct {
	Type string `yaml:"type"` // HTTP, HTTPS, TCP
	FQDN string `yaml:"fqdn"`
	Port int32  `yaml:"port,omitempty"`
	Path string `yaml:"path,omitempty"`
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration
