package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/devserver"
	"github.com/drover-dev/drover/infra/sandbox"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/workflows"
)

// LargeEnv, set to 1, runs BenchmarkFailover1000 under `-bench .`.
const LargeEnv = "DROVER_BENCH_LARGE"

// scenario is one benchmark's application and speeds.
type scenario struct {
	services int
	// timeScale runs the failover's simulator that many times faster
	// than AWS; baselineScale the sequential runbook's. The runbook
	// waits for every service in turn, so it runs faster still to finish
	// in seconds; both are compared in AWS's time.
	timeScale, baselineScale float64
	// target is the ratio of failover time to critical path to meet.
	target float64
}

// BenchmarkFailover100 fails over an application of 100 services, two
// databases and one hosted zone at 20 times AWS's speed: a critical path
// of 5 min 44 s at AWS speed takes 17.2 s.
func BenchmarkFailover100(b *testing.B) {
	benchFailover(b, scenario{services: 100, timeScale: 20, baselineScale: 200, target: 1.10})
}

// BenchmarkFailover1000 does the same with 1,000 services. It takes
// minutes, so `-bench .` skips it unless DROVER_BENCH_LARGE=1; naming it
// in -bench runs it too.
func BenchmarkFailover1000(b *testing.B) {
	if os.Getenv(LargeEnv) != "1" && !strings.Contains(benchFlag(), "1000") {
		b.Skipf("takes minutes; set %s=1 or name it in -bench to run it", LargeEnv)
	}
	benchFailover(b, scenario{services: 1000, timeScale: 20, baselineScale: 1000, target: 1.25})
}

func benchFlag() string {
	if f := flag.Lookup("test.bench"); f != nil {
		return f.Value.String()
	}
	return ""
}

// outcome is what one failover and its baseline measured.
type outcome struct {
	failover, criticalPath time.Duration
	// wall is the client's view: from the start request to the result.
	wall     time.Duration
	calls    int64
	history  History
	peak     MemPeak
	idleHeap uint64
	baseline RunbookResult
	// baselineAWS and sequentialAWS are the runbook's time and the sum of
	// every step's, at AWS's speed.
	baselineAWS, sequentialAWS time.Duration
}

func benchFailover(b *testing.B, sc scenario) {
	// Only the failover itself is timed: failoverOnce starts the timer.
	b.StopTimer()
	temporal := devserver.StartForTest(b)
	var last outcome
	for range b.N {
		last = failoverOnce(b, temporal.Client(), sc)
	}
	report(b, sc, last)
}

// failoverOnce seeds a fresh sandbox and fails it over with the timer
// running, then measures the sequential baseline on a second sandbox.
func failoverOnce(b *testing.B, c client.Client, sc scenario) outcome {
	ctx := context.Background()
	dir := b.TempDir()
	opts := Options{Services: sc.services, Aurora: true}.withDefaults()
	path, err := Write(dir, opts)
	if err != nil {
		b.Fatal(err)
	}

	prof := Profile(sc.timeScale)
	sb := startSandbox(b, sandbox.Options{
		Topology: path, WorkDir: filepath.Join(dir, "failover"), SimAddr: "127.0.0.1:0",
		Profile: &prof, Client: c,
	})
	est := Estimates(prof, opts.Tasks)
	// Ungraceful, as in a regional outage, the case that has to be fast:
	// nothing waits on the source region, so the critical path is the
	// target's alone. A graceful run would put stopping the source's
	// writers, and a wait on every source service, in front of it.
	pl, err := plan.Build(sb.Topology, plan.Request{
		Kind: plan.Failover, To: Standby, Mode: plan.Ungraceful, SkipApprovals: true,
	}, est)
	if err != nil {
		b.Fatal(err)
	}
	out := outcome{criticalPath: pl.Estimate}

	runtime.GC()
	var idle runtime.MemStats
	runtime.ReadMemStats(&idle)
	out.idleHeap = idle.HeapInuse
	mem := SampleMemory(50 * time.Millisecond)
	callsBefore := sb.Sim.Sim.Calls()

	b.StartTimer()
	start := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.SwitchWorkflowID(sb.Topology.App), TaskQueue: activities.WorkflowTaskQueue,
	}, workflows.FailoverWorkflowName, workflows.SwitchInput{
		App: sb.Topology.App, To: Standby, Mode: plan.Ungraceful, SkipApprovals: true,
		RequestedBy: "bench", Reason: "benchmark", Estimates: &est,
	})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithTimeout(ctx, 20*pl.Estimate+2*time.Minute)
	defer cancel()
	var p workflows.Progress
	err = run.Get(runCtx, &p)
	b.StopTimer()
	out.wall = time.Since(start)

	out.peak = mem.Stop()
	calls := CallDelta(callsBefore, sb.Sim.Sim.Calls())
	out.calls = TotalCalls(calls)
	if err != nil {
		b.Fatalf("the failover did not finish: %v", err)
	}
	requireCompleted(b, sb, &p, opts.Tasks)
	out.failover = p.Duration
	out.history, err = ReadHistory(ctx, c, run.GetID(), run.GetRunID())
	if err != nil {
		b.Fatal(err)
	}
	sb.Close()

	// Printed rather than logged: the testing package keeps only the
	// first lines of a benchmark's log.
	var chain strings.Builder
	WriteChain(&chain, Chain(&p))
	fmt.Printf("The chain of steps that set the failover's time:\n%s", chain.String())
	sts := out.history.ScheduleToStart
	fmt.Printf("Activity schedule-to-start: p50 %v, p90 %v, max %v; "+
		"scale-service start to first change: %s\n",
		Percentile(sts, 50).Round(time.Millisecond), Percentile(sts, 90).Round(time.Millisecond),
		Percentile(sts, 100).Round(time.Millisecond), dispatchSpread(&p))
	if cs := out.history.CriticalScheduleToStart; len(cs) > 0 {
		fmt.Printf("Critical path's activities, schedule-to-start: %v\n", roundAll(cs))
	}
	fmt.Printf("AWS calls: %s\n", FormatCalls(calls))
	fmt.Printf("History events: %s\n", out.history.FormatByType())

	out.baseline = runBaseline(b, c, path, filepath.Join(dir, "baseline"), sc.baselineScale)
	out.baselineAWS = time.Duration(float64(out.baseline.Total) * sc.baselineScale)
	out.sequentialAWS = SequentialTime(sb.Topology, Estimates(Profile(1), opts.Tasks),
		plan.Ungraceful)
	return out
}

// runBaseline runs the sequential runbook on a sandbox of its own with no
// workers: a person at a terminal instead of Temporal. It runs scale
// times faster than AWS, polling every second scaled likewise.
func runBaseline(b *testing.B, c client.Client, topo, dir string, scale float64) RunbookResult {
	prof := Profile(scale)
	sb := startSandbox(b, sandbox.Options{
		Topology: topo, WorkDir: dir, SimAddr: "127.0.0.1:0",
		Profile: &prof, Client: c, NoWorkers: true,
	})
	defer sb.Close()
	rb := Runbook{
		Topology: sb.Topology, From: Primary, To: Standby, Mode: plan.Ungraceful,
		Endpoint: sb.Sim.URL, Poll: time.Duration(float64(time.Second) / scale),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	res, err := rb.Run(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

func startSandbox(b *testing.B, opts sandbox.Options) *sandbox.Sandbox {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sb.Close)
	return sb
}

// requireCompleted fails the benchmark unless the run completed with
// every step done and every service running in the standby: a fast
// failover that did not fail over measures nothing.
func requireCompleted(b *testing.B, sb *sandbox.Sandbox, p *workflows.Progress, tasks int32) {
	b.Helper()
	var problems []string
	if p.Status != workflows.RunCompleted {
		problems = append(problems, fmt.Sprintf("status %s: %s", p.Status, p.Message))
	}
	for _, st := range p.Steps {
		if st.State != workflows.StepSucceeded && st.State != workflows.StepTolerated {
			problems = append(problems, fmt.Sprintf("%s %s: %s %s", st.ID, st.State,
				st.Detail, st.Error))
		}
	}
	running := 0
	for _, svc := range sb.Sim.Sim.Snapshot().Regions[Standby].ECS.Services {
		if svc.RunningCount == int(tasks) && svc.DesiredCount == int(tasks) {
			running++
		}
	}
	if running != len(sb.Topology.Services) {
		problems = append(problems, fmt.Sprintf("%d of %d services run %d tasks in %s",
			running, len(sb.Topology.Services), tasks, Standby))
	}
	if len(problems) > 0 {
		b.Fatalf("the failover did not leave the application in %s:\n  %s", Standby,
			strings.Join(problems, "\n  "))
	}
}

func report(b *testing.B, sc scenario, o outcome) {
	ratio := o.failover.Seconds() / o.criticalPath.Seconds()
	perService := float64(o.calls) / float64(sc.services)
	failoverAWS := time.Duration(float64(o.failover) * sc.timeScale)
	speedup := o.baselineAWS.Seconds() / failoverAWS.Seconds()
	const mib = 1 << 20

	// ns/op is the failover's own measure, from the workflow's start to
	// its end, rather than the client's wait for the result, which also
	// covers what the workflow does after the failover (the ledger).
	b.ReportMetric(float64(o.failover.Nanoseconds()), "ns/op")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(o.criticalPath.Seconds(), "critical-path-s")
	b.ReportMetric(perService, "calls/service")
	b.ReportMetric(float64(o.history.Events), "history-events")
	b.ReportMetric(float64(o.history.Size())/1024, "history-KiB")
	b.ReportMetric(float64(o.peak.HeapInuse)/mib, "peak-heap-MiB")
	b.ReportMetric(speedup, "speedup")

	verdict := "meets"
	if ratio > sc.target {
		verdict = "MISSES"
	}
	fmt.Printf("Failover of %d services, ungraceful, %gx AWS speed, rate limits scaled "+
		"alike:\n", sc.services, sc.timeScale)
	fmt.Printf("  time: %.2fs against a critical path of %.2fs: ratio %.3f %s its target "+
		"%.2f (%.2fs from start request to result)\n", o.failover.Seconds(),
		o.criticalPath.Seconds(), ratio, verdict, sc.target, o.wall.Seconds())
	fmt.Printf("  AWS calls: %d, %.1f per service\n", o.calls, perService)
	fmt.Printf("  history: %d events (%.2f%% of %d), %.0f KiB (%.2f%% of 50 MiB)\n",
		o.history.Events, 100*float64(o.history.Events)/HistoryEventLimit, HistoryEventLimit,
		float64(o.history.Size())/1024, 100*float64(o.history.Size())/HistoryByteLimit)
	fmt.Printf("  memory of the process (workers, simulator, client): peak heap in use "+
		"%.0f MiB (%.0f MiB before the run), peak from the OS %.0f MiB\n",
		float64(o.peak.HeapInuse)/mib, float64(o.idleHeap)/mib, float64(o.peak.Sys)/mib)
	fmt.Printf("  sequential runbook: %s at AWS speed (%.1fs at %gx; every step's time "+
		"added up is %s) against the failover's %s: %.1fx faster\n",
		o.baselineAWS.Round(time.Second), o.baseline.Total.Seconds(), sc.baselineScale,
		o.sequentialAWS.Round(time.Second), failoverAWS.Round(time.Second), speedup)
}

// dispatchSpread says how long the scale-service steps took from their
// start in the workflow to their first change, across all of them.
func dispatchSpread(p *workflows.Progress) string {
	var ds []time.Duration
	for _, st := range p.Steps {
		if st.Kind == plan.StepScaleService && st.Started != nil && st.ActionStarted != nil {
			ds = append(ds, st.ActionStarted.Sub(*st.Started))
		}
	}
	return fmt.Sprintf("p50 %v, p90 %v, max %v", Percentile(ds, 50).Round(time.Millisecond),
		Percentile(ds, 90).Round(time.Millisecond), Percentile(ds, 100).Round(time.Millisecond))
}

// roundAll rounds durations to the millisecond, for printing.
func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
