package awssim_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/infra/awsconfig"
	"github.com/drover-dev/drover/infra/awssim"
)

// fastProfile runs the default durations 600 times faster: a 30 s task
// start takes 50 ms.
func fastProfile() *awssim.Profile {
	p := awssim.DefaultProfile()
	p.TimeScale = 600
	return &p
}

// startSim starts a simulator on loopback for one test.
func startSim(t *testing.T, p *awssim.Profile) *awssim.Server {
	t.Helper()
	srv, err := awssim.Listen("127.0.0.1:0", awssim.New(awssim.Options{Profile: p}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// awsConfig returns an SDK configuration for region that talks to srv.
// maxAttempts 1 turns the SDK's retries off, so a test sees each error
// the simulator answers with; only a connection that net/http closed under
// a response is tried again (see closedConnRetryer).
func awsConfig(t *testing.T, srv *awssim.Server, region string, maxAttempts int) aws.Config {
	t.Helper()
	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{
		Region: region, Endpoint: srv.URL, StaticCredentials: true,
		Timeout: 10 * time.Second, MaxAttempts: maxAttempts,
	})
	require.NoError(t, err)
	if maxAttempts == 1 {
		cfg.Retryer = closedConnRetryer
	}
	return cfg
}

// closedConnRetryer retries nothing but a read from a connection that
// the client itself closed. net/http's transport may close a kept-alive
// connection while the SDK still reads a response from it, when the
// request body is closed as the response arrives (aws-sdk-go-v2 #2737);
// the SDK's standard retryer retries that error, which a test without
// retries would otherwise see as a rare failure of its own.
func closedConnRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
			return 0, nil
		})
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(
			func(err error) aws.Ternary {
				return aws.BoolTernary(errors.Is(err, net.ErrClosed))
			})}
		o.RateLimiter = ratelimit.None
	})
}

// fakeAuth is an Authorization header in SigV4's form for a hand-made
// request: the simulator reads the region from its credential scope and
// checks no signature.
func fakeAuth(region, service string) string {
	return "AWS4-HMAC-SHA256 Credential=SIMULATED/20250101/" + region + "/" + service +
		"/aws4_request, SignedHeaders=host, Signature=0"
}
