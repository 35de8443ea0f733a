// Package awsconfig builds the AWS SDK configuration for one region, with an
// optional endpoint override that points every client at the simulated
// regions or another AWS-compatible endpoint.
package awsconfig

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Options say how to reach AWS in one region.
type Options struct {
	Region string
	// Endpoint, when set, replaces AWS's endpoints for every service
	// (the sandbox's simulator URL, say).
	Endpoint string
	// StaticCredentials uses fixed dummy credentials instead of the SDK's
	// default chain: for an endpoint that checks no signatures.
	StaticCredentials bool
	// Timeout bounds each HTTP attempt; zero means 30 seconds.
	Timeout time.Duration
	// MaxAttempts is the SDK retryer's attempt limit; zero keeps the
	// SDK's default.
	MaxAttempts int
}

// Load returns the SDK configuration for opts.
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	if opts.Region == "" {
		return aws.Config{}, fmt.Errorf("awsconfig: a region is required")
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	loaders := []func(*config.LoadOptions) error{
		config.WithRegion(opts.Region),
		// A buildable client, unlike a plain http.Client, lets the SDK add
		// a custom CA bundle (AWS_CA_BUNDLE) to its transport.
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(timeout)),
	}
	if opts.StaticCredentials {
		loaders = append(loaders, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider("SIMULATED", "SIMULATED", "")))
	}
	if opts.MaxAttempts > 0 {
		loaders = append(loaders, config.WithRetryMaxAttempts(opts.MaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration for %s: %w", opts.Region, err)
	}
	if opts.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(opts.Endpoint)
	}
	return cfg, nil
}
