package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/infra/devserver"
	"github.com/drover-dev/drover/infra/sandbox"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/workflows"
)

// runLimit bounds one failover or failback in the fast sandbox.
const runLimit = 90 * time.Second

// TestCommandsAgainstSandbox drives one application through the commands
// an operator uses, in order, against a real Temporal dev server and the
// simulated regions, with the workers run by `drover worker`. The subtests
// build on each other: each starts where the previous one left the shop.
func TestCommandsAgainstSandbox(t *testing.T) {
	// The three tests that start a Temporal dev server mostly wait, so
	// they wait together.
	t.Parallel()
	ds := devserver.StartForTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	profile := awssim.DefaultProfile()
	profile.TimeScale = 600
	sb, err := sandbox.Start(ctx, sandbox.Options{
		Topology:  exampleTopologies + "/shop.yaml",
		WorkDir:   t.TempDir(),
		SimAddr:   "127.0.0.1:0",
		Profile:   &profile,
		Client:    ds.Client(),
		NoWorkers: true,
	})
	require.NoError(t, err)
	t.Cleanup(sb.Close)

	conn := []string{"--temporal-address", ds.Address()}
	topo := []string{"--topologies", sb.TopologyDir}
	cmd := func(args ...string) []string {
		return append(append([]string{}, args...), conn...)
	}
	withTopo := func(args ...string) []string { return append(cmd(args...), topo...) }

	led := filepath.Join(t.TempDir(), "ledger.db")
	startWorkers(t, ctx, withTopo("worker", "--regions", "us-east-1,us-west-2",
		"--aws-endpoint", sb.Sim.URL, "--poll-interval", "10ms", "--stop-timeout", "5s",
		"--ledger", led))

	t.Run("status before any run", func(t *testing.T) {
		res := drover(t, cmd("status", "--app", "shop")...)
		require.NoError(t, res.err)
		require.Equal(t, "no failover or failback of shop has run\n", res.stdout.String())
	})

	t.Run("dry run checks without asking", func(t *testing.T) {
		res := invocation{}.run(t, runLimit,
			withTopo("failover", "--app", "shop", "--practice", "--dry-run", "--wait")...)
		require.NoError(t, res.err, "stdout:\n%s", res.stdout)
		out := res.stdout.String()
		require.Contains(t, out, "✓ preflight")
		require.Contains(t, out, "dry run finished")
		require.Contains(t, out, "- promote-database:orders")
	})

	t.Run("failover with --wait completes once approved", func(t *testing.T) {
		wctx, wcancel := context.WithTimeout(ctx, runLimit)
		defer wcancel()
		stdout, _, done := invocation{}.start(wctx,
			withTopo("failover", "--app", "shop", "--practice", "--yes", "--wait",
				"--reason", "quarterly drill")...)

		// The topology gates databases: the run waits, and says how to
		// approve.
		waitFor(t, stdout, "approve:database waits for approval: "+
			"drover approve --app shop --step approve:database --temporal-address "+ds.Address())
		res := drover(t, cmd("approve", "--app", "shop")...)
		require.NoError(t, res.err)
		require.Equal(t, "Failover of shop: approved approve:database\n", res.stdout.String())

		require.NoError(t, <-done, "stdout:\n%s", stdout)
		out := stdout.String()
		require.Contains(t, out, "Started failover shop us-east-1 → us-west-2 "+
			"(graceful, practice): workflow drover-switch-shop, run ")
		for _, s := range examplePlan(t, plan.Failover, plan.Graceful).Steps {
			require.Contains(t, out, "✓ "+s.ID+" ")
		}
		require.Contains(t, out, "approved by tester")
		require.Contains(t, out, "Failover of shop completed in ")
	})

	t.Run("status shows the completed failover", func(t *testing.T) {
		res := drover(t, cmd("status", "--app", "shop")...)
		require.NoError(t, res.err)
		out := res.stdout.String()
		require.Contains(t, out, "Requested by tester: quarterly drill")
		require.Contains(t, out, "Failover of shop: us-east-1 → us-west-2 (graceful, practice)"+
			"  completed")
		steps := examplePlan(t, plan.Failover, plan.Graceful).Steps
		for _, s := range steps {
			require.Contains(t, out, "✓ "+s.ID+" ")
		}

		res = drover(t, cmd("status", "--app", "shop", "--output", "json")...)
		require.NoError(t, res.err)
		var p workflows.Progress
		require.NoError(t, json.Unmarshal([]byte(res.stdout.String()), &p))
		require.Equal(t, workflows.RunCompleted, p.Status)
		require.Equal(t, "tester", p.RequestedBy)
		require.Len(t, p.Steps, len(steps))
	})

	var waiting runRef
	t.Run("failback without --wait prints its ids", func(t *testing.T) {
		res := drover(t, withTopo("failback", "--app", "shop", "--practice", "--yes",
			"--output", "json")...)
		require.NoError(t, res.err)
		require.NoError(t, json.Unmarshal([]byte(res.stdout.String()), &waiting))
		require.Equal(t, "drover-switch-shop", waiting.WorkflowID)
		require.NotEmpty(t, waiting.RunID)

		awaitStatus(t, cmd("status", "--app", "shop"), "? approve:database")
	})

	t.Run("a second run is refused while one waits", func(t *testing.T) {
		for _, kind := range []string{"failover", "failback"} {
			res := drover(t, withTopo(kind, "--app", "shop", "--practice", "--yes")...)
			require.ErrorContains(t, res.err, "a failback of shop is already running")
			require.ErrorContains(t, res.err, "run "+waiting.RunID)
			require.ErrorContains(t, res.err, "drover status --app shop --watch")
		}
	})

	t.Run("operator controls on the waiting run", func(t *testing.T) {
		res := drover(t, cmd("approve", "--app", "shop", "--step", "verify")...)
		require.ErrorContains(t, res.err,
			"approve rejected: step verify is not an approval (approvals: approve:database)")

		res = drover(t, cmd("pause", "--app", "shop")...)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "Failback of shop: paused")
		awaitStatus(t, cmd("status", "--app", "shop"), "Resume: drover resume --app shop")

		res = drover(t, cmd("pause", "--app", "shop")...)
		require.ErrorContains(t, res.err, "pause rejected: the run is already paused")

		res = drover(t, cmd("resume", "--app", "shop", "--output", "json")...)
		require.NoError(t, res.err)
		var answer updateAnswer
		require.NoError(t, json.Unmarshal([]byte(res.stdout.String()), &answer))
		require.Equal(t, "resumed", answer.Answer)
		require.Equal(t, waiting.RunID, answer.RunID)

		res = drover(t, cmd("retry", "--app", "shop", "--step", "preflight")...)
		require.ErrorContains(t, res.err, "only a failed step can be retried")

		res = drover(t, cmd("ungraceful", "--app", "shop", "--yes")...)
		require.ErrorContains(t, res.err, "ungraceful rejected: a failback is always graceful")

		res = drover(t, cmd("abort", "--app", "shop", "--yes", "--reason", "drill over")...)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "Failback of shop: aborting")

		// Following an aborted run exits non-zero with what it left.
		res = invocation{}.run(t, runLimit, cmd("status", "--app", "shop", "--watch")...)
		require.ErrorContains(t, res.err, "the failback of shop ended aborted")
		require.ErrorContains(t, res.err, "tester (drill over)")

		res = drover(t, cmd("pause", "--app", "shop")...)
		require.ErrorContains(t, res.err, "no failover or failback of shop is running")
	})

	t.Run("failback with --wait completes", func(t *testing.T) {
		res := invocation{}.run(t, runLimit, withTopo("failback", "--app", "shop", "--practice",
			"--yes", "--wait", "--skip-approvals")...)
		require.NoError(t, res.err, "stdout:\n%s", res.stdout)
		out := res.stdout.String()
		for _, id := range []string{"resync-database:orders", "promote-database:orders",
			"flip-dns:public", "verify", "rebuild-replica:orders"} {
			require.Contains(t, out, "✓ "+id+" ")
		}
		require.NotContains(t, out, "approve:database", "--skip-approvals leaves no gate")
		require.Contains(t, out, "Failback of shop completed in ")
	})

	t.Run("the ledger holds each run as an incident", func(t *testing.T) {
		res := drover(t, "drill", "history", "--app", "shop", "--kind", "incident",
			"--ledger", led, "--output", "json")
		require.NoError(t, res.err)
		var entries []historyEntry
		require.NoError(t, json.Unmarshal([]byte(res.stdout.String()), &entries))
		// The dry run changes nothing and is not evidence.
		var outcomes []string
		for _, e := range entries {
			require.Equal(t, "incident", e.Kind)
			require.Equal(t, "tester", e.StartedBy)
			outcomes = append(outcomes, e.Outcome)
		}
		require.Equal(t, []string{"succeeded", "cancelled", "succeeded"}, outcomes)
		require.Positive(t, entries[0].Phases["failover"])
		require.Positive(t, entries[2].Phases["failback"])

		res = drover(t, "drill", "history", "--app", "shop", "--kind", "drill", "--ledger", led)
		require.NoError(t, res.err)
		require.Equal(t, "The ledger "+led+" holds no drill of shop yet.\n", res.stdout.String())
	})
}

// startWorkers runs `drover worker` until the test ends.
func startWorkers(t *testing.T, ctx context.Context, args []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	stdout, stderr, done := invocation{}.start(ctx, args...)
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("drover worker did not stop within 30s of its context ending")
		}
		require.Contains(t, stdout.String(), "Workers stopped.")
	})
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			t.Fatalf("drover worker ended early: %v\n%s", err, stderr)
		default:
		}
		return strings.Contains(stdout.String(), "Press Ctrl-C to stop")
	}, 30*time.Second, 20*time.Millisecond)

	out := stdout.String()
	require.Contains(t, out, "workflow queue  drover\n")
	require.Contains(t, out, "activity queue  drover-us-east-1")
	require.Contains(t, out, "activity queue  drover-us-west-2")
	require.Contains(t, out, "dummy credentials (local endpoint)")
	require.Regexp(t, `\n  ledger          \S+\n`, out)
}

// waitFor waits until out shows want.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), want) },
		runLimit, 20*time.Millisecond, "never printed %q; output so far:\n%s", want, out)
}

// awaitStatus runs `drover status` until its output shows want.
func awaitStatus(t *testing.T, args []string, want string) {
	t.Helper()
	deadline := time.Now().Add(runLimit)
	for {
		res := invocation{}.run(t, 30*time.Second, args...)
		if res.err == nil && strings.Contains(res.stdout.String(), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed %q; last: %v\n%s", want, res.err, res.stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
