package awssim

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file holds the RDS wire protocol (AWS Query): the form a client
// posts, the XML it gets back, and the pieces every operation shares
// (identifiers, ARNs, filters and pages).

const rdsXMLNS = "http://rds.amazonaws.com/doc/2014-10-31/"

// rdsOperation names the Action of a Query request, or "" when the body
// is no form or the action is one the simulator does not implement.
func rdsOperation(_ *http.Request, body []byte) string {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	action := v.Get("Action")
	if _, ok := rdsHandlers[action]; !ok {
		return ""
	}
	return action
}

// writeRDSError writes e in the Query protocol's error document, whose
// Code the SDK maps to its typed errors.
func writeRDSError(w http.ResponseWriter, requestID string, e *APIError) {
	doc := xmlErrorResponse{Xmlns: rdsXMLNS, RequestID: requestID}
	doc.Error.Type = "Sender"
	if !e.sender() {
		doc.Error.Type = "Receiver"
	}
	doc.Error.Code = e.Code
	doc.Error.Message = e.Message
	body, err := xml.Marshal(doc)
	if err != nil {
		// A struct of strings always marshals; keep the status anyway.
		body = nil
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

type xmlErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// writeRDSResult wraps result in <ActionResponse><ActionResult>, the
// element the SDK looks for, followed by the request id.
func writeRDSResult(w http.ResponseWriter, action, requestID string, result any) *APIError {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, action, rdsXMLNS)
	enc := xml.NewEncoder(&b)
	start := xml.StartElement{Name: xml.Name{Local: action + "Result"}}
	if err := enc.EncodeElement(result, start); err != nil {
		return errorf(http.StatusInternalServerError, "InternalFailure",
			"encode %s result: %v", action, err)
	}
	if err := enc.Flush(); err != nil {
		return errorf(http.StatusInternalServerError, "InternalFailure",
			"encode %s result: %v", action, err)
	}
	fmt.Fprintf(&b, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>",
		requestID, action)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
	return nil
}

// rdsForm reads typed parameters from a Query form. The first bad value
// is kept in err, so a handler reads everything and checks once.
type rdsForm struct {
	v   url.Values
	err *APIError
}

func (f *rdsForm) fail(e *APIError) {
	if f.err == nil {
		f.err = e
	}
}

func (f *rdsForm) has(name string) bool {
	_, ok := f.v[name]
	return ok
}

func (f *rdsForm) str(name string) string { return strings.TrimSpace(f.v.Get(name)) }

// required reads a parameter that must be present and not blank.
func (f *rdsForm) required(name string) string {
	v := f.str(name)
	if v == "" {
		f.fail(errorf(http.StatusBadRequest, "MissingParameter",
			"The request must contain the parameter %s", name))
	}
	return v
}

func (f *rdsForm) boolean(name string) *bool {
	s := f.str(name)
	if s == "" {
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
			"Invalid boolean value %q for parameter %s", s, name))
		return nil
	}
	return &b
}

func (f *rdsForm) integer(name string) *int32 {
	s := f.str(name)
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
			"Invalid integer value %q for parameter %s", s, name))
		return nil
	}
	v := int32(n)
	return &v
}

func (f *rdsForm) timestamp(name string) *time.Time {
	s := f.str(name)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
			"Invalid timestamp %q for parameter %s: use ISO 8601, such as 2009-09-07T23:45:00Z",
			s, name))
		return nil
	}
	return &t
}

// list reads a list member, which the Query protocol spells
// prefix.1, prefix.2, ... (prefix is "Name.ItemName"). A present but empty
// list comes as a bare "Name=", hence the second result.
func (f *rdsForm) list(prefix string) ([]string, bool) {
	items := map[int]string{}
	for k, vs := range f.v {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok || strings.Contains(rest, ".") || len(vs) == 0 {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
				"Invalid list index in parameter %s", k))
			continue
		}
		items[n] = strings.TrimSpace(vs[0])
	}
	name, _, _ := strings.Cut(prefix, ".")
	if len(items) == 0 {
		return nil, f.has(name)
	}
	return rdsByIndex(items), true
}

func rdsByIndex(items map[int]string) []string {
	idx := make([]int, 0, len(items))
	for n := range items {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]string, 0, len(idx))
	for _, n := range idx {
		out = append(out, items[n])
	}
	return out
}

// rdsTag is a resource tag.
type rdsTag struct{ Key, Value string }

func (f *rdsForm) tags() []rdsTag {
	keys := map[int]string{}
	values := map[int]string{}
	for k, vs := range f.v {
		rest, ok := strings.CutPrefix(k, "Tags.Tag.")
		if !ok || len(vs) == 0 {
			continue
		}
		idx, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 {
			f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
				"Invalid tag index in parameter %s", k))
			continue
		}
		switch field {
		case "Key":
			keys[n] = vs[0]
		case "Value":
			values[n] = vs[0]
		}
	}
	var out []rdsTag
	for _, n := range rdsSortedKeys(keys) {
		if keys[n] == "" {
			f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
				"Tag %d has an empty key", n))
			continue
		}
		out = append(out, rdsTag{Key: keys[n], Value: values[n]})
	}
	return out
}

func rdsSortedKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// rdsFilter is one Filters.Filter.N of a Describe call.
type rdsFilter struct {
	name   string
	values []string
}

// filters reads the Filters of a Describe call and checks their names
// against those the operation knows.
func (f *rdsForm) filters(known ...string) []rdsFilter {
	names := map[int]string{}
	values := map[int]map[int]string{}
	for k, vs := range f.v {
		rest, ok := strings.CutPrefix(k, "Filters.Filter.")
		if !ok || len(vs) == 0 {
			continue
		}
		idx, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 {
			f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
				"Invalid filter index in parameter %s", k))
			continue
		}
		switch {
		case field == "Name":
			names[n] = strings.TrimSpace(vs[0])
		case strings.HasPrefix(field, "Values.Value."):
			m, err := strconv.Atoi(strings.TrimPrefix(field, "Values.Value."))
			if err != nil || m < 1 {
				f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
					"Invalid filter value index in parameter %s", k))
				continue
			}
			if values[n] == nil {
				values[n] = map[int]string{}
			}
			values[n][m] = strings.TrimSpace(vs[0])
		}
	}
	var out []rdsFilter
	for _, n := range rdsSortedKeys(names) {
		name := names[n]
		if !slices.Contains(known, name) {
			f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
				"Unrecognized filter name: %s; this operation filters on %s",
				name, strings.Join(known, ", ")))
			continue
		}
		if len(values[n]) == 0 {
			f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
				"Filter %s needs at least one value", name))
			continue
		}
		out = append(out, rdsFilter{name: name, values: rdsByIndex(values[n])})
	}
	return out
}

// rdsMatch reports whether a resource passes every filter: attr gives
// the resource's values for a filter name (an identifier and its ARN, say).
func rdsMatch(filters []rdsFilter, attr func(name string) []string) bool {
	for _, flt := range filters {
		have := attr(flt.name)
		hit := false
		for _, want := range flt.values {
			for _, h := range have {
				if strings.EqualFold(h, want) {
					hit = true
				}
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// rdsPage cuts a list sorted by key into one page of a Describe answer. The
// marker is the key of the first item of the next page, so items created
// or deleted between calls neither repeat nor vanish from the rest.
func rdsPage[T any](f *rdsForm, items []T, key func(T) string) ([]T, string) {
	limit := 100
	if n := f.integer("MaxRecords"); n != nil {
		if *n < 20 || *n > 100 {
			f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
				"Invalid value %d for MaxRecords. Must be between 20 and 100", *n))
			return nil, ""
		}
		limit = int(*n)
	}
	start := 0
	if m := f.str("Marker"); m != "" {
		from, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil || !strings.HasPrefix(string(from), "rds:") {
			f.fail(errorf(http.StatusBadRequest, "InvalidParameterValue",
				"The marker %q was not returned by this operation", m))
			return nil, ""
		}
		k := strings.TrimPrefix(string(from), "rds:")
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) >= k })
	}
	end := min(start+limit, len(items))
	marker := ""
	if end < len(items) {
		marker = base64.RawURLEncoding.EncodeToString([]byte("rds:" + key(items[end])))
	}
	return items[start:end], marker
}

var rdsIdentifier = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// rdsCheckID validates a DB instance, cluster or snapshot identifier
// and returns it in lowercase, as RDS stores it.
func rdsCheckID(param, id string) (string, *APIError) {
	id = strings.ToLower(id)
	if len(id) > 63 || !rdsIdentifier.MatchString(id) {
		return "", errorf(http.StatusBadRequest, "InvalidParameterValue",
			"The parameter %s is not a valid identifier. Identifiers must begin with a letter; "+
				"must contain only ASCII letters, digits, and hyphens; "+
				"and must not end with a hyphen or contain two consecutive hyphens.", param)
	}
	return id, nil
}

// rdsRef is a reference to an RDS resource, by identifier or by ARN.
type rdsRef struct {
	region string
	id     string
	isARN  bool
}

// rdsParseRef reads a resource reference of the given ARN resource type
// ("db", "cluster", "snapshot", "global-cluster"). A plain identifier is
// in the caller's region.
func (s *Sim) rdsParseRef(param, ref, kind, region string) (rdsRef, *APIError) {
	if !strings.HasPrefix(ref, "arn:") {
		return rdsRef{region: region, id: strings.ToLower(ref)}, nil
	}
	parts := strings.SplitN(ref, ":", 7)
	if len(parts) != 7 || parts[1] != "aws" || parts[2] != "rds" || parts[5] != kind ||
		parts[6] == "" {
		return rdsRef{}, errorf(http.StatusBadRequest, "InvalidParameterValue",
			"The parameter %s is not a valid %s ARN: %s", param, kind, ref)
	}
	if parts[4] != s.account {
		return rdsRef{}, errorf(http.StatusBadRequest, "InvalidParameterValue",
			"The ARN %s belongs to another account than %s", ref, s.account)
	}
	return rdsRef{region: parts[3], id: strings.ToLower(parts[6]), isARN: true}, nil
}

// rdsTime formats a timestamp as RDS does; the zero time is left out.
func rdsTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// XML shapes of the answers, limited to the members the simulator fills.
// Lists are wrapped, with item names from the RDS model.

type xmlEndpoint struct {
	Address      string
	Port         int32
	HostedZoneId string
}

type xmlVpcSG struct {
	VpcSecurityGroupId string
	Status             string
}

type xmlParamStatus struct {
	DBParameterGroupName string
	ParameterApplyStatus string
}

type xmlOptionGroup struct {
	OptionGroupName string
	Status          string
}

type xmlSubnetGroup struct {
	DBSubnetGroupName        string
	DBSubnetGroupDescription string
	VpcId                    string
	SubnetGroupStatus        string
}

type xmlTag struct{ Key, Value string }

type xmlPending struct {
	DBInstanceClass       string `xml:",omitempty"`
	MultiAZ               *bool  `xml:",omitempty"`
	AllocatedStorage      *int32 `xml:",omitempty"`
	StorageType           string `xml:",omitempty"`
	Iops                  *int32 `xml:",omitempty"`
	BackupRetentionPeriod *int32 `xml:",omitempty"`
	EngineVersion         string `xml:",omitempty"`
	DBInstanceIdentifier  string `xml:",omitempty"`
}

type xmlDBInstance struct {
	DBInstanceIdentifier                  string
	DBInstanceArn                         string
	DbiResourceId                         string
	DBInstanceClass                       string
	Engine                                string
	EngineVersion                         string
	DBInstanceStatus                      string
	MasterUsername                        string       `xml:",omitempty"`
	DBName                                string       `xml:",omitempty"`
	Endpoint                              *xmlEndpoint `xml:",omitempty"`
	DbInstancePort                        int32
	AllocatedStorage                      int32
	StorageType                           string `xml:",omitempty"`
	Iops                                  *int32 `xml:",omitempty"`
	InstanceCreateTime                    string `xml:",omitempty"`
	LatestRestorableTime                  string `xml:",omitempty"`
	PreferredBackupWindow                 string
	PreferredMaintenanceWindow            string
	BackupRetentionPeriod                 int32
	VpcSecurityGroups                     []xmlVpcSG       `xml:"VpcSecurityGroups>VpcSecurityGroupMembership"`
	DBParameterGroups                     []xmlParamStatus `xml:"DBParameterGroups>DBParameterGroup"`
	OptionGroupMemberships                []xmlOptionGroup `xml:"OptionGroupMemberships>OptionGroupMembership"`
	AvailabilityZone                      string           `xml:",omitempty"`
	SecondaryAvailabilityZone             string           `xml:",omitempty"`
	DBSubnetGroup                         *xmlSubnetGroup  `xml:",omitempty"`
	PendingModifiedValues                 xmlPending
	MultiAZ                               bool
	AutoMinorVersionUpgrade               bool
	ReadReplicaSourceDBInstanceIdentifier string   `xml:",omitempty"`
	ReadReplicaDBInstanceIdentifiers      []string `xml:"ReadReplicaDBInstanceIdentifiers>ReadReplicaDBInstanceIdentifier"`
	PubliclyAccessible                    bool
	StorageEncrypted                      bool
	DBClusterIdentifier                   string `xml:",omitempty"`
	DeletionProtection                    bool
	CopyTagsToSnapshot                    bool
	TagList                               []xmlTag `xml:"TagList>Tag"`
}

type xmlDBSnapshot struct {
	DBSnapshotIdentifier  string
	DBSnapshotArn         string
	DBInstanceIdentifier  string
	DbiResourceId         string
	SnapshotType          string
	Status                string
	Engine                string
	EngineVersion         string
	AllocatedStorage      int32
	StorageType           string `xml:",omitempty"`
	Iops                  *int32 `xml:",omitempty"`
	Port                  int32
	AvailabilityZone      string
	VpcId                 string
	MasterUsername        string `xml:",omitempty"`
	OptionGroupName       string `xml:",omitempty"`
	Encrypted             bool
	PercentProgress       int32
	InstanceCreateTime    string `xml:",omitempty"`
	SnapshotCreateTime    string `xml:",omitempty"`
	BackupRetentionPeriod int32
	TagList               []xmlTag `xml:"TagList>Tag"`
}

type xmlClusterMember struct {
	DBInstanceIdentifier          string
	IsClusterWriter               bool
	DBClusterParameterGroupStatus string
	PromotionTier                 int32
}

type xmlDBCluster struct {
	DBClusterIdentifier         string
	DBClusterArn                string
	DbClusterResourceId         string
	Status                      string
	Engine                      string
	EngineVersion               string
	EngineMode                  string
	DatabaseName                string `xml:",omitempty"`
	MasterUsername              string `xml:",omitempty"`
	Endpoint                    string `xml:",omitempty"`
	ReaderEndpoint              string `xml:",omitempty"`
	Port                        int32
	HostedZoneId                string
	MultiAZ                     bool
	BackupRetentionPeriod       int32
	DBSubnetGroup               string
	DBClusterParameterGroup     string
	VpcSecurityGroups           []xmlVpcSG         `xml:"VpcSecurityGroups>VpcSecurityGroupMembership"`
	DBClusterMembers            []xmlClusterMember `xml:"DBClusterMembers>DBClusterMember"`
	AvailabilityZones           []string           `xml:"AvailabilityZones>AvailabilityZone"`
	ReplicationSourceIdentifier string             `xml:",omitempty"`
	ReadReplicaIdentifiers      []string           `xml:"ReadReplicaIdentifiers>ReadReplicaIdentifier"`
	GlobalClusterIdentifier     string             `xml:",omitempty"`
	ClusterCreateTime           string             `xml:",omitempty"`
	EarliestRestorableTime      string             `xml:",omitempty"`
	LatestRestorableTime        string             `xml:",omitempty"`
	StorageEncrypted            bool
	DeletionProtection          bool
	CopyTagsToSnapshot          bool
	TagList                     []xmlTag `xml:"TagList>Tag"`
}

type xmlDBClusterSnapshot struct {
	DBClusterSnapshotIdentifier string
	DBClusterSnapshotArn        string
	DBClusterIdentifier         string
	DbClusterResourceId         string
	SnapshotType                string
	Status                      string
	Engine                      string
	EngineMode                  string
	EngineVersion               string
	AllocatedStorage            int32
	StorageType                 string
	Port                        int32
	VpcId                       string
	MasterUsername              string   `xml:",omitempty"`
	AvailabilityZones           []string `xml:"AvailabilityZones>AvailabilityZone"`
	StorageEncrypted            bool
	PercentProgress             int32
	ClusterCreateTime           string `xml:",omitempty"`
	SnapshotCreateTime          string `xml:",omitempty"`
	BackupRetentionPeriod       int32
	TagList                     []xmlTag `xml:"TagList>Tag"`
}

type xmlGlobalMember struct {
	DBClusterArn          string
	IsWriter              bool
	Readers               []string `xml:"Readers>member"`
	SynchronizationStatus string   `xml:",omitempty"`
}

type xmlFailoverState struct {
	Status            string
	FromDbClusterArn  string
	ToDbClusterArn    string
	IsDataLossAllowed bool
}

type xmlGlobalCluster struct {
	GlobalClusterIdentifier string
	GlobalClusterArn        string
	GlobalClusterResourceId string
	Status                  string
	Engine                  string
	EngineVersion           string
	DatabaseName            string `xml:",omitempty"`
	StorageEncrypted        bool
	DeletionProtection      bool
	GlobalClusterMembers    []xmlGlobalMember `xml:"GlobalClusterMembers>GlobalClusterMember"`
	FailoverState           *xmlFailoverState `xml:",omitempty"`
	TagList                 []xmlTag          `xml:"TagList>Tag"`
}

// Results of the operations, each written inside <ActionResult>.

type xmlInstanceResult struct {
	DBInstance xmlDBInstance
}

type xmlInstancesResult struct {
	DBInstances []xmlDBInstance `xml:"DBInstances>DBInstance"`
	Marker      string          `xml:",omitempty"`
}

type xmlSnapshotResult struct {
	DBSnapshot xmlDBSnapshot
}

type xmlSnapshotsResult struct {
	DBSnapshots []xmlDBSnapshot `xml:"DBSnapshots>DBSnapshot"`
	Marker      string          `xml:",omitempty"`
}

type xmlClusterResult struct {
	DBCluster xmlDBCluster
}

type xmlClustersResult struct {
	DBClusters []xmlDBCluster `xml:"DBClusters>DBCluster"`
	Marker     string         `xml:",omitempty"`
}

type xmlClusterSnapshotResult struct {
	DBClusterSnapshot xmlDBClusterSnapshot
}

type xmlClusterSnapshotsResult struct {
	DBClusterSnapshots []xmlDBClusterSnapshot `xml:"DBClusterSnapshots>DBClusterSnapshot"`
	Marker             string                 `xml:",omitempty"`
}

type xmlGlobalResult struct {
	GlobalCluster xmlGlobalCluster
}

type xmlGlobalsResult struct {
	GlobalClusters []xmlGlobalCluster `xml:"GlobalClusters>GlobalClusterMember"`
	Marker         string             `xml:",omitempty"`
}

func rdsXMLTags(tags []rdsTag) []xmlTag {
	out := make([]xmlTag, 0, len(tags))
	for _, t := range tags {
		out = append(out, xmlTag(t))
	}
	return out
}

func rdsXMLSecurityGroups(ids []string) []xmlVpcSG {
	out := make([]xmlVpcSG, 0, len(ids))
	for _, id := range ids {
		out = append(out, xmlVpcSG{VpcSecurityGroupId: id, Status: "active"})
	}
	return out
}
