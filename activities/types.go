package activities

import (
	"time"

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
	App       string              `json:"app"`
	Source    string              `json:"source"`
	Target    string              `json:"target"`
	Failback  bool                `json:"failback,omitempty"`
	Databases []topology.Database `json:"databases,omitempty"`
	Services  []topology.Service  `json:"services,omitempty"`
	Zones     []topology.Zone     `json:"zones,omitempty"`
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
