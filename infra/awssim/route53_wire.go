package awssim

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"
	"time"
)

// The Route 53 wire protocol: REST paths under /2013-04-01/ with XML bodies
// in one namespace. These structs cover the members the simulator reads or
// writes; encoding/xml ignores the rest of a request.

const route53PathPrefix = "/2013-04-01/"

// route53Namespace is the XML namespace of every Route 53 document.
const route53Namespace = "https://route53.amazonaws.com/doc/2013-04-01/"

// r53TimeFormat is how Route 53 writes timestamps: ISO 8601 in UTC with
// milliseconds.
const r53TimeFormat = "2006-01-02T15:04:05.000Z"

// r53Routes maps "METHOD path" to an operation; "*" stands for the
// identifier segment of the path.
var r53Routes = map[string]string{
	"POST hostedzone":          "CreateHostedZone",
	"GET hostedzone":           "ListHostedZones",
	"GET hostedzone/*":         "GetHostedZone",
	"DELETE hostedzone/*":      "DeleteHostedZone",
	"POST hostedzone/*/rrset":  "ChangeResourceRecordSets",
	"GET hostedzone/*/rrset":   "ListResourceRecordSets",
	"GET hostedzonesbyname":    "ListHostedZonesByName",
	"GET change/*":             "GetChange",
	"POST healthcheck":         "CreateHealthCheck",
	"GET healthcheck":          "ListHealthChecks",
	"GET healthcheck/*":        "GetHealthCheck",
	"POST healthcheck/*":       "UpdateHealthCheck",
	"DELETE healthcheck/*":     "DeleteHealthCheck",
	"GET healthcheck/*/status": "GetHealthCheckStatus",
}

// route53Target returns the operation a request's method and path name,
// and the identifier in the path ("" for operations without one). The
// operation is "" when no route matches.
func route53Target(method, path string) (op, id string) {
	rest, ok := strings.CutPrefix(path, route53PathPrefix)
	if !ok {
		return "", ""
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(parts) >= 2 {
		id = parts[1]
		parts[1] = "*"
	}
	return r53Routes[method+" "+strings.Join(parts, "/")], id
}

// route53Operation names the operation of a request for counting and fault
// matching.
func route53Operation(r *http.Request, body []byte) string {
	op, _ := route53Target(r.Method, r.URL.Path)
	return op
}

// r53Decode reads a request document. Route 53 answers a body that is not
// the XML it expects with InvalidInput, which the SDK knows as a type.
func r53Decode(body []byte, v any) *APIError {
	if err := xml.Unmarshal(body, v); err != nil {
		return errorf(http.StatusBadRequest, "InvalidInput",
			"Could not parse the request body as XML: %v", err)
	}
	return nil
}

// r53Write answers with an XML document.
func r53Write(w http.ResponseWriter, status int, v any) *APIError {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		return errorf(http.StatusInternalServerError, "InternalError",
			"encode Route 53 response: %v", err)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

type r53ErrorResponse struct {
	XMLName xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ErrorResponse"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

type r53InvalidChangeBatch struct {
	XMLName   xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ InvalidChangeBatch"`
	Messages  []string `xml:"Messages>Message"`
	RequestID string   `xml:"RequestId"`
}

// writeRoute53Error writes an error as Route 53 does: an ErrorResponse
// document, except InvalidChangeBatch, whose document lists every problem
// of the batch and which the SDK parses with its own deserializer.
func writeRoute53Error(w http.ResponseWriter, requestID string, e *APIError) {
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if e.Code == "InvalidChangeBatch" {
		writeInvalidChangeBatch(w, requestID, status, []string{e.Message})
		return
	}
	var doc r53ErrorResponse
	doc.Error.Type = "Sender"
	if !e.sender() {
		doc.Error.Type = "Receiver"
	}
	doc.Error.Code = e.Code
	doc.Error.Message = e.Message
	doc.RequestID = requestID
	if err := r53Write(w, status, doc); err != nil {
		writePlainError(w, http.StatusInternalServerError, err.Code, err.Message)
	}
}

func writeInvalidChangeBatch(w http.ResponseWriter, requestID string, status int, msgs []string) {
	doc := r53InvalidChangeBatch{Messages: msgs, RequestID: requestID}
	if err := r53Write(w, status, doc); err != nil {
		writePlainError(w, http.StatusInternalServerError, err.Code, err.Message)
	}
}

func r53Time(t time.Time) string { return t.UTC().Format(r53TimeFormat) }

// Requests.

type r53xCreateHostedZoneRequest struct {
	XMLName          xml.Name `xml:"CreateHostedZoneRequest"`
	Name             string
	CallerReference  string
	HostedZoneConfig *r53xZoneConfig
	DelegationSetID  string `xml:"DelegationSetId"`
	VPC              *r53xVPC
}

type r53xChangeRequest struct {
	XMLName     xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	ChangeBatch *struct {
		Comment string
		// A pointer, so that an absent list and an empty one differ.
		Changes *struct {
			Change []r53xChange
		}
	}
}

type r53xChange struct {
	Action            string
	ResourceRecordSet *r53xRecordSet
}

type r53xCreateHealthCheckRequest struct {
	XMLName           xml.Name `xml:"CreateHealthCheckRequest"`
	CallerReference   string
	HealthCheckConfig *r53xHealthCheckConfig
}

// r53xUpdateHealthCheckRequest has a pointer for every member, since an
// update changes only what it names.
type r53xUpdateHealthCheckRequest struct {
	XMLName                      xml.Name `xml:"UpdateHealthCheckRequest"`
	HealthCheckVersion           *int64
	IPAddress                    *string
	Port                         *int32
	ResourcePath                 *string
	FullyQualifiedDomainName     *string
	SearchString                 *string
	FailureThreshold             *int32
	Inverted                     *bool
	Disabled                     *bool
	HealthThreshold              *int32
	ChildHealthChecks            *r53xChildHealthChecks
	EnableSNI                    *bool
	Regions                      *r53xRegions
	AlarmIdentifier              *r53xAlarmIdentifier
	InsufficientDataHealthStatus *string
	ResetElements                *struct {
		ResettableElementName []string
	}
}

// Shapes shared by requests and responses.

type r53xZoneConfig struct {
	Comment     string `xml:",omitempty"`
	PrivateZone bool
}

type r53xVPC struct {
	VPCRegion string `xml:",omitempty"`
	VPCId     string `xml:",omitempty"`
}

type r53xRecordSet struct {
	Name             string
	Type             string
	SetIdentifier    string               `xml:",omitempty"`
	Weight           *int64               `xml:",omitempty"`
	Region           string               `xml:",omitempty"`
	GeoLocation      *r53xGeoLocation     `xml:",omitempty"`
	Failover         string               `xml:",omitempty"`
	MultiValueAnswer *bool                `xml:",omitempty"`
	TTL              *int64               `xml:",omitempty"`
	ResourceRecords  *r53xResourceRecords `xml:",omitempty"`
	AliasTarget      *r53xAliasTarget     `xml:",omitempty"`
	HealthCheckID    string               `xml:"HealthCheckId,omitempty"`

	// Members the simulator does not model; their presence is rejected.
	TrafficPolicyInstanceID string    `xml:"TrafficPolicyInstanceId,omitempty"`
	CidrRoutingConfig       *struct{} `xml:",omitempty"`
	GeoProximityLocation    *struct{} `xml:",omitempty"`
}

type r53xResourceRecords struct {
	ResourceRecord []r53xResourceRecord
}

type r53xResourceRecord struct {
	Value string
}

type r53xGeoLocation struct {
	ContinentCode   string `xml:",omitempty"`
	CountryCode     string `xml:",omitempty"`
	SubdivisionCode string `xml:",omitempty"`
}

type r53xAliasTarget struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string
	EvaluateTargetHealth bool
}

type r53xHealthCheckConfig struct {
	IPAddress                    string                 `xml:",omitempty"`
	Port                         *int32                 `xml:",omitempty"`
	Type                         string                 `xml:",omitempty"`
	ResourcePath                 string                 `xml:",omitempty"`
	FullyQualifiedDomainName     string                 `xml:",omitempty"`
	SearchString                 string                 `xml:",omitempty"`
	RequestInterval              *int32                 `xml:",omitempty"`
	FailureThreshold             *int32                 `xml:",omitempty"`
	MeasureLatency               *bool                  `xml:",omitempty"`
	Inverted                     *bool                  `xml:",omitempty"`
	Disabled                     *bool                  `xml:",omitempty"`
	HealthThreshold              *int32                 `xml:",omitempty"`
	ChildHealthChecks            *r53xChildHealthChecks `xml:",omitempty"`
	EnableSNI                    *bool                  `xml:",omitempty"`
	Regions                      *r53xRegions           `xml:",omitempty"`
	AlarmIdentifier              *r53xAlarmIdentifier   `xml:",omitempty"`
	InsufficientDataHealthStatus string                 `xml:",omitempty"`
	RoutingControlArn            string                 `xml:",omitempty"`
}

type r53xChildHealthChecks struct {
	ChildHealthCheck []string
}

type r53xRegions struct {
	Region []string
}

type r53xAlarmIdentifier struct {
	Region string
	Name   string
}

// Responses.

type r53xChangeInfo struct {
	ID          string `xml:"Id"`
	Status      string
	SubmittedAt string
	Comment     string `xml:",omitempty"`
}

type r53xHostedZone struct {
	ID                     string `xml:"Id"`
	Name                   string
	CallerReference        string
	Config                 *r53xZoneConfig
	ResourceRecordSetCount int
}

type r53xDelegationSet struct {
	NameServers struct {
		NameServer []string
	}
}

type r53xHostedZones struct {
	HostedZone []r53xHostedZone
}

type r53xHealthCheck struct {
	ID                 string `xml:"Id"`
	CallerReference    string
	HealthCheckConfig  r53xHealthCheckConfig
	HealthCheckVersion int64
}

type r53xCreateHostedZoneResponse struct {
	XMLName       xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ CreateHostedZoneResponse"`
	HostedZone    r53xHostedZone
	ChangeInfo    r53xChangeInfo
	DelegationSet *r53xDelegationSet `xml:",omitempty"`
	VPC           *r53xVPC           `xml:",omitempty"`
}

type r53xGetHostedZoneResponse struct {
	XMLName       xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHostedZoneResponse"`
	HostedZone    r53xHostedZone
	DelegationSet *r53xDelegationSet `xml:",omitempty"`
	VPCs          *struct {
		VPC []r53xVPC
	} `xml:",omitempty"`
}

type r53xListHostedZonesResponse struct {
	XMLName     xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesResponse"`
	HostedZones r53xHostedZones
	Marker      string `xml:",omitempty"`
	IsTruncated bool
	NextMarker  string `xml:",omitempty"`
	MaxItems    int
}

type r53xListHostedZonesByNameResponse struct {
	XMLName          xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHostedZonesByNameResponse"`
	HostedZones      r53xHostedZones
	DNSName          string `xml:",omitempty"`
	HostedZoneID     string `xml:"HostedZoneId,omitempty"`
	IsTruncated      bool
	NextDNSName      string `xml:",omitempty"`
	NextHostedZoneID string `xml:"NextHostedZoneId,omitempty"`
	MaxItems         int
}

type r53xDeleteHostedZoneResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ DeleteHostedZoneResponse"`
	ChangeInfo r53xChangeInfo
}

type r53xChangeResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ChangeResourceRecordSetsResponse"`
	ChangeInfo r53xChangeInfo
}

type r53xListRecordSetsResponse struct {
	XMLName            xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListResourceRecordSetsResponse"`
	ResourceRecordSets struct {
		ResourceRecordSet []r53xRecordSet
	}
	IsTruncated          bool
	NextRecordName       string `xml:",omitempty"`
	NextRecordType       string `xml:",omitempty"`
	NextRecordIdentifier string `xml:",omitempty"`
	MaxItems             int
}

type r53xGetChangeResponse struct {
	XMLName    xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetChangeResponse"`
	ChangeInfo r53xChangeInfo
}

// r53xHealthCheckResponse serves CreateHealthCheck, GetHealthCheck and
// UpdateHealthCheck, whose documents differ only in the root's name.
type r53xHealthCheckResponse struct {
	XMLName     xml.Name
	HealthCheck r53xHealthCheck
}

type r53xListHealthChecksResponse struct {
	XMLName      xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListHealthChecksResponse"`
	HealthChecks struct {
		HealthCheck []r53xHealthCheck
	}
	Marker      string `xml:",omitempty"`
	IsTruncated bool
	NextMarker  string `xml:",omitempty"`
	MaxItems    int
}

type r53xDeleteHealthCheckResponse struct {
	XMLName xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ DeleteHealthCheckResponse"`
}

type r53xHealthCheckStatusResponse struct {
	XMLName                 xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHealthCheckStatusResponse"`
	HealthCheckObservations struct {
		HealthCheckObservation []r53xObservation
	}
}

type r53xObservation struct {
	Region       string
	IPAddress    string
	StatusReport struct {
		Status      string
		CheckedTime string
	}
}
