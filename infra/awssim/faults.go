package awssim

import (
	"fmt"
	"math/rand"
	"net/http"
	"sort"
	"sync"
	"time"
)

// FaultKind names what a fault does.
type FaultKind string

// The kinds of fault.
const (
	// FaultBlackout makes a region (or one service in it) unreachable in
	// the way BlackoutMode says.
	FaultBlackout FaultKind = "blackout"
	// FaultError fails a share of matching calls with an AWS error.
	FaultError FaultKind = "error"
	// FaultLatency delays matching calls.
	FaultLatency FaultKind = "latency"
	// FaultThrottle limits matching calls to a rate and answers the excess
	// with the service's throttling error.
	FaultThrottle FaultKind = "throttle"
	// FaultResource changes how one resource behaves.
	FaultResource FaultKind = "resource"
)

// BlackoutMode is how a blacked-out region fails.
type BlackoutMode string

// Blackout modes.
const (
	// BlackoutRefuse drops the connection without an answer.
	BlackoutRefuse BlackoutMode = "refuse"
	// BlackoutHang never answers until the fault is removed or the caller
	// gives up.
	BlackoutHang BlackoutMode = "hang"
	// BlackoutUnavailable answers 503 ServiceUnavailable.
	BlackoutUnavailable BlackoutMode = "unavailable"
)

// ResourceFaultKind names a fault on a single resource.
type ResourceFaultKind string

// Resource faults.
const (
	// TasksNeverStart leaves an ECS service's new tasks PENDING for ever.
	TasksNeverStart ResourceFaultKind = "tasks-never-start"
	// PromotionFails makes a promotion or global failover/switchover of an
	// RDS instance or cluster end with the resource back where it started
	// and an incompatible state error on later promotions.
	PromotionFails ResourceFaultKind = "promotion-fails"
	// RestoreHangs leaves a restored DB instance or cluster "creating" for
	// ever. Its Resource is the new identifier.
	RestoreHangs ResourceFaultKind = "restore-hangs"
)

// Fault is one injected fault. Empty Region, Service or Operation match
// every value; Route 53 calls have the region "global", and a blackout of a
// region with no Service leaves Route 53 alone.
type Fault struct {
	ID        string    `json:"id,omitempty"`
	Kind      FaultKind `json:"kind"`
	Region    string    `json:"region,omitempty"`
	Service   string    `json:"service,omitempty"`
	Operation string    `json:"operation,omitempty"`

	// Blackout.
	Mode BlackoutMode `json:"mode,omitempty"`

	// Error: Rate is the share of matching calls that fail (0 < Rate <= 1),
	// Code the AWS error code and Status its HTTP status (400 if zero).
	Rate    float64 `json:"rate,omitempty"`
	Code    string  `json:"code,omitempty"`
	Status  int     `json:"status,omitempty"`
	Message string  `json:"message,omitempty"`

	// Latency is added to every matching call.
	Latency Duration `json:"latency,omitempty"`

	// Throttle: PerSecond calls a second with bursts of Burst (1 if zero).
	PerSecond float64 `json:"perSecond,omitempty"`
	Burst     int     `json:"burst,omitempty"`

	// Resource: the kind of fault and the resource's identifier (ECS
	// service name, DB instance or cluster identifier).
	ResourceFault ResourceFaultKind `json:"resourceFault,omitempty"`
	Resource      string            `json:"resource,omitempty"`
}

// validate checks a fault before it is set.
func (f *Fault) validate() error {
	switch f.Kind {
	case FaultBlackout:
		switch f.Mode {
		case BlackoutRefuse, BlackoutHang, BlackoutUnavailable:
		default:
			return fmt.Errorf("blackout mode must be refuse, hang or unavailable, not %q", f.Mode)
		}
		if f.Region == "" && f.Service == "" {
			return fmt.Errorf("a blackout needs a region or a service")
		}
	case FaultError:
		if f.Rate <= 0 || f.Rate > 1 {
			return fmt.Errorf("error rate must be in (0, 1], not %v", f.Rate)
		}
		if f.Code == "" {
			return fmt.Errorf("an error fault needs an AWS error code")
		}
		if f.Status == 0 {
			f.Status = http.StatusBadRequest
		}
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("error status must be 4xx or 5xx, not %d", f.Status)
		}
	case FaultLatency:
		if f.Latency <= 0 {
			return fmt.Errorf("a latency fault needs a positive latency")
		}
	case FaultThrottle:
		if f.PerSecond <= 0 {
			return fmt.Errorf("a throttle needs a positive perSecond")
		}
		if f.Burst <= 0 {
			f.Burst = 1
		}
	case FaultResource:
		switch f.ResourceFault {
		case TasksNeverStart, PromotionFails, RestoreHangs:
		default:
			return fmt.Errorf("unknown resource fault %q", f.ResourceFault)
		}
		if f.Resource == "" {
			return fmt.Errorf("a resource fault needs a resource identifier")
		}
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	return nil
}

func (f *Fault) matches(region, service, op string) bool {
	if f.Region != "" && f.Region != region {
		return false
	}
	if f.Kind == FaultBlackout && f.Service == "" && service == ServiceRoute53 {
		return false
	}
	if f.Service != "" && f.Service != service {
		return false
	}
	return f.Operation == "" || f.Operation == op
}

// faultSet holds the active faults. It has its own lock so that waiting
// on a fault never holds the simulator's.
type faultSet struct {
	mu      sync.Mutex
	seq     int
	faults  map[string]*activeFault
	rng     *rand.Rand
	changed chan struct{} // closed and replaced whenever faults change
}

type activeFault struct {
	Fault
	tokens float64
	last   time.Time
}

func newFaultSet(seed int64) *faultSet {
	return &faultSet{
		faults:  map[string]*activeFault{},
		rng:     rand.New(rand.NewSource(seed + 1)),
		changed: make(chan struct{}),
	}
}

func (fs *faultSet) add(f Fault) (Fault, error) {
	if err := f.validate(); err != nil {
		return Fault{}, err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.seq++
	f.ID = fmt.Sprintf("f%d", fs.seq)
	fs.faults[f.ID] = &activeFault{Fault: f, tokens: float64(f.Burst)}
	fs.notify()
	return f, nil
}

func (fs *faultSet) remove(id string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	_, ok := fs.faults[id]
	delete(fs.faults, id)
	fs.notify()
	return ok
}

func (fs *faultSet) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.faults = map[string]*activeFault{}
	fs.notify()
}

// notify wakes requests that wait on a fault. The caller holds fs.mu.
func (fs *faultSet) notify() {
	close(fs.changed)
	fs.changed = make(chan struct{})
}

func (fs *faultSet) list() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, 0, len(fs.faults))
	for _, f := range fs.faults {
		out = append(out, f.Fault)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (fs *faultSet) resource(region, service string, kind ResourceFaultKind, id string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.faults {
		if f.Kind == FaultResource && f.ResourceFault == kind && f.Resource == id &&
			f.matches(region, service, "") {
			return true
		}
	}
	return false
}

// blackedOut reports whether a blackout covers the service in the region.
func (fs *faultSet) blackedOut(region, service string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.faults {
		if f.Kind == FaultBlackout && f.matches(region, service, "") {
			return true
		}
	}
	return false
}

// verdict is what the active faults decide for one call.
type verdict struct {
	blackout BlackoutMode
	latency  time.Duration
	err      *APIError
	changed  <-chan struct{}
}

func (fs *faultSet) judge(region, service, op string, now time.Time) verdict {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	v := verdict{changed: fs.changed}
	ids := make([]string, 0, len(fs.faults))
	for id := range fs.faults {
		ids = append(ids, id)
	}
	sort.Strings(ids) // a fixed order keeps seeded error draws repeatable
	for _, id := range ids {
		f := fs.faults[id]
		if !f.matches(region, service, op) {
			continue
		}
		switch f.Kind {
		case FaultBlackout:
			v.blackout = f.Mode
		case FaultLatency:
			v.latency += time.Duration(f.Latency)
		case FaultError:
			if v.err == nil && fs.rng.Float64() < f.Rate {
				msg := f.Message
				if msg == "" {
					msg = "injected fault " + f.ID
				}
				v.err = &APIError{Status: f.Status, Code: f.Code, Message: msg}
			}
		case FaultThrottle:
			if f.last.IsZero() {
				f.last = now
			}
			f.tokens += now.Sub(f.last).Seconds() * f.PerSecond
			if max := float64(f.Burst); f.tokens > max {
				f.tokens = max
			}
			f.last = now
			if f.tokens >= 1 {
				f.tokens--
			} else if v.err == nil {
				v.err = throttlingError(service)
			}
		}
	}
	return v
}

// throttlingError is the error each service answers when a caller exceeds
// its request rate; the SDK's retryer knows these codes as throttles.
func throttlingError(service string) *APIError {
	switch service {
	case ServiceECS:
		return errorf(http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	case ServiceRoute53, ServiceCloudWatch:
		return errorf(http.StatusBadRequest, "Throttling", "Rate exceeded")
	default:
		return errorf(http.StatusBadRequest, "Throttling", "Rate exceeded")
	}
}

// injectFaults applies the faults that match a call. It reports whether it
// answered the call itself.
func (s *Sim) injectFaults(w http.ResponseWriter, r *http.Request, svc *service,
	region, op, reqID string) bool {
	delayed := false
	for {
		v := s.faults.judge(region, svc.name, op, time.Now())
		if v.latency > 0 && !delayed {
			// Latency is added once, even when a hang makes the call
			// be judged again.
			delayed = true
			t := time.NewTimer(v.latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return true
			case <-s.closing:
				t.Stop()
				return true
			}
		}
		switch v.blackout {
		case BlackoutRefuse:
			dropConnection(w)
			return true
		case BlackoutUnavailable:
			svc.writeError(w, reqID, errorf(http.StatusServiceUnavailable,
				"ServiceUnavailable", "Service is unavailable in %s", region))
			return true
		case BlackoutHang:
			// Wait until the faults change, then judge the call again:
			// lifting the blackout lets a hung call through.
			select {
			case <-v.changed:
				continue
			case <-r.Context().Done():
				return true
			case <-s.closing:
				dropConnection(w)
				return true
			}
		}
		if v.err != nil {
			svc.writeError(w, reqID, v.err)
			return true
		}
		return false
	}
}

// dropConnection closes the connection under the request without a
// response, as a network that refuses or resets would.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
