package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/topology"
)

// CaptureWorkflowName is the Capture workflow's type name.
const CaptureWorkflowName = "Capture"

// CaptureWorkflowID is the workflow id of an application's capture. A
// Temporal Schedule appends the time of each run to it.
func CaptureWorkflowID(app string) string { return "drover-capture-" + app }

// CaptureInput is the only argument of Capture.
type CaptureInput struct {
	App string `json:"app"`
}

// CaptureSummary is Capture's result: what was captured and saved, and
// what was not, with the reason.
type CaptureSummary struct {
	App      string           `json:"app"`
	Started  time.Time        `json:"started"`
	Ended    time.Time        `json:"ended"`
	Captured []CapturedItem   `json:"captured"`
	Failed   []CaptureFailure `json:"failed,omitempty"`
}

// CapturedItem is one capture saved in the ledger.
type CapturedItem struct {
	Component  string    `json:"component"`
	Kind       string    `json:"kind"`
	Region     string    `json:"region"`
	Name       string    `json:"name"`
	CapturedAt time.Time `json:"capturedAt"`
	// By is the region whose worker took it (a zone's may be any).
	By string `json:"by"`
}

// CaptureFailure is one component that was not captured or not saved.
type CaptureFailure struct {
	Component string `json:"component"`
	Kind      string `json:"kind"`
	Region    string `json:"region"`
	Reason    string `json:"reason"`
}

// Timeouts of a capture. Each item is best effort: a region that does not
// answer within captureBudget is reported, and the others are saved.
const (
	captureBudget  = 2 * time.Minute
	captureAttempt = time.Minute
	// saveBatchBytes bounds the definitions sent to SaveCaptures at once,
	// well under Temporal's payload limit of 2 MB.
	saveBatchBytes = 256 << 10
	saveBatchCount = 100
)

// Capture copies every service's and database's settings in every region
// and every hosted zone's records, and saves them in the ledger, so that
// a restore never depends on the region that lost them. Each item is
// best effort: one that fails is reported in the summary and the others
// are saved. A zone is read through the primary region's worker, or a
// standby's when that fails. It is meant to run on a Temporal Schedule.
func Capture(ctx workflow.Context, in CaptureInput) (*CaptureSummary, error) {
	if !topology.ValidName(in.App) {
		return nil, invalidInput("app must be lowercase letters, digits and dashes, not %q",
			in.App)
	}
	logger := log.With(workflow.GetLogger(ctx), "App", in.App)
	sum := &CaptureSummary{App: in.App, Started: workflow.Now(ctx)}
	topo, err := loadTopology(ctx, in.App)
	if err != nil {
		return nil, err
	}

	jobs := captureJobs(in.App, topo)
	logger.Info("Capture started", "Items", len(jobs))
	results := make([]captureResult, len(jobs))
	wg := workflow.NewWaitGroup(ctx)
	for i, j := range jobs {
		wg.Add(1)
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer wg.Done()
			results[i] = j.run(gctx)
		})
	}
	wg.Wait(ctx)

	var captures []drills.Capture
	var from []int // the job of each capture
	for i, res := range results {
		if res.err != nil {
			sum.Failed = append(sum.Failed, jobs[i].failure(res.err))
			continue
		}
		captures = append(captures, res.capture)
		from = append(from, i)
	}

	refused, err := saveCaptures(ctx, captures)
	if err != nil {
		return nil, fmt.Errorf("save %d captures of %s in the ledger: %w", len(captures),
			in.App, err)
	}
	for n, c := range captures {
		j, res := jobs[from[n]], results[from[n]]
		if why, ok := refused[keyOfCapture(c)]; ok {
			sum.Failed = append(sum.Failed, j.failure(fmt.Errorf("the ledger refused it: %s",
				why)))
			continue
		}
		sum.Captured = append(sum.Captured, CapturedItem{Component: j.component, Kind: c.Kind,
			Region: c.Region, Name: c.Name, CapturedAt: c.CapturedAt, By: res.by})
	}
	sum.Ended = workflow.Now(ctx)

	if len(sum.Failed) > 0 {
		logger.Warn("Capture finished with failures", "Captured", len(sum.Captured),
			"Failed", len(sum.Failed))
	} else {
		logger.Info("Capture finished", "Captured", len(sum.Captured))
	}
	if len(sum.Captured) == 0 && len(jobs) > 0 {
		// Nothing at all: the schedule's run should show as failed.
		var reasons []string
		for _, f := range sum.Failed {
			reasons = append(reasons, fmt.Sprintf("%s %s in %s: %s", f.Kind, f.Component,
				f.Region, f.Reason))
		}
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"nothing of %s was captured: %s", in.App, strings.Join(reasons, "; ")),
			"CaptureFailed", nil)
	}
	return sum, nil
}

// loadTopology reads an application's topology through the workflow
// queue, which every worker serves.
func loadTopology(ctx workflow.Context, app string) (*topology.Topology, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           activities.WorkflowTaskQueue,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	var topo topology.Topology
	if err := workflow.ExecuteActivity(actx, activities.LoadTopologyName, app).
		Get(ctx, &topo); err != nil {
		return nil, fmt.Errorf("load topology of %s: %w", app, err)
	}
	return &topo, nil
}

// captureJob is one thing to capture: an activity, tried on each region's
// queue in turn until one succeeds.
type captureJob struct {
	component string
	kind      string
	region    string // where the captured thing lives; "global" for a zone
	activity  string
	input     any
	queues    []string // regions whose workers may take it, in order
	// budget bounds the attempts on one region's queue.
	budget time.Duration
}

type captureResult struct {
	capture drills.Capture
	by      string
	err     error
}

// captureJobs lists what to capture: per region, its services and its
// copy of each database; then each zone once.
func captureJobs(app string, topo *topology.Topology) []captureJob {
	var jobs []captureJob
	for _, region := range topo.RegionNames() {
		for _, svc := range topo.Services {
			name := svc.Service
			if name == "" {
				name = svc.Name
			}
			jobs = append(jobs, captureJob{
				component: svc.Name, kind: drills.CaptureECSService, region: region,
				activity: activities.CaptureServiceName, queues: []string{region},
				budget: captureBudget,
				input: activities.CaptureServiceInput{App: app, Service: activities.ServiceRef{
					Name: svc.Name, Cluster: svc.Cluster, Service: name}},
			})
		}
		for _, db := range topo.Databases {
			kind, _, ok := activities.DatabaseCaptureKey(db, region)
			if !ok {
				continue
			}
			jobs = append(jobs, captureJob{
				component: db.Name, kind: kind, region: region,
				activity: activities.CaptureDatabaseName, queues: []string{region},
				budget: captureBudget,
				input:  activities.CaptureDatabaseInput{App: app, Database: db},
			})
		}
	}
	for _, z := range topo.DNS {
		jobs = append(jobs, captureJob{
			component: z.Name, kind: drills.CaptureRoute53Zone,
			region:   activities.ZoneCaptureRegion,
			activity: activities.CaptureZoneName, queues: topo.RegionNames(),
			// Route 53 answers every region alike; a region that does
			// not answer soon is passed over for the next.
			budget: captureAttempt,
			input:  activities.CaptureZoneInput{App: app, Zone: z},
		})
	}
	return jobs
}

// run tries the job on each of its queues in turn.
func (j captureJob) run(ctx workflow.Context) captureResult {
	var errs []string
	for _, region := range j.queues {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			TaskQueue: activities.TaskQueue(region),
			// A region whose workers are gone never starts the task;
			// the budget ends the wait.
			ScheduleToCloseTimeout: j.budget,
			StartToCloseTimeout:    captureAttempt,
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval:    time.Second,
				BackoffCoefficient: 2,
				MaximumInterval:    15 * time.Second,
			},
		})
		var c drills.Capture
		err := workflow.ExecuteActivity(actx, j.activity, j.input).Get(ctx, &c)
		if err == nil {
			return captureResult{capture: c, by: region}
		}
		errs = append(errs, fmt.Sprintf("via %s: %s", region, failureReason(err)))
	}
	return captureResult{err: errors.New(strings.Join(errs, "; "))}
}

func (j captureJob) failure(err error) CaptureFailure {
	return CaptureFailure{Component: j.component, Kind: j.kind, Region: j.region,
		Reason: err.Error()}
}

// failureReason says why an activity failed: its own words, or which
// timeout ended it.
func failureReason(err error) string {
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		return "no answer in time (" + timeout.TimeoutType().String() + " timeout)"
	}
	return rootMessage(err)
}

// captureKey identifies a capture among SaveCaptures' refusals.
type captureKey struct{ kind, region, name string }

func keyOfCapture(c drills.Capture) captureKey { return captureKey{c.Kind, c.Region, c.Name} }

// saveCaptures stores the captures in the ledger in batches small enough
// for one payload, and returns why the ledger refused those it refused.
func saveCaptures(ctx workflow.Context, captures []drills.Capture) (
	map[captureKey]string, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           activities.WorkflowTaskQueue,
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         retryPolicy,
	})
	refused := map[captureKey]string{}
	for start := 0; start < len(captures); {
		end, size := start, 0
		for end < len(captures) && end-start < saveBatchCount &&
			(end == start || size+len(captures[end].Definition) <= saveBatchBytes) {
			size += len(captures[end].Definition)
			end++
		}
		var res activities.SaveCapturesResult
		err := workflow.ExecuteActivity(actx, activities.SaveCapturesName,
			captures[start:end]).Get(ctx, &res)
		if err != nil {
			return nil, err
		}
		for _, r := range res.Refused {
			refused[captureKey{r.Kind, r.Region, r.Name}] = r.Reason
		}
		start = end
	}
	return refused, nil
}
