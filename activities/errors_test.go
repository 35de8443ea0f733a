package activities_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/awssim"
)

// TestErrorClassification makes AWS fail with chosen error codes, through
// the simulator and the real SDK clients with their retries off, and
// checks what each activity makes of them.
func TestErrorClassification(t *testing.T) {
	f := newFixture(t, fixtureOpts{maxAttempts: 1})
	observe := func() error {
		return run(t, f.env(east), activities.ObserveServicesName,
			activities.ObserveServicesInput{Services: []activities.ServiceRef{
				{Name: "web", Cluster: "shop", Service: "web"}}},
			&activities.ObserveServicesResult{})
	}
	tests := []struct {
		name  string
		fault *awssim.Fault
		act   func() error
		typ   string
		retry bool
	}{
		{
			name: "throttling is retryable",
			fault: &awssim.Fault{Kind: awssim.FaultError, Region: east, Service: "ecs",
				Rate: 1, Code: "ThrottlingException"},
			act: observe, typ: activities.ErrThrottled, retry: true,
		},
		{
			name: "5xx is retryable",
			fault: &awssim.Fault{Kind: awssim.FaultError, Region: east, Service: "ecs",
				Rate: 1, Code: "ServerException", Status: http.StatusInternalServerError},
			act: observe, typ: activities.ErrUnavailable, retry: true,
		},
		{
			name: "access denied fails at once",
			fault: &awssim.Fault{Kind: awssim.FaultError, Region: east, Service: "ecs",
				Rate: 1, Code: "AccessDeniedException"},
			act: observe, typ: activities.ErrAccessDenied,
		},
		{
			name: "invalid parameter fails at once",
			fault: &awssim.Fault{Kind: awssim.FaultError, Region: east, Service: "ecs",
				Rate: 1, Code: "InvalidParameterException"},
			act: observe, typ: activities.ErrInvalid,
		},
		{
			name: "a missing cluster fails at once",
			act: func() error {
				return run(t, f.env(east), activities.ScaleServiceName,
					activities.ScaleServiceInput{Desired: 1, Service: activities.ServiceRef{
						Name: "web", Cluster: "no-such-cluster", Service: "web"}},
					&activities.StepResult{})
			},
			typ: activities.ErrNotFound,
		},
		{
			name: "Route 53 access denied fails at once",
			fault: &awssim.Fault{Kind: awssim.FaultError, Service: "route53", Rate: 1,
				Code: "AccessDenied", Status: http.StatusForbidden},
			act: func() error {
				return run(t, f.env(west), activities.FlipDNSName,
					activities.FlipDNSInput{Zone: f.zone(), Source: east, Target: west},
					&activities.StepResult{})
			},
			typ: activities.ErrAccessDenied,
		},
		{
			name: "RDS invalid state after waiting fails at once",
			fault: &awssim.Fault{Kind: awssim.FaultError, Region: west, Service: "rds",
				Operation: "PromoteReadReplica", Rate: 1, Code: "InvalidDBInstanceState"},
			act: func() error {
				return run(t, f.env(west), activities.PromoteDatabaseName,
					activities.PromoteDatabaseInput{Database: f.database(t, "orders"),
						Source: east, Target: west}, &activities.StepResult{})
			},
			typ: activities.ErrInvalidState,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				_, err := f.srv.Sim.AddFault(*tc.fault)
				require.NoError(t, err)
				defer f.srv.Sim.ClearFaults()
			}
			err := tc.act()
			app := appError(t, err)
			require.Equal(t, tc.typ, app.Type(), "%v", err)
			require.Equal(t, !tc.retry, app.NonRetryable(), "%v", err)
			require.NotContains(t, err.Error(), "SIMULATED", "credentials leaked into an error")
		})
	}
}

// TestBlackout shows that an activity whose region stops answering ends
// when its context does, instead of hanging on the region.
func TestBlackout(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	_, err := f.srv.Sim.AddFault(awssim.Fault{Kind: awssim.FaultBlackout, Region: west,
		Mode: awssim.BlackoutHang})
	require.NoError(t, err)

	tests := []struct {
		name string
		act  string
		in   any
	}{
		{"ScaleService", activities.ScaleServiceName, activities.ScaleServiceInput{
			Desired: 4, Service: activities.ServiceRef{Name: "web", Cluster: "shop",
				Service: "web"}}},
		{"PromoteDatabase", activities.PromoteDatabaseName, activities.PromoteDatabaseInput{
			Database: f.database(t, "orders"), Source: east, Target: west, Ungraceful: true}},
		{"Preflight", activities.PreflightName, activities.PreflightInput{
			App: "shop", Source: east, Target: west, Services: f.top.Services}},
	}
	const deadline = 300 * time.Millisecond
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			env := f.env(west)
			env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
			start := time.Now()
			_, err := env.ExecuteActivity(tc.act, tc.in)
			took := time.Since(start)
			require.Error(t, err)
			require.True(t, errors.Is(err, context.DeadlineExceeded) ||
				strings.Contains(err.Error(), "deadline exceeded"), "%v", err)
			require.GreaterOrEqual(t, took, deadline-10*time.Millisecond)
			require.Less(t, took, deadline+time.Second, "the activity hung past its deadline")
		})
	}
}
