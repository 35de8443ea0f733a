package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/awsconfig"
	"github.com/drover-dev/drover/worker"
	"github.com/drover-dev/drover/workflows"
)

// TuneEnv names the environment variable that changes the workers the
// benchmarks run, to measure what a change to them would gain. It holds a
// comma-separated list of:
//
//   - quotas: the activities' rate limits times the simulator's time
//     scale;
//   - pollers: activity task pollers that scale with the backlog instead
//     of the SDK's fixed two.
//
// Unset, the benchmarks run the workers that the sandbox starts.
const TuneEnv = "DROVER_BENCH_TUNE"

// tuning is what TuneEnv asks for.
type tuning struct {
	quotas, pollers bool
}

func tuningFromEnv() (tuning, error) {
	var t tuning
	for _, w := range strings.Split(os.Getenv(TuneEnv), ",") {
		switch strings.TrimSpace(w) {
		case "":
		case "quotas":
			t.quotas = true
		case "pollers":
			t.pollers = true
		default:
			return t, fmt.Errorf("%s: %q is neither quotas nor pollers", TuneEnv, w)
		}
	}
	return t, nil
}

func (t tuning) any() bool { return t.quotas || t.pollers }

func (t tuning) describe(scale float64) string {
	var parts []string
	if t.quotas {
		parts = append(parts, fmt.Sprintf("rate limits times %g", scale))
	}
	if t.pollers {
		parts = append(parts, "autoscaled activity pollers")
	}
	if len(parts) == 0 {
		return "the sandbox's workers"
	}
	return strings.Join(parts, ", ")
}

// startTunedWorkers starts workers as worker.Start does, with what t asks
// for changed.
//
// The rate limits stand for AWS's API quotas, which count calls per
// second of real time. A simulator that runs scale times faster than AWS
// compresses every wait but not the limits, so in the sandbox they weigh
// scale times more against the critical path than they would against AWS.
// Scaling them, as the sandbox already scales the poll interval, measures
// what a failover would take at AWS's speed.
//
// TODO: worker.Config can set neither, so this repeats its wiring (without
// the ledger, which no failover step needs); drop it once it can.
func startTunedWorkers(ctx context.Context, c client.Client, cfg worker.Config, t tuning,
	scale float64) (stop func(), err error) {
	rate := func(r float64) float64 {
		if t.quotas {
			return r * scale
		}
		return r
	}
	var regions []*activities.Region
	for _, name := range cfg.Regions {
		awsCfg, err := awsconfig.Load(ctx, awsconfig.Options{
			Region: name, Endpoint: cfg.Endpoint, StaticCredentials: cfg.StaticCredentials,
		})
		if err != nil {
			return nil, err
		}
		regions = append(regions, activities.NewRegion(activities.Config{
			Region: name, PollInterval: cfg.PollInterval, TopologyDir: cfg.TopologyDir,
			ECSRate:     rate(activities.DefaultECSRate),
			RDSRate:     rate(activities.DefaultRDSRate),
			Route53Rate: rate(activities.DefaultRoute53Rate),
		}, activities.NewClients(awsCfg)))
	}

	var ws []sdkworker.Worker
	for _, r := range regions {
		opts := sdkworker.Options{
			WorkerStopTimeout:                  cfg.StopTimeout,
			MaxConcurrentActivityExecutionSize: 5000,
		}
		if t.pollers {
			opts.ActivityTaskPollerBehavior = sdkworker.NewPollerBehaviorAutoscaling(
				sdkworker.PollerBehaviorAutoscalingOptions{})
		}
		w := sdkworker.New(c, activities.TaskQueue(r.Name()), opts)
		r.Register(w)
		ws = append(ws, w)
	}
	wf := sdkworker.New(c, activities.WorkflowTaskQueue, sdkworker.Options{
		WorkerStopTimeout: cfg.StopTimeout,
	})
	workflows.Register(wf)
	wf.RegisterActivityWithOptions(regions[0].LoadTopology,
		activity.RegisterOptions{Name: activities.LoadTopologyName})
	ws = append(ws, wf)

	var once sync.Once
	stop = func() {
		once.Do(func() {
			for _, w := range ws {
				w.Stop()
			}
		})
	}
	for i, w := range ws {
		if err := w.Start(); err != nil {
			for _, started := range ws[:i] {
				started.Stop()
			}
			return nil, fmt.Errorf("start worker: %w", err)
		}
	}
	return stop, nil
}
