package cli

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// devTimeScale makes the dev tests' rehearsals short: they check what
// drover dev prints, not how long AWS takes.
const devTimeScale = "3000"

// TestDevOnce runs `drover dev --once` twice on one work folder, as
// `make run` twice would: the first drill has nothing to compare with, the
// second is compared with the first, through the ledger the two share.
func TestDevOnce(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	dev := func() result {
		t.Helper()
		res := invocation{}.run(t, 3*time.Minute, "dev", "--once",
			"--topology", exampleTopologies+"/shop.yaml",
			"--sim-addr", "127.0.0.1:0", "--temporal-address", "127.0.0.1:0", "--ui-port", "0",
			"--time-scale", devTimeScale, "--work-dir", work)
		require.NoError(t, res.err, "stderr:\n%s", res.stderr)
		return res
	}
	// Each component of the drill, in its phase and region.
	components := []string{
		"failover  promote-database:orders   us-west-2",
		"failover  promote-database:catalog  us-west-2",
		"failover  scale-service:api         us-west-2",
		"failover  scale-service:web         us-west-2",
		"failover  scale-service:checkout    us-west-2",
		"failover  flip-dns:public           us-west-2",
		"failback  resync-database:orders    us-east-1",
		"failback  promote-database:orders   us-east-1",
		"failback  flip-dns:public           us-east-1",
		"failback  rebuild-replica:orders    us-west-2",
		"restore   restore-database:orders   us-east-1",
	}
	first := dev()
	reports, err := filepath.Glob(filepath.Join(work, "reports", "shop-*"))
	require.NoError(t, err)
	require.Len(t, reports, 2)
	require.Regexp(t, `/shop-\d{4}-\d\d-\d\d-\d{6}Z\.html$`, reports[0])
	require.Regexp(t, `/shop-\d{4}-\d\d-\d\d-\d{6}Z\.md$`, reports[1])
	firstMD, err := os.ReadFile(reports[1])
	require.NoError(t, err)
	// Progress, including the approvals made through the update, goes to
	// stderr.
	progress := first.stderr.String()
	require.Contains(t, progress, "Seeding shop through the AWS APIs")
	require.Contains(t, progress, "Drill of shop: workflow drover-drill-shop, run ")
	require.Contains(t, progress, "Captured 15 definitions of shop into the ledger (0 failed)")
	// The phases are seen by polling the drill; the short ones (restore,
	// cleanup) can pass between two polls, so only the long ones and the
	// end are sure to show. The results below prove the others ran.
	for _, phase := range []string{"practice failover", "failback", "done"} {
		require.Contains(t, progress, "drill of shop: "+phase+"\n")
	}
	require.Equal(t, 2, strings.Count(progress,
		"drover dev approved approve:database through the approve update"))
	require.NotContains(t, progress, "Activity error.", "a missing capture is not news")

	// The results go to stdout: each component's time, at the sandbox's
	// speed and at AWS's, and no change yet.
	out := first.stdout.String()
	require.NotContains(t, out, "Seeding")
	require.Contains(t, out, "Drill of shop succeeded in ")
	for _, row := range components {
		line := lineStarting(out, row)
		require.NotEmpty(t, line, "no recovery time for %q in:\n%s", row, out)
		require.Regexp(t, `^\S+ +\S+ +\S+ +[0-9.]+m?s +[0-9hms.]+ +-$`, line)
	}
	require.NotContains(t, out, "stop-writers", "stopping writers recovers nothing")
	require.Contains(t, out, "This is the first drill of shop in the ledger "+
		filepath.Join(work, "ledger.db"))
	for _, path := range reports {
		require.Contains(t, out, "\n  "+path+"\n")
	}
	require.Contains(t, out, "Temporal web UI: off (--ui-port 0)")

	second := dev()
	out = second.stdout.String()
	require.Contains(t, out, "Compared with the previous drill of shop (drover-drill-shop/")
	require.Regexp(t, `: \d+ of 21 components recovered faster, \d+ slower\.`, out)
	for _, row := range components {
		line := lineStarting(out, row)
		require.Regexp(t, `[0-9.]+m?s +[0-9hms.]+ +(±0ms|[+-][0-9.]+m?s) \([+-][0-9.]+%\)$`,
			line)
	}
	// The second drill's reports sit beside the first's, which are
	// left as they were.
	all, err := filepath.Glob(filepath.Join(work, "reports", "shop-*"))
	require.NoError(t, err)
	require.Len(t, all, 4, "%v", all)
	require.Equal(t, reports, all[:2], "the first drill's reports sort first")
	kept, err := os.ReadFile(reports[1])
	require.NoError(t, err)
	require.Equal(t, string(firstMD), string(kept), "the first drill's report was overwritten")
	reports = all[2:]
	for _, path := range reports {
		require.Contains(t, out, "\n  "+path+"\n")
	}
	md, err := os.ReadFile(reports[1])
	require.NoError(t, err)
	require.Contains(t, string(md), "| Previous drill | drover-drill-shop/")
	require.Regexp(t, `\| restore/restore-database:orders \| restore-database \| [0-9.]+ s \| `+
		`[0-9.]+ s \|`, string(md))
	// The scratch restore was cleaned up, and the report says so.
	require.Regexp(t, `rds instance drill-orders-\d{8}-\d{4}`, string(md))
	html, err := os.ReadFile(reports[0])
	require.NoError(t, err)
	require.Contains(t, string(html), "restore-database:orders")
}

// TestDevWithoutDrill runs the failover and failback on their own, as
// `drover dev` did before drills.
func TestDevWithoutDrill(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	res := invocation{}.run(t, 3*time.Minute, "dev", "--once", "--no-drill",
		"--topology", exampleTopologies+"/shop.yaml",
		"--sim-addr", "127.0.0.1:0", "--temporal-address", "127.0.0.1:0", "--ui-port", "0",
		"--time-scale", devTimeScale, "--work-dir", work)
	require.NoError(t, res.err, "stderr:\n%s", res.stderr)

	progress := res.stderr.String()
	require.Contains(t, progress, "Practice failover of shop: workflow drover-switch-shop")
	require.Contains(t, progress, "Practice failback of shop: workflow drover-switch-shop")
	require.NotContains(t, progress, "drover-drill-shop")

	out := res.stdout.String()
	for _, row := range []string{
		"failover  promote-database:orders   us-west-2",
		"failover  flip-dns:public           us-west-2",
		"failback  resync-database:orders    us-east-1",
		"failback  rebuild-replica:orders    us-west-2",
	} {
		require.Regexp(t, `\s+[0-9.]+m?s\s+[0-9hms.]+$`, lineStarting(out, row), row)
	}
	require.NotContains(t, out, "verify")
	require.Contains(t, out, "Failover: ")
	require.Contains(t, out, "Failback: ")
	require.NoDirExists(t, filepath.Join(work, "reports"))
}

func TestDevRunsUntilInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, uiPort, _ := net.SplitHostPort(freeAddr(t))
	// `make run`, with a shorter drill.
	stdout, stderr, done := invocation{}.start(ctx, "dev", "--restore", "none",
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
	require.Contains(t, out, "Drill of shop succeeded in ")
	require.NotContains(t, out, "restore-database", "--restore none restores nothing")
	require.Contains(t, out, "Temporal web UI: "+ui+" (workflow drover-drill-shop)")
	require.Contains(t, out, "drover drill run --app shop --skip-approvals --wait --topologies ")
	require.Contains(t, out, "drover failover --app shop --practice --wait --topologies ")
	require.Contains(t, out, ui+"/namespaces/default/workflows/start-workflow?"+
		"taskQueue=drover&workflowId=drover-drill-shop&workflowType=Drill")
	require.Contains(t, out, `the input {"app":"shop","skipApprovals":true}`)
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

func TestQuietLogsDropsOnlyFailedPolls(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(quietLogs{slog.NewTextHandler(&out, nil)}).With("TaskQueue", "drover")
	logger.Warn("Failed to poll for task.", "Error", "worker stopping")
	logger.Warn("Could not write the run to the ledger")
	logger.Error("Activity error.", "ActivityType", "PromoteDatabase", "Error", "throttled")
	require.NotContains(t, out.String(), "poll")
	require.Contains(t, out.String(), "ActivityType=PromoteDatabase")
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
