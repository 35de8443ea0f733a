// Package drills keeps the evidence of disaster-recovery drills: a record
// of every drill and real recovery (who ran it, what recovered, how long
// each component took), the ledger that stores records beyond Temporal's
// history retention, and the comparisons and reports an auditor asks for.
package drills

import "time"

// Kinds of record.
const (
	// KindDrill is a timed exercise: a practice failover, a soak, a
	// failback and optionally a restore.
	KindDrill = "drill"
	// KindIncident is a failover or failback that ran on its own, for a
	// real incident or an ad-hoc rehearsal. Real recoveries are evidence
	// as well.
	KindIncident = "incident"
)

// Phases of a drill that components are timed in.
const (
	PhaseFailover = "failover"
	PhaseFailback = "failback"
	PhaseRestore  = "restore"
)

// Outcomes of a component, a cleanup item or a whole record.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	OutcomeSkipped   = "skipped"
	OutcomeCancelled = "cancelled"
)

// Record is one drill or recovery, as the ledger keeps it. Writing the
// same record twice (same ID) leaves one record.
type Record struct {
	// ID identifies the record: the workflow id and run id of the drill
	// or recovery, joined by a slash.
	ID   string `json:"id"`
	App  string `json:"app"`
	Kind string `json:"kind"`
	// StartedBy and Reason say who ran it and why.
	StartedBy string `json:"startedBy"`
	Reason    string `json:"reason,omitempty"`
	// Purpose is practice or recovery; Mode graceful or ungraceful.
	Purpose string `json:"purpose"`
	Mode    string `json:"mode"`
	// From and To are the regions the application moved between.
	From       string `json:"from"`
	To         string `json:"to"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	// ScheduleID names the Temporal Schedule that started a drill, if any.
	ScheduleID string    `json:"scheduleId,omitempty"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended"`
	// Outcome of the whole record, and a line on it.
	Outcome    string      `json:"outcome"`
	Message    string      `json:"message,omitempty"`
	Components []Component `json:"components"`
	Approvals  []Approval  `json:"approvals,omitempty"`
	Cleanup    []Cleanup   `json:"cleanup,omitempty"`
}

// Component is one component's recovery in one phase: from the start of
// its recovery action to the observation of its healthy state.
type Component struct {
	Phase string `json:"phase"`
	// Step is the plan's step id, such as promote-database:orders; with
	// Phase it identifies the component across drills.
	Step      string `json:"step"`
	Component string `json:"component"`
	// Kind is the step kind: promote-database, scale-service, flip-dns,
	// restore-database...
	Kind          string    `json:"kind"`
	Region        string    `json:"region"`
	ActionStarted time.Time `json:"actionStarted"`
	HealthyAt     time.Time `json:"healthyAt"`
	// Seconds is HealthyAt - ActionStarted.
	Seconds float64 `json:"seconds"`
	Outcome string  `json:"outcome"`
	Detail  string  `json:"detail,omitempty"`
}

// Key identifies the component across drills.
func (c Component) Key() string { return c.Phase + "/" + c.Step }

// Approval is an operator's approval of a gated step.
type Approval struct {
	Phase string    `json:"phase"`
	Step  string    `json:"step"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
}

// Cleanup is one thing a drill created and removed again.
type Cleanup struct {
	Region   string    `json:"region"`
	Resource string    `json:"resource"` // e.g. "rds instance drill-shop-orders-0412"
	Action   string    `json:"action"`   // e.g. "deleted"
	Outcome  string    `json:"outcome"`
	At       time.Time `json:"at"`
	Detail   string    `json:"detail,omitempty"`
}

// Total returns the seconds from the record's start to its end.
func (r Record) Total() float64 { return r.Ended.Sub(r.Started).Seconds() }
