package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills/ledger"
	"github.com/drover-dev/drover/topology"
	"github.com/drover-dev/drover/worker"
)

// workerOptions are the flags of `drover worker`.
type workerOptions struct {
	regions      []string
	topologies   string
	pollInterval time.Duration
	stopTimeout  time.Duration
	endpoints    map[string]string
	ledger       string
}

func newWorkerCommand(g *globals) *cobra.Command {
	o := &workerOptions{}
	cmd := &cobra.Command{
		Use:   "worker --regions REGION[,REGION...] [--topologies DIR]",
		Short: "Serve the task queues of some AWS regions until interrupted",
		Long: `Run drover's Temporal workers: for each region, a worker on that region's task
queue whose AWS clients are bound to the region, and a worker on the shared
workflow queue. In production each region runs its own; one process may serve
several in development.

AWS credentials come from the SDK's default chain (environment, shared files,
SSO, instance or task roles). With --aws-endpoint pointing at a loopback
address, such as the simulator's, dummy credentials are used instead.

The workers also hold the drill ledger (--ledger): the workflow queue's worker
records every drill and standalone failover there, and keeps the captures that
restores of services and zones read. Every process that serves the workflow
queue must reach the same ledger: a SQLite file on one machine, or PostgreSQL
for a team.

SIGINT or SIGTERM stops the workers gracefully: running activities get up to
--stop-timeout to finish, and Temporal hands anything left to another worker.`,
		Example: `  drover worker --regions us-east-1,us-west-2 --topologies examples
  drover worker --regions us-west-2 --aws-endpoint http://127.0.0.1:4566
  DROVER_LEDGER=postgres://drover@db.internal:5432/drover drover worker --regions us-east-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.topologies = g.topologyDir(cmd, o.topologies)
			o.ledger = g.ledgerDSN(cmd, o.ledger)
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), g)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.regions, "regions", nil, "AWS regions to serve, comma-separated (required)")
	bindTopologies(f, &o.topologies)
	f.DurationVar(&o.pollInterval, "poll-interval", time.Second,
		"how often waiting steps read AWS; it bounds how precisely recovery times are measured")
	f.DurationVar(&o.stopTimeout, "stop-timeout", 30*time.Second,
		"how long running activities may take to finish once stopping")
	f.StringToStringVar(&o.endpoints, "region-endpoint", nil,
		"REGION=URL: an AWS endpoint for one region, overriding --aws-endpoint there")
	bindLedger(f, &o.ledger)
	return cmd
}

// config checks the flags and returns the workers' configuration.
func (o *workerOptions) config(g *globals) (worker.Config, error) {
	cfg := worker.Config{
		TopologyDir: o.topologies, PollInterval: o.pollInterval, StopTimeout: o.stopTimeout,
		Endpoint: g.awsEndpoint, Endpoints: o.endpoints, LedgerDSN: o.ledger,
	}
	if len(o.regions) == 0 {
		return cfg, fmt.Errorf("--regions is required: name the AWS regions to serve, " +
			"such as --regions us-east-1,us-west-2")
	}
	for _, r := range o.regions {
		r = strings.TrimSpace(r)
		if !topology.ValidRegionName(r) {
			return cfg, fmt.Errorf("--regions: %q is not an AWS region name such as us-east-1", r)
		}
		if slices.Contains(cfg.Regions, r) {
			return cfg, fmt.Errorf("--regions names %s twice", r)
		}
		cfg.Regions = append(cfg.Regions, r)
	}
	for r, e := range o.endpoints {
		if !slices.Contains(cfg.Regions, r) {
			return cfg, fmt.Errorf("--region-endpoint %s=%s: %s is not among --regions (%s)",
				r, e, r, strings.Join(cfg.Regions, ", "))
		}
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") ||
			u.Host == "" {
			return cfg, fmt.Errorf("--region-endpoint %s=%s: want an http:// or https:// URL", r, e)
		}
	}
	if o.pollInterval < 10*time.Millisecond {
		return cfg, fmt.Errorf("--poll-interval %s: want at least 10ms", o.pollInterval)
	}
	if o.stopTimeout <= 0 {
		return cfg, fmt.Errorf("--stop-timeout %s: want a positive duration", o.stopTimeout)
	}
	if len(listApps(o.topologies)) == 0 {
		return cfg, fmt.Errorf("no topology files (<app>.yaml) in %s; pass --topologies DIR "+
			"or set %s to the folder that holds them", o.topologies, topologiesEnv)
	}

	// Dummy credentials go only to a local endpoint: real AWS must get
	// real ones, and a remote endpoint must not be sent fake ones.
	cfg.StaticCredentials = true
	for _, r := range cfg.Regions {
		if !isLoopbackURL(endpointOf(cfg, r)) {
			cfg.StaticCredentials = false
		}
	}
	return cfg, nil
}

func (o *workerOptions) run(ctx context.Context, stdout, stderr io.Writer, g *globals) error {
	cfg, err := o.config(g)
	if err != nil {
		return err
	}
	// Opened before Temporal is dialled, so that a wrong ledger fails
	// at once rather than after the workers have started.
	l, err := ledger.Open(ctx, cfg.LedgerDSN)
	if err != nil {
		return fmt.Errorf("%w; pass --ledger (or %s) the ledger every worker shares", err,
			ledgerEnv)
	}
	defer l.Close()
	cfg.Ledger = l

	c, err := g.dial(ctx, stderr, slog.LevelInfo)
	if err != nil {
		return err
	}
	defer c.Close()

	ws, err := worker.Start(ctx, c, cfg)
	if err != nil {
		return err
	}
	if err := o.describe(stdout, g, cfg); err != nil {
		ws.Stop()
		return err
	}
	<-ctx.Done()
	ws.Stop()
	if g.output == outputText {
		fmt.Fprintln(stdout, "Workers stopped.")
	}
	return nil
}

// describe says which queues this process serves and how it reaches AWS.
func (o *workerOptions) describe(w io.Writer, g *globals, cfg worker.Config) error {
	queues := map[string]string{}
	for _, r := range cfg.Regions {
		queues[r] = activities.TaskQueue(r)
	}
	if g.output == outputJSON {
		return json.NewEncoder(w).Encode(map[string]any{
			"temporal":       g.temporalAddress,
			"namespace":      g.namespace,
			"workflowQueue":  activities.WorkflowTaskQueue,
			"activityQueues": queues,
			"topologies":     cfg.TopologyDir,
			"ledger":         shownDSN(cfg.LedgerDSN),
		})
	}

	fmt.Fprintf(w, "Serving %s on Temporal %s (namespace %s)\n",
		strings.Join(cfg.Regions, ", "), g.temporalAddress, g.namespace)
	fmt.Fprintf(w, "  workflow queue  %s\n", activities.WorkflowTaskQueue)
	for _, r := range cfg.Regions {
		aws := "AWS's endpoints"
		if e := endpointOf(cfg, r); e != "" {
			aws = e
		}
		creds := "the SDK's default credential chain"
		if cfg.StaticCredentials {
			creds = "dummy credentials (local endpoint)"
		}
		fmt.Fprintf(w, "  activity queue  %-18s %s in %s, %s\n", queues[r], aws, r, creds)
	}
	fmt.Fprintf(w, "  topologies      %s (%s)\n", cfg.TopologyDir,
		strings.Join(listApps(cfg.TopologyDir), ", "))
	fmt.Fprintf(w, "  ledger          %s\n", shownDSN(cfg.LedgerDSN))
	_, err := fmt.Fprintf(w, "Press Ctrl-C to stop; running activities get %s to finish.\n",
		cfg.StopTimeout)
	return err
}

// isLoopbackURL reports whether an endpoint is on this machine.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// endpointOf is the AWS endpoint a region's clients use; "" means AWS's.
func endpointOf(cfg worker.Config, region string) string {
	if e, ok := cfg.Endpoints[region]; ok {
		return e
	}
	return cfg.Endpoint
}
