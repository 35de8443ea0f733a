package awssim

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// This file serves the part of Amazon CloudWatch that drover reads: the
// replica lag of RDS read replicas and Aurora global secondaries, through
// GetMetricStatistics. The SDK's CloudWatch client speaks Smithy RPC v2
// CBOR: a POST to /service/<service>/operation/<operation> whose body and
// answer are CBOR maps keyed by member name.

const (
	// cloudwatchPathPrefix starts the path of every CloudWatch call; the
	// operation's name follows it.
	cloudwatchPathPrefix = "/service/GraniteServiceVersion20100801/operation/"
	// rpcv2CBOR is the Smithy-Protocol header's value on requests and
	// answers of the protocol.
	rpcv2CBOR       = "rpc-v2-cbor"
	cborContentType = "application/cbor"
)

// The namespace and the metrics that the simulator publishes in it.
const (
	rdsNamespace          = "AWS/RDS"
	replicaLagMetric      = "ReplicaLag"
	auroraGlobalLagMetric = "AuroraGlobalDBReplicationLag"
)

// maxDatapoints is the most datapoints one GetMetricStatistics call may
// ask for.
const maxDatapoints = 1440

// cloudwatchHandler answers one CloudWatch operation with the CBOR map of
// its output.
type cloudwatchHandler func(s *Sim, c *call, in *cborRequest) (cbor.Map, *APIError)

var cloudwatchHandlers = map[string]cloudwatchHandler{
	"GetMetricStatistics": (*Sim).cloudwatchGetMetricStatistics,
}

// cloudwatchOperation names the operation of an RPC v2 path, or "" when
// the simulator does not implement it.
func cloudwatchOperation(r *http.Request, _ []byte) string {
	op := strings.TrimPrefix(r.URL.Path, cloudwatchPathPrefix)
	if _, ok := cloudwatchHandlers[op]; !ok {
		return ""
	}
	return op
}

// serveCloudWatch answers a CloudWatch call. The caller holds s.mu.
func (s *Sim) serveCloudWatch(w http.ResponseWriter, c *call) *APIError {
	h, ok := cloudwatchHandlers[c.op]
	if !ok {
		return errorf(http.StatusNotFound, "UnknownOperationException",
			"operation %q is not supported by this endpoint",
			strings.TrimPrefix(c.req.URL.Path, cloudwatchPathPrefix))
	}
	in := &cborRequest{m: cbor.Map{}}
	if len(c.body) > 0 {
		v, err := cbor.Decode(c.body)
		if err != nil {
			return errorf(http.StatusBadRequest, "SerializationException",
				"the %s request body is not valid CBOR: %v", c.op, err)
		}
		m, ok := v.(cbor.Map)
		if !ok {
			return errorf(http.StatusBadRequest, "SerializationException",
				"the %s request body must be a CBOR map, not %T", c.op, v)
		}
		in.m = m
	}

	out, apiErr := h(s, c, in)
	if apiErr != nil {
		return apiErr
	}
	writeCBOR(w, http.StatusOK, out)
	return nil
}

// cloudwatchErrorShapes maps the error codes CloudWatch answers in its
// Query protocol to the error shapes of its model. The SDK finds its typed
// error by the shape named in __type, then gives it the Query code from
// X-Amzn-Query-Error, as CloudWatch is Query-compatible.
var cloudwatchErrorShapes = map[string]string{
	"InvalidParameterValue":       "InvalidParameterValueException",
	"InvalidParameterCombination": "InvalidParameterCombinationException",
	"MissingParameter":            "MissingRequiredParameterException",
	"InternalServiceError":        "InternalServiceFault",
	"LimitExceeded":               "LimitExceededFault",
}

// writeCloudWatchError writes e as RPC v2 CBOR does: the error type in
// __type, plus the Query code and fault in X-Amzn-Query-Error. Codes with
// no shape in the model (Throttling, ServiceUnavailable) go in __type as
// they are, and the SDK returns a generic API error with the Query code.
func writeCloudWatchError(w http.ResponseWriter, requestID string, e *APIError) {
	if requestID != "" {
		w.Header().Set("X-Amzn-Requestid", requestID)
	}
	typ := e.Code
	if shape, ok := cloudwatchErrorShapes[e.Code]; ok {
		typ = "com.amazonaws.cloudwatch#" + shape
	}
	fault := "Sender"
	if !e.sender() {
		fault = "Receiver"
	}
	w.Header().Set("X-Amzn-Query-Error", e.Code+";"+fault)
	writeCBOR(w, e.Status, cbor.Map{
		"__type":  cbor.String(typ),
		"message": cbor.String(e.Message),
	})
}

func writeCBOR(w http.ResponseWriter, status int, v cbor.Map) {
	b := cbor.Encode(v)
	w.Header().Set("Smithy-Protocol", rpcv2CBOR)
	w.Header().Set("Content-Type", cborContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// cborRequest reads typed members from a request's CBOR map. The first bad
// member is kept in err, so a handler reads everything and checks once.
type cborRequest struct {
	m   cbor.Map
	err *APIError
}

func (r *cborRequest) fail(e *APIError) {
	if r.err == nil {
		r.err = e
	}
}

func (r *cborRequest) badType(name, want string, v cbor.Value) {
	r.fail(errorf(http.StatusBadRequest, "SerializationException",
		"member %s must be %s, not CBOR %T", name, want, v))
}

// member returns a member's value, or nil when it is absent or null.
func (r *cborRequest) member(name string) cbor.Value {
	v := r.m[name]
	if _, null := v.(*cbor.Nil); null {
		return nil
	}
	return v
}

// required checks that a member is present and, for a string, not empty.
func (r *cborRequest) required(name string) {
	if v := r.member(name); v == nil || v == cbor.String("") {
		r.fail(errorf(http.StatusBadRequest, "MissingParameter",
			"The request must contain the parameter %s", name))
	}
}

func (r *cborRequest) str(name string) string {
	v := r.member(name)
	if v == nil {
		return ""
	}
	s, ok := v.(cbor.String)
	if !ok {
		r.badType(name, "a string", v)
	}
	return string(s)
}

func (r *cborRequest) integer(name string) int32 {
	v := r.member(name)
	if v == nil {
		return 0
	}
	n, err := cbor.AsInt32(v)
	if err != nil {
		r.badType(name, "a 32-bit integer", v)
	}
	return n
}

func (r *cborRequest) timestamp(name string) time.Time {
	v := r.member(name)
	if v == nil {
		return time.Time{}
	}
	t, err := cbor.AsTime(v)
	if err != nil {
		r.badType(name, "an epoch timestamp (tag 1)", v)
	}
	return t
}

func (r *cborRequest) list(name string) cbor.List {
	v := r.member(name)
	if v == nil {
		return nil
	}
	l, ok := v.(cbor.List)
	if !ok {
		r.badType(name, "a list", v)
	}
	return l
}

func (r *cborRequest) stringList(name string) []string {
	var out []string
	for n, v := range r.list(name) {
		s, ok := v.(cbor.String)
		if !ok {
			r.badType(fmt.Sprintf("%s.member.%d", name, n+1), "a string", v)
			continue
		}
		out = append(out, string(s))
	}
	return out
}

// metricDimension is one name/value pair that picks a metric.
type metricDimension struct{ name, value string }

func (r *cborRequest) dimensions(name string) []metricDimension {
	var out []metricDimension
	for n, v := range r.list(name) {
		prefix := fmt.Sprintf("%s.member.%d", name, n+1)
		m, ok := v.(cbor.Map)
		if !ok {
			r.badType(prefix, "a map", v)
			continue
		}
		item := &cborRequest{m: m}
		d := metricDimension{name: item.str("Name"), value: item.str("Value")}
		switch {
		case item.err != nil:
			r.fail(item.err)
		case d.name == "":
			r.fail(errorf(http.StatusBadRequest, "MissingParameter",
				"The request must contain the parameter %s.Name", prefix))
		case d.value == "":
			r.fail(errorf(http.StatusBadRequest, "MissingParameter",
				"The request must contain the parameter %s.Value", prefix))
		}
		out = append(out, d)
	}
	return out
}

// metricQuery is a GetMetricStatistics request.
type metricQuery struct {
	namespace, metric string
	dimensions        []metricDimension
	start, end        time.Time
	period            int64 // seconds
	statistics        []string
	extended          []string
	unit              string
}

var (
	statisticNames = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}
	percentile     = regexp.MustCompile(`^p(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)$`)
	standardUnits  = strings.Fields("Seconds Microseconds Milliseconds Bytes Kilobytes " +
		"Megabytes Gigabytes Terabytes Bits Kilobits Megabits Gigabits Terabits Percent " +
		"Count Bytes/Second Kilobytes/Second Megabytes/Second Gigabytes/Second " +
		"Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second " +
		"Terabits/Second Count/Second None")
)

func cloudwatchInvalid(format string, args ...any) *APIError {
	return errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

func cloudwatchCombination(format string, args ...any) *APIError {
	return errorf(http.StatusBadRequest, "InvalidParameterCombination", format, args...)
}

// readMetricQuery reads and checks a GetMetricStatistics request with the
// limits CloudWatch applies.
func readMetricQuery(in *cborRequest) (*metricQuery, *APIError) {
	for _, name := range []string{"Namespace", "MetricName", "StartTime", "EndTime", "Period"} {
		in.required(name)
	}
	q := &metricQuery{
		namespace:  in.str("Namespace"),
		metric:     in.str("MetricName"),
		dimensions: in.dimensions("Dimensions"),
		start:      in.timestamp("StartTime"),
		end:        in.timestamp("EndTime"),
		period:     int64(in.integer("Period")),
		statistics: in.stringList("Statistics"),
		extended:   in.stringList("ExtendedStatistics"),
		unit:       in.str("Unit"),
	}
	if in.err != nil {
		return nil, in.err
	}

	switch {
	case len(q.namespace) > 255:
		return nil, cloudwatchInvalid("The parameter Namespace is longer than 255 characters.")
	case len(q.metric) > 255:
		return nil, cloudwatchInvalid("The parameter MetricName is longer than 255 characters.")
	case len(q.dimensions) > 30:
		return nil, cloudwatchInvalid("The request has %d Dimensions; at most 30 are allowed.",
			len(q.dimensions))
	case !validPeriod(q.period):
		return nil, cloudwatchInvalid("The parameter Period must be 1, 5, 10, 30 or a "+
			"multiple of 60 seconds, not %d.", q.period)
	case !q.start.Before(q.end):
		return nil, cloudwatchInvalid("The parameter StartTime (%s) must be before EndTime (%s).",
			q.start.UTC().Format(time.RFC3339), q.end.UTC().Format(time.RFC3339))
	case len(q.statistics) == 0 && len(q.extended) == 0:
		return nil, cloudwatchCombination("The request must give Statistics or " +
			"ExtendedStatistics; it has neither.")
	case len(q.statistics) > 0 && len(q.extended) > 0:
		return nil, cloudwatchCombination("The request must give Statistics or " +
			"ExtendedStatistics, not both.")
	case len(q.statistics) > len(statisticNames):
		return nil, cloudwatchInvalid("The request has %d Statistics; at most %d are allowed.",
			len(q.statistics), len(statisticNames))
	case len(q.extended) > 10:
		return nil, cloudwatchInvalid("The request has %d ExtendedStatistics; at most 10 "+
			"are allowed.", len(q.extended))
	case q.unit != "" && !slices.Contains(standardUnits, q.unit):
		return nil, cloudwatchInvalid("The parameter Unit is %q; it must be a CloudWatch "+
			"standard unit, such as Seconds or Milliseconds.", q.unit)
	}
	for n, st := range q.statistics {
		if !slices.Contains(statisticNames, st) {
			return nil, cloudwatchInvalid("The parameter Statistics.member.%d is %q; it must be "+
				"one of %s.", n+1, st, strings.Join(statisticNames, ", "))
		}
	}
	for n, st := range q.extended {
		if !percentile.MatchString(st) {
			return nil, cloudwatchInvalid("The parameter ExtendedStatistics.member.%d is %q; "+
				"it must be a percentile from p0.0 to p100, such as p99 or p99.9.", n+1, st)
		}
	}
	if n := (alignUp(q.end, q.period) - alignUp(q.start, q.period)) / q.period; n > maxDatapoints {
		return nil, cloudwatchCombination("The request asks for up to %d datapoints, more than "+
			"the limit of %d; make Period longer or the time range shorter.", n, maxDatapoints)
	}
	return q, nil
}

// validPeriod reports whether CloudWatch accepts a period: a multiple of
// a minute, or one of the high-resolution periods under a minute.
func validPeriod(p int64) bool {
	switch p {
	case 1, 5, 10, 30:
		return true
	}
	return p > 0 && p%60 == 0
}

// alignUp returns the first Unix second at or after t that is a multiple
// of period.
func alignUp(t time.Time, period int64) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	if r := sec % period; r != 0 {
		if r < 0 {
			r += period
		}
		sec += period - r
	}
	return sec
}

// replicaSeries is a replica lag metric of one resource: its value, the
// unit CloudWatch reports it in and the time from which it exists.
type replicaSeries struct {
	unit  string
	value float64
	since time.Time
}

func (s *Sim) cloudwatchGetMetricStatistics(c *call, in *cborRequest) (cbor.Map, *APIError) {
	q, apiErr := readMetricQuery(in)
	if apiErr != nil {
		return nil, apiErr
	}
	// CloudWatch answers an unknown metric with no datapoints, not an
	// error: it cannot tell one that never existed from one with no data.
	out := cbor.Map{"Label": cbor.String(q.metric), "Datapoints": cbor.List{}}
	s.rdsAdvance(c.now)
	series, ok := s.replicaLagSeries(c.region, q)
	if !ok || (q.unit != "" && q.unit != series.unit) {
		return out, nil
	}

	samples := float64(max(1, q.period/60))
	var points cbor.List
	period := time.Duration(q.period) * time.Second
	for t := alignUp(q.start, q.period); t < alignUp(q.end, q.period); t += q.period {
		at := time.Unix(t, 0)
		if at.After(c.now) {
			break
		}
		if !at.Add(period).After(series.since) {
			continue
		}
		dp := cbor.Map{
			"Timestamp": &cbor.Tag{ID: 1, Value: cbor.Uint(t)},
			"Unit":      cbor.String(series.unit),
		}
		// Every one-minute sample of the period is the same lag.
		for _, st := range q.statistics {
			switch st {
			case "SampleCount":
				dp[st] = cbor.Float64(samples)
			case "Sum":
				dp[st] = cbor.Float64(series.value * samples)
			default:
				dp[st] = cbor.Float64(series.value)
			}
		}
		if len(q.extended) > 0 {
			ext := cbor.Map{}
			for _, st := range q.extended {
				ext[st] = cbor.Float64(series.value)
			}
			dp["ExtendedStatistics"] = ext
		}
		points = append(points, dp)
	}
	if points != nil {
		out["Datapoints"] = points
	}
	return out, nil
}

// replicaLagSeries finds the replica lag metric a query names in region:
// ReplicaLag of a read replica DB instance or AuroraGlobalDBReplicationLag
// of a secondary cluster of an Aurora global database. The caller holds
// s.mu and has advanced RDS to now.
//
// TODO: keep the metric's history. A resource that is no longer a replica
// (promoted, or its source deleted) reports nothing here, even for the
// time it was one, and every datapoint shows the lag as set now. drover
// reads only the newest datapoint of a standing replica, which this
// serves exactly; a report of lag over a past drill would need the rest.
func (s *Sim) replicaLagSeries(region string, q *metricQuery) (replicaSeries, bool) {
	rr := s.rdsLookup(region)
	if rr == nil || q.namespace != rdsNamespace || len(q.dimensions) != 1 {
		return replicaSeries{}, false
	}
	d := q.dimensions[0]
	switch {
	case q.metric == replicaLagMetric && d.name == "DBInstanceIdentifier":
		i := rr.instances[d.value]
		if i == nil || i.source == nil {
			return replicaSeries{}, false
		}
		// A read replica is one from its creation on; nothing else
		// makes an instance a replica.
		lag := s.replicaLag(i)
		return replicaSeries{unit: "Seconds", value: lag.Seconds(), since: i.created}, true
	case q.metric == auroraGlobalLagMetric && d.name == "DBClusterIdentifier":
		cl := rr.clusters[d.value]
		if cl == nil || cl.global == nil || cl.global.writer == cl {
			return replicaSeries{}, false
		}
		lag := s.replicaLag(cl)
		return replicaSeries{
			unit:  "Milliseconds",
			value: float64(lag) / float64(time.Millisecond),
			since: s.secondarySince(cl),
		}, true
	}
	return replicaSeries{}, false
}

// secondarySince returns when cl became a secondary of its global
// database: when it joined, or, for a former writer, when a switchover or
// failover gave the writer role to another member. Each completed transfer
// ends with the global cluster becoming available again, and the events
// keep the time of it. The caller holds s.mu.
func (s *Sim) secondarySince(cl *dbCluster) time.Time {
	since := cl.created
	for _, e := range s.events {
		if e.Service == ServiceRDS && e.Resource == "global-cluster" &&
			e.ID == cl.global.id && e.State == rdsAvailable && e.At.After(since) {
			since = e.At
		}
	}
	return since
}

// replicaLag is the lag of a read replica instance or a secondary cluster:
// the one SetReplicaLag set, or the profile's. The caller holds s.mu.
func (s *Sim) replicaLag(resource any) time.Duration {
	if lag, ok := s.replicaLags[resource]; ok {
		return lag
	}
	return time.Duration(s.profile.RDSReplicaLag)
}

// SetReplicaLag sets the lag that CloudWatch reports for one replica in
// region, in place of the profile's RDSReplicaLag. The resource is
// "db-instance" for a read replica (metric ReplicaLag) or "db-cluster" for
// an Aurora global secondary (AuroraGlobalDBReplicationLag), and id its
// identifier. The setting follows the resource through renames and role
// changes; a resource created later under the same identifier starts with
// the profile's lag again.
func (s *Sim) SetReplicaLag(region, resource, id string, lag time.Duration) error {
	if lag < 0 {
		return fmt.Errorf("replica lag must not be negative, not %s", lag)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rdsAdvance(s.clock.Now())

	rr := s.rdsLookup(region)
	id = strings.ToLower(id)
	var target any
	switch resource {
	case "db-instance":
		if rr != nil && rr.instances[id] != nil {
			target = rr.instances[id]
		}
	case "db-cluster":
		if rr != nil && rr.clusters[id] != nil {
			target = rr.clusters[id]
		}
	default:
		return fmt.Errorf("replica lag resource must be db-instance or db-cluster, not %q",
			resource)
	}
	if target == nil {
		return fmt.Errorf("no %s %q in region %q", resource, id, region)
	}
	if s.replicaLags == nil {
		s.replicaLags = map[any]time.Duration{}
	}
	s.replicaLags[target] = lag
	return nil
}
