package awssim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// controlPrefix is where the control API lives. No AWS API path starts
// with it.
const controlPrefix = "/_sim/"

// State is a snapshot of every simulated resource, for tests and
// benchmarks to assert on.
type State struct {
	Time    time.Time              `json:"time"`
	Regions map[string]RegionState `json:"regions"`
	Route53 Route53State           `json:"route53"`
}

// RegionState is one region's resources.
type RegionState struct {
	ECS ECSState `json:"ecs"`
	RDS RDSState `json:"rds"`
}

// ReplicaLag is the body of PUT /_sim/replica-lag: the lag CloudWatch
// reports for one replica, as Sim.SetReplicaLag takes it.
type ReplicaLag struct {
	Region string `json:"region"`
	// Resource is "db-instance" or "db-cluster".
	Resource string   `json:"resource"`
	ID       string   `json:"id"`
	Lag      Duration `json:"lag"`
}

// CallCount is how often one operation was called.
type CallCount struct {
	CallKey
	Count int64 `json:"count"`
}

// serveControl answers the control API:
//
//	GET    /_sim/health         200 when serving
//	GET    /_sim/state          State
//	GET    /_sim/profile        Profile
//	GET    /_sim/calls          []CallCount; DELETE resets the counts
//	GET    /_sim/events         []Event; ?since=RFC3339 filters
//	GET    /_sim/faults         []Fault; POST adds one, DELETE removes all
//	DELETE /_sim/faults/{id}    removes one
//	PUT    /_sim/replica-lag    sets one replica's lag from a ReplicaLag;
//	                            204, or 400 naming what is wrong
//	GET    /_sim/app/{region}/health
//	                            the sandbox application's health in a region
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, controlPrefix)
	switch {
	case strings.HasPrefix(path, "app/") && strings.HasSuffix(path, "/health") &&
		r.Method == http.MethodGet:
		region := strings.TrimSuffix(strings.TrimPrefix(path, "app/"), "/health")
		healthy, detail := s.AppHealth(region)
		status := http.StatusOK
		if !healthy {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, map[string]any{"region": region, "healthy": healthy, "detail": detail})
	case path == "health" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case path == "state" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Snapshot())
	case path == "profile" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.profile)
	case path == "calls" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Calls())
	case path == "calls" && r.Method == http.MethodDelete:
		s.ResetCalls()
		w.WriteHeader(http.StatusNoContent)
	case path == "events" && r.Method == http.MethodGet:
		var since time.Time
		if v := r.URL.Query().Get("since"); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "since: " + err.Error()})
				return
			}
			since = t
		}
		writeJSON(w, http.StatusOK, s.Events(since))
	case path == "faults" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.faults.list())
	case path == "faults" && r.Method == http.MethodPost:
		var f Fault
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "fault: " + err.Error()})
			return
		}
		added, err := s.faults.add(f)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusCreated, added)
	case path == "faults" && r.Method == http.MethodDelete:
		s.faults.clear()
		w.WriteHeader(http.StatusNoContent)
	case path == "replica-lag" && r.Method == http.MethodPut:
		var lag ReplicaLag
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&lag); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "replica lag: " + err.Error()})
			return
		}
		err := s.SetReplicaLag(lag.Region, lag.Resource, lag.ID, time.Duration(lag.Lag))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(path, "faults/") && r.Method == http.MethodDelete:
		if !s.faults.remove(strings.TrimPrefix(path, "faults/")) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such fault"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no control endpoint " + r.Method + " " + r.URL.Path})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Snapshot returns the state of every resource as of now.
func (s *Sim) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	st := State{Time: now, Regions: map[string]RegionState{}}
	for name, r := range s.regions {
		st.Regions[name] = RegionState{
			ECS: r.ecs.state(s, r.name, now),
			RDS: r.rds.state(s, r.name, now),
		}
	}
	st.Route53 = s.route53.state(s, now)
	return st
}

// Calls returns the call counts, sorted by region, service and operation.
func (s *Sim) Calls() []CallCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CallCount, 0, len(s.calls))
	for k, n := range s.calls {
		out = append(out, CallCount{CallKey: k, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.Operation < b.Operation
	})
	return out
}

// ResetCalls sets every call count to zero.
func (s *Sim) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[CallKey]int64{}
}

// Events returns the recorded events at or after since, in time order.
// Reading them first brings every resource up to date, so that a
// transition already due is listed even if nobody has described it.
func (s *Sim) Events(since time.Time) []Event {
	s.Snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Event
	for _, e := range s.events {
		if !e.At.Before(since) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// AddFault sets a fault and returns it with its ID.
func (s *Sim) AddFault(f Fault) (Fault, error) { return s.faults.add(f) }

// RemoveFault lifts one fault.
func (s *Sim) RemoveFault(id string) error {
	if !s.faults.remove(id) {
		return errors.New("no such fault " + id)
	}
	return nil
}

// ClearFaults lifts every fault.
func (s *Sim) ClearFaults() { s.faults.clear() }

// AppHealth says whether the sandbox application serves from a region, as
// a health URL in front of it would: the region is reachable and every ECS
// service there that should run has a running task.
func (s *Sim) AppHealth(region string) (bool, string) {
	if s.faults.blackedOut(region, ServiceECS) {
		return false, region + " is unreachable"
	}
	st := s.Snapshot()
	rs, ok := st.Regions[region]
	if !ok || len(rs.ECS.Services) == 0 {
		return false, "no services in " + region
	}
	serving := 0
	for _, svc := range rs.ECS.Services {
		if svc.Status != "ACTIVE" || svc.DesiredCount == 0 {
			continue
		}
		if svc.RunningCount == 0 {
			return false, fmt.Sprintf("%s/%s has no running task", svc.Cluster, svc.Name)
		}
		serving++
	}
	if serving == 0 {
		return false, "no service runs tasks in " + region
	}
	return true, fmt.Sprintf("%d services serving", serving)
}
