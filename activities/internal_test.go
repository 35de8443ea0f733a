package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/drover-dev/drover/topology"
)

// apiErr is an AWS error as the SDK returns it: an API error inside a
// response error inside an operation error.
func apiErr(code string, status int) error {
	return &smithy.OperationError{ServiceID: "X", OperationName: "Op",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      &smithy.GenericAPIError{Code: code, Message: "m"},
			},
		}}
}

func TestErrorClass(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"ECS throttling", apiErr("ThrottlingException", 400), ErrThrottled},
		{"RDS throttling", apiErr("Throttling", 400), ErrThrottled},
		{"Route 53 prior request", apiErr("PriorRequestNotComplete", 400), ErrThrottled},
		{"5xx", apiErr("InternalFailure", 500), ErrUnavailable},
		{"unavailable", apiErr("ServiceUnavailable", 503), ErrUnavailable},
		{"refused connection", &net.OpError{Op: "dial", Err: errors.New("refused")},
			ErrUnavailable},
		{"ECS access denied", apiErr("AccessDeniedException", 400), ErrAccessDenied},
		{"IAM access denied", apiErr("AccessDenied", 403), ErrAccessDenied},
		{"bad token", apiErr("UnrecognizedClientException", 400), ErrAccessDenied},
		{"ECS invalid parameter", apiErr("InvalidParameterException", 400), ErrInvalid},
		{"RDS invalid value", apiErr("InvalidParameterValue", 400), ErrInvalid},
		{"RDS combination", apiErr("InvalidParameterCombination", 400), ErrInvalid},
		{"validation", apiErr("ValidationError", 400), ErrInvalid},
		{"missing parameter", apiErr("MissingParameter", 400), ErrInvalid},
		{"Route 53 change batch", apiErr("InvalidChangeBatch", 400), ErrInvalid},
		{"no cluster", apiErr("ClusterNotFoundException", 400), ErrNotFound},
		{"no service", apiErr("ServiceNotFoundException", 400), ErrNotFound},
		{"no instance", apiErr("DBInstanceNotFound", 404), ErrNotFound},
		{"no DB cluster", apiErr("DBClusterNotFoundFault", 404), ErrNotFound},
		{"no global cluster", apiErr("GlobalClusterNotFoundFault", 404), ErrNotFound},
		{"no zone", apiErr("NoSuchHostedZone", 404), ErrNotFound},
		{"no health check", apiErr("NoSuchHealthCheck", 404), ErrNotFound},
		{"instance state", apiErr("InvalidDBInstanceState", 400), ErrInvalidState},
		{"global cluster state", apiErr("InvalidGlobalClusterStateFault", 400), ErrInvalidState},
		{"unknown", apiErr("SomethingNew", 400), ErrAWS},
	}
	r := NewRegion(Config{Region: "us-east-1"}, Clients{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := r.awsError(tc.err, "do a thing")
			var app *temporal.ApplicationError
			require.True(t, errors.As(got, &app))
			require.Equal(t, tc.want, app.Type())
			retryable := tc.want == ErrThrottled || tc.want == ErrUnavailable || tc.want == ErrAWS
			require.Equal(t, !retryable, app.NonRetryable())
			require.Contains(t, app.Error(), "do a thing in us-east-1")
		})
	}

	t.Run("context errors pass through", func(t *testing.T) {
		err := r.awsError(fmt.Errorf("op: %w", context.DeadlineExceeded), "read")
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// weighted builds record sets and a topology zone with one weighted record
// whose regions have the given weights.
func weighted(weights map[string]int64) (topology.Zone, zoneRecords) {
	rec := topology.Record{Name: "www.example.com.", Type: "CNAME",
		Routing: topology.RoutingWeighted, Targets: map[string]topology.RecordTarget{}}
	var sets []r53types.ResourceRecordSet
	for region, w := range weights {
		rec.Targets[region] = topology.RecordTarget{SetIdentifier: "www-" + region}
		sets = append(sets, r53types.ResourceRecordSet{
			Name: aws.String("www.example.com."), Type: r53types.RRTypeCname,
			SetIdentifier: aws.String("www-" + region), Weight: aws.Int64(w),
			TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{
				{Value: aws.String(region + ".example.com")}},
		})
	}
	return topology.Zone{Name: "z", Records: []topology.Record{rec}}, indexRecords(sets)
}

// TestAPIMessageNamesRefusedRecords: a refused Route 53 batch is reported
// with its reasons, not only "ChangeBatch errors occurred".
func TestAPIMessageNamesRefusedRecords(t *testing.T) {
	refused := &smithy.OperationError{ServiceID: "Route 53", OperationName: "ChangeResourceRecordSets",
		Err: &r53types.InvalidChangeBatch{Message: aws.String("ChangeBatch errors occurred"),
			Messages: []string{"RRSet with DNS name www.example.com. is not permitted in zone a.com.",
				"Number of records limit of 1000 exceeded"}}}
	r := NewRegion(Config{Region: "us-east-1"}, Clients{})
	err := r.awsError(refused, "change the records of hosted zone Z1")
	require.ErrorContains(t, err, "change the records of hosted zone Z1 in us-east-1: "+
		"InvalidChangeBatch: RRSet with DNS name www.example.com. is not permitted in zone a.com.; "+
		"Number of records limit of 1000 exceeded; ")
	require.Equal(t, ErrInvalid, errorTypeOf(err))
	require.False(t, isRetryable(err))
}

func TestFlipChangesWeights(t *testing.T) {
	tests := []struct {
		name    string
		weights map[string]int64
		// want is every changed set's new weight; nil means no change.
		want map[string]int64
	}{
		{"moves the sum", map[string]int64{"a": 70, "b": 30, "c": 0},
			map[string]int64{"a": 0, "b": 0, "c": 100}},
		{"all zero gives 100", map[string]int64{"a": 0, "c": 0},
			map[string]int64{"c": 100}},
		{"capped at 255", map[string]int64{"a": 200, "c": 100},
			map[string]int64{"a": 0, "c": 255}},
		{"already there", map[string]int64{"a": 0, "c": 40}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z, zr := weighted(tc.weights)
			changes, err := flipChanges(z, "c", zr)
			require.NoError(t, err)
			got := map[string]int64{}
			for _, c := range changes {
				require.Equal(t, r53types.ChangeActionUpsert, c.Action)
				s := c.ResourceRecordSet
				require.Equal(t, int64(60), aws.ToInt64(s.TTL), "TTL kept")
				require.Len(t, s.ResourceRecords, 1, "values kept")
				got[aws.ToString(s.SetIdentifier)[len("www-"):]] = aws.ToInt64(s.Weight)
			}
			if tc.want == nil {
				require.Empty(t, changes)
				return
			}
			require.Equal(t, tc.want, got)
		})
	}

	t.Run("a missing set is named", func(t *testing.T) {
		z, zr := weighted(map[string]int64{"a": 1, "c": 0})
		z.Records[0].Targets["d"] = topology.RecordTarget{SetIdentifier: "www-d"}
		_, err := flipChanges(z, "c", zr)
		require.ErrorContains(t, err, `"www-d"`)
	})
}

func TestIsReplicaOf(t *testing.T) {
	r := NewRegion(Config{Region: "us-west-2"}, Clients{})
	const arn = "arn:aws:rds:us-east-1:123456789012:db:orders"
	tests := []struct {
		reported, sourceRegion, source string
		want                           bool
	}{
		{arn, "us-east-1", "orders", true},
		{arn, "us-east-1", arn, true},
		{arn, "eu-west-1", "orders", false},
		{arn, "us-east-1", "other", false},
		{arn, "us-east-1", "arn:aws:rds:us-east-1:999999999999:db:orders", false},
		{"orders", "us-east-1", "orders", false}, // a same-region source
		{"orders", "us-west-2", "orders", true},
		{"", "us-east-1", "orders", false},
	}
	for _, tc := range tests {
		t.Run(tc.reported+" "+tc.sourceRegion+" "+tc.source, func(t *testing.T) {
			require.Equal(t, tc.want, r.isReplicaOf(tc.reported, tc.sourceRegion, tc.source))
		})
	}
}

// TestPollerNextBatch checks the order in which the poller reads: never
// read first, then longest unread, ten of a cluster to a call.
func TestPollerNextBatch(t *testing.T) {
	r := NewRegion(Config{Region: "us-east-1", PollInterval: time.Second}, Clients{})
	p := r.services
	now := time.Now()
	add := func(cluster, service string, since, polled time.Time) *polledService {
		s := &polledService{key: svcKey{cluster, service}, since: since, polled: polled,
			watches: map[*serviceWatch]struct{}{}}
		p.services[s.key] = s
		return s
	}
	// Twelve services of cluster a read 3 s ago, one of b read 5 s ago,
	// one of a never read but waiting for 10 s, one of a read just now.
	for i := range 12 {
		add("a", fmt.Sprintf("s%02d", i), now.Add(-time.Minute), now.Add(-3*time.Second))
	}
	add("b", "old", now.Add(-time.Minute), now.Add(-5*time.Second))
	fresh := add("a", "fresh", now.Add(-10*time.Second), time.Time{})
	add("a", "recent", now.Add(-time.Minute), now.Add(-10*time.Millisecond))

	batch, _ := p.nextBatch(now)
	require.Len(t, batch, describeBatch)
	require.Equal(t, svcKey{"a", "fresh"}, batch[0].key, "never read goes first")
	require.True(t, fresh.inFlight)

	batch, _ = p.nextBatch(now)
	require.Len(t, batch, 1)
	require.Equal(t, svcKey{"b", "old"}, batch[0].key, "then the longest unread")

	batch, _ = p.nextBatch(now)
	require.Len(t, batch, 3, "then the rest of cluster a; the one read just now waits")
	for _, s := range batch {
		require.NotEqual(t, "recent", s.key.service)
	}
	batch, wait := p.nextBatch(now)
	require.Nil(t, batch)
	require.InDelta(t, float64(time.Second-10*time.Millisecond), float64(wait),
		float64(time.Millisecond))
}

func TestServiceStable(t *testing.T) {
	dep := func(rollout ecstypes.DeploymentRolloutState) []ecstypes.Deployment {
		return []ecstypes.Deployment{{RolloutState: rollout}}
	}
	tests := []struct {
		name string
		svc  ecstypes.Service
		want bool
	}{
		{"stable", ecstypes.Service{DesiredCount: 3, RunningCount: 3,
			Deployments: dep(ecstypes.DeploymentRolloutStateCompleted)}, true},
		{"stable without rollout state", ecstypes.Service{DesiredCount: 3, RunningCount: 3,
			Deployments: dep("")}, true},
		{"other desired count", ecstypes.Service{DesiredCount: 2, RunningCount: 2,
			Deployments: dep("")}, false},
		{"tasks starting", ecstypes.Service{DesiredCount: 3, RunningCount: 2,
			PendingCount: 1, Deployments: dep("")}, false},
		{"pending besides running", ecstypes.Service{DesiredCount: 3, RunningCount: 3,
			PendingCount: 1, Deployments: dep("")}, false},
		{"two deployments", ecstypes.Service{DesiredCount: 3, RunningCount: 3,
			Deployments: append(dep(""), dep("")...)}, false},
		{"rollout in progress", ecstypes.Service{DesiredCount: 3, RunningCount: 3,
			Deployments: dep(ecstypes.DeploymentRolloutStateInProgress)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason := serviceStable(tc.svc, 3)
			require.Equal(t, tc.want, ok, reason)
			require.NotEmpty(t, reason)
		})
	}
}

func TestReplicationNormal(t *testing.T) {
	info := func(status string, normal bool, msg string) rdstypes.DBInstanceStatusInfo {
		return rdstypes.DBInstanceStatusInfo{StatusType: aws.String("read replication"),
			Status: aws.String(status), Normal: aws.Bool(normal), Message: aws.String(msg)}
	}
	tests := []struct {
		name  string
		infos []rdstypes.DBInstanceStatusInfo
		want  bool
		why   string
	}{
		{"replicating", []rdstypes.DBInstanceStatusInfo{info("replicating", true, "")}, true, ""},
		{"no status reported", nil, true, ""},
		{"error", []rdstypes.DBInstanceStatusInfo{info("error", false, "IO thread stopped")},
			false, "error: IO thread stopped"},
		{"stopped", []rdstypes.DBInstanceStatusInfo{info("stopped", true, "")}, false, "stopped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, why := replicationNormal(&rdstypes.DBInstance{StatusInfos: tc.infos})
			require.Equal(t, tc.want, ok)
			require.Equal(t, tc.why, why)
		})
	}
}
