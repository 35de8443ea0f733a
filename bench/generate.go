// Package bench measures drover's failover at scale: it generates an
// application of many ECS services whose critical path is known from the
// simulator's profile, fails it over on a Temporal dev server, and compares
// the time taken with that critical path and with a sequential runbook.
// The benchmarks live in failover_test.go; this package holds what they
// build on, so that other tools can generate the same applications.
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
)

// The generated application's regions.
const (
	Primary = "us-east-1"
	Standby = "us-west-2"
)

// Component names of the generated application.
const (
	// OrdersDB is the RDS instance with a cross-region replica: its
	// promotion is the longest database step, so the critical path runs
	// through it.
	OrdersDB = "orders"
	// CatalogDB is the optional Aurora global database.
	CatalogDB = "catalog"
	// PublicZone is the hosted zone with the records to flip.
	PublicZone = "public"
)

// Options describe a generated application.
type Options struct {
	// App names it; "bench" when empty.
	App string
	// Services is how many ECS services it runs.
	Services int
	// Clusters spreads the services over this many ECS clusters; zero
	// means one per 25 services, between 1 and 10.
	Clusters int
	// Aurora adds an Aurora global database that some services use.
	Aurora bool
	// Tasks is how many tasks each service runs in the primary region,
	// and so in the standby after a failover; 2 when zero. The standby
	// runs none before, as a pilot-light standby would.
	Tasks int32
}

func (o Options) withDefaults() Options {
	if o.App == "" {
		o.App = "bench"
	}
	if o.Clusters <= 0 {
		o.Clusters = min(max(o.Services/25, 1), 10)
	}
	if o.Tasks <= 0 {
		o.Tasks = 2
	}
	return o
}

// ServiceName returns the name of the i-th generated service.
func ServiceName(i int) string { return fmt.Sprintf("svc-%04d", i) }

// Generate builds the topology of an application with opts.Services ECS
// services. Dependencies are shallow, as in most real applications: of
// every five services, the fifth depends on the fourth, which depends on
// the orders database; the others depend on the orders database, on the
// catalog (one in ten, with Aurora) or, without dependsOn, on every
// database. The critical path is therefore orders, then a service, then
// the service that depends on it, then DNS.
func Generate(opts Options) *topology.Topology {
	o := opts.withDefaults()
	t := &topology.Topology{
		App: o.App,
		Regions: []topology.Region{
			{Name: Primary, Role: topology.RolePrimary},
			{Name: Standby, Role: topology.RoleStandby},
		},
	}

	retention := int32(7)
	t.Databases = append(t.Databases, topology.Database{
		Name: OrdersDB, Engine: topology.EngineRDS,
		Instances: map[string]string{
			Primary: o.App + "-orders",
			Standby: o.App + "-orders-replica",
		},
		Sandbox: &topology.DatabaseSandbox{
			Engine: "postgres", EngineVersion: "16.4", InstanceClass: "db.r6g.large",
			BackupRetention: &retention,
		},
	})
	if o.Aurora {
		t.Databases = append(t.Databases, topology.Database{
			Name: CatalogDB, Engine: topology.EngineAuroraGlobal,
			GlobalCluster: o.App + "-catalog",
			Clusters: map[string]string{
				Primary: o.App + "-catalog-use1",
				Standby: o.App + "-catalog-usw2",
			},
			Sandbox: &topology.DatabaseSandbox{
				Engine: "aurora-postgresql", EngineVersion: "16.4",
				InstanceClass: "db.r6g.large",
			},
		})
	}

	for i := range o.Services {
		svc := topology.Service{
			Name:    ServiceName(i),
			Cluster: fmt.Sprintf("%s-%02d", o.App, i%o.Clusters),
			Sandbox: &topology.ServiceSandbox{
				Image:        "public.ecr.aws/docker/library/busybox:1.37",
				DesiredCount: map[string]int32{Primary: o.Tasks, Standby: 0},
			},
		}
		switch {
		case i%5 == 4:
			svc.DependsOn = []string{ServiceName(i - 1)}
		case i%10 == 0:
			// No dependsOn: the service waits for every database.
		case i%10 == 1 && o.Aurora:
			svc.DependsOn = []string{CatalogDB}
		default:
			svc.DependsOn = []string{OrdersDB}
		}
		t.Services = append(t.Services, svc)
	}

	t.DNS = []topology.Zone{{
		Name: PublicZone, Domain: o.App + ".example.com.",
		Records: []topology.Record{
			{
				Name: "api." + o.App + ".example.com.", Type: topology.TypeA,
				Routing: topology.RoutingFailover,
				Targets: map[string]topology.RecordTarget{
					Primary: {SetIdentifier: "api-use1", Value: "192.0.2.10", TTL: 60,
						HealthCheck: &topology.HealthCheck{Type: "HTTPS",
							FQDN: "api-use1." + o.App + ".example.com", Path: "/healthz"}},
					Standby: {SetIdentifier: "api-usw2", Value: "198.51.100.10", TTL: 60,
						HealthCheck: &topology.HealthCheck{Type: "HTTPS",
							FQDN: "api-usw2." + o.App + ".example.com", Path: "/healthz"}},
				},
			},
			{
				Name: "www." + o.App + ".example.com.", Type: topology.TypeCNAME,
				Routing: topology.RoutingWeighted,
				Targets: map[string]topology.RecordTarget{
					Primary: {SetIdentifier: "www-use1", Weight: weight(100),
						Value: "web-use1." + o.App + ".example.com"},
					Standby: {SetIdentifier: "www-usw2", Weight: weight(0),
						Value: "web-usw2." + o.App + ".example.com"},
				},
			},
		},
	}}
	return t
}

func weight(w int64) *int64 { return &w }

// Write generates the application into dir as <app>.yaml and returns the
// file's path. The file is loaded back, so a topology that drover would
// reject fails here rather than in the sandbox.
func Write(dir string, opts Options) (string, error) {
	t := Generate(opts)
	// A dependsOn written as [] would mean "depends on nothing"; left out,
	// it takes the topology's defaults, which is what nil means here.
	out, err := yaml.MarshalWithOptions(t, yaml.OmitEmpty())
	if err != nil {
		return "", fmt.Errorf("bench: encode topology: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	path := filepath.Join(dir, t.App+".yaml")
	header := fmt.Sprintf("# A generated application of %d services for drover's benchmarks.\n",
		len(t.Services))
	if err := os.WriteFile(path, append([]byte(header), out...), 0o644); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	if _, err := topology.Load(path); err != nil {
		return "", fmt.Errorf("bench: the generated topology does not load: %w", err)
	}
	return path, nil
}

// Profile returns the simulator profile of a benchmark: AWS's durations
// divided by timeScale, without jitter, so that every operation takes
// exactly what the critical path assumes. Creating databases plays no
// part in a failover, so those durations are cut to keep seeding short.
func Profile(timeScale float64) awssim.Profile {
	p := awssim.DefaultProfile()
	p.TimeScale = timeScale
	p.Jitter = 0
	fast := awssim.Duration(10 * time.Second)
	p.RDSCreate, p.RDSReplicaCreate, p.AuroraClusterCreate = fast, fast, fast
	return p
}

// Estimates derives a plan's step estimates from a simulator profile, in
// the simulator's time: what each operation takes there, for a service
// that starts tasks tasks. Preflight and verification only read, which
// the simulator answers at once, so they are estimated at zero: whatever
// they take is drover's own overhead.
func Estimates(p awssim.Profile, tasks int32) plan.Estimates {
	start := p.Scaled(p.ECSTaskStart)
	if tasks > 1 {
		start += time.Duration(tasks-1) * p.Scaled(p.ECSTaskStagger)
	}
	return plan.Estimates{
		StopWriters:      p.Scaled(p.ECSTaskStop),
		PromoteInstance:  p.Scaled(p.RDSPromoteModifying) + p.Scaled(p.RDSPromoteBackingUp),
		AuroraSwitchover: p.Scaled(p.AuroraSwitchover),
		AuroraFailover:   p.Scaled(p.AuroraFailover),
		Resync:           p.Scaled(p.RDSReplicaCreate),
		ServiceStart:     start,
		DNSPropagation:   p.Scaled(p.Route53Propagation),
	}
}

// SequentialTime is what a runbook that does one step after another
// waits for at best: every database, every service and the DNS change in
// turn, in the simulator's time.
func SequentialTime(t *topology.Topology, est plan.Estimates, mode plan.Mode) time.Duration {
	var total time.Duration
	for _, d := range t.Databases {
		switch {
		case d.Engine == topology.EngineRDS:
			total += est.PromoteInstance
		case mode == plan.Ungraceful:
			total += est.AuroraFailover
		default:
			total += est.AuroraSwitchover
		}
	}
	total += time.Duration(len(t.Services)) * est.ServiceStart
	total += time.Duration(len(t.DNS)) * est.DNSPropagation
	return total
}
