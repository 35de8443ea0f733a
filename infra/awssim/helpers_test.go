package awssim_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
// maxAttempts 1 turns the SDK's retries off, so a test sees each error.
func awsConfig(t *testing.T, srv *awssim.Server, region string, maxAttempts int) aws.Config {
	t.Helper()
	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{
		Region: region, Endpoint: srv.URL, StaticCredentials: true,
		Timeout: 10 * time.Second, MaxAttempts: maxAttempts,
	})
	require.NoError(t, err)
	return cfg
}
