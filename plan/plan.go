// Package plan turns a topology and a request into the graph of steps that
// moves an application between regions. Building a plan is pure and
// deterministic, so a workflow can build it in its own code and replay it.
package plan

import (
	"fmt"
	"strings"
	"time"

	"github.com/drover-dev/drover/topology"
)

// Kind says whether a plan fails over or fails back.
type Kind string

// Plan kinds.
const (
	Failover Kind = "failover"
	Failback Kind = "failback"
)

// Mode says how much the source region is trusted.
type Mode string

// Modes.
const (
	// Graceful is a planned move: the source region is healthy, writers
	// there stop first and databases switch over without losing data.
	Graceful Mode = "graceful"
	// Ungraceful is a move away from an impaired region: databases fail
	// over allowing data loss, and every call into the source region is
	// best effort, short and off the critical path.
	Ungraceful Mode = "ungraceful"
)

// StepKind names what a step does. Activities are chosen by it.
type StepKind string

// Step kinds.
const (
	// StepPreflight checks, read-only, that the target can take over.
	StepPreflight StepKind = "preflight"
	// StepObserveSource reads the source region's running task counts.
	StepObserveSource StepKind = "observe-source"
	// StepApproval waits for an operator's approval.
	StepApproval StepKind = "approval"
	// StepStopWriters scales a service in the source region to zero so
	// that nothing writes to the old primary during a graceful move.
	StepStopWriters StepKind = "stop-writers"
	// StepResyncDatabase makes the target's copy of a database a replica
	// of the current primary again, where a previous failover left it
	// standalone.
	StepResyncDatabase StepKind = "resync-database"
	// StepPromoteDatabase makes the target's copy of a database writable.
	StepPromoteDatabase StepKind = "promote-database"
	// StepScaleService scales a service in the target region and waits
	// until it is stable.
	StepScaleService StepKind = "scale-service"
	// StepFlipDNS sends a zone's records to the target region and waits
	// until the change is INSYNC.
	StepFlipDNS StepKind = "flip-dns"
	// StepVerify checks the application end to end in the target region.
	StepVerify StepKind = "verify"
	// StepScaleDownSource scales the source region's services to zero.
	StepScaleDownSource StepKind = "scale-down-source"
	// StepRebuildReplica recreates the replica of a database in the
	// region the application left, after a failback.
	StepRebuildReplica StepKind = "rebuild-replica"
)

// Approval gates a topology can ask for, by the kind of step they guard.
const (
	ApproveDatabase  = topology.ApproveDatabase
	ApproveService   = topology.ApproveService
	ApproveDNS       = topology.ApproveDNS
	ApproveScaleDown = topology.ApproveScaleDown
)

// Request is what an operator asks for.
type Request struct {
	Kind Kind `json:"kind"`
	// To is the region to move to. A failback may leave it empty: it
	// returns to the primary.
	To string `json:"to,omitempty"`
	// From is the region the application serves from now. A failover
	// may leave it empty (the primary); so may a failback when the
	// topology has one standby.
	From string `json:"from,omitempty"`
	Mode Mode   `json:"mode"`
	// ScaleDownSource scales the source region's services to zero once
	// the target serves.
	ScaleDownSource bool `json:"scaleDownSource,omitempty"`
	// SkipApprovals runs steps that the topology gates on approval
	// without waiting (an operator's --yes).
	SkipApprovals bool `json:"skipApprovals,omitempty"`
}

// Step is one node of the plan.
type Step struct {
	ID     string   `json:"id"`
	Kind   StepKind `json:"kind"`
	Region string   `json:"region,omitempty"`
	// Component names the topology component the step acts on.
	Component string `json:"component,omitempty"`
	// DependsOn lists the steps that must finish first.
	DependsOn []string `json:"dependsOn,omitempty"`
	// BestEffort steps touch the source region in ungraceful mode: they
	// are bounded by a short timeout and their failure does not stop the
	// run.
	BestEffort bool `json:"bestEffort,omitempty"`
	// ReadOnly steps change nothing; a dry run runs only them.
	ReadOnly bool `json:"readOnly,omitempty"`
	// Estimate is how long the step is expected to take.
	Estimate time.Duration `json:"estimate"`
	// Gate names the approval kind of an approval step.
	Gate string `json:"gate,omitempty"`
}

// Plan is the graph of steps for one request, in a stable topological
// order: every step comes after the steps it depends on.
type Plan struct {
	App   string  `json:"app"`
	Kind  Kind    `json:"kind"`
	Mode  Mode    `json:"mode"`
	From  string  `json:"from"`
	To    string  `json:"to"`
	Steps []*Step `json:"steps"`
	// CriticalPath is the chain of steps whose estimates add up to the
	// longest time, and Estimate that time.
	CriticalPath []string      `json:"criticalPath"`
	Estimate     time.Duration `json:"estimate"`
}

// Step returns the step with the given id, or nil.
func (p *Plan) Step(id string) *Step {
	for _, s := range p.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Estimates are the expected durations a plan uses for its critical path.
// They default to what AWS takes in practice.
type Estimates struct {
	Preflight        time.Duration `json:"preflight"`
	StopWriters      time.Duration `json:"stopWriters"`
	PromoteInstance  time.Duration `json:"promoteInstance"`
	AuroraSwitchover time.Duration `json:"auroraSwitchover"`
	AuroraFailover   time.Duration `json:"auroraFailover"`
	Resync           time.Duration `json:"resync"`
	ServiceStart     time.Duration `json:"serviceStart"`
	DNSPropagation   time.Duration `json:"dnsPropagation"`
	Verify           time.Duration `json:"verify"`
}

// DefaultEstimates returns durations close to AWS's.
func DefaultEstimates() Estimates {
	return Estimates{
		Preflight:        5 * time.Second,
		StopWriters:      30 * time.Second,
		PromoteInstance:  4 * time.Minute,
		AuroraSwitchover: time.Minute,
		AuroraFailover:   90 * time.Second,
		Resync:           15 * time.Minute,
		ServiceStart:     40 * time.Second,
		DNSPropagation:   40 * time.Second,
		Verify:           5 * time.Second,
	}
}

// Build turns a topology and a request into a plan. It fails when the
// request does not fit the topology.
func Build(t *topology.Topology, req Request, est Estimates) (*Plan, error) {
	req, err := resolve(t, req)
	if err != nil {
		return nil, err
	}
	b := &builder{t: t, req: req, est: est}
	b.build()
	p := &Plan{
		App: t.App, Kind: req.Kind, Mode: req.Mode, From: req.From, To: req.To,
		Steps: b.steps,
	}
	p.CriticalPath, p.Estimate = criticalPath(p.Steps)
	return p, nil
}

// resolve checks the request against the topology and fills in the
// regions it leaves out.
func resolve(t *topology.Topology, req Request) (Request, error) {
	switch req.Kind {
	case Failover, Failback:
	default:
		return req, fmt.Errorf("plan kind must be failover or failback, not %q", req.Kind)
	}
	switch req.Mode {
	case "":
		req.Mode = Graceful
	case Graceful, Ungraceful:
	default:
		return req, fmt.Errorf("mode must be graceful or ungraceful, not %q", req.Mode)
	}
	primary := t.Primary().Name
	standbys := standbyNames(t)
	switch req.Kind {
	case Failover:
		if req.From == "" {
			req.From = primary
		}
		if req.To == "" {
			if len(standbys) != 1 {
				return req, fmt.Errorf("name the region to fail over to (standbys: %s)",
					strings.Join(standbys, ", "))
			}
			req.To = standbys[0]
		}
	case Failback:
		if req.Mode != Graceful {
			return req, fmt.Errorf("a failback is always graceful: it returns to a healthy primary")
		}
		if req.To == "" {
			req.To = primary
		}
		if req.To != primary {
			return req, fmt.Errorf("a failback returns to the primary region %s, not %s",
				primary, req.To)
		}
		if req.From == "" {
			if len(standbys) != 1 {
				return req, fmt.Errorf("name the region to fail back from (standbys: %s)",
					strings.Join(standbys, ", "))
			}
			req.From = standbys[0]
		}
	}
	for _, r := range []string{req.From, req.To} {
		if !hasRegion(t, r) {
			return req, fmt.Errorf("%s is not a region of %s (regions: %s)",
				r, t.App, strings.Join(regionNames(t), ", "))
		}
	}
	if req.From == req.To {
		return req, fmt.Errorf("the application would move from %s to itself", req.To)
	}
	return req, nil
}

func hasRegion(t *topology.Topology, name string) bool {
	for _, r := range t.Regions {
		if r.Name == name {
			return true
		}
	}
	return false
}

func regionNames(t *topology.Topology) []string {
	var out []string
	for _, r := range t.Regions {
		out = append(out, r.Name)
	}
	return out
}

func standbyNames(t *topology.Topology) []string {
	var out []string
	for _, r := range t.Regions {
		if r.Role == topology.RoleStandby {
			out = append(out, r.Name)
		}
	}
	return out
}

// criticalPath finds the longest chain of estimates. Steps are in
// topological order, so one pass suffices.
func criticalPath(steps []*Step) ([]string, time.Duration) {
	finish := map[string]time.Duration{}
	prev := map[string]string{}
	var last string
	var longest time.Duration
	for _, s := range steps {
		var start time.Duration
		for _, d := range s.DependsOn {
			if finish[d] > start || prev[s.ID] == "" && finish[d] == start {
				start = finish[d]
				prev[s.ID] = d
			}
		}
		finish[s.ID] = start + s.Estimate
		if finish[s.ID] > longest || last == "" {
			longest = finish[s.ID]
			last = s.ID
		}
	}
	var path []string
	for id := last; id != ""; id = prev[id] {
		path = append(path, id)
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path, longest
}

// Critical returns the steps that have no slack by the estimates: every
// step on a longest chain, of which a plan may have many (a thousand
// services in two hundred equal chains), where the critical path names
// one. A step in it that starts late makes the whole run late.
func (p *Plan) Critical() map[string]bool {
	rest := p.Remaining()
	// Steps come after what they depend on, so one pass finds each
	// step's earliest start.
	start := make(map[string]time.Duration, len(p.Steps))
	finish := make(map[string]time.Duration, len(p.Steps))
	var total time.Duration
	for _, s := range p.Steps {
		var at time.Duration
		for _, d := range s.DependsOn {
			at = max(at, finish[d])
		}
		start[s.ID], finish[s.ID] = at, at+s.Estimate
		total = max(total, at+rest[s.ID])
	}
	critical := map[string]bool{}
	for _, s := range p.Steps {
		if start[s.ID]+rest[s.ID] == total {
			critical[s.ID] = true
		}
	}
	return critical
}

// Remaining returns, for each step, the longest chain of estimates from
// the step's start to the plan's end: how much of the run can still wait
// on it. Starting the steps with the most remaining first keeps the
// critical path from queueing behind steps that nothing waits for.
func (p *Plan) Remaining() map[string]time.Duration {
	dependents := map[string][]string{}
	for _, s := range p.Steps {
		for _, d := range s.DependsOn {
			dependents[d] = append(dependents[d], s.ID)
		}
	}
	rest := make(map[string]time.Duration, len(p.Steps))
	// Steps come after what they depend on, so walking backwards sees
	// every dependent first.
	for i := len(p.Steps) - 1; i >= 0; i-- {
		s := p.Steps[i]
		var after time.Duration
		for _, d := range dependents[s.ID] {
			after = max(after, rest[d])
		}
		rest[s.ID] = s.Estimate + after
	}
	return rest
}
