package activities

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"golang.org/x/time/rate"
)

// ECSAPI is the part of the ECS client the activities call.
type ECSAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput,
		optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput,
		optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	CreateService(ctx context.Context, in *ecs.CreateServiceInput,
		optFns ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput,
		optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput,
		optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
}

// RDSAPI is the part of the RDS client the activities call.
type RDSAPI interface {
	DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput,
		optFns ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	PromoteReadReplica(ctx context.Context, in *rds.PromoteReadReplicaInput,
		optFns ...func(*rds.Options)) (*rds.PromoteReadReplicaOutput, error)
	ModifyDBInstance(ctx context.Context, in *rds.ModifyDBInstanceInput,
		optFns ...func(*rds.Options)) (*rds.ModifyDBInstanceOutput, error)
	CreateDBInstanceReadReplica(ctx context.Context, in *rds.CreateDBInstanceReadReplicaInput,
		optFns ...func(*rds.Options)) (*rds.CreateDBInstanceReadReplicaOutput, error)
	DescribeDBClusters(ctx context.Context, in *rds.DescribeDBClustersInput,
		optFns ...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error)
	DescribeGlobalClusters(ctx context.Context, in *rds.DescribeGlobalClustersInput,
		optFns ...func(*rds.Options)) (*rds.DescribeGlobalClustersOutput, error)
	SwitchoverGlobalCluster(ctx context.Context, in *rds.SwitchoverGlobalClusterInput,
		optFns ...func(*rds.Options)) (*rds.SwitchoverGlobalClusterOutput, error)
	FailoverGlobalCluster(ctx context.Context, in *rds.FailoverGlobalClusterInput,
		optFns ...func(*rds.Options)) (*rds.FailoverGlobalClusterOutput, error)

	DescribeDBSnapshots(ctx context.Context, in *rds.DescribeDBSnapshotsInput,
		optFns ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error)
	DescribeDBClusterSnapshots(ctx context.Context, in *rds.DescribeDBClusterSnapshotsInput,
		optFns ...func(*rds.Options)) (*rds.DescribeDBClusterSnapshotsOutput, error)
	RestoreDBInstanceFromDBSnapshot(ctx context.Context,
		in *rds.RestoreDBInstanceFromDBSnapshotInput,
		optFns ...func(*rds.Options)) (*rds.RestoreDBInstanceFromDBSnapshotOutput, error)
	RestoreDBInstanceToPointInTime(ctx context.Context,
		in *rds.RestoreDBInstanceToPointInTimeInput,
		optFns ...func(*rds.Options)) (*rds.RestoreDBInstanceToPointInTimeOutput, error)
	RestoreDBClusterFromSnapshot(ctx context.Context, in *rds.RestoreDBClusterFromSnapshotInput,
		optFns ...func(*rds.Options)) (*rds.RestoreDBClusterFromSnapshotOutput, error)
	RestoreDBClusterToPointInTime(ctx context.Context,
		in *rds.RestoreDBClusterToPointInTimeInput,
		optFns ...func(*rds.Options)) (*rds.RestoreDBClusterToPointInTimeOutput, error)
	CreateDBInstance(ctx context.Context, in *rds.CreateDBInstanceInput,
		optFns ...func(*rds.Options)) (*rds.CreateDBInstanceOutput, error)
	DeleteDBInstance(ctx context.Context, in *rds.DeleteDBInstanceInput,
		optFns ...func(*rds.Options)) (*rds.DeleteDBInstanceOutput, error)
	ModifyDBCluster(ctx context.Context, in *rds.ModifyDBClusterInput,
		optFns ...func(*rds.Options)) (*rds.ModifyDBClusterOutput, error)
	DeleteDBCluster(ctx context.Context, in *rds.DeleteDBClusterInput,
		optFns ...func(*rds.Options)) (*rds.DeleteDBClusterOutput, error)
}

// Route53API is the part of the Route 53 client the activities call.
type Route53API interface {
	ListHostedZonesByName(ctx context.Context, in *route53.ListHostedZonesByNameInput,
		optFns ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error)
	ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput,
		optFns ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput,
		optFns ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
	GetChange(ctx context.Context, in *route53.GetChangeInput,
		optFns ...func(*route53.Options)) (*route53.GetChangeOutput, error)
	GetHealthCheck(ctx context.Context, in *route53.GetHealthCheckInput,
		optFns ...func(*route53.Options)) (*route53.GetHealthCheckOutput, error)
	GetHealthCheckStatus(ctx context.Context, in *route53.GetHealthCheckStatusInput,
		optFns ...func(*route53.Options)) (*route53.GetHealthCheckStatusOutput, error)
}

// CloudWatchAPI is the part of the CloudWatch client the activities call:
// the replica lag that RDS reports nowhere else.
type CloudWatchAPI interface {
	GetMetricStatistics(ctx context.Context, in *cloudwatch.GetMetricStatisticsInput,
		optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricStatisticsOutput, error)
}

// Clients are one region's AWS clients.
type Clients struct {
	ECS        ECSAPI
	RDS        RDSAPI
	Route53    Route53API
	CloudWatch CloudWatchAPI
}

// NewClients builds the clients from an SDK configuration whose Region is
// the region they act in.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		ECS:        ecs.NewFromConfig(cfg),
		RDS:        rds.NewFromConfig(cfg),
		Route53:    route53.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg),
	}
}

// Default settings of a Config.
const (
	DefaultPollInterval = time.Second
	// The rate limits are modest: AWS's quotas are per account and
	// region, shared with every other caller there.
	DefaultECSRate     = 20
	DefaultRDSRate     = 10
	DefaultRoute53Rate = 5
	// DefaultHTTPTimeout bounds one request to a health URL.
	DefaultHTTPTimeout = 5 * time.Second
)

// Config says how a Region's activities behave.
type Config struct {
	// Region is the AWS region the clients are bound to.
	Region string
	// PollInterval is the time between two reads of a resource that is
	// being waited on; it bounds how late a healthy state is noticed.
	PollInterval time.Duration
	// ECSRate, RDSRate and Route53Rate are calls a second this Region
	// makes to each service, with bursts of the same size: that many
	// reads and, apart, that many changes.
	ECSRate     float64
	RDSRate     float64
	Route53Rate float64
	// TopologyDir holds the topology files LoadTopology reads, one
	// <app>.yaml per application.
	TopologyDir string
	// HTTPClient reaches health URLs; its Timeout, if any, bounds each
	// request. Nil means a client with DefaultHTTPTimeout.
	HTTPClient *http.Client
	// Now returns the time; nil means time.Now. Tests may replace it.
	Now func() time.Time
}

// withDefaults returns cfg with every unset field at its default.
func (cfg Config) withDefaults() Config {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.ECSRate <= 0 {
		cfg.ECSRate = DefaultECSRate
	}
	if cfg.RDSRate <= 0 {
		cfg.RDSRate = DefaultRDSRate
	}
	if cfg.Route53Rate <= 0 {
		cfg.Route53Rate = DefaultRoute53Rate
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Region runs the activities in one AWS region. Its clients reach that
// region only, so a failure elsewhere cannot hold its activities up. One
// Region serves every activity a worker runs for its region at once; it is
// safe for concurrent use.
type Region struct {
	cfg     Config
	clients Clients

	// Two token buckets per service, one for reads and one for changes,
	// so that the polls of a thousand waiting services do not queue
	// behind the changes still to be made, nor the other way round. ECS
	// throttles its reads and changes in separate buckets too; Route 53
	// counts five calls a second for the whole account, and the SDK's
	// retries absorb a rare excess. Every activity this worker runs for
	// the region shares them.
	ecs, rds, route53 limits

	// services batches the waits of ScaleService.
	services *servicePoller
}

// NewRegion returns the activities of one region.
func NewRegion(cfg Config, clients Clients) *Region {
	cfg = cfg.withDefaults()
	r := &Region{
		cfg:     cfg,
		clients: clients,
		ecs:     newLimits(cfg.ECSRate),
		rds:     newLimits(cfg.RDSRate),
		route53: newLimits(cfg.Route53Rate),
	}
	r.services = newServicePoller(r)
	return r
}

// limits are one service's token buckets.
type limits struct{ read, change *bucket }

func newLimits(perSecond float64) limits {
	burst := max(int(perSecond), 1)
	return limits{
		read:   newBucket(perSecond, burst),
		change: newBucket(perSecond, burst),
	}
}

// bucket is a token bucket that serves urgent callers first: the steps
// without slack, whose every second of waiting is a second added to the
// recovery. A thousand services scaled at once would otherwise queue
// the critical one's UpdateService behind every other.
//
// The limiter hands out reservations in the order they are asked for, so
// callers that are not urgent ask for theirs one at a time, through turn:
// at most one of them holds a reservation of a future token, and an
// urgent caller, which reserves at once, waits for that one token at most.
type bucket struct {
	lim  *rate.Limiter
	turn chan struct{}
}

func newBucket(perSecond float64, burst int) *bucket {
	return &bucket{lim: rate.NewLimiter(rate.Limit(perSecond), burst),
		turn: make(chan struct{}, 1)}
}

// take waits for a token; it returns ctx's error when ctx ends first.
func (b *bucket) take(ctx context.Context) error {
	if !isUrgent(ctx) {
		select {
		case b.turn <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-b.turn }()
	}
	if err := b.lim.Wait(ctx); err != nil {
		// Wait gives up at once when the token would come after ctx's
		// deadline; no call can be made before then, so end with ctx.
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// urgentKey marks a context whose calls go before others to their bucket.
type urgentKey struct{}

// withUrgency returns ctx marked urgent when urgent is true.
func withUrgency(ctx context.Context, urgent bool) context.Context {
	if !urgent {
		return ctx
	}
	return context.WithValue(ctx, urgentKey{}, true)
}

func isUrgent(ctx context.Context) bool {
	u, _ := ctx.Value(urgentKey{}).(bool)
	return u
}

// Name returns the region the activities act in.
func (r *Region) Name() string { return r.cfg.Region }

// Register registers every activity under the names the workflows call.
func (r *Region) Register(reg worker.ActivityRegistry) {
	for name, fn := range map[string]any{
		LoadTopologyName:    r.LoadTopology,
		PreflightName:       r.Preflight,
		ObserveServicesName: r.ObserveServices,
		ScaleServiceName:    r.ScaleService,
		PromoteDatabaseName: r.PromoteDatabase,
		ResyncDatabaseName:  r.ResyncDatabase,
		FlipDNSName:         r.FlipDNS,
		VerifyName:          r.Verify,
		CaptureServiceName:  r.CaptureService,
		CaptureZoneName:     r.CaptureZone,
		CaptureDatabaseName: r.CaptureDatabase,
		RestoreDatabaseName: r.RestoreDatabase,
		DeleteDatabaseName:  r.DeleteDatabase,
		VerifyDatabaseName:  r.VerifyDatabase,
		RestoreServiceName:  r.RestoreService,
		RestoreZoneName:     r.RestoreZone,
	} {
		reg.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

func (r *Region) now() time.Time { return r.cfg.Now() }

// waitECS, waitRDS and waitRoute53 take a token from the service's read
// bucket before a call, the ...Change variants from its bucket of changes;
// they return ctx's error when ctx ends first.
func (r *Region) waitECS(ctx context.Context) error     { return r.ecs.read.take(ctx) }
func (r *Region) waitRDS(ctx context.Context) error     { return r.rds.read.take(ctx) }
func (r *Region) waitRoute53(ctx context.Context) error { return r.route53.read.take(ctx) }

func (r *Region) waitECSChange(ctx context.Context) error { return r.ecs.change.take(ctx) }
func (r *Region) waitRDSChange(ctx context.Context) error { return r.rds.change.take(ctx) }
func (r *Region) waitRoute53Change(ctx context.Context) error {
	return r.route53.change.take(ctx)
}

// pacer spaces the reads of a wait one PollInterval apart, counted from
// when each read started rather than when it ended, so that the time a
// state is first seen lags it by at most an interval and one read.
type pacer struct{ t *time.Ticker }

func (r *Region) pacer() pacer { return pacer{time.NewTicker(r.cfg.PollInterval)} }

// wait returns at the next tick, or with ctx's error when ctx ends first.
func (p pacer) wait(ctx context.Context) error {
	select {
	case <-p.t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p pacer) stop() { p.t.Stop() }
