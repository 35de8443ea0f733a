package awssim

import (
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Service names as the simulator counts and targets them.
const (
	ServiceECS        = "ecs"
	ServiceRDS        = "rds"
	ServiceRoute53    = "route53"
	ServiceCloudWatch = "cloudwatch"
)

// GlobalRegion is the region under which Route 53, a global service, is
// counted and targeted by faults.
const GlobalRegion = "global"

// maxBody bounds a request body; AWS rejects far smaller ones for these APIs.
const maxBody = 8 << 20

// Clock tells the simulator the time. Tests may inject one they control.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Options configure a simulator.
type Options struct {
	// Profile sets durations; the zero value means DefaultProfile.
	Profile *Profile
	// Clock defaults to the wall clock.
	Clock Clock
	// AccountID appears in every ARN; it defaults to 123456789012.
	AccountID string
}

// Sim is the state of every simulated region and the HTTP handler that
// serves them. One lock guards all state: each call holds it only while it
// reads or changes state, never while it waits on an injected fault.
type Sim struct {
	mu      sync.Mutex
	profile Profile
	clock   Clock
	rng     *rand.Rand
	account string

	regions map[string]*regionState
	route53 *route53State
	// rdsGlobal holds account-wide RDS state; rdsGlobals creates it.
	rdsGlobal *rdsGlobalState
	// replicaLags are the lags SetReplicaLag set, keyed by the
	// *dbInstance or *dbCluster itself so that they follow renames.
	replicaLags map[any]time.Duration

	faults *faultSet
	calls  map[CallKey]int64
	events []Event
	nextID int64

	// closing is closed when the simulator shuts down, releasing requests
	// that a "hang" fault holds.
	closing   chan struct{}
	closeOnce sync.Once
}

// regionState is everything one region holds.
type regionState struct {
	name string
	ecs  *ecsRegion
	rds  *rdsRegion
}

// New returns a simulator with no resources.
func New(opts Options) *Sim {
	p := DefaultProfile()
	if opts.Profile != nil {
		p = *opts.Profile
	}
	if p.TimeScale <= 0 {
		p.TimeScale = 1
	}
	clk := opts.Clock
	if clk == nil {
		clk = realClock{}
	}
	acct := opts.AccountID
	if acct == "" {
		acct = "123456789012"
	}
	return &Sim{
		profile: p,
		clock:   clk,
		rng:     rand.New(rand.NewSource(p.Seed)),
		account: acct,
		regions: map[string]*regionState{},
		route53: newRoute53State(),
		faults:  newFaultSet(p.Seed),
		calls:   map[CallKey]int64{},
		closing: make(chan struct{}),
	}
}

// Profile returns the profile the simulator runs with.
func (s *Sim) Profile() Profile { return s.profile }

// Close releases requests held by hang faults. The simulator keeps its
// state and still answers afterwards.
func (s *Sim) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// call is one API request on its way through the simulator.
type call struct {
	sim       *Sim
	service   string
	op        string
	region    string // "global" for Route 53
	req       *http.Request
	body      []byte
	now       time.Time
	requestID string
}

// APIError is an error in AWS's terms: an HTTP status, an error code that the
// SDK maps to its typed errors, and a message. Sender is false for errors
// that are the service's fault (5xx).
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// sender reports whether the error is the caller's fault, which the XML
// protocols write as <Type>Sender</Type>.
func (e *APIError) sender() bool { return e.Status < 500 }

// service describes one simulated AWS service to the router.
type service struct {
	name string
	// operation names the operation a request asks for, or "" when it
	// names none the simulator knows.
	operation func(r *http.Request, body []byte) string
	// serve answers the call with the simulator locked. A non-nil
	// error is written with writeError.
	serve      func(s *Sim, w http.ResponseWriter, c *call) *APIError
	writeError func(w http.ResponseWriter, requestID string, e *APIError)
}

var (
	ecsService = service{
		name: ServiceECS, operation: ecsOperation,
		serve: (*Sim).serveECS, writeError: writeECSError,
	}
	rdsService = service{
		name: ServiceRDS, operation: rdsOperation,
		serve: (*Sim).serveRDS, writeError: writeRDSError,
	}
	route53Service = service{
		name: ServiceRoute53, operation: route53Operation,
		serve: (*Sim).serveRoute53, writeError: writeRoute53Error,
	}
	cloudwatchService = service{
		name: ServiceCloudWatch, operation: cloudwatchOperation,
		serve: (*Sim).serveCloudWatch, writeError: writeCloudWatchError,
	}
)

// classify picks the service a request is for from the marks each protocol
// leaves: the JSON target header, the REST path, the RPC v2 protocol header
// and path, or a Query Action.
func classify(r *http.Request) *service {
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), ecsTargetPrefix):
		return &ecsService
	case strings.HasPrefix(r.URL.Path, route53PathPrefix):
		return &route53Service
	case r.Header.Get("Smithy-Protocol") == rpcv2CBOR &&
		strings.HasPrefix(r.URL.Path, cloudwatchPathPrefix):
		return &cloudwatchService
	case r.Method == http.MethodPost &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		return &rdsService
	}
	return nil
}

var credentialScope = regexp.MustCompile(`Credential=[^/,]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request`)

var regionName = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$`)

// signingRegion returns the region of the request's SigV4 credential scope.
func signingRegion(r *http.Request) (string, bool) {
	m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "", false
	}
	return m[1], true
}

// ServeHTTP routes a request to the control API or to a simulated service.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		s.serveControl(w, r)
		return
	}

	svc := classify(r)
	if svc == nil {
		writePlainError(w, http.StatusBadRequest, "UnknownService",
			"the request names no ECS target, Route 53 path, CloudWatch RPC v2 path or Query action")
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		svc.writeError(w, "", errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			"request body unreadable or larger than %d bytes", maxBody))
		return
	}

	s.mu.Lock()
	s.nextID++
	reqID := fmt.Sprintf("sim-%08d", s.nextID)
	s.mu.Unlock()
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.Header().Set("X-Amz-Request-Id", reqID)

	region, ok := signingRegion(r)
	if !ok {
		svc.writeError(w, reqID, errorf(http.StatusForbidden, "MissingAuthenticationToken",
			"Request is missing Authentication Token"))
		return
	}
	if !regionName.MatchString(region) {
		svc.writeError(w, reqID, errorf(http.StatusForbidden, "InvalidClientTokenId",
			"The security token included in the request is invalid: unknown region %q", region))
		return
	}
	if svc.name == ServiceRoute53 {
		region = GlobalRegion
	}

	op := svc.operation(r, body)
	s.countCall(region, svc.name, op)

	if s.injectFaults(w, r, svc, region, op, reqID) {
		return
	}

	c := &call{
		sim: s, service: svc.name, op: op, region: region,
		req: r, body: body, requestID: reqID,
	}
	s.mu.Lock()
	c.now = s.clock.Now()
	apiErr := svc.serve(s, w, c)
	s.mu.Unlock()
	if apiErr != nil {
		svc.writeError(w, reqID, apiErr)
	}
}

func writePlainError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%s: %s\n", code, msg)
}

// region returns the state of a region, creating it on first use: every
// region exists on AWS, empty until something is created in it.
func (s *Sim) region(name string) *regionState {
	r, ok := s.regions[name]
	if !ok {
		r = &regionState{name: name, ecs: newECSRegion(), rds: newRDSRegion()}
		s.regions[name] = r
	}
	return r
}

// duration draws how long an operation takes from the profile: scaled and
// jittered. The caller holds s.mu.
func (s *Sim) duration(d Duration) time.Duration {
	return jittered(s.profile, s.rng, d)
}

// arn builds an ARN in the simulator's account.
func (s *Sim) arn(service, region, resource string) string {
	if region == GlobalRegion {
		region = ""
	}
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, s.account, resource)
}

// Event records a resource reaching a state, at the time the simulator
// scheduled it for (not the time somebody looked).
type Event struct {
	Region   string    `json:"region"`
	Service  string    `json:"service"`
	Resource string    `json:"resource"` // e.g. "service", "db-instance", "change"
	ID       string    `json:"id"`
	State    string    `json:"state"`
	At       time.Time `json:"at"`
}

// record appends an event. The caller holds s.mu.
func (s *Sim) record(region, service, resource, id, state string, at time.Time) {
	s.events = append(s.events, Event{
		Region: region, Service: service, Resource: resource,
		ID: id, State: state, At: at,
	})
}

// CallKey identifies a counted operation.
type CallKey struct {
	Region    string `json:"region"`
	Service   string `json:"service"`
	Operation string `json:"operation"`
}

func (s *Sim) countCall(region, service, op string) {
	if op == "" {
		op = "unknown"
	}
	s.mu.Lock()
	s.calls[CallKey{region, service, op}]++
	s.mu.Unlock()
}

// resourceFault reports whether a fault of the given kind is set on the
// resource. The caller holds s.mu.
func (c *call) resourceFault(kind ResourceFaultKind, id string) bool {
	return c.sim.faults.resource(c.region, c.service, kind, id)
}
