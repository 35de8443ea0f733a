package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

// fakeEnv is a lookupEnv over a fixed map.
func fakeEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func resolveGlobals(t *testing.T, args []string, env map[string]string) (*globals, error) {
	t.Helper()
	g := &globals{}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	g.bind(fs)
	require.NoError(t, fs.Parse(args))
	return g, g.resolve(fs, fakeEnv(env))
}

func TestGlobalsResolve(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want globals
	}{
		{
			name: "defaults",
			want: globals{
				temporalAddress: "127.0.0.1:7233",
				namespace:       "default",
				output:          "text",
			},
		},
		{
			name: "environment",
			env: map[string]string{
				"DROVER_TEMPORAL_ADDRESS": "temporal.internal:7233",
				"DROVER_NAMESPACE":        "dr",
				"DROVER_TEMPORAL_TLS":     "true",
				"DROVER_AWS_ENDPOINT":     "http://127.0.0.1:4566",
			},
			want: globals{
				temporalAddress: "temporal.internal:7233",
				namespace:       "dr",
				temporalTLS:     true,
				awsEndpoint:     "http://127.0.0.1:4566",
				output:          "text",
			},
		},
		{
			name: "flags beat the environment",
			args: []string{
				"--temporal-address", "127.0.0.1:7300", "--namespace", "ops",
				"--aws-endpoint", "http://127.0.0.1:9999", "-o", "json",
			},
			env: map[string]string{
				"DROVER_TEMPORAL_ADDRESS": "temporal.internal:7233",
				"DROVER_NAMESPACE":        "dr",
				"DROVER_AWS_ENDPOINT":     "http://127.0.0.1:4566",
			},
			want: globals{
				temporalAddress: "127.0.0.1:7300",
				namespace:       "ops",
				awsEndpoint:     "http://127.0.0.1:9999",
				output:          "json",
			},
		},
		{
			name: "an explicit false beats a true environment",
			args: []string{"--temporal-tls=false"},
			env:  map[string]string{"DROVER_TEMPORAL_TLS": "true"},
			want: globals{temporalAddress: "127.0.0.1:7233", namespace: "default", output: "text"},
		},
		{
			name: "an API key implies TLS",
			env: map[string]string{
				"DROVER_TEMPORAL_ADDRESS": "ns.acct.tmprl.cloud:7233",
				"DROVER_TEMPORAL_API_KEY": "secret-key",
			},
			want: globals{
				temporalAddress: "ns.acct.tmprl.cloud:7233",
				namespace:       "default",
				temporalTLS:     true,
				temporalAPIKey:  "secret-key",
				output:          "text",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := resolveGlobals(t, tt.args, tt.env)
			require.NoError(t, err)
			require.Equal(t, tt.want, *g)
		})
	}
}

func TestGlobalsRejectBadSettings(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"output format", []string{"--output", "yaml"}, nil, `--output "yaml"`},
		{"address without port", []string{"--temporal-address", "localhost"}, nil,
			"want host:port"},
		{"address from env", nil, map[string]string{"DROVER_TEMPORAL_ADDRESS": ":7233"},
			"want host:port"},
		{"TLS not a boolean", nil, map[string]string{"DROVER_TEMPORAL_TLS": "maybe"},
			"DROVER_TEMPORAL_TLS"},
		{"endpoint without scheme", []string{"--aws-endpoint", "127.0.0.1:4566"}, nil,
			"want an http:// or https:// URL"},
		{"empty namespace", []string{"--namespace", ""}, nil, "namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolveGlobals(t, tt.args, tt.env)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestGlobalsClientOptions(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		g, err := resolveGlobals(t, nil, nil)
		require.NoError(t, err)
		opts := g.clientOptions()
		require.Equal(t, "127.0.0.1:7233", opts.HostPort)
		require.Equal(t, "default", opts.Namespace)
		require.Nil(t, opts.ConnectionOptions.TLS)
		require.Nil(t, opts.Credentials)
	})

	t.Run("API key", func(t *testing.T) {
		g, err := resolveGlobals(t, []string{"--temporal-api-key", "k"}, nil)
		require.NoError(t, err)
		opts := g.clientOptions()
		require.NotNil(t, opts.ConnectionOptions.TLS)
		require.NotNil(t, opts.Credentials)
	})
}

func TestAPIKeyIsNeverPrinted(t *testing.T) {
	const key = "tmprl-secret-0123456789"
	for _, args := range [][]string{{"--help"}, {"sim", "--help"}, {"version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			root := newRootCommand(fakeEnv(map[string]string{"DROVER_TEMPORAL_API_KEY": key}))
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(args)
			require.NoError(t, root.Execute())
			require.NotEmpty(t, out.String())
			require.NotContains(t, out.String(), key)
		})
	}
}
