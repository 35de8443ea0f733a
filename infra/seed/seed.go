// Package seed creates an application's sandbox from its topology: the ECS
// clusters, task definitions and services of every region, the RDS
// instance with its cross-region replica, the Aurora global database, and
// the Route 53 hosted zone with its health checks and records.
//
// It works only through the AWS APIs, with the SDK's own clients, so the
// same seeding runs against the simulated regions or any other
// AWS-compatible endpoint. It reads before it writes: a second run finds
// everything in place and changes nothing.
package seed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/drover-dev/drover/topology"
)

// ECSAPI is the part of the ECS client that seeding uses.
type ECSAPI interface {
	CreateCluster(context.Context, *ecs.CreateClusterInput,
		...func(*ecs.Options)) (*ecs.CreateClusterOutput, error)
	DescribeClusters(context.Context, *ecs.DescribeClustersInput,
		...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	RegisterTaskDefinition(context.Context, *ecs.RegisterTaskDefinitionInput,
		...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput,
		...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	CreateService(context.Context, *ecs.CreateServiceInput,
		...func(*ecs.Options)) (*ecs.CreateServiceOutput, error)
	DescribeServices(context.Context, *ecs.DescribeServicesInput,
		...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
}

// RDSAPI is the part of the RDS client that seeding uses.
type RDSAPI interface {
	CreateDBInstance(context.Context, *rds.CreateDBInstanceInput,
		...func(*rds.Options)) (*rds.CreateDBInstanceOutput, error)
	CreateDBInstanceReadReplica(context.Context, *rds.CreateDBInstanceReadReplicaInput,
		...func(*rds.Options)) (*rds.CreateDBInstanceReadReplicaOutput, error)
	DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput,
		...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	CreateDBCluster(context.Context, *rds.CreateDBClusterInput,
		...func(*rds.Options)) (*rds.CreateDBClusterOutput, error)
	DescribeDBClusters(context.Context, *rds.DescribeDBClustersInput,
		...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error)
	CreateGlobalCluster(context.Context, *rds.CreateGlobalClusterInput,
		...func(*rds.Options)) (*rds.CreateGlobalClusterOutput, error)
	DescribeGlobalClusters(context.Context, *rds.DescribeGlobalClustersInput,
		...func(*rds.Options)) (*rds.DescribeGlobalClustersOutput, error)
}

// Route53API is the part of the Route 53 client that seeding uses.
type Route53API interface {
	ListHostedZonesByName(context.Context, *route53.ListHostedZonesByNameInput,
		...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error)
	GetHostedZone(context.Context, *route53.GetHostedZoneInput,
		...func(*route53.Options)) (*route53.GetHostedZoneOutput, error)
	CreateHostedZone(context.Context, *route53.CreateHostedZoneInput,
		...func(*route53.Options)) (*route53.CreateHostedZoneOutput, error)
	CreateHealthCheck(context.Context, *route53.CreateHealthCheckInput,
		...func(*route53.Options)) (*route53.CreateHealthCheckOutput, error)
	GetHealthCheck(context.Context, *route53.GetHealthCheckInput,
		...func(*route53.Options)) (*route53.GetHealthCheckOutput, error)
	ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput,
		...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(context.Context, *route53.ChangeResourceRecordSetsInput,
		...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
	GetChange(context.Context, *route53.GetChangeInput,
		...func(*route53.Options)) (*route53.GetChangeOutput, error)
}

// Clients are the AWS clients of one region. *ecs.Client, *rds.Client and
// *route53.Client satisfy them.
type Clients struct {
	ECS     ECSAPI
	RDS     RDSAPI
	Route53 Route53API
}

// GlobalRegion is the region under which Route 53's resources, which
// belong to no region, are reported.
const GlobalRegion = "global"

// Resource kinds in a Result.
const (
	KindCluster        = "ecs cluster"
	KindTaskDefinition = "ecs task definition"
	KindService        = "ecs service"
	KindDBInstance     = "rds instance"
	KindDBCluster      = "rds cluster"
	KindGlobalCluster  = "rds global cluster"
	KindHostedZone     = "route53 zone"
	KindHealthCheck    = "route53 health check"
	KindRecord         = "route53 record"
)

// Resource is one thing seeding created or found.
type Resource struct {
	Region string
	Kind   string
	// ID names the resource: cluster/service for ECS services, the
	// identifier for RDS, the domain for a zone, name type set-identifier
	// for a record, the record's key (see Result) for a health check.
	ID string
}

// String returns region, kind and ID.
func (r Resource) String() string { return r.Region + " " + r.Kind + " " + r.ID }

// Result says what seeding created and what already existed.
type Result struct {
	Created  []Resource
	Existing []Resource
	// ZoneIDs maps each dns component's name to its hosted zone id, such
	// as Z0123456789ABC.
	ZoneIDs map[string]string
	// HealthCheckIDs maps "record-name type region", such as
	// "api.shop.example.com. A us-east-1", to the id of the health check
	// that record uses.
	HealthCheckIDs map[string]string
}

// HealthCheckKey returns the key of a record target's health check in
// Result.HealthCheckIDs.
func HealthCheckKey(recordName, recordType, region string) string {
	return recordName + " " + recordType + " " + region
}

// Apply creates what the topology's sandbox blocks describe and waits
// until all of it is ready, printing a line to progress as each resource
// is created, found or changes state. It returns once every service is
// steady, every database available and every DNS change in sync, or with
// an error when ctx ends first. clients returns the clients of a region;
// Route 53's are taken from the primary region's.
//
// Resources that exist are left as they are. A resource that exists but
// is not what the topology says (an instance that is no replica of the
// primary, say) is an error that names the difference.
func Apply(ctx context.Context, t *topology.Topology, clients func(region string) Clients,
	progress io.Writer) (Result, error) {
	if err := checkSandbox(t); err != nil {
		return Result{}, err
	}
	if progress == nil {
		progress = io.Discard
	}
	s := &seeder{
		t:       t,
		clients: map[string]Clients{},
		out:     progress,
		res: Result{
			ZoneIDs:        map[string]string{},
			HealthCheckIDs: map[string]string{},
		},
	}
	for _, r := range t.RegionNames() {
		s.clients[r] = clients(r)
	}

	// Each track creates and waits for its own resources; they share
	// nothing, so they run side by side and the slowest (an RDS replica,
	// usually) sets the time seeding takes.
	var tracks []func(context.Context) error
	for _, r := range t.RegionNames() {
		tracks = append(tracks, func(ctx context.Context) error { return s.ecs(ctx, r) })
	}
	for i := range t.Databases {
		db := &t.Databases[i]
		switch db.Engine {
		case topology.EngineRDS:
			tracks = append(tracks, func(ctx context.Context) error { return s.rdsInstances(ctx, db) })
		case topology.EngineAuroraGlobal:
			tracks = append(tracks, func(ctx context.Context) error { return s.auroraGlobal(ctx, db) })
		}
	}
	for i := range t.DNS {
		z := &t.DNS[i]
		tracks = append(tracks, func(ctx context.Context) error { return s.zone(ctx, z) })
	}

	errs := make([]error, len(tracks))
	var wg sync.WaitGroup
	for i, track := range tracks {
		wg.Go(func() { errs[i] = track(ctx) })
	}
	wg.Wait()

	s.mu.Lock()
	defer s.mu.Unlock()
	sortResources(s.res.Created)
	sortResources(s.res.Existing)
	if err := errors.Join(errs...); err != nil {
		return s.res, fmt.Errorf("seed %s: %w", t.App, err)
	}
	return s.res, nil
}

// checkSandbox makes sure the topology says enough to build its sandbox,
// before anything is created.
func checkSandbox(t *topology.Topology) error {
	var missing []string
	for _, s := range t.Services {
		if s.Sandbox == nil {
			missing = append(missing, fmt.Sprintf("service %s has no sandbox block "+
				"(image and desiredCount)", s.Name))
		}
	}
	for _, d := range t.Databases {
		if d.Sandbox == nil {
			missing = append(missing, fmt.Sprintf("database %s has no sandbox block "+
				"(engine and instanceClass)", d.Name))
		}
	}
	for _, z := range t.DNS {
		for _, r := range z.Records {
			for _, region := range sortedKeys(r.Targets) {
				if r.Targets[region].Value == "" {
					missing = append(missing, fmt.Sprintf("record %s %s has no value "+
						"for %s", r.Name, r.Type, region))
				}
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("topology %s cannot be seeded:\n  %s", t.App,
			strings.Join(missing, "\n  "))
	}
	return nil
}

// seeder holds what the tracks share: the clients, the progress writer and
// the result, the last two under mu.
type seeder struct {
	t       *topology.Topology
	clients map[string]Clients

	mu  sync.Mutex
	out io.Writer
	res Result
}

func (s *seeder) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, format+"\n", args...)
}

func (s *seeder) created(region, kind, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.res.Created = append(s.res.Created, Resource{Region: region, Kind: kind, ID: id})
	fmt.Fprintf(s.out, "%s %s %s: created\n", region, kind, id)
}

func (s *seeder) existed(region, kind, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.res.Existing = append(s.res.Existing, Resource{Region: region, Kind: kind, ID: id})
	fmt.Fprintf(s.out, "%s %s %s: exists\n", region, kind, id)
}

func sortResources(rs []Resource) {
	slices.SortFunc(rs, func(a, b Resource) int {
		return strings.Compare(a.String(), b.String())
	})
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// token derives an idempotency token from the parts that identify what it
// creates, so that a retried or repeated run sends the same one. It is 32
// characters: ECS takes up to 36, Route 53 up to 128.
func token(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}
