// Package worker runs drover's Temporal workers: one per region on that
// region's task queue, holding AWS clients bound to the region, and one on
// the shared workflow queue. A process may serve several regions in
// development; in production each region runs its own.
package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills/ledger"
	"github.com/drover-dev/drover/infra/awsconfig"
	"github.com/drover-dev/drover/workflows"
)

// Config says which regions a process serves and how it reaches AWS.
type Config struct {
	// Regions this process serves; each gets its own worker and clients.
	Regions []string
	// Endpoint, when set, points every region's AWS clients at one
	// endpoint (the sandbox's simulator); Endpoints overrides it per region.
	Endpoint  string
	Endpoints map[string]string
	// StaticCredentials uses dummy credentials, for the simulator.
	StaticCredentials bool
	// TopologyDir holds <app>.yaml topology files.
	TopologyDir string
	// PollInterval is how often waiting activities read AWS; zero means
	// the activities' default of one second.
	PollInterval time.Duration
	// StopTimeout is how long a stopping worker lets running activities
	// finish; zero means 30 seconds.
	StopTimeout time.Duration
	// MaxConcurrentActivities bounds each region worker; zero means 5,000,
	// enough for a failover of 1,000 services at once.
	MaxConcurrentActivities int
	// ECSRate, RDSRate and Route53Rate are the calls a second each region
	// makes to each service; zero keeps the activities' defaults, which
	// stay under AWS's default quotas.
	ECSRate     float64
	RDSRate     float64
	Route53Rate float64
	// LedgerDSN, when set, names the drill ledger (a SQLite file or a
	// PostgreSQL connection string, as ledger.Open takes it) that Start
	// opens and Stop closes; Ledger is one the caller opened and closes.
	// With either, the workflow-queue worker serves the ledger
	// activities, which the capture, restore and drill workflows need.
	LedgerDSN string
	Ledger    *ledger.Ledger
}

// Workers are the running workers of one process.
type Workers struct {
	workers []sdkworker.Worker
	// ledger is closed by Stop when Start opened it.
	ledger *ledger.Ledger
}

// Start builds and starts the workers. It fails before starting any when
// the configuration is wrong.
func Start(ctx context.Context, c client.Client, cfg Config) (*Workers, error) {
	if len(cfg.Regions) == 0 {
		return nil, errors.New("worker: name at least one region to serve")
	}
	if cfg.TopologyDir == "" {
		return nil, errors.New("worker: a topology directory is required")
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 30 * time.Second
	}
	if cfg.MaxConcurrentActivities == 0 {
		cfg.MaxConcurrentActivities = 5000
	}

	var regions []*activities.Region
	for _, name := range cfg.Regions {
		endpoint := cfg.Endpoint
		if e, ok := cfg.Endpoints[name]; ok {
			endpoint = e
		}
		awsCfg, err := awsconfig.Load(ctx, awsconfig.Options{
			Region: name, Endpoint: endpoint, StaticCredentials: cfg.StaticCredentials,
		})
		if err != nil {
			return nil, err
		}
		regions = append(regions, activities.NewRegion(activities.Config{
			Region: name, PollInterval: cfg.PollInterval, TopologyDir: cfg.TopologyDir,
			ECSRate: cfg.ECSRate, RDSRate: cfg.RDSRate, Route53Rate: cfg.Route53Rate,
		}, activities.NewClients(awsCfg)))
	}

	led := cfg.Ledger
	if led == nil && cfg.LedgerDSN != "" {
		var err error
		if led, err = ledger.Open(ctx, cfg.LedgerDSN); err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
	}
	ws := &Workers{}
	if cfg.Ledger == nil {
		ws.ledger = led
	}

	for _, r := range regions {
		w := sdkworker.New(c, activities.TaskQueue(r.Name()), sdkworker.Options{
			WorkerStopTimeout:                  cfg.StopTimeout,
			MaxConcurrentActivityExecutionSize: cfg.MaxConcurrentActivities,
			// A failover schedules hundreds of activities at once; a
			// fixed pair of pollers would hand them out seconds late.
			ActivityTaskPollerBehavior: sdkworker.NewPollerBehaviorAutoscaling(
				sdkworker.PollerBehaviorAutoscalingOptions{}),
			Identity: identity("region " + r.Name()),
		})
		r.Register(w)
		ws.workers = append(ws.workers, w)
	}

	// The workflow queue also reads topology files, which needs no region.
	wf := sdkworker.New(c, activities.WorkflowTaskQueue, sdkworker.Options{
		WorkerStopTimeout: cfg.StopTimeout,
		Identity:          identity("workflows"),
	})
	workflows.Register(wf)
	wf.RegisterActivityWithOptions(regions[0].LoadTopology,
		activity.RegisterOptions{Name: activities.LoadTopologyName})
	if led != nil {
		activities.NewLedger(led).Register(wf)
	}
	ws.workers = append(ws.workers, wf)

	for i, w := range ws.workers {
		if err := w.Start(); err != nil {
			for _, started := range ws.workers[:i] {
				started.Stop()
			}
			ws.closeLedger()
			return nil, fmt.Errorf("start worker: %w", err)
		}
	}
	return ws, nil
}

// Stop stops every worker, letting running activities finish within the
// stop timeout.
func (ws *Workers) Stop() {
	for _, w := range ws.workers {
		w.Stop()
	}
	// After the workers: a ledger activity may still be finishing.
	ws.closeLedger()
}

// closeLedger closes the ledger Start opened, once.
func (ws *Workers) closeLedger() {
	if ws.ledger != nil {
		_ = ws.ledger.Close()
		ws.ledger = nil
	}
}

// Run serves until ctx ends, then stops gracefully.
func Run(ctx context.Context, c client.Client, cfg Config) error {
	ws, err := Start(ctx, c, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	ws.Stop()
	return nil
}

func identity(role string) string {
	return fmt.Sprintf("drover %s@%d", role, os.Getpid())
}
