package drills

import (
	"encoding/json"
	"time"
)

// Kinds of capture.
const (
	// CaptureECSService is a service's settings and the task definition
	// revision it ran while healthy.
	CaptureECSService = "ecs-service"
	// CaptureRoute53Zone is a copy of a hosted zone's record sets.
	CaptureRoute53Zone = "route53-zone"
	// CaptureRDSInstance and CaptureRDSCluster are the settings of a DB
	// instance or an Aurora cluster that AWS resets on a restore.
	CaptureRDSInstance = "rds-instance"
	CaptureRDSCluster  = "rds-cluster"
)

// Capture is a definition drover copied while a component was healthy, so
// that a restore never depends on the region that lost it. The ledger
// keeps every capture; a restore uses the newest one.
type Capture struct {
	App    string `json:"app"`
	Region string `json:"region"`
	Kind   string `json:"kind"`
	// Name is the component: cluster/service for a service, the zone's
	// domain for a zone.
	Name       string    `json:"name"`
	CapturedAt time.Time `json:"capturedAt"`
	// Definition is the captured definition as the capturing activity
	// wrote it; the ledger stores it without reading it.
	Definition json.RawMessage `json:"definition"`
}
