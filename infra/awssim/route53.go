package awssim

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Route53State is every hosted zone, health check and change.
type Route53State struct {
	HostedZones  []Route53HostedZone  `json:"hostedZones"`
	HealthChecks []Route53HealthCheck `json:"healthChecks"`
	Changes      []Route53Change      `json:"changes"`
}

// Route53HostedZone is a hosted zone and its record sets, listed in the
// order ListResourceRecordSets returns them.
type Route53HostedZone struct {
	// ID is the zone's ID as the API returns it: "/hostedzone/Z...".
	ID              string             `json:"id"`
	Name            string             `json:"name"`
	CallerReference string             `json:"callerReference"`
	Comment         string             `json:"comment,omitempty"`
	PrivateZone     bool               `json:"privateZone,omitempty"`
	NameServers     []string           `json:"nameServers,omitempty"`
	RecordSets      []Route53RecordSet `json:"recordSets"`
}

// Route53RecordSet is one resource record set. A set with a SetIdentifier
// has exactly one routing policy: Failover, Weight, Region, GeoLocation or
// MultiValueAnswer.
type Route53RecordSet struct {
	Name             string              `json:"name"`
	Type             string              `json:"type"`
	SetIdentifier    string              `json:"setIdentifier,omitempty"`
	Failover         string              `json:"failover,omitempty"`
	Weight           *int64              `json:"weight,omitempty"`
	Region           string              `json:"region,omitempty"`
	GeoLocation      *Route53GeoLocation `json:"geoLocation,omitempty"`
	MultiValueAnswer *bool               `json:"multiValueAnswer,omitempty"`
	TTL              *int64              `json:"ttl,omitempty"`
	Values           []string            `json:"values,omitempty"`
	AliasTarget      *Route53AliasTarget `json:"aliasTarget,omitempty"`
	HealthCheckID    string              `json:"healthCheckId,omitempty"`
}

// Route53AliasTarget is where an alias record set points.
type Route53AliasTarget struct {
	HostedZoneID         string `json:"hostedZoneId"`
	DNSName              string `json:"dnsName"`
	EvaluateTargetHealth bool   `json:"evaluateTargetHealth"`
}

// Route53GeoLocation is the location a geolocation record set answers for.
type Route53GeoLocation struct {
	ContinentCode   string `json:"continentCode,omitempty"`
	CountryCode     string `json:"countryCode,omitempty"`
	SubdivisionCode string `json:"subdivisionCode,omitempty"`
}

// Route53HealthCheck is a health check and its simulated health.
type Route53HealthCheck struct {
	ID              string                   `json:"id"`
	CallerReference string                   `json:"callerReference"`
	Version         int64                    `json:"version"`
	Config          Route53HealthCheckConfig `json:"config"`
	// EndpointHealthy is what the checkers find at the endpoint; the
	// control API sets it with SetHealthCheckHealthy.
	EndpointHealthy bool `json:"endpointHealthy"`
	// Healthy is the status Route 53 routes by: EndpointHealthy (or the
	// children's health for a CALCULATED check), healthy when Disabled,
	// then flipped when Inverted.
	Healthy bool `json:"healthy"`
}

// Route53HealthCheckConfig is a health check's settings, with Route 53's
// defaults filled in.
type Route53HealthCheckConfig struct {
	Type                         string   `json:"type"`
	IPAddress                    string   `json:"ipAddress,omitempty"`
	Port                         int32    `json:"port,omitempty"`
	ResourcePath                 string   `json:"resourcePath,omitempty"`
	FullyQualifiedDomainName     string   `json:"fullyQualifiedDomainName,omitempty"`
	SearchString                 string   `json:"searchString,omitempty"`
	RequestInterval              int32    `json:"requestInterval,omitempty"`
	FailureThreshold             int32    `json:"failureThreshold,omitempty"`
	MeasureLatency               bool     `json:"measureLatency,omitempty"`
	Inverted                     bool     `json:"inverted,omitempty"`
	Disabled                     bool     `json:"disabled,omitempty"`
	EnableSNI                    bool     `json:"enableSNI,omitempty"`
	HealthThreshold              int32    `json:"healthThreshold,omitempty"`
	ChildHealthChecks            []string `json:"childHealthChecks,omitempty"`
	Regions                      []string `json:"regions,omitempty"`
	AlarmRegion                  string   `json:"alarmRegion,omitempty"`
	AlarmName                    string   `json:"alarmName,omitempty"`
	InsufficientDataHealthStatus string   `json:"insufficientDataHealthStatus,omitempty"`
	RoutingControlArn            string   `json:"routingControlArn,omitempty"`
}

// Route53Change is a submitted change (a record batch, a zone's creation or
// deletion) on its way from PENDING to INSYNC.
type Route53Change struct {
	// ID is the change's ID as the API returns it: "/change/C...".
	ID           string    `json:"id"`
	HostedZoneID string    `json:"hostedZoneId"`
	Status       string    `json:"status"`
	Comment      string    `json:"comment,omitempty"`
	SubmittedAt  time.Time `json:"submittedAt"`
	// InsyncAt is when the change reaches (or reached) INSYNC.
	InsyncAt time.Time `json:"insyncAt"`
}

// route53State is Route 53's global state. The simulator's lock guards it.
type route53State struct {
	seq       uint64
	zones     map[string]*r53Zone // by bare ID ("Z...")
	zoneRefs  map[string]string   // caller reference → zone ID, kept after deletion
	checks    map[string]*r53Check
	checkRefs map[string]string // caller reference → health check ID, kept after deletion
	changes   map[string]*r53Change
	// pending holds the PENDING changes, the soonest INSYNC first.
	pending []*r53Change
}

type r53Zone struct {
	id, name, callerRef, comment string
	private                      bool
	vpc                          *r53xVPC
	nameServers                  []string
	seq                          uint64
	// records are values that are never changed in place, so that a batch
	// can work on a shallow copy of the map.
	records map[r53Key]Route53RecordSet
}

// r53Key identifies a record set within its zone.
type r53Key struct{ name, typ, setID string }

type r53Check struct {
	id, callerRef   string
	seq             uint64
	version         int64
	config          Route53HealthCheckConfig
	endpointHealthy bool
	// reported is the status last recorded as an event.
	reported bool
}

type r53Change struct {
	id, zoneID, status, comment string
	submitted, insync           time.Time
}

func newRoute53State() *route53State {
	return &route53State{
		zones:     map[string]*r53Zone{},
		zoneRefs:  map[string]string{},
		checks:    map[string]*r53Check{},
		checkRefs: map[string]string{},
		changes:   map[string]*r53Change{},
	}
}

// r53Handler answers one operation; id is the identifier in the path.
type r53Handler func(r *route53State, w http.ResponseWriter, c *call, id string) *APIError

var r53Handlers = map[string]r53Handler{
	"CreateHostedZone":         (*route53State).createHostedZone,
	"GetHostedZone":            (*route53State).getHostedZone,
	"DeleteHostedZone":         (*route53State).deleteHostedZone,
	"ListHostedZones":          (*route53State).listHostedZones,
	"ListHostedZonesByName":    (*route53State).listHostedZonesByName,
	"ChangeResourceRecordSets": (*route53State).changeResourceRecordSets,
	"ListResourceRecordSets":   (*route53State).listResourceRecordSets,
	"GetChange":                (*route53State).getChange,
	"CreateHealthCheck":        (*route53State).createHealthCheck,
	"GetHealthCheck":           (*route53State).getHealthCheck,
	"UpdateHealthCheck":        (*route53State).updateHealthCheck,
	"DeleteHealthCheck":        (*route53State).deleteHealthCheck,
	"ListHealthChecks":         (*route53State).listHealthChecks,
	"GetHealthCheckStatus":     (*route53State).getHealthCheckStatus,
}

// serveRoute53 answers a Route 53 call. A path that names no operation gets
// 404 UnknownOperationException, the code AWS's REST front ends use for a
// request they cannot route; the SDK reports it as a generic API error.
func (s *Sim) serveRoute53(w http.ResponseWriter, c *call) *APIError {
	op, id := route53Target(c.req.Method, c.req.URL.Path)
	h, ok := r53Handlers[op]
	if !ok {
		return errorf(http.StatusNotFound, "UnknownOperationException",
			"Route 53 has no operation %s %s", c.req.Method, c.req.URL.Path)
	}
	s.route53.advance(s, c.now)
	return h(s.route53, w, c, id)
}

// advance brings every change whose INSYNC time has come to INSYNC,
// recording each at the time it was scheduled for.
func (r *route53State) advance(s *Sim, now time.Time) {
	for len(r.pending) > 0 && !r.pending[0].insync.After(now) {
		ch := r.pending[0]
		r.pending = r.pending[1:]
		ch.status = "INSYNC"
		s.record(GlobalRegion, ServiceRoute53, "change", "/change/"+ch.id, "INSYNC", ch.insync)
	}
}

// newChange submits a change that stays PENDING for the profile's
// propagation time.
func (r *route53State) newChange(s *Sim, now time.Time, comment, zoneID string) *r53Change {
	// Route 53 reports times to the millisecond; keeping the same
	// precision here makes what a client reads equal to what is recorded.
	submitted := now.UTC().Truncate(time.Millisecond)
	ch := &r53Change{
		id:        r.newID("C", s.profile.Seed),
		zoneID:    zoneID,
		status:    "PENDING",
		comment:   comment,
		submitted: submitted,
		insync:    submitted.Add(s.duration(s.profile.Route53Propagation)),
	}
	// Route 53 applies a zone's changes in order: one is INSYNC no
	// earlier than any change to its zone submitted before it, whatever
	// the jitter says.
	if zoneID != "" {
		for _, p := range r.pending {
			if p.zoneID == zoneID && p.insync.After(ch.insync) {
				ch.insync = p.insync
			}
		}
	}
	r.changes[ch.id] = ch
	i := sort.Search(len(r.pending), func(i int) bool { return r.pending[i].insync.After(ch.insync) })
	r.pending = slices.Insert(r.pending, i, ch)
	return ch
}

func (ch *r53Change) wire() r53xChangeInfo {
	return r53xChangeInfo{
		ID: "/change/" + ch.id, Status: ch.status,
		SubmittedAt: r53Time(ch.submitted), Comment: ch.comment,
	}
}

// newID returns an identifier in the style of Route 53's zone and change
// IDs: a letter and 13 upper-case base-36 digits. IDs follow from the seed
// and the order of creation, so a replayed run gets the same ones.
func (r *route53State) newID(prefix string, seed int64) string {
	r.seq++
	v := strings.ToUpper(strconv.FormatUint(r53Mix(r.seq^uint64(seed)<<40), 36))
	return prefix + strings.Repeat("0", 13-len(v)) + v
}

// newUUID returns a health check ID, which Route 53 writes as a UUID.
func (r *route53State) newUUID(seed int64) string {
	r.seq++
	a := r53Mix(r.seq ^ uint64(seed)<<40)
	b := r53Mix(a)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// r53Mix is the splitmix64 finalizer: a bijection, so distinct sequence
// numbers give distinct IDs.
func r53Mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// r53NameServers picks a delegation set of four name servers, one in each
// of the top-level domains Route 53 spreads them over.
func r53NameServers(v uint64) []string {
	out := make([]string, 0, 4)
	for i, tld := range []string{"com", "net", "org", "co.uk"} {
		n := (v >> (16 * i)) % 2048
		out = append(out, fmt.Sprintf("ns-%d.awsdns-%02d.%s", n, n/32, tld))
	}
	return out
}

func r53Invalid(format string, args ...any) *APIError {
	return errorf(http.StatusBadRequest, "InvalidInput", format, args...)
}

func r53Location(c *call, path string) string {
	return "http://" + c.req.Host + route53PathPrefix + path
}

// r53MaxItems reads the maxitems parameter: def when absent, at most max.
func r53MaxItems(q url.Values, def, max int) (int, *APIError) {
	v := q.Get("maxitems")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, r53Invalid("maxitems must be a positive integer, not %q", v)
	}
	return min(n, max), nil
}

// Hosted zones.

func (r *route53State) zone(id string) (*r53Zone, *APIError) {
	id = strings.TrimPrefix(id, "/hostedzone/")
	z := r.zones[id]
	if z == nil {
		return nil, errorf(http.StatusNotFound, "NoSuchHostedZone",
			"No hosted zone found with ID: %s", id)
	}
	return z, nil
}

func (z *r53Zone) wire() r53xHostedZone {
	return r53xHostedZone{
		ID: "/hostedzone/" + z.id, Name: z.name, CallerReference: z.callerRef,
		Config:                 &r53xZoneConfig{Comment: z.comment, PrivateZone: z.private},
		ResourceRecordSetCount: len(z.records),
	}
}

func (z *r53Zone) delegation() *r53xDelegationSet {
	if z.private {
		return nil
	}
	d := &r53xDelegationSet{}
	d.NameServers.NameServer = slices.Clone(z.nameServers)
	return d
}

// contains reports whether a (normalized) name lies in the zone.
func (z *r53Zone) contains(name string) bool {
	return name == z.name || strings.HasSuffix(name, "."+z.name)
}

func (r *route53State) createHostedZone(w http.ResponseWriter, c *call, _ string) *APIError {
	var in r53xCreateHostedZoneRequest
	if e := r53Decode(c.body, &in); e != nil {
		return e
	}
	if in.CallerReference == "" || len(in.CallerReference) > 128 {
		return r53Invalid("CallerReference must have 1 to 128 characters")
	}
	if in.Name == "" {
		return r53Invalid("Name is required")
	}
	name := r53Name(in.Name)
	if msg := r53CheckName(name); msg != "" {
		return errorf(http.StatusBadRequest, "InvalidDomainName", "%s", msg)
	}
	if in.DelegationSetID != "" {
		return errorf(http.StatusBadRequest, "NoSuchDelegationSet",
			"The simulator has no reusable delegation set %s", in.DelegationSetID)
	}
	cfg := r53xZoneConfig{}
	if in.HostedZoneConfig != nil {
		cfg = *in.HostedZoneConfig
	}
	if cfg.PrivateZone && in.VPC == nil {
		return r53Invalid("A private hosted zone needs a VPC")
	}
	if in.VPC != nil && (in.VPC.VPCId == "" || in.VPC.VPCRegion == "") {
		return r53Invalid("A VPC needs a VPCId and a VPCRegion")
	}
	if _, dup := r.zoneRefs[in.CallerReference]; dup {
		return errorf(http.StatusConflict, "HostedZoneAlreadyExists",
			"A hosted zone has already been created with the specified caller reference %q",
			in.CallerReference)
	}

	s := c.sim
	z := &r53Zone{
		name: name, callerRef: in.CallerReference, comment: cfg.Comment,
		private: in.VPC != nil, vpc: in.VPC,
		records: map[r53Key]Route53RecordSet{},
	}
	z.id = r.newID("Z", s.profile.Seed)
	z.seq = r.seq
	z.nameServers = r53NameServers(r53Mix(r.seq))
	soaTTL, nsTTL := int64(900), int64(172800)
	soa := Route53RecordSet{
		Name: name, Type: "SOA", TTL: &soaTTL,
		Values: []string{z.nameServers[0] + ". awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"},
	}
	ns := Route53RecordSet{Name: name, Type: "NS", TTL: &nsTTL}
	for _, n := range z.nameServers {
		ns.Values = append(ns.Values, n+".")
	}
	z.records[soa.key()] = soa
	z.records[ns.key()] = ns
	r.zones[z.id] = z
	r.zoneRefs[z.callerRef] = z.id

	ch := r.newChange(s, c.now, "", z.id)
	w.Header().Set("Location", r53Location(c, "hostedzone/"+z.id))
	return r53Write(w, http.StatusCreated, r53xCreateHostedZoneResponse{
		HostedZone: z.wire(), ChangeInfo: ch.wire(),
		DelegationSet: z.delegation(), VPC: z.vpc,
	})
}

func (r *route53State) getHostedZone(w http.ResponseWriter, c *call, id string) *APIError {
	z, e := r.zone(id)
	if e != nil {
		return e
	}
	out := r53xGetHostedZoneResponse{HostedZone: z.wire(), DelegationSet: z.delegation()}
	if z.vpc != nil {
		out.VPCs = &struct{ VPC []r53xVPC }{VPC: []r53xVPC{*z.vpc}}
	}
	return r53Write(w, http.StatusOK, out)
}

func (r *route53State) deleteHostedZone(w http.ResponseWriter, c *call, id string) *APIError {
	z, e := r.zone(id)
	if e != nil {
		return e
	}
	for k := range z.records {
		if k.name != z.name || (k.typ != "SOA" && k.typ != "NS") {
			return errorf(http.StatusBadRequest, "HostedZoneNotEmpty",
				"The hosted zone %s contains record sets other than its SOA and NS records "+
					"and so cannot be deleted", z.id)
		}
	}
	delete(r.zones, z.id)
	ch := r.newChange(c.sim, c.now, "", z.id)
	return r53Write(w, http.StatusOK, r53xDeleteHostedZoneResponse{ChangeInfo: ch.wire()})
}

// zonesByName lists the zones as ListHostedZonesByName does: by name with
// the labels reversed, then by ID.
func (r *route53State) zonesByName() []*r53Zone {
	zs := slices.Collect(maps.Values(r.zones))
	slices.SortFunc(zs, func(a, b *r53Zone) int {
		return cmp.Or(r53CompareNames(a.name, b.name), strings.Compare(a.id, b.id))
	})
	return zs
}

func (r *route53State) listHostedZones(w http.ResponseWriter, c *call, _ string) *APIError {
	q := c.req.URL.Query()
	limit, e := r53MaxItems(q, 100, 100)
	if e != nil {
		return e
	}
	zs := slices.Collect(maps.Values(r.zones))
	slices.SortFunc(zs, func(a, b *r53Zone) int { return cmp.Compare(a.seq, b.seq) })
	start := 0
	marker := q.Get("marker")
	if marker != "" {
		start = slices.IndexFunc(zs, func(z *r53Zone) bool { return z.id == marker })
		if start < 0 {
			return r53Invalid("The marker %q names no hosted zone", marker)
		}
	}
	end := min(start+limit, len(zs))
	out := r53xListHostedZonesResponse{Marker: marker, MaxItems: limit, IsTruncated: end < len(zs)}
	for _, z := range zs[start:end] {
		out.HostedZones.HostedZone = append(out.HostedZones.HostedZone, z.wire())
	}
	if out.IsTruncated {
		out.NextMarker = zs[end].id
	}
	return r53Write(w, http.StatusOK, out)
}

func (r *route53State) listHostedZonesByName(w http.ResponseWriter, c *call, _ string) *APIError {
	q := c.req.URL.Query()
	limit, e := r53MaxItems(q, 100, 100)
	if e != nil {
		return e
	}
	dnsName := q.Get("dnsname")
	zoneID := strings.TrimPrefix(q.Get("hostedzoneid"), "/hostedzone/")
	if zoneID != "" && dnsName == "" {
		return r53Invalid("HostedZoneId requires DNSName")
	}
	zs := r.zonesByName()
	start := 0
	if dnsName != "" {
		name := r53Name(dnsName)
		if msg := r53CheckName(name); msg != "" {
			return errorf(http.StatusBadRequest, "InvalidDomainName", "%s", msg)
		}
		start = sort.Search(len(zs), func(i int) bool {
			return cmp.Or(r53CompareNames(zs[i].name, name), strings.Compare(zs[i].id, zoneID)) >= 0
		})
	}
	end := min(start+limit, len(zs))
	out := r53xListHostedZonesByNameResponse{
		DNSName: dnsName, HostedZoneID: zoneID, MaxItems: limit, IsTruncated: end < len(zs),
	}
	for _, z := range zs[start:end] {
		out.HostedZones.HostedZone = append(out.HostedZones.HostedZone, z.wire())
	}
	if out.IsTruncated {
		out.NextDNSName, out.NextHostedZoneID = zs[end].name, zs[end].id
	}
	return r53Write(w, http.StatusOK, out)
}

// Record sets.

func (rs Route53RecordSet) key() r53Key {
	return r53Key{name: rs.Name, typ: rs.Type, setID: rs.SetIdentifier}
}

// label names a record set the way Route 53's batch errors do.
func (rs Route53RecordSet) label() string {
	if rs.SetIdentifier == "" {
		return fmt.Sprintf("[name='%s', type='%s']", rs.Name, rs.Type)
	}
	return fmt.Sprintf("[name='%s', type='%s', set-identifier='%s']",
		rs.Name, rs.Type, rs.SetIdentifier)
}

// policies names the routing policies a record set states.
func (rs Route53RecordSet) policies() []string {
	var p []string
	if rs.Failover != "" {
		p = append(p, "failover")
	}
	if rs.Weight != nil {
		p = append(p, "weighted")
	}
	if rs.Region != "" {
		p = append(p, "latency")
	}
	if rs.GeoLocation != nil {
		p = append(p, "geolocation")
	}
	if rs.MultiValueAnswer != nil {
		p = append(p, "multivalue answer")
	}
	return p
}

func (rs Route53RecordSet) routing() string {
	if p := rs.policies(); len(p) > 0 {
		return p[0]
	}
	return "simple"
}

// clone copies a record set so that a snapshot shares nothing with state.
func (rs Route53RecordSet) clone() Route53RecordSet {
	rs.Values = slices.Clone(rs.Values)
	if rs.Weight != nil {
		v := *rs.Weight
		rs.Weight = &v
	}
	if rs.TTL != nil {
		v := *rs.TTL
		rs.TTL = &v
	}
	if rs.MultiValueAnswer != nil {
		v := *rs.MultiValueAnswer
		rs.MultiValueAnswer = &v
	}
	if rs.GeoLocation != nil {
		v := *rs.GeoLocation
		rs.GeoLocation = &v
	}
	if rs.AliasTarget != nil {
		v := *rs.AliasTarget
		rs.AliasTarget = &v
	}
	return rs
}

func (rs Route53RecordSet) wire() r53xRecordSet {
	x := r53xRecordSet{
		Name: rs.Name, Type: rs.Type, SetIdentifier: rs.SetIdentifier,
		Weight: rs.Weight, Region: rs.Region, Failover: rs.Failover,
		MultiValueAnswer: rs.MultiValueAnswer, TTL: rs.TTL, HealthCheckID: rs.HealthCheckID,
	}
	if g := rs.GeoLocation; g != nil {
		x.GeoLocation = &r53xGeoLocation{
			ContinentCode: g.ContinentCode, CountryCode: g.CountryCode,
			SubdivisionCode: g.SubdivisionCode,
		}
	}
	if len(rs.Values) > 0 {
		x.ResourceRecords = &r53xResourceRecords{}
		for _, v := range rs.Values {
			x.ResourceRecords.ResourceRecord = append(x.ResourceRecords.ResourceRecord,
				r53xResourceRecord{Value: v})
		}
	}
	if a := rs.AliasTarget; a != nil {
		x.AliasTarget = &r53xAliasTarget{
			HostedZoneID: a.HostedZoneID, DNSName: a.DNSName,
			EvaluateTargetHealth: a.EvaluateTargetHealth,
		}
	}
	return x
}

// r53SameSet reports whether a DELETE names a record set exactly, as
// Route 53 requires; the order of values does not matter.
func r53SameSet(a, b Route53RecordSet) bool {
	a.Values = slices.Sorted(slices.Values(a.Values))
	b.Values = slices.Sorted(slices.Values(b.Values))
	return reflect.DeepEqual(a, b)
}

// r53RecordTypes are the record types Route 53 accepts.
var r53RecordTypes = map[string]bool{
	"SOA": true, "A": true, "TXT": true, "NS": true, "CNAME": true, "MX": true,
	"NAPTR": true, "PTR": true, "SRV": true, "SPF": true, "AAAA": true, "CAA": true,
	"DS": true, "TLSA": true, "SSHFP": true, "SVCB": true, "HTTPS": true,
}

// r53Edit is one change of a batch, checked on its own.
type r53Edit struct {
	action string
	set    Route53RecordSet
}

// r53ParseChange reads one change and checks what can be checked without
// the zone's contents; Route 53 answers those problems with InvalidInput.
func r53ParseChange(x r53xChange) (r53Edit, *APIError) {
	switch x.Action {
	case "CREATE", "UPSERT", "DELETE":
	default:
		return r53Edit{}, r53Invalid("Invalid request: Action %q is not CREATE, UPSERT or DELETE",
			x.Action)
	}
	rs := x.ResourceRecordSet
	if rs == nil {
		return r53Edit{}, r53Invalid("Invalid request: a %s change has no ResourceRecordSet",
			x.Action)
	}
	if rs.Name == "" || rs.Type == "" {
		return r53Edit{}, r53Invalid("Invalid request: a ResourceRecordSet needs a Name and a Type")
	}
	set := Route53RecordSet{
		Name: r53Name(rs.Name), Type: rs.Type, SetIdentifier: rs.SetIdentifier,
		Failover: rs.Failover, Weight: rs.Weight, Region: rs.Region,
		MultiValueAnswer: rs.MultiValueAnswer, TTL: rs.TTL, HealthCheckID: rs.HealthCheckID,
	}
	if g := rs.GeoLocation; g != nil {
		set.GeoLocation = &Route53GeoLocation{
			ContinentCode: g.ContinentCode, CountryCode: g.CountryCode,
			SubdivisionCode: g.SubdivisionCode,
		}
	}
	if rs.ResourceRecords != nil {
		for _, v := range rs.ResourceRecords.ResourceRecord {
			set.Values = append(set.Values, v.Value)
		}
	}
	if a := rs.AliasTarget; a != nil {
		set.AliasTarget = &Route53AliasTarget{
			HostedZoneID:         strings.TrimPrefix(a.HostedZoneID, "/hostedzone/"),
			DNSName:              r53Name(a.DNSName),
			EvaluateTargetHealth: a.EvaluateTargetHealth,
		}
	}

	setID := "null"
	if set.SetIdentifier != "" {
		setID = set.SetIdentifier
	}
	bad := func(format string, args ...any) (r53Edit, *APIError) {
		return r53Edit{}, r53Invalid("Invalid request: %s in Change with [Action=%s, Name=%s, "+
			"Type=%s, SetIdentifier=%s]", fmt.Sprintf(format, args...),
			x.Action, set.Name, set.Type, setID)
	}
	policies := set.policies()
	alias := set.AliasTarget != nil
	const oneOf = "Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], " +
		"or TrafficPolicyInstanceId]"
	switch {
	case !r53RecordTypes[set.Type]:
		return bad("%q is not a record type", set.Type)
	case rs.TrafficPolicyInstanceID != "" || rs.CidrRoutingConfig != nil ||
		rs.GeoProximityLocation != nil:
		return bad("traffic policies, CIDR and geoproximity routing are not simulated")
	case len(set.SetIdentifier) > 128:
		return bad("SetIdentifier is longer than 128 characters")
	case set.SetIdentifier == "" && len(policies) > 0:
		return bad("Missing field 'SetIdentifier'")
	case set.SetIdentifier != "" && len(policies) == 0:
		return bad("a record set with a SetIdentifier needs one routing policy " +
			"(Failover, Weight, Region, GeoLocation or MultiValueAnswer)")
	case len(policies) > 1:
		return bad("a record set has only one routing policy, not %s",
			strings.Join(policies, " and "))
	case set.Failover != "" && set.Failover != "PRIMARY" && set.Failover != "SECONDARY":
		return bad("Failover must be PRIMARY or SECONDARY, not %q", set.Failover)
	case set.Weight != nil && (*set.Weight < 0 || *set.Weight > 255):
		return bad("Weight must be between 0 and 255, not %d", *set.Weight)
	case set.TTL != nil && (*set.TTL < 0 || *set.TTL > 2147483647):
		return bad("TTL must be between 0 and 2147483647, not %d", *set.TTL)
	case alias && (set.TTL != nil || rs.ResourceRecords != nil):
		return bad("%s, but found more than one", oneOf)
	case alias && (set.AliasTarget.HostedZoneID == "" || rs.AliasTarget.DNSName == ""):
		return bad("an AliasTarget needs a HostedZoneId and a DNSName")
	case !alias && set.TTL == nil && len(set.Values) == 0:
		return bad("%s, but found none", oneOf)
	case !alias && set.TTL == nil:
		return bad("Missing field 'TTL'")
	case !alias && len(set.Values) == 0:
		return bad("Missing field 'ResourceRecords'")
	}
	return r53Edit{action: x.Action, set: set}, nil
}

func (r *route53State) changeResourceRecordSets(w http.ResponseWriter, c *call,
	id string) *APIError {
	z, e := r.zone(id)
	if e != nil {
		return e
	}
	var in r53xChangeRequest
	if e := r53Decode(c.body, &in); e != nil {
		return e
	}
	if in.ChangeBatch == nil {
		return r53Invalid("ChangeBatch is required")
	}
	if in.ChangeBatch.Changes == nil || len(in.ChangeBatch.Changes.Change) == 0 {
		return r53Invalid("1 validation error detected: Value '[]' at 'changeBatch.changes' " +
			"failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	edits := make([]r53Edit, 0, len(in.ChangeBatch.Changes.Change))
	for _, x := range in.ChangeBatch.Changes.Change {
		ed, e := r53ParseChange(x)
		if e != nil {
			return e
		}
		edits = append(edits, ed)
	}
	if msgs := r53CheckBatchSize(edits); len(msgs) > 0 {
		writeInvalidChangeBatch(w, c.requestID, http.StatusBadRequest, msgs)
		return nil
	}
	for _, ed := range edits {
		if hc := ed.set.HealthCheckID; hc != "" && ed.action != "DELETE" && r.checks[hc] == nil {
			return errorf(http.StatusNotFound, "NoSuchHealthCheck",
				"No health check exists with the ID %s", hc)
		}
	}

	next, msgs := z.apply(edits)
	if len(msgs) > 0 {
		writeInvalidChangeBatch(w, c.requestID, http.StatusBadRequest, msgs)
		return nil
	}
	z.records = next
	ch := r.newChange(c.sim, c.now, in.ChangeBatch.Comment, z.id)
	return r53Write(w, http.StatusOK, r53xChangeResponse{ChangeInfo: ch.wire()})
}

// Route 53's quotas on one ChangeResourceRecordSets request.
const (
	r53MaxBatchRecords = 1000
	r53MaxBatchChars   = 32000
)

// r53CheckBatchSize checks a batch against Route 53's quotas on one
// request: at most so many ResourceRecord elements, and so many characters
// in their values, where Route 53 counts each of an UPSERT twice. Alias
// record sets have no ResourceRecord elements and count nothing.
func r53CheckBatchSize(edits []r53Edit) []string {
	records, chars := 0, 0
	for _, ed := range edits {
		weight := 1
		if ed.action == "UPSERT" {
			weight = 2
		}
		records += weight * len(ed.set.Values)
		for _, v := range ed.set.Values {
			chars += weight * utf8.RuneCountInString(v)
		}
	}
	var msgs []string
	if records > r53MaxBatchRecords {
		msgs = append(msgs, fmt.Sprintf("Number of records limit of %d exceeded: the batch "+
			"counts %d ResourceRecord elements, each of an UPSERT twice; send it as several "+
			"smaller batches", r53MaxBatchRecords, records))
	}
	if chars > r53MaxBatchChars {
		msgs = append(msgs, fmt.Sprintf("Maximum characters in request limit of %d exceeded: "+
			"the values of the batch count %d characters, each of an UPSERT twice; send it "+
			"as several smaller batches", r53MaxBatchChars, chars))
	}
	return msgs
}

// apply applies a batch, in order, to a copy of the zone's record sets and
// checks the result as Route 53 does. It returns the new record sets, or
// every problem it found, in which case the zone must not change: a batch
// is applied whole or not at all.
func (z *r53Zone) apply(edits []r53Edit) (map[r53Key]Route53RecordSet, []string) {
	next := maps.Clone(z.records)
	var msgs []string
	// Route 53 lets a batch delete a record set and create it anew (the
	// way to change one before UPSERT existed); any other second change to
	// the same set is refused.
	seen := map[r53Key]string{}
	for _, ed := range edits {
		set, k := ed.set, ed.set.key()
		if !z.contains(set.Name) {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s",
				set.Name, z.name))
			continue
		}
		if msg := r53CheckName(set.Name); msg != "" {
			msgs = append(msgs, msg)
			continue
		}
		if prev, ok := seen[k]; ok && (prev != "DELETE" || ed.action != "CREATE") {
			msgs = append(msgs, fmt.Sprintf("The request contains an invalid set of changes "+
				"for a resource record set '%s %s'", set.Type, set.Name))
			continue
		}
		seen[k] = ed.action

		cur, exists := next[k]
		apex := set.Name == z.name
		switch ed.action {
		case "DELETE":
			switch {
			case !exists:
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s "+
					"but it was not found", set.label()))
			case !r53SameSet(cur, set):
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s "+
					"but the values provided do not match the current values", set.label()))
			case apex && set.Type == "SOA":
				msgs = append(msgs, "A HostedZone must contain exactly one SOA record.")
			case apex && set.Type == "NS":
				msgs = append(msgs, "A HostedZone must contain at least one NS record "+
					"for the zone itself.")
			default:
				delete(next, k)
			}
			continue
		case "CREATE":
			if exists {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s "+
					"but it already exists", set.label()))
				continue
			}
		}
		if set.Type == "SOA" && !apex {
			msgs = append(msgs, fmt.Sprintf("RRSet of type SOA with DNS name %s is not "+
				"permitted: SOA records belong at the apex of zone %s", set.Name, z.name))
			continue
		}
		if msg := r53CheckValues(set); msg != "" {
			msgs = append(msgs, msg)
			continue
		}
		next[k] = set
	}
	if len(msgs) > 0 {
		return nil, msgs
	}

	// What one change cannot show alone: conflicts with the other record
	// sets of the same name, as they stand after the whole batch.
	for _, ed := range edits {
		if ed.action != "DELETE" {
			msgs = append(msgs, z.conflicts(next, ed.set)...)
		}
	}
	if len(msgs) > 0 {
		return nil, msgs
	}
	return next, nil
}

// conflicts checks a written record set against the others of its name.
func (z *r53Zone) conflicts(next map[r53Key]Route53RecordSet, set Route53RecordSet) []string {
	var msgs []string
	if set.Type == "CNAME" && set.Name == z.name {
		msgs = append(msgs, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not "+
			"permitted at apex in zone %s", set.Name, z.name))
	}
	cnameClash, routingClash, roleClash := false, "", ""
	for k, other := range next {
		if k.name != set.Name || k == set.key() {
			continue
		}
		if k.typ != set.Type {
			cnameClash = cnameClash || k.typ == "CNAME" || set.Type == "CNAME"
			continue
		}
		if other.routing() != set.routing() {
			routingClash = other.routing()
		} else if set.Failover != "" && other.Failover == set.Failover {
			roleClash = other.SetIdentifier
		}
	}
	if cnameClash {
		msgs = append(msgs, fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted "+
			"as it conflicts with other records with the same DNS name in zone %s",
			set.Type, set.Name, z.name))
	}
	if routingClash != "" {
		msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s with %s "+
			"routing, but a record set with the same name and type uses %s routing",
			set.label(), set.routing(), routingClash))
	}
	if roleClash != "" {
		msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s as failover "+
			"%s, but the record set with set identifier '%s' is already the %s",
			set.label(), set.Failover, roleClash, set.Failover))
	}
	if a := set.AliasTarget; a != nil && a.HostedZoneID == z.id {
		found := false
		for k := range next {
			if k.name == a.DNSName && k.typ == set.Type {
				found = true
				break
			}
		}
		if !found {
			msgs = append(msgs, fmt.Sprintf("Tried to create an alias that targets %s, type %s "+
				"in zone %s, but the alias target does not exist", a.DNSName, set.Type, z.id))
		}
	}
	return msgs
}

// r53CheckValues checks the values of the record types whose syntax the
// simulator knows; Route 53 reports a bad value as a batch error.
func r53CheckValues(set Route53RecordSet) string {
	for _, v := range set.Values {
		ip := net.ParseIP(v)
		switch {
		case set.Type == "A" && (ip == nil || ip.To4() == nil || strings.Contains(v, ":")):
			return fmt.Sprintf("Invalid Resource Record: FATAL problem: ARRDATAIllegalIPv4Address "+
				"(Value is not a valid IPv4 address) encountered with '%s'", v)
		case set.Type == "AAAA" && (ip == nil || !strings.Contains(v, ":")):
			return fmt.Sprintf("Invalid Resource Record: FATAL problem: AAAARRDATAIllegalIPv6Address "+
				"(Value is not a valid IPv6 address) encountered with '%s'", v)
		}
	}
	if set.Type == "CNAME" && len(set.Values) > 1 {
		return fmt.Sprintf("RRSet of type CNAME with DNS name %s has more than one value", set.Name)
	}
	return ""
}

// sortedSets lists a zone's record sets in the order Route 53 lists them.
func (z *r53Zone) sortedSets() []Route53RecordSet {
	out := slices.Collect(maps.Values(z.records))
	slices.SortFunc(out, func(a, b Route53RecordSet) int { return r53CompareKeys(a.key(), b.key()) })
	return out
}

func (r *route53State) listResourceRecordSets(w http.ResponseWriter, c *call, id string) *APIError {
	z, e := r.zone(id)
	if e != nil {
		return e
	}
	q := c.req.URL.Query()
	limit, e := r53MaxItems(q, 300, 300)
	if e != nil {
		return e
	}
	name, typ, ident := q.Get("name"), q.Get("type"), q.Get("identifier")
	switch {
	case typ != "" && name == "":
		return r53Invalid("StartRecordType requires StartRecordName")
	case ident != "" && typ == "":
		return r53Invalid("StartRecordIdentifier requires StartRecordType")
	case typ != "" && !r53RecordTypes[typ]:
		return r53Invalid("StartRecordType %q is not a record type", typ)
	}
	sets := z.sortedSets()
	start := 0
	if name != "" {
		from := r53Key{name: r53Name(name), typ: typ, setID: ident}
		start = sort.Search(len(sets), func(i int) bool {
			return r53CompareKeys(sets[i].key(), from) >= 0
		})
	}
	end := min(start+limit, len(sets))
	out := r53xListRecordSetsResponse{MaxItems: limit, IsTruncated: end < len(sets)}
	for _, rs := range sets[start:end] {
		out.ResourceRecordSets.ResourceRecordSet = append(out.ResourceRecordSets.ResourceRecordSet,
			rs.wire())
	}
	if out.IsTruncated {
		n := sets[end]
		out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier =
			n.Name, n.Type, n.SetIdentifier
	}
	return r53Write(w, http.StatusOK, out)
}

func (r *route53State) getChange(w http.ResponseWriter, c *call, id string) *APIError {
	ch := r.changes[strings.TrimPrefix(id, "/change/")]
	if ch == nil {
		return errorf(http.StatusNotFound, "NoSuchChange",
			"A change with the specified change ID %s does not exist", id)
	}
	return r53Write(w, http.StatusOK, r53xGetChangeResponse{ChangeInfo: ch.wire()})
}

// Names.

// r53Name returns a DNS name as Route 53 stores it: lower case, fully
// qualified, with '*' written as its octal escape.
func r53Name(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.ReplaceAll(n, "*", `\052`)
	if !strings.HasSuffix(n, ".") {
		n += "."
	}
	return n
}

// r53CheckName returns Route 53's complaint about a normalized name, or "".
func r53CheckName(name string) string {
	if len(name) > 255 {
		return fmt.Sprintf("FATAL problem: DomainNameTooLong (Domain name is too long) "+
			"encountered with '%s'", name)
	}
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		switch {
		case l == "":
			return fmt.Sprintf("FATAL problem: DomainLabelEmpty (Domain label is empty) "+
				"encountered with '%s'", name)
		case len(l) > 63:
			return fmt.Sprintf("FATAL problem: DomainLabelTooLong (Domain label is too long) "+
				"encountered with '%s'", name)
		case strings.ContainsFunc(l, func(r rune) bool { return r <= ' ' || r > '~' }):
			return fmt.Sprintf("FATAL problem: InvalidCharacterString (Value contains "+
				"unsupported characters) encountered with '%s'", name)
		}
	}
	return ""
}

// r53CompareNames orders DNS names as Route 53 lists them: label by label
// from the root, so that a zone's apex comes before the names under it.
func r53CompareNames(a, b string) int {
	la := strings.Split(strings.TrimSuffix(a, "."), ".")
	lb := strings.Split(strings.TrimSuffix(b, "."), ".")
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		if c := strings.Compare(la[len(la)-i], lb[len(lb)-i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

// r53CompareKeys orders record sets by name, then type, then identifier.
func r53CompareKeys(a, b r53Key) int {
	return cmp.Or(r53CompareNames(a.name, b.name),
		strings.Compare(a.typ, b.typ), strings.Compare(a.setID, b.setID))
}

// Health checks.

// r53CheckerRegions are the regions Route 53's health checkers run in by
// default, with the address each simulated checker reports.
var r53CheckerRegions = []struct{ region, ip string }{
	{"us-east-1", "15.177.10.11"},
	{"us-west-1", "15.177.14.11"},
	{"us-west-2", "15.177.18.11"},
	{"eu-west-1", "15.177.62.11"},
	{"ap-southeast-1", "15.177.34.11"},
	{"ap-southeast-2", "15.177.38.11"},
	{"ap-northeast-1", "15.177.42.11"},
	{"sa-east-1", "15.177.50.11"},
}

func r53CheckerIP(region string) string {
	for _, cr := range r53CheckerRegions {
		if cr.region == region {
			return cr.ip
		}
	}
	return ""
}

func (r *route53State) check(id string) (*r53Check, *APIError) {
	hc := r.checks[id]
	if hc == nil {
		return nil, errorf(http.StatusNotFound, "NoSuchHealthCheck",
			"A health check with id %s does not exist.", id)
	}
	return hc, nil
}

// r53HealthConfig checks a health check's settings and fills in Route 53's
// defaults.
func r53HealthConfig(x *r53xHealthCheckConfig) (Route53HealthCheckConfig, *APIError) {
	bad := func(format string, args ...any) (Route53HealthCheckConfig, *APIError) {
		return Route53HealthCheckConfig{}, r53Invalid(format, args...)
	}
	c := Route53HealthCheckConfig{
		Type: x.Type, IPAddress: x.IPAddress, ResourcePath: x.ResourcePath,
		FullyQualifiedDomainName: x.FullyQualifiedDomainName, SearchString: x.SearchString,
		MeasureLatency: r53Deref(x.MeasureLatency), Inverted: r53Deref(x.Inverted),
		Disabled: r53Deref(x.Disabled), RoutingControlArn: x.RoutingControlArn,
		InsufficientDataHealthStatus: x.InsufficientDataHealthStatus,
	}
	if x.ChildHealthChecks != nil {
		c.ChildHealthChecks = slices.Clone(x.ChildHealthChecks.ChildHealthCheck)
	}
	if x.Regions != nil {
		c.Regions = slices.Clone(x.Regions.Region)
	}
	if x.AlarmIdentifier != nil {
		c.AlarmRegion, c.AlarmName = x.AlarmIdentifier.Region, x.AlarmIdentifier.Name
	}

	endpoint, https := false, false
	switch c.Type {
	case "HTTP", "HTTP_STR_MATCH", "TCP":
		endpoint = true
	case "HTTPS", "HTTPS_STR_MATCH":
		endpoint, https = true, true
	case "CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL":
	default:
		return bad("Type %q is not a health check type", c.Type)
	}
	if endpoint {
		switch {
		case c.IPAddress == "" && c.FullyQualifiedDomainName == "":
			return bad("A %s health check needs an IPAddress or a FullyQualifiedDomainName", c.Type)
		case c.IPAddress != "" && net.ParseIP(c.IPAddress) == nil:
			return bad("IPAddress %q is not an IP address", c.IPAddress)
		case x.Port != nil:
			c.Port = *x.Port
		case c.Type == "TCP":
			return bad("A TCP health check needs a Port")
		case https:
			c.Port = 443
		default:
			c.Port = 80
		}
		c.RequestInterval = cmp.Or(r53Deref(x.RequestInterval), 30)
		c.FailureThreshold = cmp.Or(r53Deref(x.FailureThreshold), 3)
		c.EnableSNI = https
		if x.EnableSNI != nil {
			c.EnableSNI = *x.EnableSNI
		}
		isMatch := strings.HasSuffix(c.Type, "_STR_MATCH")
		switch {
		case c.Port < 1 || c.Port > 65535:
			return bad("Port must be between 1 and 65535, not %d", c.Port)
		case c.RequestInterval != 10 && c.RequestInterval != 30:
			return bad("RequestInterval must be 10 or 30, not %d", c.RequestInterval)
		case c.FailureThreshold < 1 || c.FailureThreshold > 10:
			return bad("FailureThreshold must be between 1 and 10, not %d", c.FailureThreshold)
		case isMatch && (c.SearchString == "" || len(c.SearchString) > 255):
			return bad("A %s health check needs a SearchString of 1 to 255 characters", c.Type)
		case len(c.ResourcePath) > 255:
			return bad("ResourcePath is longer than 255 characters")
		}
	}
	switch c.Type {
	case "CALCULATED":
		if x.HealthThreshold == nil {
			return bad("A CALCULATED health check needs a HealthThreshold")
		}
		c.HealthThreshold = *x.HealthThreshold
		if c.HealthThreshold < 0 || c.HealthThreshold > 256 || len(c.ChildHealthChecks) > 256 {
			return bad("A CALCULATED health check has 0 to 256 children and a HealthThreshold " +
				"in that range")
		}
	case "CLOUDWATCH_METRIC":
		if c.AlarmName == "" || c.AlarmRegion == "" {
			return bad("A CLOUDWATCH_METRIC health check needs an AlarmIdentifier")
		}
		c.InsufficientDataHealthStatus = cmp.Or(c.InsufficientDataHealthStatus, "LastKnownStatus")
		switch c.InsufficientDataHealthStatus {
		case "Healthy", "Unhealthy", "LastKnownStatus":
		default:
			return bad("InsufficientDataHealthStatus must be Healthy, Unhealthy or "+
				"LastKnownStatus, not %q", c.InsufficientDataHealthStatus)
		}
	case "RECOVERY_CONTROL":
		if c.RoutingControlArn == "" {
			return bad("A RECOVERY_CONTROL health check needs a RoutingControlArn")
		}
	}
	if c.Regions != nil {
		if len(c.Regions) < 3 {
			return bad("Regions must list at least 3 checker regions")
		}
		for i, reg := range c.Regions {
			if r53CheckerIP(reg) == "" || slices.Contains(c.Regions[:i], reg) {
				return bad("Regions: %q is not a checker region or is listed twice", reg)
			}
		}
	}
	return c, nil
}

func r53Deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// wire writes the settings with every default spelled out, as Route 53
// returns them.
func (c Route53HealthCheckConfig) wire() r53xHealthCheckConfig {
	x := r53xHealthCheckConfig{
		IPAddress: c.IPAddress, Type: c.Type, ResourcePath: c.ResourcePath,
		FullyQualifiedDomainName: c.FullyQualifiedDomainName, SearchString: c.SearchString,
		MeasureLatency: &c.MeasureLatency, Inverted: &c.Inverted, Disabled: &c.Disabled,
		InsufficientDataHealthStatus: c.InsufficientDataHealthStatus,
		RoutingControlArn:            c.RoutingControlArn,
	}
	if c.Port != 0 {
		x.Port, x.RequestInterval, x.FailureThreshold =
			&c.Port, &c.RequestInterval, &c.FailureThreshold
		x.EnableSNI = &c.EnableSNI
	}
	if c.Type == "CALCULATED" {
		x.HealthThreshold = &c.HealthThreshold
		x.ChildHealthChecks = &r53xChildHealthChecks{ChildHealthCheck: slices.Clone(c.ChildHealthChecks)}
	}
	if c.Regions != nil {
		x.Regions = &r53xRegions{Region: slices.Clone(c.Regions)}
	}
	if c.AlarmName != "" {
		x.AlarmIdentifier = &r53xAlarmIdentifier{Region: c.AlarmRegion, Name: c.AlarmName}
	}
	return x
}

func (hc *r53Check) wire() r53xHealthCheck {
	return r53xHealthCheck{
		ID: hc.id, CallerReference: hc.callerRef,
		HealthCheckConfig: hc.config.wire(), HealthCheckVersion: hc.version,
	}
}

func r53HealthCheckDoc(root string, hc *r53Check) r53xHealthCheckResponse {
	return r53xHealthCheckResponse{
		XMLName:     xml.Name{Space: route53Namespace, Local: root},
		HealthCheck: hc.wire(),
	}
}

// checkChildren reports a child of a CALCULATED check that does not exist.
func (r *route53State) checkChildren(c Route53HealthCheckConfig, self string) *APIError {
	for _, id := range c.ChildHealthChecks {
		if r.checks[id] == nil || id == self {
			return errorf(http.StatusNotFound, "NoSuchHealthCheck",
				"The child health check %s does not exist", id)
		}
	}
	return nil
}

// createHealthCheck is idempotent as Route 53 is: the same caller reference
// with the same settings returns the existing check; with other settings
// (compared with the check's current ones, defaults filled in), or after
// the check was deleted, it is refused.
func (r *route53State) createHealthCheck(w http.ResponseWriter, c *call, _ string) *APIError {
	var in r53xCreateHealthCheckRequest
	if e := r53Decode(c.body, &in); e != nil {
		return e
	}
	if in.CallerReference == "" || len(in.CallerReference) > 64 {
		return r53Invalid("CallerReference must have 1 to 64 characters")
	}
	if in.HealthCheckConfig == nil {
		return r53Invalid("HealthCheckConfig is required")
	}
	conf, e := r53HealthConfig(in.HealthCheckConfig)
	if e != nil {
		return e
	}
	if id, ok := r.checkRefs[in.CallerReference]; ok {
		hc := r.checks[id]
		if hc == nil || !reflect.DeepEqual(hc.config, conf) {
			return errorf(http.StatusConflict, "HealthCheckAlreadyExists",
				"A health check with caller reference %q already exists with other settings "+
					"or was deleted", in.CallerReference)
		}
		w.Header().Set("Location", r53Location(c, "healthcheck/"+hc.id))
		return r53Write(w, http.StatusCreated, r53HealthCheckDoc("CreateHealthCheckResponse", hc))
	}
	if e := r.checkChildren(conf, ""); e != nil {
		return e
	}

	hc := &r53Check{
		callerRef: in.CallerReference, version: 1, config: conf, endpointHealthy: true,
	}
	hc.id = r.newUUID(c.sim.profile.Seed)
	hc.seq = r.seq
	hc.reported = r.healthy(hc, 0)
	r.checks[hc.id] = hc
	r.checkRefs[hc.callerRef] = hc.id
	w.Header().Set("Location", r53Location(c, "healthcheck/"+hc.id))
	return r53Write(w, http.StatusCreated, r53HealthCheckDoc("CreateHealthCheckResponse", hc))
}

func (r *route53State) getHealthCheck(w http.ResponseWriter, c *call, id string) *APIError {
	hc, e := r.check(id)
	if e != nil {
		return e
	}
	return r53Write(w, http.StatusOK, r53HealthCheckDoc("GetHealthCheckResponse", hc))
}

func (r *route53State) updateHealthCheck(w http.ResponseWriter, c *call, id string) *APIError {
	hc, e := r.check(id)
	if e != nil {
		return e
	}
	var in r53xUpdateHealthCheckRequest
	if e := r53Decode(c.body, &in); e != nil {
		return e
	}
	if in.HealthCheckVersion != nil && *in.HealthCheckVersion != hc.version {
		return errorf(http.StatusConflict, "HealthCheckVersionMismatch",
			"The value of HealthCheckVersion in the request (%d) doesn't match the value of "+
				"HealthCheckVersion in the health check (%d)", *in.HealthCheckVersion, hc.version)
	}

	// Apply the update to the settings as written, then check them again
	// as a whole, so that an update cannot leave a check Route 53 would
	// refuse to create.
	x := hc.config.wire()
	r53SetIf(&x.IPAddress, in.IPAddress)
	r53SetIf(&x.ResourcePath, in.ResourcePath)
	r53SetIf(&x.FullyQualifiedDomainName, in.FullyQualifiedDomainName)
	r53SetIf(&x.SearchString, in.SearchString)
	r53SetIf(&x.InsufficientDataHealthStatus, in.InsufficientDataHealthStatus)
	x.Port = cmp.Or(in.Port, x.Port)
	x.FailureThreshold = cmp.Or(in.FailureThreshold, x.FailureThreshold)
	x.Inverted = cmp.Or(in.Inverted, x.Inverted)
	x.Disabled = cmp.Or(in.Disabled, x.Disabled)
	x.HealthThreshold = cmp.Or(in.HealthThreshold, x.HealthThreshold)
	x.EnableSNI = cmp.Or(in.EnableSNI, x.EnableSNI)
	x.ChildHealthChecks = cmp.Or(in.ChildHealthChecks, x.ChildHealthChecks)
	x.Regions = cmp.Or(in.Regions, x.Regions)
	x.AlarmIdentifier = cmp.Or(in.AlarmIdentifier, x.AlarmIdentifier)
	if in.ResetElements != nil {
		for _, el := range in.ResetElements.ResettableElementName {
			switch el {
			case "FullyQualifiedDomainName":
				x.FullyQualifiedDomainName = ""
			case "Regions":
				x.Regions = nil
			case "ResourcePath":
				x.ResourcePath = ""
			case "ChildHealthChecks":
				x.ChildHealthChecks = nil
			default:
				return r53Invalid("%q is not an element that can be reset", el)
			}
		}
	}
	conf, e := r53HealthConfig(&x)
	if e != nil {
		return e
	}
	if e := r.checkChildren(conf, hc.id); e != nil {
		return e
	}
	hc.config = conf
	hc.version++
	r.noteHealth(c.sim, c.now)
	return r53Write(w, http.StatusOK, r53HealthCheckDoc("UpdateHealthCheckResponse", hc))
}

func r53SetIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func (r *route53State) deleteHealthCheck(w http.ResponseWriter, c *call, id string) *APIError {
	hc, e := r.check(id)
	if e != nil {
		return e
	}
	for _, z := range r.zones {
		for _, rs := range z.records {
			if rs.HealthCheckID == hc.id {
				return errorf(http.StatusBadRequest, "HealthCheckInUse",
					"The health check %s is still referenced from %s in zone %s",
					hc.id, rs.label(), z.name)
			}
		}
	}
	for _, other := range r.checks {
		if slices.Contains(other.config.ChildHealthChecks, hc.id) {
			return errorf(http.StatusBadRequest, "HealthCheckInUse",
				"The health check %s is a child of health check %s", hc.id, other.id)
		}
	}
	delete(r.checks, hc.id)
	return r53Write(w, http.StatusOK, r53xDeleteHealthCheckResponse{})
}

// checksInOrder lists the health checks in the order they were created.
func (r *route53State) checksInOrder() []*r53Check {
	hcs := slices.Collect(maps.Values(r.checks))
	slices.SortFunc(hcs, func(a, b *r53Check) int { return cmp.Compare(a.seq, b.seq) })
	return hcs
}

func (r *route53State) listHealthChecks(w http.ResponseWriter, c *call, _ string) *APIError {
	q := c.req.URL.Query()
	limit, e := r53MaxItems(q, 100, 1000)
	if e != nil {
		return e
	}
	hcs := r.checksInOrder()
	start := 0
	marker := q.Get("marker")
	if marker != "" {
		start = slices.IndexFunc(hcs, func(hc *r53Check) bool { return hc.id == marker })
		if start < 0 {
			return r53Invalid("The marker %q names no health check", marker)
		}
	}
	end := min(start+limit, len(hcs))
	out := r53xListHealthChecksResponse{Marker: marker, MaxItems: limit, IsTruncated: end < len(hcs)}
	for _, hc := range hcs[start:end] {
		out.HealthChecks.HealthCheck = append(out.HealthChecks.HealthCheck, hc.wire())
	}
	if out.IsTruncated {
		out.NextMarker = hcs[end].id
	}
	return r53Write(w, http.StatusOK, out)
}

// getHealthCheckStatus reports what each checker region sees. The
// simulated checkers agree with each other and see a change at once.
// TODO: model FailureThreshold × RequestInterval before a change of health
// shows, and checkers that disagree, when a test needs them.
func (r *route53State) getHealthCheckStatus(w http.ResponseWriter, c *call, id string) *APIError {
	hc, e := r.check(id)
	if e != nil {
		return e
	}
	regions := hc.config.Regions
	if regions == nil {
		for _, cr := range r53CheckerRegions {
			regions = append(regions, cr.region)
		}
	}
	status := r.statusReport(hc)
	var out r53xHealthCheckStatusResponse
	for _, reg := range regions {
		var o r53xObservation
		o.Region, o.IPAddress = reg, r53CheckerIP(reg)
		o.StatusReport.Status = status
		o.StatusReport.CheckedTime = r53Time(c.now)
		out.HealthCheckObservations.HealthCheckObservation = append(
			out.HealthCheckObservations.HealthCheckObservation, o)
	}
	return r53Write(w, http.StatusOK, out)
}

// statusReport words a checker's finding as Route 53 does: "Success: " or
// "Failure: " by the status Route 53 routes by, then what was seen.
func (r *route53State) statusReport(hc *r53Check) string {
	prefix := "Failure: "
	if r.healthy(hc, 0) {
		prefix = "Success: "
	}
	up := hc.endpointHealthy
	var detail string
	switch {
	case hc.config.Disabled:
		detail = "Health checking is disabled"
	case hc.config.Type == "CALCULATED":
		detail = fmt.Sprintf("%d of %d child health checks are healthy",
			r.healthyChildren(hc, 0), len(hc.config.ChildHealthChecks))
	case hc.config.Type == "TCP" && up:
		detail = "TCP connection established"
	case hc.config.Type == "TCP":
		detail = "Connection timed out. The endpoint or the internet connection is down, " +
			"or requests are being blocked by your firewall."
	case hc.config.Port != 0 && up:
		detail = "HTTP Status Code 200, OK"
	case hc.config.Port != 0:
		detail = "HTTP Status Code 503, Service Unavailable"
	case up:
		detail = "The monitored state is healthy"
	default:
		detail = "The monitored state is unhealthy"
	}
	if hc.config.Inverted {
		detail += " (the health check is inverted)"
	}
	return prefix + detail
}

// healthy is the status Route 53 routes by. A disabled check counts as
// healthy, and Inverted flips the result, so that disabling and inverting
// a check is how to force a failover.
func (r *route53State) healthy(hc *r53Check, depth int) bool {
	ok := hc.endpointHealthy
	switch {
	case hc.config.Disabled:
		ok = true
	case hc.config.Type == "CALCULATED":
		ok = r.healthyChildren(hc, depth) >= int(hc.config.HealthThreshold)
	}
	return ok != hc.config.Inverted
}

func (r *route53State) healthyChildren(hc *r53Check, depth int) int {
	// Calculated checks that refer to each other in a loop have no
	// defined status; cut the recursion rather than overflow.
	if depth > 8 {
		return 0
	}
	n := 0
	for _, id := range hc.config.ChildHealthChecks {
		if child := r.checks[id]; child != nil && r.healthy(child, depth+1) {
			n++
		}
	}
	return n
}

// noteHealth records an event for every health check whose status has
// changed since it was last recorded.
func (r *route53State) noteHealth(s *Sim, now time.Time) {
	for _, hc := range r.checksInOrder() {
		h := r.healthy(hc, 0)
		if h == hc.reported {
			continue
		}
		hc.reported = h
		state := "UNHEALTHY"
		if h {
			state = "HEALTHY"
		}
		s.record(GlobalRegion, ServiceRoute53, "health-check", hc.id, state, now)
	}
}

// SetHealthCheckHealthy sets what Route 53's checkers find at the endpoint
// of a health check: healthy or not. The status Route 53 routes by follows
// at once, subject to the check's Disabled and Inverted settings; a change
// of that status is recorded as a "health-check" event.
func (s *Sim) SetHealthCheckHealthy(id string, healthy bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.route53
	hc := r.checks[strings.TrimPrefix(id, "/healthcheck/")]
	if hc == nil {
		return fmt.Errorf("no Route 53 health check %q", id)
	}
	if hc.config.Type == "CALCULATED" {
		return fmt.Errorf("health check %s is CALCULATED: set the health of its children instead", id)
	}
	hc.endpointHealthy = healthy
	r.noteHealth(s, s.clock.Now())
	return nil
}

// state returns a copy of everything, after bringing changes up to date.
func (r *route53State) state(s *Sim, now time.Time) Route53State {
	r.advance(s, now)
	st := Route53State{
		HostedZones:  []Route53HostedZone{},
		HealthChecks: []Route53HealthCheck{},
		Changes:      []Route53Change{},
	}
	for _, z := range r.zonesByName() {
		hz := Route53HostedZone{
			ID: "/hostedzone/" + z.id, Name: z.name, CallerReference: z.callerRef,
			Comment: z.comment, PrivateZone: z.private, NameServers: slices.Clone(z.nameServers),
		}
		for _, rs := range z.sortedSets() {
			hz.RecordSets = append(hz.RecordSets, rs.clone())
		}
		st.HostedZones = append(st.HostedZones, hz)
	}
	for _, hc := range r.checksInOrder() {
		conf := hc.config
		conf.ChildHealthChecks = slices.Clone(conf.ChildHealthChecks)
		conf.Regions = slices.Clone(conf.Regions)
		st.HealthChecks = append(st.HealthChecks, Route53HealthCheck{
			ID: hc.id, CallerReference: hc.callerRef, Version: hc.version, Config: conf,
			EndpointHealthy: hc.endpointHealthy, Healthy: r.healthy(hc, 0),
		})
	}
	for _, ch := range r.changes {
		st.Changes = append(st.Changes, Route53Change{
			ID: "/change/" + ch.id, HostedZoneID: "/hostedzone/" + ch.zoneID, Status: ch.status,
			Comment: ch.comment, SubmittedAt: ch.submitted, InsyncAt: ch.insync,
		})
	}
	slices.SortFunc(st.Changes, func(a, b Route53Change) int {
		return cmp.Or(a.SubmittedAt.Compare(b.SubmittedAt), strings.Compare(a.ID, b.ID))
	})
	return st
}
