package awssim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ecsTargetPrefix starts the X-Amz-Target header of every ECS call; the
// operation name follows it.
const ecsTargetPrefix = "AmazonEC2ContainerServiceV20141113."

const ecsContentType = "application/x-amz-json-1.1"

// ECS statuses and rollout states, as the API spells them.
const (
	ecsActive     = "ACTIVE"
	ecsDraining   = "DRAINING"
	ecsInactive   = "INACTIVE"
	ecsPrimary    = "PRIMARY"
	ecsInProgress = "IN_PROGRESS"
	ecsCompleted  = "COMPLETED"
)

// describeServicesLimit is how many services AWS accepts in one
// DescribeServices call.
const describeServicesLimit = 10

// serviceEventsKept bounds a service's event list. AWS keeps up to 100,
// but callers read the newest, and every event kept makes each
// DescribeServices answer longer to write and for the SDK to parse.
const serviceEventsKept = 3

type ecsHandler func(s *Sim, c *call, r *ecsRegion) (any, *APIError)

// ecsHandlers are the operations the simulator implements. Anything else
// is answered with UnknownOperationException.
var ecsHandlers = map[string]ecsHandler{
	"CreateCluster":          ecsCreateCluster,
	"DescribeClusters":       ecsDescribeClusters,
	"RegisterTaskDefinition": ecsRegisterTaskDefinition,
	"DescribeTaskDefinition": ecsDescribeTaskDefinition,
	"CreateService":          ecsCreateService,
	"DescribeServices":       ecsDescribeServices,
	"ListServices":           ecsListServices,
	"UpdateService":          ecsUpdateService,
	"DeleteService":          ecsDeleteService,
}

// ecsRegion is one region's ECS: clusters with their services, and task
// definition families.
type ecsRegion struct {
	clusters map[string]*ecsCluster
	families map[string]*ecsFamily
	seq      int64 // numbers deployments and service events
}

type ecsCluster struct {
	name     string
	arn      string
	services map[string]*ecsSvc
	// listed holds the names of the services that ListServices shows,
	// sorted, so that a page is found by binary search instead of a scan.
	listed []string
}

type ecsFamily struct {
	revisions []*ecsTaskDef // revision n is revisions[n-1]
}

type ecsTaskDef struct {
	arn          string
	revision     int
	registeredAt time.Time
	in           ecsTaskDefInput
}

// ecsSvc is a service and the deployments that run its tasks. The
// first deployment is the PRIMARY one; the others are ACTIVE and drain.
type ecsSvc struct {
	id          string // cluster/name: how faults and events name it
	name        string
	arn         string
	cluster     *ecsCluster
	status      string
	desired     int
	createdAt   time.Time
	deployments []*ecsDeployment
	events      []ecsServiceEvent // newest first

	clientToken string
	// signature is the creation request without its client token, to
	// tell an identical retry from a conflicting create.
	signature string
	in        ecsCreateServiceInput

	// lastTransition is the time of the last change made to the service
	// or of the latest scheduled transition applied since: once the
	// service settles, the time it became steady.
	lastTransition time.Time
	steadyRecorded bool
	inactiveAt     time.Time
}

type ecsServiceEvent struct {
	id      string
	at      time.Time
	message string
}

type ecsDeployment struct {
	id           string
	status       string
	taskDef      string
	createdAt    time.Time
	updatedAt    time.Time
	rolloutState string
	tasks        []*ecsTask
	lastLaunch   time.Time
}

// ecsTask is one task of a deployment. Its times are scheduled when it is
// launched; advance applies them once they have passed.
type ecsTask struct {
	launchAt time.Time
	runAt    time.Time
	stopAt   time.Time // zero until the task is told to stop
	startDur time.Duration
	stopDur  time.Duration
	up       bool // RUNNING: runAt has passed and was applied
	stuck    bool // held PENDING by a TasksNeverStart fault
}

func newECSRegion() *ecsRegion {
	return &ecsRegion{clusters: map[string]*ecsCluster{}, families: map[string]*ecsFamily{}}
}

// ecsOperation names the ECS operation of a request, or "" when the
// simulator does not implement it.
func ecsOperation(r *http.Request, body []byte) string {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), ecsTargetPrefix)
	if _, ok := ecsHandlers[op]; !ok {
		return ""
	}
	return op
}

// serveECS answers an ECS call. The caller holds s.mu.
func (s *Sim) serveECS(w http.ResponseWriter, c *call) *APIError {
	h, ok := ecsHandlers[c.op]
	if !ok {
		return errorf(http.StatusBadRequest, "UnknownOperationException",
			"operation %q is not supported by this endpoint", c.req.Header.Get("X-Amz-Target"))
	}
	out, apiErr := h(s, c, s.region(c.region).ecs)
	if apiErr != nil {
		return apiErr
	}
	var b []byte
	if a, ok := out.(interface{ appendJSON([]byte) []byte }); ok {
		b = a.appendJSON(make([]byte, 0, 4096))
	} else {
		var err error
		if b, err = json.Marshal(out); err != nil {
			return errorf(http.StatusInternalServerError, "ServerException",
				"encode %s response: %v", c.op, err)
		}
	}
	w.Header().Set("Content-Type", ecsContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

// writeECSError writes an error as the awsJson1.1 protocol does: the code
// in __type (and in X-Amzn-ErrorType), which the SDK maps to its typed
// errors and its retryer classifies.
func writeECSError(w http.ResponseWriter, requestID string, e *APIError) {
	if requestID != "" {
		w.Header().Set("X-Amzn-Requestid", requestID)
	}
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	w.Header().Set("Content-Type", ecsContentType)
	w.Header().Set("X-Amzn-Errortype", e.Code)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

func ecsDecode(c *call, v any) *APIError {
	body := c.body
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errorf(http.StatusBadRequest, "SerializationException",
			"cannot read the %s request body: %v", c.op, err)
	}
	return nil
}

func invalidParam(format string, args ...any) *APIError {
	return errorf(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

func ecsClientError(format string, args ...any) *APIError {
	return errorf(http.StatusBadRequest, "ClientException", format, args...)
}

// ecsName is what AWS accepts as a cluster, service or family name.
var ecsName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// lastSegment returns a name from a name or an ARN: an ARN's resource
// part ends with the name after its last slash.
func lastSegment(ref string) string {
	if !strings.HasPrefix(ref, "arn:") {
		return ref
	}
	return ref[strings.LastIndexByte(ref, '/')+1:]
}

func (r *ecsRegion) cluster(ref string) (*ecsCluster, *APIError) {
	if ref == "" {
		ref = "default"
	}
	cl, ok := r.clusters[lastSegment(ref)]
	if !ok {
		return nil, errorf(http.StatusBadRequest, "ClusterNotFoundException",
			"Cluster not found: %s", ref)
	}
	return cl, nil
}

// service finds a service of the cluster by name or ARN. An ARN of the
// new format names its cluster, which must be this one.
func (cl *ecsCluster) service(ref string) *ecsSvc {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		i := strings.Index(ref, ":service/")
		if i < 0 {
			return nil
		}
		parts := strings.Split(ref[i+1:], "/")
		if len(parts) == 3 && parts[1] != cl.name {
			return nil
		}
		name = parts[len(parts)-1]
	}
	return cl.services[name]
}

// --- Clusters ---

func ecsCreateCluster(s *Sim, c *call, r *ecsRegion) (any, *APIError) {
	var in struct {
		ClusterName string `json:"clusterName"`
	}
	if err := ecsDecode(c, &in); err != nil {
		return nil, err
	}
	name := in.ClusterName
	if name == "" {
		name = "default"
	}
	if !ecsName.MatchString(name) {
		return nil, invalidParam("Cluster name %q: up to 255 letters, numbers, "+
			"hyphens and underscores are allowed", name)
	}
	cl, ok := r.clusters[name]
	if !ok {
		cl = &ecsCluster{
			name: name, arn: s.arn("ecs", c.region, "cluster/"+name),
			services: map[string]*ecsSvc{},
		}
		r.clusters[name] = cl
	}
	return map[string]any{"cluster": r.clusterOut(s, c.region, cl, c.now)}, nil
}

func ecsDescribeClusters(s *Sim, c *call, r *ecsRegion) (any, *APIError) {
	var in struct {
		Clusters []string `json:"clusters"`
	}
	if err := ecsDecode(c, &in); err != nil {
		return nil, err
	}
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	if len(in.Clusters) > 100 {
		return nil, invalidParam("clusters can have at most 100 items, not %d", len(in.Clusters))
	}
	out := ecsDescribeClustersOutput{Clusters: []ecsClusterOut{}, Failures: []ecsFailure{}}
	for _, ref := range in.Clusters {
		cl, ok := r.clusters[lastSegment(ref)]
		if !ok {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = s.arn("ecs", c.region, "cluster/"+ref)
			}
			out.Failures = append(out.Failures, ecsFailure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.Clusters = append(out.Clusters, r.clusterOut(s, c.region, cl, c.now))
	}
	return out, nil
}

func (r *ecsRegion) clusterOut(s *Sim, region string, cl *ecsCluster, now time.Time) ecsClusterOut {
	out := ecsClusterOut{
		ClusterArn: cl.arn, ClusterName: cl.name, Status: ecsActive,
		ActiveServicesCount: len(cl.listed),
	}
	for _, svc := range cl.services {
		r.advance(s, region, svc, now)
		running, pending := svc.counts(now)
		out.RunningTasksCount += running
		out.PendingTasksCount += pending
	}
	return out
}

// --- Task definitions ---

func ecsRegisterTaskDefinition(s *Sim, c *call, r *ecsRegion) (any, *APIError) {
	var in ecsTaskDefInput
	if err := ecsDecode(c, &in); err != nil {
		return nil, err
	}
	if !ecsName.MatchString(in.Family) {
		return nil, ecsClientError("Family %q: up to 255 letters, numbers, hyphens and "+
			"underscores are allowed", in.Family)
	}
	var containers []json.RawMessage
	if len(in.ContainerDefinitions) > 0 {
		if err := json.Unmarshal(in.ContainerDefinitions, &containers); err != nil {
			return nil, errorf(http.StatusBadRequest, "SerializationException",
				"containerDefinitions must be a list: %v", err)
		}
	}
	if len(containers) == 0 {
		return nil, ecsClientError("Container list cannot be empty.")
	}

	fam, ok := r.families[in.Family]
	if !ok {
		fam = &ecsFamily{}
		r.families[in.Family] = fam
	}
	rev := len(fam.revisions) + 1
	td := &ecsTaskDef{
		arn:      s.arn("ecs", c.region, fmt.Sprintf("task-definition/%s:%d", in.Family, rev)),
		revision: rev, registeredAt: c.now, in: in,
	}
	fam.revisions = append(fam.revisions, td)
	return map[string]any{"taskDefinition": td.out()}, nil
}

func ecsDescribeTaskDefinition(s *Sim, c *call, r *ecsRegion) (any, *APIError) {
	var in struct {
		TaskDefinition string `json:"taskDefinition"`
	}
	if err := ecsDecode(c, &in); err != nil {
		return nil, err
	}
	td := r.taskDef(in.TaskDefinition)
	if td == nil {
		return nil, ecsClientError("Unable to describe task definition %q.", in.TaskDefinition)
	}
	return map[string]any{"taskDefinition": td.out()}, nil
}

// taskDef resolves a family (its latest revision), family:revision or an
// ARN. It returns nil when there is no such task definition.
func (r *ecsRegion) taskDef(ref string) *ecsTaskDef {
	if strings.HasPrefix(ref, "arn:") {
		i := strings.Index(ref, ":task-definition/")
		if i < 0 {
			return nil
		}
		ref = ref[i+len(":task-definition/"):]
	}
	family, revText, hasRev := strings.Cut(ref, ":")
	fam, ok := r.families[family]
	if !ok || len(fam.revisions) == 0 {
		return nil
	}
	if !hasRev {
		return fam.revisions[len(fam.revisions)-1]
	}
	rev, err := strconv.Atoi(revText)
	if err != nil || rev < 1 || rev > len(fam.revisions) {
		return nil
	}
	return fam.revisions[rev-1]
}

// --- Services ---

func ecsCreateService(s *Sim, c *call, r *ecsRegion) (any, *APIError) {
	var in ecsCreateServiceInput
	if err := ecsDecode(c, &in); err != nil {
		return nil, err
	}
	if in.ServiceName == "" {
		return nil, invalidParam("serviceName is required")
	}
	if !ecsName.MatchString(in.ServiceName) {
		return nil, invalidParam("Service name %q: up to 255 letters, numbers, hyphens "+
			"and underscores are allowed", in.ServiceName)
	}
	cl, apiErr := r.cluster(in.Cluster)
	if apiErr != nil {
		return nil, apiErr
	}
	if in.SchedulingStrategy != "" && in.SchedulingStrategy != "REPLICA" {
		return nil, invalidParam("schedulingStrategy %q is not simulated; use REPLICA",
			in.SchedulingStrategy)
	}
	if in.DesiredCount == nil {
		return nil, invalidParam("desiredCount is required for the REPLICA scheduling strategy")
	}
	if *in.DesiredCount < 0 {
		return nil, invalidParam("desiredCount must be 0 or more, not %d", *in.DesiredCount)
	}
	if in.TaskDefinition == "" {
		return nil, invalidParam("taskDefinition is required")
	}
	td := r.taskDef(in.TaskDefinition)
	if td == nil {
		return nil, ecsClientError("TaskDefinition not found: %s", in.TaskDefinition)
	}
	sig, err := requestSignature(c.body)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "SerializationException",
			"cannot read the CreateService request body: %v", err)
	}

	if old, ok := cl.services[in.ServiceName]; ok {
		r.advance(s, c.region, old, c.now)
		switch old.status {
		case ecsActive:
			if old.clientToken == in.ClientToken && old.signature == sig {
				return &ecsServicesOut{now: c.now, one: old}, nil
			}
			return nil, invalidParam("Creation of service was not idempotent.")
		case ecsDraining:
			return nil, invalidParam("Unable to Start a service that is still Draining.")
		}
		// An INACTIVE service of that name is replaced.
	}

	svc := &ecsSvc{
		id:   cl.name + "/" + in.ServiceName,
		name: in.ServiceName, cluster: cl,
		arn:    s.arn("ecs", c.region, "service/"+cl.name+"/"+in.ServiceName),
		status: ecsActive, desired: *in.DesiredCount, createdAt: c.now,
		clientToken: in.ClientToken, signature: sig, in: in,
		lastTransition: c.now,
	}
	cl.services[svc.name] = svc
	cl.list(svc.name)
	r.deploy(s, svc, td.arn, c.now)
	r.advance(s, c.region, svc, c.now)
	return &ecsServicesOut{now: c.now, one: svc}, nil
}

// requestSignature is a request body in a canonical form, without the
// client token.
func requestSignature(body []byte) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return "", err
	}
	delete(m, "clientToken")
	b, err := json.Marshal(m)
	return string(b), err
}

func ecsDescribeServices(s *Sim, c *call, r *ecsRegion) (any, *APIError) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}
	if err := ecsDecode(c, &in); err != nil {
		return nil, err
	}
	if len(in.Services) == 0 {
		return nil, invalidParam("Services cannot be empty.")
	}
	if len(in.Services) > describeServicesLimit {
		return nil, invalidParam("services can have at most %d items, not %d",
			describeServicesLimit, len(in.Services))
	}
	cl, apiErr := r.cluster(in.Cluster)
	if apiErr != nil {
		return nil, apiErr
	}
	out := &ecsServicesOut{now: c.now, services: make([]*ecsSvc, 0, len(in.Services))}
	for _, ref := range in.Services {
		svc := cl.service(ref)
		if svc == nil {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = s.arn("ecs", c.region, "service/"+cl.name+"/"+ref)
			}
			out.failures = append(out.failures, ecsFailure{Arn: arn, Reason: "MISSING"})
			continue
		}
		r.advance(s, c.region, svc, c.now)
		out.services = append(out.services, svc)
	}
	return out, nil
}

func ecsListServices(s *Sim, c *call, r *ecsRegion) (any, *APIError) {
	var in struct {
		Cluster    string `json:"cluster"`
		NextToken  string `json:"nextToken"`
		MaxResults *int   `json:"maxResults"`
	}
	if err := ecsDecode(c, &in); err != nil {
		return nil, err
	}
	limit := 10
	if in.MaxResults != nil {
		limit = *in.MaxResults
		if limit < 1 || limit > 100 {
			return nil, invalidParam("maxResults must be between 1 and 100, not %d", limit)
		}
	}
	cl, apiErr := r.cluster(in.Cluster)
	if apiErr != nil {
		return nil, apiErr
	}

	// The token is the last name of the previous page, so a page starts
	// right after it even if services came or went in between.
	start := 0
	if in.NextToken != "" {
		after, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || len(after) == 0 {
			return nil, invalidParam("Invalid nextToken %q", in.NextToken)
		}
		start = sort.SearchStrings(cl.listed, string(after))
		if start < len(cl.listed) && cl.listed[start] == string(after) {
			start++
		}
	}
	end := min(start+limit, len(cl.listed))
	out := ecsListServicesOutput{ServiceArns: make([]string, 0, end-start)}
	for _, name := range cl.listed[start:end] {
		out.ServiceArns = append(out.ServiceArns, cl.services[name].arn)
	}
	if end < len(cl.listed) {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(cl.listed[end-1]))
	}
	return out, nil
}

func ecsUpdateService(s *Sim, c *call, r *ecsRegion) (any, *APIError) {
	var in struct {
		Cluster            string `json:"cluster"`
		Service            string `json:"service"`
		DesiredCount       *int   `json:"desiredCount"`
		TaskDefinition     string `json:"taskDefinition"`
		ForceNewDeployment bool   `json:"forceNewDeployment"`
	}
	if err := ecsDecode(c, &in); err != nil {
		return nil, err
	}
	if in.Service == "" {
		return nil, invalidParam("service is required")
	}
	cl, apiErr := r.cluster(in.Cluster)
	if apiErr != nil {
		return nil, apiErr
	}
	svc := cl.service(in.Service)
	if svc == nil {
		return nil, errorf(http.StatusBadRequest, "ServiceNotFoundException",
			"Service not found: %s", in.Service)
	}
	r.advance(s, c.region, svc, c.now)
	if svc.status != ecsActive {
		return nil, errorf(http.StatusBadRequest, "ServiceNotActiveException",
			"Service was not ACTIVE: %s is %s", svc.id, svc.status)
	}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, invalidParam("desiredCount must be 0 or more, not %d", *in.DesiredCount)
	}
	var td *ecsTaskDef
	if in.TaskDefinition != "" {
		if td = r.taskDef(in.TaskDefinition); td == nil {
			return nil, ecsClientError("TaskDefinition not found: %s", in.TaskDefinition)
		}
	}

	primary := svc.deployments[0]
	redeploy := in.ForceNewDeployment || (td != nil && td.arn != primary.taskDef)
	rescale := in.DesiredCount != nil && *in.DesiredCount != svc.desired
	if rescale {
		svc.desired = *in.DesiredCount
	}
	switch {
	case redeploy:
		arn := primary.taskDef
		if td != nil {
			arn = td.arn
		}
		r.deploy(s, svc, arn, c.now)
	case rescale:
		s.rescale(primary, svc.desired, c.now)
		primary.updatedAt = c.now
	}
	if redeploy || rescale {
		svc.lastTransition = c.now
		svc.steadyRecorded = false
	}
	r.advance(s, c.region, svc, c.now)
	return &ecsServicesOut{now: c.now, one: svc}, nil
}

func ecsDeleteService(s *Sim, c *call, r *ecsRegion) (any, *APIError) {
	var in struct {
		Cluster string `json:"cluster"`
		Service string `json:"service"`
		Force   bool   `json:"force"`
	}
	if err := ecsDecode(c, &in); err != nil {
		return nil, err
	}
	if in.Service == "" {
		return nil, invalidParam("service is required")
	}
	cl, apiErr := r.cluster(in.Cluster)
	if apiErr != nil {
		return nil, apiErr
	}
	svc := cl.service(in.Service)
	if svc == nil {
		return nil, errorf(http.StatusBadRequest, "ServiceNotFoundException",
			"Service not found: %s", in.Service)
	}
	r.advance(s, c.region, svc, c.now)
	if svc.status != ecsActive {
		return nil, errorf(http.StatusBadRequest, "ServiceNotActiveException",
			"Service was not ACTIVE: %s is %s", svc.id, svc.status)
	}
	if svc.desired > 0 && !in.Force {
		return nil, invalidParam("The service cannot be stopped while it is scaled above 0.")
	}

	svc.status = ecsDraining
	svc.desired = 0
	svc.inactiveAt = c.now.Add(s.duration(s.profile.ECSTaskStop))
	for _, d := range svc.deployments {
		d.tasks = stopAll(d.tasks, c.now)
		for _, t := range d.tasks {
			if t.stopAt.After(svc.inactiveAt) {
				svc.inactiveAt = t.stopAt
			}
		}
	}
	cl.unlist(svc.name)
	r.advance(s, c.region, svc, c.now)
	return &ecsServicesOut{now: c.now, one: svc}, nil
}

// list adds a service name to the cluster's sorted listing.
func (cl *ecsCluster) list(name string) {
	i := sort.SearchStrings(cl.listed, name)
	if i < len(cl.listed) && cl.listed[i] == name {
		return
	}
	cl.listed = append(cl.listed, "")
	copy(cl.listed[i+1:], cl.listed[i:])
	cl.listed[i] = name
}

func (cl *ecsCluster) unlist(name string) {
	i := sort.SearchStrings(cl.listed, name)
	if i < len(cl.listed) && cl.listed[i] == name {
		cl.listed = append(cl.listed[:i], cl.listed[i+1:]...)
	}
}

// --- Deployments over time ---

// deploy starts a new PRIMARY deployment of taskDef with the service's
// desired count. The previous primary becomes ACTIVE and keeps only the
// tasks it already runs; they are stopped as the new tasks come up.
func (r *ecsRegion) deploy(s *Sim, svc *ecsSvc, taskDef string, now time.Time) {
	if len(svc.deployments) > 0 {
		old := svc.deployments[0]
		old.status = ecsActive
		old.updatedAt = now
		kept := old.tasks[:0]
		for _, t := range old.tasks {
			if t.up {
				kept = append(kept, t)
			}
		}
		old.tasks = kept
	}
	r.seq++
	d := &ecsDeployment{
		id:     fmt.Sprintf("ecs-svc/%019d", r.seq),
		status: ecsPrimary, taskDef: taskDef,
		createdAt: now, updatedAt: now, rolloutState: ecsInProgress,
	}
	svc.deployments = append([]*ecsDeployment{d}, svc.deployments...)
	s.launch(d, svc.desired, now)
}

// launch schedules n more tasks of a deployment, one every ECSTaskStagger
// after any launches already scheduled, each RUNNING ECSTaskStart later.
// The caller holds s.mu.
func (s *Sim) launch(d *ecsDeployment, n int, now time.Time) {
	next := now
	if !d.lastLaunch.IsZero() {
		if t := d.lastLaunch.Add(s.duration(s.profile.ECSTaskStagger)); t.After(next) {
			next = t
		}
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			next = next.Add(s.duration(s.profile.ECSTaskStagger))
		}
		t := &ecsTask{
			launchAt: next,
			startDur: s.duration(s.profile.ECSTaskStart),
			stopDur:  s.duration(s.profile.ECSTaskStop),
		}
		t.runAt = t.launchAt.Add(t.startDur)
		d.tasks = append(d.tasks, t)
		d.lastLaunch = next
	}
}

// rescale sets how many tasks a deployment keeps. Scaling in gives up
// tasks that have not started before it stops running ones, newest first.
func (s *Sim) rescale(d *ecsDeployment, desired int, now time.Time) {
	live := 0
	for _, t := range d.tasks {
		if t.stopAt.IsZero() {
			live++
		}
	}
	if desired > live {
		s.launch(d, desired-live, now)
		return
	}
	excess := live - desired
	if excess == 0 {
		return
	}

	// Give up unstarted tasks, the latest launched first.
	for i := len(d.tasks) - 1; i >= 0 && excess > 0; i-- {
		if t := d.tasks[i]; !t.up {
			d.tasks = append(d.tasks[:i], d.tasks[i+1:]...)
			excess--
		}
	}
	for i := len(d.tasks) - 1; i >= 0 && excess > 0; i-- {
		if t := d.tasks[i]; t.stopAt.IsZero() {
			t.stopAt = now.Add(t.stopDur)
			excess--
		}
	}
	d.lastLaunch = time.Time{}
	for _, t := range d.tasks {
		if t.launchAt.After(d.lastLaunch) {
			d.lastLaunch = t.launchAt
		}
	}
}

// stopAll gives up a deployment's unstarted tasks and stops the running
// ones.
func stopAll(tasks []*ecsTask, now time.Time) []*ecsTask {
	kept := tasks[:0]
	for _, t := range tasks {
		if !t.up {
			continue
		}
		if t.stopAt.IsZero() {
			t.stopAt = now.Add(t.stopDur)
		}
		kept = append(kept, t)
	}
	return kept
}

// advance applies every transition of a service scheduled at or before
// now, in the order they were scheduled for, so that the outcome does not
// depend on when or how often the service is read. The caller holds s.mu.
func (r *ecsRegion) advance(s *Sim, region string, svc *ecsSvc, now time.Time) {
	if svc.status == ecsInactive {
		return
	}
	primary := svc.deployments[0]

	if svc.status == ecsActive {
		r.holdOrRelease(s, region, svc, primary, now)
	}

	// Primary tasks come up in the order of their start; each one lets a
	// task of an older deployment stop.
	var ups []*ecsTask
	for _, t := range primary.tasks {
		if !t.up && !t.stuck && !t.runAt.After(now) {
			ups = append(ups, t)
		}
	}
	sort.Slice(ups, func(i, j int) bool { return ups[i].runAt.Before(ups[j].runAt) })
	for _, t := range ups {
		t.up = true
		primary.touch(t.runAt)
		svc.touch(t.runAt)
		svc.replaceOldTask(t.runAt)
	}

	// Once the primary runs all its tasks, whatever older deployments
	// still run is no longer needed.
	if len(svc.deployments) > 1 && primary.allUp() {
		done := primary.createdAt
		for _, t := range primary.tasks {
			if t.runAt.After(done) {
				done = t.runAt
			}
		}
		for _, d := range svc.deployments[1:] {
			for _, t := range d.tasks {
				if t.stopAt.IsZero() {
					t.stopAt = done.Add(t.stopDur)
				}
			}
		}
	}

	// Remove stopped tasks, then deployments that have none left.
	for _, d := range svc.deployments {
		kept := d.tasks[:0]
		for _, t := range d.tasks {
			if !t.stopAt.IsZero() && !t.stopAt.After(now) {
				d.touch(t.stopAt)
				svc.touch(t.stopAt)
				continue
			}
			kept = append(kept, t)
		}
		d.tasks = kept
	}
	deps := svc.deployments[:1]
	for _, d := range svc.deployments[1:] {
		if len(d.tasks) > 0 {
			deps = append(deps, d)
		}
	}
	svc.deployments = deps

	switch svc.status {
	case ecsDraining:
		if !now.Before(svc.inactiveAt) {
			svc.status = ecsInactive
			svc.deployments = svc.deployments[:1]
			primary.tasks = nil
			s.record(region, ServiceECS, "service", svc.id, "inactive", svc.inactiveAt)
		}
	case ecsActive:
		if !svc.steadyRecorded && len(svc.deployments) == 1 && primary.allUp() &&
			!primary.stopping() {
			at := svc.lastTransition
			svc.steadyRecorded = true
			if primary.rolloutState == ecsInProgress {
				primary.rolloutState = ecsCompleted
				primary.touch(at)
				r.addEvent(svc, at, fmt.Sprintf("(service %s) (deployment %s) deployment completed.",
					svc.name, primary.id))
			}
			r.addEvent(svc, at, fmt.Sprintf("(service %s) has reached a steady state.", svc.name))
			s.record(region, ServiceECS, "service", svc.id, "steady", at)
		}
	}
}

// holdOrRelease applies a TasksNeverStart fault: while it is set, the
// primary's tasks that have not started stay PENDING. Once it is lifted,
// they are launched again from now.
func (r *ecsRegion) holdOrRelease(s *Sim, region string, svc *ecsSvc, d *ecsDeployment,
	now time.Time) {
	waiting, stuck := false, false
	for _, t := range d.tasks {
		waiting = waiting || !t.up
		stuck = stuck || t.stuck
	}
	if !waiting {
		return
	}
	if s.faults.resource(region, ServiceECS, TasksNeverStart, svc.id) {
		for _, t := range d.tasks {
			if !t.up && t.runAt.After(now) {
				t.stuck = true
			}
		}
		return
	}
	if !stuck {
		return
	}
	// TODO: the fault's removal time is not known here, only the time of
	// the first read after it, so relaunched tasks start from that read.
	next := now
	stagger := s.profile.Scaled(s.profile.ECSTaskStagger)
	for _, t := range d.tasks {
		if !t.stuck {
			continue
		}
		t.stuck = false
		t.launchAt = next
		t.runAt = next.Add(t.startDur)
		d.lastLaunch = next
		next = next.Add(stagger)
	}
}

// replaceOldTask stops one running task of the oldest deployment that
// has one, as a new task of the primary has come up at.
func (svc *ecsSvc) replaceOldTask(at time.Time) {
	for i := len(svc.deployments) - 1; i >= 1; i-- {
		for _, t := range svc.deployments[i].tasks {
			if t.stopAt.IsZero() {
				t.stopAt = at.Add(t.stopDur)
				return
			}
		}
	}
}

func (svc *ecsSvc) touch(at time.Time) {
	if at.After(svc.lastTransition) {
		svc.lastTransition = at
	}
}

func (d *ecsDeployment) touch(at time.Time) {
	if at.After(d.updatedAt) {
		d.updatedAt = at
	}
}

func (d *ecsDeployment) allUp() bool {
	for _, t := range d.tasks {
		if !t.up {
			return false
		}
	}
	return true
}

func (d *ecsDeployment) stopping() bool {
	for _, t := range d.tasks {
		if !t.stopAt.IsZero() {
			return true
		}
	}
	return false
}

// counts returns a deployment's RUNNING tasks (stopping ones included,
// as on AWS until they have stopped), PENDING tasks and the tasks it
// means to keep.
func (d *ecsDeployment) counts(now time.Time) (running, pending, live int) {
	for _, t := range d.tasks {
		switch {
		case t.up:
			running++
		case !t.launchAt.After(now):
			pending++
		}
		if t.stopAt.IsZero() {
			live++
		}
	}
	return running, pending, live
}

func (svc *ecsSvc) counts(now time.Time) (running, pending int) {
	for _, d := range svc.deployments {
		r, p, _ := d.counts(now)
		running += r
		pending += p
	}
	return running, pending
}

func (r *ecsRegion) addEvent(svc *ecsSvc, at time.Time, msg string) {
	r.seq++
	ev := ecsServiceEvent{id: fmt.Sprintf("%08x-0000-4000-8000-%012x", r.seq>>48, r.seq),
		at: at, message: msg}
	svc.events = append([]ecsServiceEvent{ev}, svc.events...)
	if len(svc.events) > serviceEventsKept {
		svc.events = svc.events[:serviceEventsKept]
	}
}

// --- Snapshot ---

// ECSState is one region's ECS resources as a snapshot shows them.
type ECSState struct {
	// Clusters are the cluster names, sorted.
	Clusters []string `json:"clusters"`
	// TaskDefinitions are the ARNs of every registered revision, sorted.
	TaskDefinitions []string `json:"taskDefinitions"`
	// Services are sorted by cluster and name; INACTIVE ones are included.
	Services []ECSServiceState `json:"services"`
}

// ECSServiceState is one ECS service in a snapshot.
type ECSServiceState struct {
	Cluster      string `json:"cluster"`
	Name         string `json:"name"`
	Arn          string `json:"arn"`
	Status       string `json:"status"`
	DesiredCount int    `json:"desiredCount"`
	RunningCount int    `json:"runningCount"`
	PendingCount int    `json:"pendingCount"`
	// Deployments counts the PRIMARY deployment and the ACTIVE ones still
	// draining.
	Deployments int `json:"deployments"`
	// TaskDefinition is the ARN that the PRIMARY deployment runs.
	TaskDefinition string `json:"taskDefinition"`
}

// state brings every service up to now and describes the region.
func (r *ecsRegion) state(s *Sim, region string, now time.Time) ECSState {
	st := ECSState{Clusters: []string{}, TaskDefinitions: []string{}, Services: []ECSServiceState{}}
	for name, cl := range r.clusters {
		st.Clusters = append(st.Clusters, name)
		for _, svc := range cl.services {
			r.advance(s, region, svc, now)
			running, pending := svc.counts(now)
			st.Services = append(st.Services, ECSServiceState{
				Cluster: cl.name, Name: svc.name, Arn: svc.arn, Status: svc.status,
				DesiredCount: svc.desired, RunningCount: running, PendingCount: pending,
				Deployments:    len(svc.deployments),
				TaskDefinition: svc.deployments[0].taskDef,
			})
		}
	}
	for _, fam := range r.families {
		for _, td := range fam.revisions {
			st.TaskDefinitions = append(st.TaskDefinitions, td.arn)
		}
	}
	sort.Strings(st.Clusters)
	sort.Strings(st.TaskDefinitions)
	sort.Slice(st.Services, func(i, j int) bool {
		a, b := st.Services[i], st.Services[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		return a.Name < b.Name
	})
	return st
}

// --- Wire shapes (awsJson1.1: lowerCamel members, epoch-second times) ---

// epochTime writes a time as awsJson does: seconds since the epoch, with
// milliseconds as the fraction.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1e3, 'f', -1, 64), nil
}

type ecsFailure struct {
	Arn    string `json:"arn"`
	Reason string `json:"reason"`
}

type ecsClusterOut struct {
	ClusterArn                        string `json:"clusterArn"`
	ClusterName                       string `json:"clusterName"`
	Status                            string `json:"status"`
	RegisteredContainerInstancesCount int    `json:"registeredContainerInstancesCount"`
	RunningTasksCount                 int    `json:"runningTasksCount"`
	PendingTasksCount                 int    `json:"pendingTasksCount"`
	ActiveServicesCount               int    `json:"activeServicesCount"`
}

type ecsDescribeClustersOutput struct {
	Clusters []ecsClusterOut `json:"clusters"`
	Failures []ecsFailure    `json:"failures"`
}

// ecsTaskDefInput is what RegisterTaskDefinition keeps and echoes; other
// members of the request are accepted and dropped.
type ecsTaskDefInput struct {
	Family                  string          `json:"family"`
	ContainerDefinitions    json.RawMessage `json:"containerDefinitions"`
	TaskRoleArn             string          `json:"taskRoleArn,omitempty"`
	ExecutionRoleArn        string          `json:"executionRoleArn,omitempty"`
	NetworkMode             string          `json:"networkMode,omitempty"`
	RequiresCompatibilities []string        `json:"requiresCompatibilities,omitempty"`
	Cpu                     string          `json:"cpu,omitempty"`
	Memory                  string          `json:"memory,omitempty"`
	Volumes                 json.RawMessage `json:"volumes,omitempty"`
	RuntimePlatform         json.RawMessage `json:"runtimePlatform,omitempty"`
}

type ecsTaskDefOut struct {
	TaskDefinitionArn string `json:"taskDefinitionArn"`
	Revision          int    `json:"revision"`
	Status            string `json:"status"`
	ecsTaskDefInput
	RegisteredAt epochTime `json:"registeredAt"`
}

func (td *ecsTaskDef) out() ecsTaskDefOut {
	return ecsTaskDefOut{
		TaskDefinitionArn: td.arn, Revision: td.revision, Status: ecsActive,
		ecsTaskDefInput: td.in, RegisteredAt: epochTime(td.registeredAt),
	}
}

// ecsCreateServiceInput is the part of CreateService the simulator uses
// or echoes back.
type ecsCreateServiceInput struct {
	Cluster                 string          `json:"cluster"`
	ServiceName             string          `json:"serviceName"`
	TaskDefinition          string          `json:"taskDefinition"`
	DesiredCount            *int            `json:"desiredCount"`
	ClientToken             string          `json:"clientToken"`
	LaunchType              string          `json:"launchType"`
	PlatformVersion         string          `json:"platformVersion"`
	SchedulingStrategy      string          `json:"schedulingStrategy"`
	DeploymentConfiguration json.RawMessage `json:"deploymentConfiguration"`
	NetworkConfiguration    json.RawMessage `json:"networkConfiguration"`
	LoadBalancers           json.RawMessage `json:"loadBalancers"`
}

// What AWS reports for members a CreateService request left out.
var (
	ecsNoLoadBalancers   = json.RawMessage(`[]`)
	ecsDefaultDeployment = json.RawMessage(`{"deploymentCircuitBreaker":` +
		`{"enable":false,"rollback":false},"maximumPercent":200,"minimumHealthyPercent":100}`)
)

const ecsDefaultLaunchType = "EC2"

// ecsServicesOut answers the calls that return services: one service
// (CreateService, UpdateService, DeleteService) or a list with failures
// (DescribeServices). It is encoded by hand, while the simulator is
// locked, because DescribeServices is the call a failover makes most.
type ecsServicesOut struct {
	now      time.Time
	one      *ecsSvc
	services []*ecsSvc
	failures []ecsFailure
}

func (o *ecsServicesOut) appendJSON(b []byte) []byte {
	w := jsonWriter{b: b}
	w.open('{')
	if o.one != nil {
		w.key("service")
		o.one.appendJSON(&w, o.now)
	} else {
		w.key("services")
		w.open('[')
		for _, svc := range o.services {
			svc.appendJSON(&w, o.now)
		}
		w.close(']')
		w.key("failures")
		w.open('[')
		for _, f := range o.failures {
			w.open('{')
			w.key("arn")
			w.str(f.Arn)
			w.key("reason")
			w.str(f.Reason)
			w.close('}')
		}
		w.close(']')
	}
	w.close('}')
	return w.b
}

// appendJSON writes a service as the ECS Service shape; the caller has
// advanced it to now.
func (svc *ecsSvc) appendJSON(w *jsonWriter, now time.Time) {
	launchType := svc.in.LaunchType
	if launchType == "" {
		launchType = ecsDefaultLaunchType
	}
	var running, pending int
	for _, d := range svc.deployments {
		r, p, _ := d.counts(now)
		running += r
		pending += p
	}

	w.open('{')
	w.field("serviceArn", svc.arn)
	w.field("serviceName", svc.name)
	w.field("clusterArn", svc.cluster.arn)
	w.key("loadBalancers")
	w.raw(svc.in.LoadBalancers, ecsNoLoadBalancers)
	w.field("status", svc.status)
	w.key("desiredCount")
	w.num(svc.desired)
	w.key("runningCount")
	w.num(running)
	w.key("pendingCount")
	w.num(pending)
	w.field("launchType", launchType)
	if svc.in.PlatformVersion != "" {
		w.field("platformVersion", svc.in.PlatformVersion)
	}
	w.field("taskDefinition", svc.deployments[0].taskDef)
	w.key("deploymentConfiguration")
	w.raw(svc.in.DeploymentConfiguration, ecsDefaultDeployment)

	w.key("deployments")
	w.open('[')
	for i, d := range svc.deployments {
		running, pending, live := d.counts(now)
		desired := live // an ACTIVE deployment wants what it has not stopped yet
		if i == 0 {
			desired = svc.desired
		}
		w.open('{')
		w.field("id", d.id)
		w.field("status", d.status)
		w.field("taskDefinition", d.taskDef)
		w.key("desiredCount")
		w.num(desired)
		w.key("pendingCount")
		w.num(pending)
		w.key("runningCount")
		w.num(running)
		w.key("failedTasks")
		w.num(0)
		w.key("createdAt")
		w.time(d.createdAt)
		w.key("updatedAt")
		w.time(d.updatedAt)
		w.field("launchType", launchType)
		if svc.in.PlatformVersion != "" {
			w.field("platformVersion", svc.in.PlatformVersion)
		}
		if len(svc.in.NetworkConfiguration) > 0 {
			w.key("networkConfiguration")
			w.raw(svc.in.NetworkConfiguration, nil)
		}
		w.field("rolloutState", d.rolloutState)
		w.close('}')
	}
	w.close(']')

	w.key("events")
	w.open('[')
	for _, e := range svc.events {
		w.open('{')
		w.field("id", e.id)
		w.key("createdAt")
		w.time(e.at)
		w.field("message", e.message)
		w.close('}')
	}
	w.close(']')

	w.key("createdAt")
	w.time(svc.createdAt)
	if len(svc.in.NetworkConfiguration) > 0 {
		w.key("networkConfiguration")
		w.raw(svc.in.NetworkConfiguration, nil)
	}
	w.field("schedulingStrategy", "REPLICA")
	w.key("deploymentController")
	w.open('{')
	w.field("type", "ECS")
	w.close('}')
	w.key("enableECSManagedTags")
	w.boolean(false)
	w.field("propagateTags", "NONE")
	w.key("enableExecuteCommand")
	w.boolean(false)
	w.close('}')
}

// jsonWriter appends JSON and places the commas: every key, value and
// opening bracket is preceded by one unless it comes first.
type jsonWriter struct {
	b     []byte
	comma bool
}

func (w *jsonWriter) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
}

func (w *jsonWriter) open(bracket byte) {
	w.sep()
	w.b = append(w.b, bracket)
	w.comma = false
}

func (w *jsonWriter) close(bracket byte) {
	w.b = append(w.b, bracket)
	w.comma = true
}

func (w *jsonWriter) key(k string) {
	w.str(k)
	w.b = append(w.b, ':')
	w.comma = false
}

func (w *jsonWriter) field(k, v string) {
	w.key(k)
	w.str(v)
}

func (w *jsonWriter) str(s string) {
	w.sep()
	w.comma = true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			q, _ := json.Marshal(s)
			w.b = append(w.b, q...)
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

func (w *jsonWriter) num(n int) {
	w.sep()
	w.comma = true
	w.b = strconv.AppendInt(w.b, int64(n), 10)
}

func (w *jsonWriter) boolean(v bool) {
	w.sep()
	w.comma = true
	w.b = strconv.AppendBool(w.b, v)
}

// time writes epoch seconds with milliseconds, as awsJson does.
func (w *jsonWriter) time(t time.Time) {
	w.sep()
	w.comma = true
	w.b = strconv.AppendFloat(w.b, float64(t.UnixMilli())/1e3, 'f', -1, 64)
}

// raw writes JSON that the request carried (and so is known valid), or
// def when the request had none.
func (w *jsonWriter) raw(v, def json.RawMessage) {
	if len(v) == 0 || string(v) == "null" {
		v = def
	}
	w.sep()
	w.comma = true
	w.b = append(w.b, v...)
}

type ecsListServicesOutput struct {
	ServiceArns []string `json:"serviceArns"`
	NextToken   string   `json:"nextToken,omitempty"`
}
