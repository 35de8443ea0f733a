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

// RestoreWorkflowName is the Restore workflow's type name.
const RestoreWorkflowName = "Restore"

// RestoreWorkflowID is the workflow id of a restore of one component in
// one region, so that only one such restore runs at a time.
func RestoreWorkflowID(app, component, region string) string {
	return "drover-restore-" + app + "-" + component + "-" + region
}

// RestoreInput is the only argument of Restore: one JSON object, as the
// web UI's start form takes it. App and Component are required; a
// database also needs TargetID.
type RestoreInput struct {
	App string `json:"app"`
	// Component is a database, service or hosted zone of the topology.
	Component string `json:"component"`
	// Region is where to restore; the primary region when left out.
	// A zone is global, and Region only picks the worker that acts.
	Region string `json:"region,omitempty"`
	// TargetID is the identifier of a restored database, which must be
	// none of the topology's: a restore never replaces a live database.
	TargetID string `json:"targetId,omitempty"`
	// Source of a database restore: snapshot (the default: the latest,
	// or SnapshotID) or point-in-time (RestoreTime, or the latest
	// restorable time).
	Source      string     `json:"source,omitempty"`
	SnapshotID  string     `json:"snapshotId,omitempty"`
	RestoreTime *time.Time `json:"restoreTime,omitempty"`
	// RequestedBy and Reason are recorded with the result.
	RequestedBy string `json:"requestedBy,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Restore states, as the progress query shows them.
const (
	RestoreRunning   = "restoring"
	RestoreVerifying = "verifying"
	RestoreCompleted = "completed"
	RestoreFailed    = "failed"
)

// RestoreResult is the result of Restore and the answer to its progress
// query. The component's restore time runs from ActionStarted to
// HealthyAt, the activity's own measure; Started and Ended are the
// workflow's.
type RestoreResult struct {
	App         string        `json:"app"`
	Component   string        `json:"component"`
	Kind        topology.Kind `json:"kind"`
	Region      string        `json:"region"`
	RequestedBy string        `json:"requestedBy,omitempty"`
	Reason      string        `json:"reason,omitempty"`
	Status      string        `json:"status"`
	Started     time.Time     `json:"started"`
	Ended       *time.Time    `json:"ended,omitempty"`

	ActionStarted *time.Time    `json:"actionStarted,omitempty"`
	HealthyAt     *time.Time    `json:"healthyAt,omitempty"`
	Duration      time.Duration `json:"duration,omitempty"`
	AlreadyDone   bool          `json:"alreadyDone,omitempty"`
	Detail        string        `json:"detail,omitempty"`
	// Verified says how a restored database was checked to answer.
	Verified string `json:"verified,omitempty"`

	// CapturedAt is the time of the capture restored from (services and
	// zones) or whose settings were offered (databases).
	CapturedAt *time.Time `json:"capturedAt,omitempty"`

	// A database restore's target and source.
	TargetID     string     `json:"targetId,omitempty"`
	TargetARN    string     `json:"targetArn,omitempty"`
	Instances    []string   `json:"instances,omitempty"`
	Source       string     `json:"source,omitempty"`
	SnapshotID   string     `json:"snapshotId,omitempty"`
	RestoreTime  *time.Time `json:"restoreTime,omitempty"`
	SettingsFrom string     `json:"settingsFrom,omitempty"`
}

// Restore restores one component of an application in one region: a
// database from a snapshot or to a point in time under a new identifier,
// then checks that it answers; a service or a zone from its latest
// capture in the ledger. Every input is checked before anything acts.
func Restore(ctx workflow.Context, in RestoreInput) (*RestoreResult, error) {
	r := &restoreRun{in: in}
	if err := r.checkInput(); err != nil {
		return nil, err
	}
	r.res = RestoreResult{App: in.App, Component: in.Component, Region: in.Region,
		RequestedBy: in.RequestedBy, Reason: in.Reason, Status: RestoreRunning,
		Started: workflow.Now(ctx)}
	r.log = log.With(workflow.GetLogger(ctx), "App", in.App, "Component", in.Component)
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (RestoreResult, error) {
		return r.res, nil
	}); err != nil {
		return nil, err
	}

	topo, err := loadTopology(ctx, in.App)
	if err != nil {
		return nil, err
	}
	comp, err := r.resolve(topo)
	if err != nil {
		return nil, err
	}
	r.log.Info("Restore started", "Kind", string(comp.Kind), "Region", r.res.Region)

	switch comp.Kind {
	case topology.KindDatabase:
		err = r.database(ctx, topo, *comp.Database)
	case topology.KindService:
		err = r.service(ctx, *comp.Service)
	case topology.KindDNS:
		err = r.zone(ctx, *comp.Zone)
	}
	end := workflow.Now(ctx)
	r.res.Ended = &end
	if err != nil {
		r.res.Status = RestoreFailed
		r.log.Error("Restore failed", "Error", err)
		return nil, err
	}
	r.res.Status = RestoreCompleted
	r.log.Info("Restore finished", "Duration", r.res.Duration)
	return &r.res, nil
}

// restoreRun is one restore's state.
type restoreRun struct {
	in  RestoreInput
	res RestoreResult
	log log.Logger
}

// checkInput checks what can be checked without the topology.
func (r *restoreRun) checkInput() error {
	in := r.in
	switch {
	case !topology.ValidName(in.App):
		return invalidInput("app must be lowercase letters, digits and dashes, not %q", in.App)
	case in.Component == "":
		return invalidInput("name the component to restore: a database, service or zone " +
			"of the topology")
	case in.Source != "" && in.Source != activities.RestoreFromSnapshot &&
		in.Source != activities.RestoreToPointInTime:
		return invalidInput("source must be %s or %s, not %q", activities.RestoreFromSnapshot,
			activities.RestoreToPointInTime, in.Source)
	case in.SnapshotID != "" && in.Source == activities.RestoreToPointInTime:
		return invalidInput("snapshotId goes with source %s, not %s",
			activities.RestoreFromSnapshot, in.Source)
	case in.RestoreTime != nil && in.Source != activities.RestoreToPointInTime:
		return invalidInput("restoreTime needs source %s", activities.RestoreToPointInTime)
	}
	return nil
}

// resolve finds the component and region in the topology and checks what
// its kind of restore needs.
func (r *restoreRun) resolve(topo *topology.Topology) (topology.Component, error) {
	in := r.in
	comp, ok := topo.Component(in.Component)
	if !ok {
		var names []string
		for _, c := range topo.Components() {
			names = append(names, c.Name)
		}
		return comp, invalidInput("%s has no component %q; it has %s", in.App, in.Component,
			strings.Join(names, ", "))
	}
	if r.res.Region == "" {
		r.res.Region = topo.Primary().Name
	}
	if _, ok := topo.Region(r.res.Region); !ok {
		return comp, invalidInput("%s has no region %q; it has %s", in.App, r.res.Region,
			strings.Join(topo.RegionNames(), ", "))
	}
	r.res.Kind = comp.Kind

	if comp.Kind != topology.KindDatabase {
		if in.TargetID != "" || in.Source != "" || in.SnapshotID != "" || in.RestoreTime != nil {
			return comp, invalidInput("%s is a %s, restored under its own name from its "+
				"latest capture: targetId, source, snapshotId and restoreTime are for "+
				"databases", in.Component, comp.Kind)
		}
		return comp, nil
	}
	db := *comp.Database
	if _, _, ok := activities.DatabaseCaptureKey(db, r.res.Region); !ok {
		return comp, invalidInput("database %s has no copy in %s to restore", db.Name,
			r.res.Region)
	}
	err := activities.CheckRestoreTarget(in.TargetID, db.Engine == topology.EngineAuroraGlobal,
		activities.LiveDatabaseIDs(topo))
	if err != nil {
		return comp, invalidInput("%v", err)
	}
	r.res.TargetID = strings.ToLower(in.TargetID)
	r.res.Source = in.Source
	if r.res.Source == "" {
		r.res.Source = activities.RestoreFromSnapshot
	}
	return comp, nil
}

// regionOptions are the options of a restore activity in the region.
func (r *restoreRun) regionOptions(ctx workflow.Context,
	startToClose time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           activities.TaskQueue(r.res.Region),
		StartToCloseTimeout: startToClose,
		HeartbeatTimeout:    heartbeatTimeout,
		RetryPolicy:         retryPolicy,
	})
}

// latestCapture reads a component's newest capture from the ledger.
func (r *restoreRun) latestCapture(ctx workflow.Context, in activities.LatestCaptureInput,
	attempts int32) (drills.Capture, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           activities.WorkflowTaskQueue,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: attempts},
	})
	var c drills.Capture
	err := workflow.ExecuteActivity(actx, activities.LatestCaptureName, in).Get(ctx, &c)
	if err == nil {
		at := c.CapturedAt
		r.res.CapturedAt = &at
	}
	return c, err
}

// record copies an activity's timing and detail into the result.
func (r *restoreRun) record(res activities.StepResult) {
	if !res.ActionStarted.IsZero() {
		t := res.ActionStarted
		r.res.ActionStarted = &t
	}
	if !res.HealthyAt.IsZero() {
		t := res.HealthyAt
		r.res.HealthyAt = &t
	}
	if r.res.ActionStarted != nil && r.res.HealthyAt != nil {
		r.res.Duration = r.res.HealthyAt.Sub(*r.res.ActionStarted)
	}
	r.res.AlreadyDone = res.AlreadyDone
	r.res.Detail = res.Detail
}

// database restores a database under TargetID and checks it answers.
func (r *restoreRun) database(ctx workflow.Context, topo *topology.Topology,
	db topology.Database) error {
	in := activities.RestoreDatabaseInput{
		App: r.in.App, Database: db, Region: r.res.Region, TargetID: r.res.TargetID,
		Source: r.res.Source, SnapshotID: r.in.SnapshotID, RestoreTime: r.in.RestoreTime,
	}
	// The settings of the original come from the original while it
	// exists; the capture is for when it does not. Without a ledger or a
	// capture the restore goes on, and fails only if it needs one.
	kind, name, _ := activities.DatabaseCaptureKey(db, r.res.Region)
	c, err := r.latestCapture(ctx, activities.LatestCaptureInput{App: r.in.App,
		Region: r.res.Region, Kind: kind, Name: name}, 2)
	if err == nil {
		in.Settings = &c
	} else {
		r.log.Warn("No capture of the database's settings; the original's are needed",
			"Error", rootMessage(err))
	}

	var res activities.RestoreDatabaseResult
	err = workflow.ExecuteActivity(r.regionOptions(ctx, 6*time.Hour),
		activities.RestoreDatabaseName, in).Get(ctx, &res)
	if err != nil {
		return failed(err, "restore database %s into %s in %s", db.Name, r.res.TargetID,
			r.res.Region)
	}
	r.record(res.StepResult)
	r.res.TargetARN, r.res.Instances = res.TargetARN, res.Instances
	r.res.SnapshotID, r.res.RestoreTime = res.SnapshotID, res.RestoreTime
	r.res.SettingsFrom = res.SettingsFrom
	if res.SettingsFrom == "live" {
		r.res.CapturedAt = nil // offered, not used
	}

	r.res.Status = RestoreVerifying
	verify := activities.VerifyDatabaseInput{Region: r.res.Region}
	if db.Engine == topology.EngineAuroraGlobal {
		verify.ClusterID = r.res.TargetID
	} else {
		verify.InstanceID = r.res.TargetID
	}
	var checked activities.StepResult
	err = workflow.ExecuteActivity(r.regionOptions(ctx, 15*time.Minute),
		activities.VerifyDatabaseName, verify).Get(ctx, &checked)
	if err != nil {
		return failed(err, "verify restored database %s in %s", r.res.TargetID, r.res.Region)
	}
	r.res.Verified = checked.Detail
	return nil
}

// service recreates a service from its latest capture in the region.
func (r *restoreRun) service(ctx workflow.Context, svc topology.Service) error {
	ref := activities.ServiceRef{Name: svc.Name, Cluster: svc.Cluster, Service: svc.Service}
	if ref.Service == "" {
		ref.Service = svc.Name
	}
	c, err := r.latestCapture(ctx, activities.LatestCaptureInput{App: r.in.App,
		Region: r.res.Region, Kind: drills.CaptureECSService,
		Name: activities.ServiceCaptureName(ref.Cluster, ref.Service)}, 5)
	if err != nil {
		return failed(err, "find the capture of service %s in %s", svc.Name, r.res.Region)
	}
	var res activities.StepResult
	err = workflow.ExecuteActivity(r.regionOptions(ctx, 30*time.Minute),
		activities.RestoreServiceName, activities.RestoreServiceInput{
			App: r.in.App, Service: ref, Region: r.res.Region, Capture: c,
		}).Get(ctx, &res)
	if err != nil {
		return failed(err, "restore service %s in %s", svc.Name, r.res.Region)
	}
	r.record(res)
	return nil
}

// zone puts a zone's records back from its latest capture.
func (r *restoreRun) zone(ctx workflow.Context, z topology.Zone) error {
	c, err := r.latestCapture(ctx, activities.LatestCaptureInput{App: r.in.App,
		Region: activities.ZoneCaptureRegion, Kind: drills.CaptureRoute53Zone,
		Name: activities.ZoneCaptureName(z)}, 5)
	if err != nil {
		return failed(err, "find the capture of zone %s", z.Name)
	}
	var res activities.StepResult
	err = workflow.ExecuteActivity(r.regionOptions(ctx, 15*time.Minute),
		activities.RestoreZoneName, activities.RestoreZoneInput{Zone: z, Capture: c}).
		Get(ctx, &res)
	if err != nil {
		return failed(err, "restore zone %s", z.Name)
	}
	r.record(res)
	return nil
}

// failed is the workflow's error for a step that failed: what it was
// doing and the activity's own words, with the activity's error type
// (NotFound, Quota...) kept, so that whoever reads the failure can tell
// its kind without unwrapping Temporal's layers.
func failed(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...) + ": " + failureReason(err)
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return temporal.NewNonRetryableApplicationError(msg, app.Type(), err)
	}
	return temporal.NewNonRetryableApplicationError(msg, "RestoreFailed", err)
}
