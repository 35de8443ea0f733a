// Package sandbox runs drover on one machine with no AWS account: the
// simulated regions seeded with an application, a Temporal dev server (or a
// server the caller already has) and the workers of every region. `drover
// dev`, the end-to-end tests and the benchmarks all build on it.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/goccy/go-yaml"
	"go.temporal.io/sdk/client"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/awsconfig"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/infra/devserver"
	"github.com/drover-dev/drover/infra/seed"
	"github.com/drover-dev/drover/topology"
	"github.com/drover-dev/drover/worker"
)

// Options configure a sandbox. The zero value is not usable: a topology is
// required.
type Options struct {
	// Topology is the application to seed, such as examples/shop.yaml.
	Topology string
	// WorkDir keeps the sandbox's files (its copy of the topology and, by
	// default, its ledger); it is created if missing.
	WorkDir string
	// LedgerDSN names the drill ledger the workers hold, as ledger.Open
	// takes it; empty means ledger.db in WorkDir. The simulator starts
	// empty each time, but the ledger is kept, so drills run on different
	// days compare with each other.
	LedgerDSN string
	// SimAddr is the simulator's loopback address; "127.0.0.1:0" picks a
	// free port.
	SimAddr string
	// Profile sets the simulator's durations; nil means the defaults at
	// DefaultTimeScale.
	Profile *awssim.Profile
	// Client, when set, is a Temporal server to use; otherwise a dev
	// server is started with DevServer's options.
	Client    client.Client
	DevServer devserver.Options
	// PollInterval of the activities; zero scales one second by the
	// simulator's time scale, so that timing is as precise, relative to
	// the durations, as in production.
	PollInterval time.Duration
	// NoWorkers leaves starting workers to the caller.
	NoWorkers bool
	// Progress receives a line per step; nil discards.
	Progress io.Writer
}

// DefaultTimeScale makes the sandbox sixty times faster than AWS: a
// four-minute promotion takes four seconds.
const DefaultTimeScale = 60

// Sandbox is a running sandbox.
type Sandbox struct {
	Sim         *awssim.Server
	Temporal    *devserver.Server // nil when the caller gave a client
	Client      client.Client
	Workers     *worker.Workers
	Topology    *topology.Topology
	TopologyDir string
	Seed        seed.Result
	WorkerCfg   worker.Config
	// LedgerDSN is the ledger the workers record runs and captures in.
	LedgerDSN string
}

// Start builds the sandbox: simulator, seeded application, Temporal and
// workers. On error, whatever it started is stopped again.
func Start(ctx context.Context, opts Options) (sb *Sandbox, err error) {
	if opts.Topology == "" {
		return nil, errors.New("sandbox: a topology file is required")
	}
	if opts.WorkDir == "" {
		opts.WorkDir = ".drover"
	}
	if opts.LedgerDSN == "" {
		opts.LedgerDSN = filepath.Join(opts.WorkDir, "ledger.db")
	}
	if opts.SimAddr == "" {
		opts.SimAddr = "127.0.0.1:4566"
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	profile := awssim.DefaultProfile()
	profile.TimeScale = DefaultTimeScale
	if opts.Profile != nil {
		profile = *opts.Profile
	}

	topo, err := topology.Load(opts.Topology)
	if err != nil {
		return nil, err
	}

	sb = &Sandbox{LedgerDSN: opts.LedgerDSN}
	defer func() {
		if err != nil {
			sb.Close()
			sb = nil
		}
	}()

	sb.Sim, err = awssim.Listen(opts.SimAddr, awssim.New(awssim.Options{Profile: &profile}))
	if err != nil {
		return sb, err
	}
	fmt.Fprintf(progress, "Simulated AWS regions at %s (%gx AWS speed)\n",
		sb.Sim.URL, profile.TimeScale)

	sb.Topology = sandboxCopy(topo, sb.Sim.URL)
	sb.TopologyDir = filepath.Join(opts.WorkDir, "topologies")
	if err := writeTopology(sb.TopologyDir, sb.Topology); err != nil {
		return sb, err
	}

	fmt.Fprintf(progress, "Seeding %s through the AWS APIs\n", topo.App)
	sb.Seed, err = seed.Apply(ctx, topo, sb.clientsFor(ctx), progress)
	if err != nil {
		return sb, fmt.Errorf("seed %s: %w", topo.App, err)
	}

	sb.Client = opts.Client
	if sb.Client == nil {
		fmt.Fprintln(progress, "Starting the Temporal dev server")
		sb.Temporal, err = devserver.Start(ctx, opts.DevServer)
		if err != nil {
			return sb, err
		}
		sb.Client = sb.Temporal.Client()
	}

	poll := opts.PollInterval
	if poll == 0 {
		poll = time.Duration(float64(time.Second) / profile.TimeScale)
		poll = max(poll, 10*time.Millisecond)
	}
	sb.WorkerCfg = worker.Config{
		Regions:           topo.RegionNames(),
		Endpoint:          sb.Sim.URL,
		StaticCredentials: true,
		TopologyDir:       sb.TopologyDir,
		PollInterval:      poll,
		StopTimeout:       5 * time.Second,
		// AWS's API quotas count calls per second of real time. The
		// simulator compresses every wait but not the limits, so they are
		// scaled like the poll interval: against the simulated cloud they
		// then weigh what they would weigh against AWS.
		ECSRate:     activities.DefaultECSRate * profile.TimeScale,
		RDSRate:     activities.DefaultRDSRate * profile.TimeScale,
		Route53Rate: activities.DefaultRoute53Rate * profile.TimeScale,
		// Without a ledger every run would spend seconds retrying the
		// write of its record, and restores of services, which read
		// their captures from it, could not run at all.
		LedgerDSN: opts.LedgerDSN,
	}
	if !opts.NoWorkers {
		if err := sb.StartWorkers(ctx); err != nil {
			return sb, err
		}
	}
	return sb, nil
}

// StartWorkers starts the workers of every region in this process.
func (sb *Sandbox) StartWorkers(ctx context.Context) error {
	if sb.Workers != nil {
		return errors.New("sandbox: workers already running")
	}
	ws, err := worker.Start(ctx, sb.Client, sb.WorkerCfg)
	if err != nil {
		return err
	}
	sb.Workers = ws
	return nil
}

// StopWorkers stops the workers, as a crashed or redeployed worker would.
func (sb *Sandbox) StopWorkers() {
	if sb.Workers != nil {
		sb.Workers.Stop()
		sb.Workers = nil
	}
}

// Close stops everything the sandbox started.
func (sb *Sandbox) Close() {
	sb.StopWorkers()
	if sb.Temporal != nil {
		_ = sb.Temporal.Stop()
	}
	if sb.Sim != nil {
		_ = sb.Sim.Close()
	}
}

func (sb *Sandbox) clientsFor(ctx context.Context) func(string) seed.Clients {
	return func(region string) seed.Clients {
		cfg, err := awsconfig.Load(ctx, awsconfig.Options{
			Region: region, Endpoint: sb.Sim.URL, StaticCredentials: true,
		})
		if err != nil {
			// Load fails only on a bad environment, which the first
			// call would hit for every region alike.
			panic(fmt.Sprintf("sandbox: AWS configuration for %s: %v", region, err))
		}
		return seed.Clients{
			ECS: ecs.NewFromConfig(cfg), RDS: rds.NewFromConfig(cfg),
			Route53: route53.NewFromConfig(cfg),
		}
	}
}

// sandboxCopy adapts a topology to the sandbox: health URLs point at the
// simulator's view of the application in each region, and the sandbox's
// zones may flip in practice runs, since no production traffic uses them.
func sandboxCopy(t *topology.Topology, simURL string) *topology.Topology {
	c := *t
	c.Regions = append([]topology.Region(nil), t.Regions...)
	for i := range c.Regions {
		c.Regions[i].HealthURL = simURL + "/_sim/app/" + c.Regions[i].Name + "/health"
	}
	c.DNS = append([]topology.Zone(nil), t.DNS...)
	for i := range c.DNS {
		c.DNS[i].FlipInPractice = true
	}
	return &c
}

func writeTopology(dir string, t *topology.Topology) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	out, err := yaml.Marshal(t)
	if err != nil {
		return fmt.Errorf("sandbox: write topology: %w", err)
	}
	header := "# The sandbox's copy of " + t.App + "'s topology, written by drover dev.\n"
	path := filepath.Join(dir, t.App+".yaml")
	if err := os.WriteFile(path, append([]byte(header), out...), 0o644); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	// Reading it back proves the copy is a valid topology.
	if _, err := topology.Load(path); err != nil {
		return fmt.Errorf("sandbox: the topology copy does not load: %w", err)
	}
	return nil
}
