package cli

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// devTimeScale makes the dev tests' rehearsals short: they check what
// drover dev prints, not how long AWS takes.
const devTimeScale = "3000"

func TestDevOnce(t *testing.T) {
	t.Parallel()
	res := invocation{}.run(t, 3*time.Minute, "dev", "--once",
		"--topology", exampleTopologies+"/shop.yaml",
		"--sim-addr", "127.0.0.1:0", "--temporal-address", "127.0.0.1:0", "--ui-port", "0",
		"--time-scale", devTimeScale, "--work-dir", t.TempDir())
	require.NoError(t, res.err, "stderr:\n%s", res.stderr)

	// Progress, including the approvals made through the update, goes to
	// stderr.
	progress := res.stderr.String()
	require.Contains(t, progress, "Seeding shop through the AWS APIs")
	require.Contains(t, progress, "Practice failover of shop: workflow drover-switch-shop")
	require.Contains(t, progress, "Practice failback of shop: workflow drover-switch-shop")
	require.Equal(t, 2, strings.Count(progress,
		"drover dev approved approve:database through the approve update"))
	require.Contains(t, progress, "Failover of shop completed in ")
	require.Contains(t, progress, "Failback of shop completed in ")

	// The results go to stdout: a recovery time for each component in
	// each run, none for the steps that recover nothing.
	out := res.stdout.String()
	require.NotContains(t, out, "Seeding")
	for _, row := range []string{
		"failover  promote-database:orders   us-west-2",
		"failover  promote-database:catalog  us-west-2",
		"failover  scale-service:api         us-west-2",
		"failover  scale-service:web         us-west-2",
		"failover  scale-service:cart        us-west-2",
		"failover  scale-service:checkout    us-west-2",
		"failover  scale-service:worker      us-west-2",
		"failover  flip-dns:public           us-west-2",
		"failback  resync-database:orders    us-east-1",
		"failback  promote-database:orders   us-east-1",
		"failback  flip-dns:public           us-east-1",
		"failback  rebuild-replica:orders    us-west-2",
	} {
		line := lineStarting(out, row)
		require.NotEmpty(t, line, "no recovery time for %q in:\n%s", row, out)
		// The duration measured, then the same at AWS speed.
		require.Regexp(t, regexp.MustCompile(`\s+[0-9.]+m?s\s+[0-9hms.]+$`), line)
	}
	require.NotContains(t, out, "stop-writers", "stopping writers recovers nothing")
	require.NotContains(t, out, "verify")
	require.Contains(t, out, "Temporal web UI: off (--ui-port 0)")
	require.Contains(t, out, "Failover: ")
	require.Contains(t, out, "Failback: ")
}

func TestDevRunsUntilInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, uiPort, _ := net.SplitHostPort(freeAddr(t))
	stdout, stderr, done := invocation{}.start(ctx, "dev",
		"--topology", exampleTopologies+"/shop.yaml",
		"--sim-addr", "127.0.0.1:0", "--temporal-address", "127.0.0.1:0", "--ui-port", uiPort,
		"--time-scale", devTimeScale, "--work-dir", t.TempDir())

	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			t.Fatalf("drover dev ended before it was interrupted: %v\n%s", err, stderr)
		default:
		}
		return strings.Contains(stderr.String(), "Press Ctrl-C to stop everything.")
	}, 2*time.Minute, 50*time.Millisecond, "stderr:\n%s", stderr)

	out := stdout.String()
	ui := "http://localhost:" + uiPort
	require.Contains(t, out, "Temporal web UI: "+ui+" (workflow drover-switch-shop)")
	require.Contains(t, out, "drover failover --app shop --practice --wait --temporal-address ")
	require.Contains(t, out, ui+"/namespaces/default/workflows/start-workflow?"+
		"taskQueue=drover&workflowId=drover-switch-shop&workflowType=Failover")
	require.Contains(t, out, `the input {"app":"shop","purpose":"practice"}`)
	resp, err := http.Get(ui)
	require.NoError(t, err, "the web UI does not answer")
	resp.Body.Close()

	sim := strings.Fields(lineStarting(out, "Simulated AWS:"))[2]
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("drover dev did not stop within a minute of Ctrl-C")
	}
	require.Contains(t, stderr.String(), "Stopping the sandbox.")
	_, err = http.Get(sim + "/_sim/health")
	require.Error(t, err, "the simulator still serves after drover dev returned")
	_, err = http.Get(ui)
	require.Error(t, err, "the web UI still serves after drover dev returned")
}

func TestQuietPollsDropsOnlyFailedPolls(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(quietPolls{slog.NewTextHandler(&out, nil)}).With("TaskQueue", "drover")
	logger.Warn("Failed to poll for task.", "Error", "worker stopping")
	logger.Warn("Could not write the run to the ledger")
	require.NotContains(t, out.String(), "poll")
	require.Contains(t, out.String(), "ledger")
	require.Contains(t, out.String(), "TaskQueue=drover")
}

func lineStarting(out, prefix string) string {
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, prefix) {
			return strings.TrimRight(line, "\n")
		}
	}
	return ""
}
