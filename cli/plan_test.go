package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
)

func TestPlanCommand(t *testing.T) {
	t.Run("failover marks the critical path", func(t *testing.T) {
		res := drover(t, "plan", "--app", "shop", "--topologies", exampleTopologies)
		require.NoError(t, res.err)
		out := res.stdout.String()
		want := examplePlan(t, plan.Failover, plan.Graceful)

		require.Contains(t, out, "Failover of shop: us-east-1 → us-west-2, graceful")
		lines := planLines(out)
		require.Len(t, lines, len(want.Steps))
		for _, s := range want.Steps {
			mark := ""
			if slices.Contains(want.CriticalPath, s.ID) {
				mark = "*"
			}
			require.Equal(t, mark, lines[s.ID][0], "mark of %s", s.ID)
			require.Equal(t, orDash(s.Region), lines[s.ID][1], "region of %s", s.ID)
		}
		require.Contains(t, lines["approve:database"][2], "an operator")
		// A dependency implied by another is not repeated, and a step
		// that waits for every step of a kind says so.
		require.Contains(t, lines["promote-database:orders"][2], "stop-writers:* (5)")
		require.NotContains(t, lines["scale-service:web"][2], "preflight")
		require.Contains(t, out, fmt.Sprintf("Critical path (%s): %s\n",
			fmtDuration(want.Estimate), strings.Join(want.CriticalPath, " → ")))
		require.Contains(t, want.CriticalPath, "promote-database:orders")
	})

	t.Run("failback resyncs before it promotes", func(t *testing.T) {
		res := drover(t, "plan", "--app", "shop", "--failback", "--topologies", exampleTopologies)
		require.NoError(t, res.err)
		out := res.stdout.String()
		require.Contains(t, out, "Failback of shop: us-west-2 → us-east-1, graceful")
		lines := planLines(out)
		require.Equal(t, "*", lines["resync-database:orders"][0])
		require.Equal(t, "us-east-1", lines["resync-database:orders"][1])
		require.Contains(t, lines["promote-database:orders"][2], "resync-database:orders")
		require.Equal(t, "us-west-2", lines["rebuild-replica:orders"][1])
		require.Less(t, strings.Index(out, "resync-database:orders"),
			strings.Index(out, "promote-database:orders"))
	})

	t.Run("ungraceful has no writers to stop", func(t *testing.T) {
		res := drover(t, "plan", "--app", "shop", "--ungraceful", "--topologies", exampleTopologies)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "ungraceful")
		require.NotContains(t, res.stdout.String(), "stop-writers")
		require.Contains(t, planLines(res.stdout.String())["observe-source"][2], "best effort")
	})

	t.Run("json", func(t *testing.T) {
		res := drover(t, "plan", "--app", "shop", "--to", "us-west-2", "--output", "json",
			"--topologies", exampleTopologies)
		require.NoError(t, res.err)
		var p plan.Plan
		require.NoError(t, json.Unmarshal([]byte(res.stdout.String()), &p))
		require.Equal(t, "us-west-2", p.To)
		want := examplePlan(t, plan.Failover, plan.Graceful)
		require.Equal(t, want.Estimate, p.Estimate)
		require.Equal(t, want.CriticalPath, p.CriticalPath)
	})

	t.Run("topology folder from the environment", func(t *testing.T) {
		inv := invocation{env: map[string]string{topologiesEnv: exampleTopologies}}
		res := inv.run(t, time.Minute, "plan", "--app", "shop")
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "Failover of shop")
	})
}

// examplePlan is the plan of the example shop, as the plan package builds
// it; the command must print that one.
func examplePlan(t *testing.T, kind plan.Kind, mode plan.Mode) *plan.Plan {
	t.Helper()
	topo, err := topology.Load(exampleTopologies + "/shop.yaml")
	require.NoError(t, err)
	p, err := plan.Build(topo, plan.Request{Kind: kind, Mode: mode}, plan.DefaultEstimates())
	require.NoError(t, err)
	return p
}

// planLines maps each step of a printed plan to its mark, region, and the
// rest of its line.
func planLines(out string) map[string][3]string {
	lines := map[string][3]string{}
	for line := range strings.Lines(out) {
		if len(line) < 4 || line[0] != ' ' {
			continue
		}
		fields := strings.Fields(line[3:])
		if len(fields) < 2 || fields[0] == "STEP" {
			continue
		}
		lines[fields[0]] = [3]string{strings.TrimSpace(line[:3]), fields[1],
			strings.Join(fields[2:], " ")}
	}
	return lines
}

// TestValidationBeforeAnythingStarts runs commands whose input is wrong
// against an address where no Temporal listens: each must fail on its
// input, never get as far as dialing.
func TestValidationBeforeAnythingStarts(t *testing.T) {
	nowhere := freeAddr(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{
			name: "unknown app",
			args: []string{"failover", "--app", "shopp", "--yes"},
			want: []string{`no topology for app "shopp" in ../examples`,
				"../examples/shopp.yaml", "apps there: shop", "--topologies"},
		},
		{
			name: "missing app",
			args: []string{"failback", "--yes"},
			want: []string{"--app is required"},
		},
		{
			name: "app that is no name",
			args: []string{"plan", "--app", "../shop"},
			want: []string{`--app "../shop"`, "lowercase letters"},
		},
		{
			name: "topology folder from the environment",
			env:  map[string]string{topologiesEnv: "no/such/folder"},
			args: []string{"failover", "--app", "shop", "--yes"},
			want: []string{"topology folder no/such/folder does not exist"},
		},
		{
			name: "unknown region",
			args: []string{"failover", "--app", "shop", "--to", "eu-west-9", "--yes"},
			want: []string{"--to eu-west-9", "regions: us-east-1, us-west-2"},
		},
		{
			name: "failback away from the primary",
			args: []string{"failback", "--app", "shop", "--to", "us-west-2", "--yes"},
			want: []string{"returns to the primary region us-east-1"},
		},
		{
			name: "mode typo",
			args: []string{"failover", "--app", "shop", "--mode", "gracefull", "--yes"},
			want: []string{`--mode "gracefull"`, "graceful or ungraceful"},
		},
		{
			name: "purpose typo",
			args: []string{"failover", "--app", "shop", "--purpose", "drill", "--yes"},
			want: []string{`--purpose "drill"`, "recovery or practice"},
		},
		{
			name: "contradicting flags",
			args: []string{"failover", "--app", "shop", "--mode", "graceful", "--ungraceful"},
			want: []string{"--ungraceful contradicts --mode graceful"},
		},
		{
			name: "failback has no mode",
			args: []string{"failback", "--app", "shop", "--ungraceful", "--yes"},
			want: []string{"unknown flag: --ungraceful"},
		},
		{
			name: "failover without --yes or a terminal",
			args: []string{"failover", "--app", "shop", "--practice"},
			want: []string{"stdin is not a terminal", "pass --yes"},
		},
		{
			name: "abort without --yes or a terminal",
			args: []string{"abort", "--app", "shop"},
			want: []string{"stdin is not a terminal", "pass --yes"},
		},
		{
			name: "skip without a step",
			args: []string{"skip", "--app", "shop"},
			want: []string{"--step is required", "drover status --app shop"},
		},
		{
			name: "status of no app",
			args: []string{"status"},
			want: []string{"--app is required"},
		},
		{
			name: "worker without regions",
			args: []string{"worker"},
			want: []string{"--regions is required"},
		},
		{
			name: "worker region typo",
			args: []string{"worker", "--regions", "us-east-1,useast2"},
			want: []string{`"useast2" is not an AWS region name`},
		},
		{
			name: "worker endpoint for a region it does not serve",
			args: []string{"worker", "--regions", "us-east-1",
				"--region-endpoint", "us-west-2=http://127.0.0.1:4566"},
			want: []string{"us-west-2 is not among --regions (us-east-1)"},
		},
		{
			name: "worker without topologies",
			args: []string{"worker", "--regions", "us-east-1", "--topologies", "."},
			want: []string{"no topology files (<app>.yaml) in ."},
		},
		{
			name: "worker with a ledger in a missing folder",
			args: []string{"worker", "--regions", "us-east-1", "--ledger",
				"/nonexistent/drover/ledger.db"},
			want: []string{"SQLite ledger directory /nonexistent/drover", "pass --ledger"},
		},
		{
			name: "worker with an unreachable PostgreSQL ledger",
			args: []string{"worker", "--regions", "us-east-1"},
			env: map[string]string{
				ledgerEnv: "postgres://drover:s3cret-pw@127.0.0.1:1/drover?connect_timeout=5",
			},
			want: []string{"connect to the postgresql ledger postgres://drover:xxxxx@127.0.0.1:1"},
		},
		{
			name: "dev with a bad time scale",
			args: []string{"dev", "--once", "--time-scale", "0"},
			want: []string{"--time-scale 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--temporal-address", nowhere)
			if takesTopologies(tt.args) {
				args = append(args, "--topologies", exampleTopologies)
			}
			if tt.env[topologiesEnv] != "" {
				args = tt.args
			}
			res := invocation{env: tt.env}.run(t, 30*time.Second, args...)
			require.Error(t, res.err)
			for _, want := range tt.want {
				require.ErrorContains(t, res.err, want)
			}
			require.NotContains(t, res.err.Error(), "cannot reach Temporal")
			require.NotContains(t, res.err.Error(), "s3cret", "a password was shown")
			require.Empty(t, res.stdout.String(), "nothing may be printed as a result")
		})
	}
}

// takesTopologies reports whether the command has --topologies and the
// test left it to the default.
func takesTopologies(args []string) bool {
	switch args[0] {
	case "failover", "failback", "plan", "worker":
		return !slices.Contains(args, "--topologies")
	}
	return false
}

func TestDevRefusesTakenPorts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	taken := ln.Addr().String()
	_, port, _ := net.SplitHostPort(taken)

	t.Run("simulator", func(t *testing.T) {
		res := drover(t, "dev", "--once", "--topology", exampleTopologies+"/shop.yaml",
			"--sim-addr", taken)
		require.ErrorContains(t, res.err, "port "+port)
		require.ErrorContains(t, res.err, "--sim-addr")
	})
	t.Run("temporal", func(t *testing.T) {
		res := drover(t, "dev", "--once", "--topology", exampleTopologies+"/shop.yaml",
			"--sim-addr", "127.0.0.1:0", "--temporal-address", taken)
		require.ErrorContains(t, res.err, "port "+port)
		require.ErrorContains(t, res.err, "--temporal-address")
	})
}

func TestWorkerCredentials(t *testing.T) {
	tests := []struct {
		name      string
		endpoint  string
		perRegion map[string]string
		static    bool
	}{
		{"AWS", "", nil, false},
		{"simulator", "http://127.0.0.1:4566", nil, true},
		{"localhost", "http://localhost:4566", nil, true},
		{"remote endpoint", "https://aws-proxy.internal:443", nil, false},
		{"one region remote", "http://127.0.0.1:4566",
			map[string]string{"us-west-2": "https://aws-proxy.internal"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &workerOptions{
				regions: []string{"us-east-1", "us-west-2"}, topologies: exampleTopologies,
				pollInterval: time.Second, stopTimeout: time.Second, endpoints: tt.perRegion,
			}
			cfg, err := o.config(&globals{awsEndpoint: tt.endpoint})
			require.NoError(t, err)
			require.Equal(t, tt.static, cfg.StaticCredentials)
		})
	}
}
