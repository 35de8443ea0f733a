package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// Output formats for --output.
const (
	outputText = "text"
	outputJSON = "json"
)

// globals are the settings that every command shares: where Temporal is,
// where AWS is, and how to print. Each comes from its flag, else from its
// environment variable, else from the default.
type globals struct {
	temporalAddress string
	namespace       string
	temporalTLS     bool
	// temporalAPIKey is a secret: it is never printed, logged or put in
	// a workflow's input.
	temporalAPIKey string
	// awsEndpoint replaces AWS's endpoints in every region, for the
	// simulator or another AWS-compatible service.
	awsEndpoint string
	output      string

	// env reads the process environment; tests give a fixed one.
	env func(string) (string, bool)
	// connFlags repeats the connection flags given on the command line,
	// so that the follow-up commands drover suggests reach the same
	// Temporal. The API key is never among them.
	connFlags string
}

// envBindings pairs each shared flag with the environment variable that
// stands in for it.
var envBindings = []struct{ flag, env string }{
	{"temporal-address", "DROVER_TEMPORAL_ADDRESS"},
	{"namespace", "DROVER_NAMESPACE"},
	{"temporal-tls", "DROVER_TEMPORAL_TLS"},
	{"temporal-api-key", "DROVER_TEMPORAL_API_KEY"},
	{"aws-endpoint", "DROVER_AWS_ENDPOINT"},
}

// bind declares the shared flags. Defaults are constants, never values
// read from the environment, so that --help cannot reveal an API key.
func (g *globals) bind(fs *pflag.FlagSet) {
	fs.StringVar(&g.temporalAddress, "temporal-address", "127.0.0.1:7233",
		"Temporal frontend host:port (env DROVER_TEMPORAL_ADDRESS)")
	fs.StringVar(&g.namespace, "namespace", "default",
		"Temporal namespace (env DROVER_NAMESPACE)")
	fs.BoolVar(&g.temporalTLS, "temporal-tls", false,
		"connect to Temporal over TLS; implied by an API key (env DROVER_TEMPORAL_TLS)")
	fs.StringVar(&g.temporalAPIKey, "temporal-api-key", "",
		"API key for Temporal Cloud; prefer the env DROVER_TEMPORAL_API_KEY, "+
			"since flags show in the process list")
	fs.StringVar(&g.awsEndpoint, "aws-endpoint", "",
		"one endpoint URL for every AWS service in every region, such as the simulator's "+
			"(env DROVER_AWS_ENDPOINT)")
	fs.StringVarP(&g.output, "output", "o", outputText, "output format: text or json")
}

// resolve fills each flag left unset from its environment variable, then
// checks the result. fs must hold the flags bind declared.
func (g *globals) resolve(fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) error {
	for _, b := range envBindings {
		if fs.Changed(b.flag) {
			continue
		}
		v, ok := lookupEnv(b.env)
		if !ok || v == "" {
			continue
		}
		if err := fs.Set(b.flag, v); err != nil {
			if b.flag == "temporal-api-key" {
				return fmt.Errorf("%s is unusable", b.env)
			}
			return fmt.Errorf("%s=%q: %w", b.env, v, err)
		}
	}
	return g.validate()
}

// noteConnFlags records the connection flags given on the command line.
// It runs before resolve: values from the environment are left out, since
// the environment reaches the suggested commands anyway.
func (g *globals) noteConnFlags(fs *pflag.FlagSet) {
	g.connFlags = ""
	for _, name := range []string{"temporal-address", "namespace"} {
		if fs.Changed(name) {
			g.connFlags += " --" + name + " " + fs.Lookup(name).Value.String()
		}
	}
}

func (g *globals) validate() error {
	if g.output != outputText && g.output != outputJSON {
		return fmt.Errorf("--output %q: want text or json", g.output)
	}
	host, port, err := net.SplitHostPort(g.temporalAddress)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("temporal address %q (--temporal-address, DROVER_TEMPORAL_ADDRESS): "+
			"want host:port, such as 127.0.0.1:7233", g.temporalAddress)
	}
	if g.namespace == "" {
		return fmt.Errorf("the Temporal namespace (--namespace, DROVER_NAMESPACE) is empty")
	}
	if g.temporalAPIKey != "" {
		// Temporal Cloud accepts API keys over TLS only.
		g.temporalTLS = true
	}
	if g.awsEndpoint != "" {
		u, err := url.Parse(g.awsEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("AWS endpoint %q (--aws-endpoint, DROVER_AWS_ENDPOINT): "+
				"want an http:// or https:// URL, such as http://127.0.0.1:4566", g.awsEndpoint)
		}
	}
	return nil
}

// clientOptions are the Temporal client options the settings describe.
func (g *globals) clientOptions() client.Options {
	opts := client.Options{
		HostPort:  g.temporalAddress,
		Namespace: g.namespace,
	}
	if g.temporalTLS {
		opts.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if g.temporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(g.temporalAPIKey)
	}
	return opts
}

// getenv returns an environment variable, or "" when it is unset.
func (g *globals) getenv(name string) string {
	if g.env == nil {
		return ""
	}
	v, _ := g.env(name)
	return v
}

// user names whoever runs the command, for the records of a run.
func (g *globals) user() string {
	for _, name := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := g.getenv(name); v != "" {
			return v
		}
	}
	return "unknown"
}

// dialTimeout bounds the first contact with Temporal, so that a wrong
// address fails in seconds rather than hanging.
const dialTimeout = 10 * time.Second

// dial connects to Temporal. The SDK's own log lines at level and above go
// to logTo, never to stdout, which belongs to the command's results.
func (g *globals) dial(ctx context.Context, logTo io.Writer, level slog.Level) (client.Client,
	error) {
	opts := g.clientOptions()
	opts.Logger = log.NewStructuredLogger(slog.New(
		slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: level})))
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s): %w; start one with "+
			"`drover dev`, or point --temporal-address (DROVER_TEMPORAL_ADDRESS) at yours",
			g.temporalAddress, g.namespace, err)
	}
	return c, nil
}
