package activities

import (
	"time"

	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/topology"
)

// Activity names, as the workflows call them. Every region's worker
// registers all of them on its own task queue, so the queue a workflow
// picks decides the region an activity acts in.
const (
	LoadTopologyName    = "LoadTopology"
	PreflightName       = "Preflight"
	ObserveServicesName = "ObserveServices"
	ScaleServiceName    = "ScaleService"
	PromoteDatabaseName = "PromoteDatabase"
	ResyncDatabaseName  = "ResyncDatabase"
	FlipDNSName         = "FlipDNS"
	VerifyName          = "Verify"
)

// TaskQueue returns the task queue of a region's activities.
func TaskQueue(region string) string { return "drover-" + region }

// WorkflowTaskQueue is the queue of workflow tasks, served by every
// region's workers so that no region is needed to make progress.
const WorkflowTaskQueue = "drover"

// StepResult is what a mutating activity reports. Its times are the
// honest measure of a component's recovery: from the first recovery action
// to the first observation of the healthy state.
type StepResult struct {
	// ActionStarted is when the activity first acted; a retried attempt
	// keeps the first attempt's time. It is stamped as the first mutating
	// call leaves, after the worker's own rate limit let it go, so that
	// a queue of the worker's making is not counted as the cloud's time.
	ActionStarted time.Time `json:"actionStarted"`
	// HealthyAt is when the goal state was first observed.
	HealthyAt time.Time `json:"healthyAt"`
	// AlreadyDone is true when the goal held before the activity acted,
	// so it changed nothing.
	AlreadyDone bool `json:"alreadyDone,omitempty"`
	// Detail says in a line what happened, for people.
	Detail string `json:"detail"`
	// Leftover names what the activity left behind on purpose, such as an
	// instance renamed out of the way, for a drill to clean up.
	Leftover string `json:"leftover,omitempty"`
}

// Progress is what a waiting activity heartbeats: where it got to, so that
// a retried attempt resumes instead of acting again.
type Progress struct {
	ActionStarted time.Time `json:"actionStarted"`
	// Token is an operation's handle to resume, such as a Route 53
	// change id.
	Token  string `json:"token,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// PreflightInput asks whether Target can take over from Source.
type PreflightInput struct {
	App      string `json:"app"`
	Source   string `json:"source"`
	Target   string `json:"target"`
	Failback bool   `json:"failback,omitempty"`
	// Ungraceful: the source region is impaired and the move accepts
	// losing what the standby lacks, so a replica's broken replication
	// and its lag are reported without failing the preflight.
	Ungraceful bool                `json:"ungraceful,omitempty"`
	Databases  []topology.Database `json:"databases,omitempty"`
	Services   []topology.Service  `json:"services,omitempty"`
	Zones      []topology.Zone     `json:"zones,omitempty"`
}

// Check is one read-only check and its outcome.
type Check struct {
	Component string `json:"component"`
	OK        bool   `json:"ok"`
	Detail    string `json:"detail"`
}

// PreflightResult lists every check; Problems are the failed ones.
type PreflightResult struct {
	Checks []Check `json:"checks"`
}

// Problems returns the checks that failed.
func (r PreflightResult) Problems() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// ServiceRef names an ECS service in the region of the activity.
type ServiceRef struct {
	Name    string `json:"name"` // the topology component
	Cluster string `json:"cluster"`
	Service string `json:"service"`
}

// ObserveServicesInput names the services whose task counts to read.
type ObserveServicesInput struct {
	Services []ServiceRef `json:"services"`
}

// ObserveServicesResult holds running and desired counts by component
// name. Services that could not be read are absent.
type ObserveServicesResult struct {
	Running map[string]int32 `json:"running"`
	Desired map[string]int32 `json:"desired"`
}

// ScaleServiceInput sets a service's desired count and waits until it is
// stable: one deployment, every desired task running.
type ScaleServiceInput struct {
	Service ServiceRef `json:"service"`
	// Desired below zero keeps the service's own desired count, but at
	// least one task: what a failover asks for when the source region's
	// counts could not be read.
	Desired int32 `json:"desired"`
	// Critical marks a step without slack, on a longest chain of the
	// plan: its calls take the Region's rate-limit tokens before those of
	// other steps.
	Critical bool `json:"critical,omitempty"`
}

// PromoteDatabaseInput makes the Target region's copy of a database the
// writer. Ungraceful allows data loss (the source is impaired).
type PromoteDatabaseInput struct {
	Database   topology.Database `json:"database"`
	Source     string            `json:"source"`
	Target     string            `json:"target"`
	Ungraceful bool              `json:"ungraceful,omitempty"`
}

// ResyncDatabaseInput makes the Target region's copy of an RDS database a
// read replica of the Source region's instance, which is the writer now.
// A standalone instance left at the target by an earlier failover is kept
// under a new name, never deleted.
type ResyncDatabaseInput struct {
	Database topology.Database `json:"database"`
	Source   string            `json:"source"`
	Target   string            `json:"target"`
	// StaleName is the identifier a standalone instance at the target
	// is renamed to, to free its identifier for the new replica. The
	// workflow derives it deterministically (from its run, say), so
	// that every attempt uses the same one.
	StaleName string `json:"staleName,omitempty"`
}

// FlipDNSInput sends a zone's records to Target in one change and waits
// until it is INSYNC.
type FlipDNSInput struct {
	Zone   topology.Zone `json:"zone"`
	Source string        `json:"source"`
	Target string        `json:"target"`
}

// VerifyInput checks the application in Target end to end: its health URL
// answers 2xx and the Route 53 health checks of its records are healthy.
type VerifyInput struct {
	Target    string          `json:"target"`
	HealthURL string          `json:"healthURL,omitempty"`
	Zones     []topology.Zone `json:"zones,omitempty"`
}

// Names of the capture, restore and ledger activities. The region
// activities run on each region's queue; the ledger activities run on
// WorkflowTaskQueue, next to the workflows, where the ledger is open.
const (
	CaptureServiceName  = "CaptureService"
	CaptureZoneName     = "CaptureZone"
	CaptureDatabaseName = "CaptureDatabase"
	RestoreDatabaseName = "RestoreDatabase"
	DeleteDatabaseName  = "DeleteDatabase"
	VerifyDatabaseName  = "VerifyDatabase"
	RestoreServiceName  = "RestoreService"
	RestoreZoneName     = "RestoreZone"

	SaveCapturesName  = "SaveCaptures"
	LatestCaptureName = "LatestCapture"
	RecordRunName     = "RecordRun"
)

// Kinds of capture of a database's settings: CaptureRDSInstance holds a
// DatabaseSettings of an RDS instance, CaptureRDSCluster of an Aurora
// cluster.
const (
	CaptureRDSInstance = drills.CaptureRDSInstance
	CaptureRDSCluster  = drills.CaptureRDSCluster
)

// ZoneCaptureRegion is the Region of every zone capture. Route 53 is
// global, so a zone's copy belongs to no region, and whichever region's
// worker took it, a restore finds it under this name.
const ZoneCaptureRegion = "global"

// Error types of the restore activities, besides the classes of
// errors.go.
const (
	// ErrQuota: an account quota (instances, storage, snapshots,
	// clusters) stops the restore. Not retryable: raise the quota or
	// free some of it.
	ErrQuota = "Quota"
	// ErrRefused: the activity will not do what was asked because it
	// would harm a live resource, such as deleting a database the
	// topology names.
	ErrRefused = "Refused"
)

// Sources of a database restore.
const (
	// RestoreFromSnapshot restores the latest automated or manual
	// snapshot of the original, or the snapshot named.
	RestoreFromSnapshot = "snapshot"
	// RestoreToPointInTime restores the original's backups to a time,
	// or to the latest restorable time.
	RestoreToPointInTime = "point-in-time"
)

// CaptureServiceInput names a service of the activity's region to capture.
type CaptureServiceInput struct {
	App     string     `json:"app"`
	Service ServiceRef `json:"service"`
}

// CaptureZoneInput names a hosted zone to copy. Route 53 answers from
// any region, so any region's worker can take it.
type CaptureZoneInput struct {
	App  string        `json:"app"`
	Zone topology.Zone `json:"zone"`
}

// CaptureDatabaseInput names a database whose copy in the activity's
// region to capture: its RDS instance or its Aurora cluster there.
type CaptureDatabaseInput struct {
	App      string            `json:"app"`
	Database topology.Database `json:"database"`
}

// RestoreDatabaseInput restores a database of Region under a new
// identifier. The new database takes the settings of the original when
// the original can be read, else those of Settings.
type RestoreDatabaseInput struct {
	App      string            `json:"app"`
	Database topology.Database `json:"database"`
	// Region is where the original lives and the restore is made; the
	// activity runs on its queue.
	Region string `json:"region"`
	// TargetID is the new instance's (rds) or cluster's (aurora)
	// identifier. It must differ from every identifier of the topology:
	// a restore never replaces a live database.
	TargetID string `json:"targetId"`
	// Source is RestoreFromSnapshot (the default) or
	// RestoreToPointInTime.
	Source string `json:"source,omitempty"`
	// SnapshotID picks a snapshot instead of the latest one.
	SnapshotID string `json:"snapshotId,omitempty"`
	// RestoreTime picks a point in time instead of the latest
	// restorable time.
	RestoreTime *time.Time `json:"restoreTime,omitempty"`
	// Settings is the latest capture of the original's settings
	// (CaptureRDSInstance or CaptureRDSCluster), used when the original
	// cannot be read, such as when it was deleted.
	Settings *drills.Capture `json:"settings,omitempty"`
}

// RestoreDatabaseResult is a restore's timing and what it restored.
type RestoreDatabaseResult struct {
	StepResult
	// SnapshotID is the snapshot restored, for a snapshot restore.
	SnapshotID string `json:"snapshotId,omitempty"`
	// RestoreTime is the point in time restored. For the latest
	// restorable time it is that time as read just before the restore,
	// which RDS may have moved on from by a few seconds.
	RestoreTime *time.Time `json:"restoreTime,omitempty"`
	// TargetARN is the new instance's or cluster's ARN.
	TargetARN string `json:"targetArn"`
	// Instances are a restored cluster's new instances.
	Instances []string `json:"instances,omitempty"`
	// SettingsFrom says where the settings came from: "live" (the
	// original) or "capture" (with the capture's time).
	SettingsFrom string `json:"settingsFrom"`
}

// DeleteDatabaseInput deletes a scratch restore: an RDS instance, or an
// Aurora cluster with its instances. Exactly one of InstanceID and
// ClusterID is set.
type DeleteDatabaseInput struct {
	Region     string `json:"region"`
	InstanceID string `json:"instanceId,omitempty"`
	ClusterID  string `json:"clusterId,omitempty"`
	// LiveIDs are every identifier the topology names as a live
	// database (instances and clusters, any region); the activity
	// refuses to delete any of them.
	LiveIDs []string `json:"liveIds"`
}

// VerifyDatabaseInput names a restored database to check: an instance or
// a cluster of Region, exactly one of them.
type VerifyDatabaseInput struct {
	Region     string `json:"region"`
	InstanceID string `json:"instanceId,omitempty"`
	ClusterID  string `json:"clusterId,omitempty"`
}

// RestoreServiceInput recreates a service of Region from a capture of
// kind drills.CaptureECSService.
type RestoreServiceInput struct {
	App     string         `json:"app"`
	Service ServiceRef     `json:"service"`
	Region  string         `json:"region"`
	Capture drills.Capture `json:"capture"`
}

// RestoreZoneInput puts a zone's captured record sets back (a capture of
// kind drills.CaptureRoute53Zone).
type RestoreZoneInput struct {
	Zone    topology.Zone  `json:"zone"`
	Capture drills.Capture `json:"capture"`
}

// LatestCaptureInput names the capture to read from the ledger, by the
// fields of drills.Capture.
type LatestCaptureInput struct {
	App    string `json:"app"`
	Region string `json:"region"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
}
