package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/drills/ledger"
	"github.com/drover-dev/drover/drills/report"
	"github.com/drover-dev/drover/infra/awsconfig"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/infra/devserver"
	"github.com/drover-dev/drover/infra/sandbox"
	"github.com/drover-dev/drover/workflows"
)

// drillLimit bounds one drill in the fast sandbox: a failover, a failback
// and a restore.
const drillLimit = 2 * time.Minute

// TestDrillCommandsAgainstSandbox runs drills, reads their evidence, keeps
// a drill on a schedule, and captures and restores a service, with the
// commands an operator uses, against a real Temporal dev server and the
// simulated regions. The sandbox's workers hold the ledger. The subtests
// build on each other.
func TestDrillCommandsAgainstSandbox(t *testing.T) {
	t.Parallel()
	ds := devserver.StartForTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	profile := awssim.DefaultProfile()
	profile.TimeScale = 600
	sb, err := sandbox.Start(ctx, sandbox.Options{
		Topology: exampleTopologies + "/shop.yaml",
		WorkDir:  t.TempDir(),
		SimAddr:  "127.0.0.1:0",
		Profile:  &profile,
		Client:   ds.Client(),
	})
	require.NoError(t, err)
	t.Cleanup(sb.Close)

	conn := []string{"--temporal-address", ds.Address(), "--topologies", sb.TopologyDir}
	temporal := func(args ...string) []string {
		return append(append([]string{}, args...), conn...)
	}
	atTemporal := func(args ...string) []string {
		return append(append([]string{}, args...), "--temporal-address", ds.Address())
	}
	onLedger := func(args ...string) []string {
		return append(append([]string{}, args...), "--ledger", sb.LedgerDSN)
	}
	l, err := ledger.Open(ctx, sb.LedgerDSN)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })

	t.Run("bad input fails before anything starts", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{temporal("drill", "run", "--app", "nope", "--yes"), `no topology for app "nope"`},
			{temporal("drill", "run", "--app", "shop", "--yes", "--restore", "ledger"),
				`shop has no database "ledger" (databases: orders, catalog)`},
			{temporal("drill", "run", "--app", "shop", "--yes", "--restore", "web"),
				`shop has no database "web"`},
			{temporal("drill", "run", "--app", "shop", "--yes", "--to", "eu-west-9"),
				"--to eu-west-9: not a region of shop (regions: us-east-1, us-west-2)"},
			{temporal("drill", "run", "--app", "shop", "--yes", "--restore", "orders@eu-west-9"),
				"eu-west-9 is not a region of shop"},
			{temporal("drill", "run", "--app", "shop", "--yes", "--soak", "-1m"),
				"--soak -1m0s: want a duration of zero or more"},
			{temporal("drill", "run", "--app", "shop"), "pass --yes"},
			{temporal("drill", "schedule", "set", "--app", "shop", "--cron", "0 9 15 13 *"),
				`the month field's "13": want a number from 1 to 12`},
			{temporal("drill", "schedule", "set", "--app", "shop", "--cron", "0 9 *"),
				"has 3 fields; want five"},
			{temporal("drill", "schedule", "set", "--app", "shop", "--cron", "0 9 * * 1-x"),
				`the day of week field's "x"`},
			{temporal("drill", "schedule", "set", "--app", "shop"), "--cron is required"},
			{onLedger("drill", "report", "--app", "shop", "--target", "2"),
				"--target 2: want a fraction between 0 and 1"},
			{onLedger("drill", "report", "--app", "shop", "--format", "pdf"),
				`--format "pdf": want html, md, json`},
			{onLedger("drill", "report", "--app", "shop"), "the ledger holds no drill of shop"},
			{onLedger("drill", "history", "--app", "shop", "--kind", "audit"),
				`--kind "audit": want drill or incident`},
			{[]string{"drill", "history", "--app", "shop", "--ledger",
				filepath.Join(t.TempDir(), "none.db")}, "no ledger at "},
			{temporal("restore", "--app", "shop", "--component", "nope", "--yes"),
				"--component nope: shop has no such component (orders, catalog, web, api"},
			{temporal("restore", "--app", "shop", "--component", "web", "--target-id", "x",
				"--yes"), "--target-id is for databases; web is a service"},
			{temporal("restore", "--app", "shop", "--component", "orders", "--region",
				"eu-west-9", "--yes"), "--region eu-west-9: not a region of shop"},
			{temporal("restore", "--app", "shop", "--component", "orders", "--restore-time",
				"yesterday", "--yes"), `--restore-time "yesterday": want an RFC 3339 time`},
			{temporal("restore", "--app", "shop", "--component", "orders", "--target-id",
				"shop-orders", "--yes"), "is a live database of the topology"},
			{temporal("capture", "--app", "nope"), `no topology for app "nope"`},
			{atTemporal("drill", "cancel", "--app", "shop", "--yes"), "no drill of shop has run"},
			{atTemporal("drill", "cancel", "--app", "shop"), "pass --yes"},
		} {
			res := drover(t, c.args...)
			require.ErrorContains(t, res.err, c.want, "drover %s", strings.Join(c.args, " "))
		}

		_, err := ds.Client().DescribeWorkflow(ctx, workflows.DrillWorkflowID("shop"), "")
		var notFound *serviceerror.NotFound
		require.ErrorAs(t, err, &notFound, "a drill was started")
		recs, err := l.List(ctx, "shop", "")
		require.NoError(t, err)
		require.Empty(t, recs)
		res := drover(t, atTemporal("drill", "schedule", "list")...)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "No drill schedules")
	})

	var first drills.Record
	t.Run("a drill with a restore exercise runs to its end", func(t *testing.T) {
		res := invocation{}.run(t, drillLimit, temporal("drill", "run", "--app", "shop",
			"--yes", "--skip-approvals", "--restore", "orders", "--wait",
			"--reason", "annual drill")...)
		require.NoError(t, res.err, "stdout:\n%s", res.stdout)
		out := res.stdout.String()
		for _, want := range []string{
			"Started the drill of shop (practice failover us-east-1 → us-west-2 (graceful), " +
				"failback to us-east-1, restore of orders in us-east-1 into a scratch instance)",
			"drill of shop: practice failover", "drill of shop: failback",
			"drill of shop: restore exercise", "drill of shop: cleaning up",
			"✓ promote-database:orders ", "Failover of shop completed in ",
			"Failback of shop completed in ", "Drill of shop succeeded in ",
		} {
			require.Contains(t, out, want)
		}
		require.Regexp(t, `\nrestore +restore-database:orders +us-east-1 +[0-9.]+m?s +succeeded\n`,
			out)
		require.Regexp(t, `Cleanup: rds instance drill-orders-[0-9-]+ in us-east-1 deleted`, out)

		first, err = l.Latest(ctx, "shop", drills.KindDrill)
		require.NoError(t, err)
		require.Equal(t, drills.OutcomeSucceeded, first.Outcome)
		require.Equal(t, "tester", first.StartedBy)
		require.Equal(t, "annual drill", first.Reason)
		require.Contains(t, out, "Record "+first.ID+"\n")
		for _, i := range sb.Sim.Sim.Snapshot().Regions["us-east-1"].RDS.Instances {
			require.NotContains(t, i.ID, "drill-", "the scratch instance was left behind")
		}
	})

	t.Run("history lists the drill", func(t *testing.T) {
		res := drover(t, onLedger("drill", "history", "--app", "shop")...)
		require.NoError(t, res.err)
		row := lineStarting(res.stdout.String(), shortID(first))
		require.Regexp(t, `^\S+ +\d{4}-\d\d-\d\d \d\d:\d\d +drill +succeeded +tester +`+
			`[0-9.]+m?s +[0-9.]+m?s +[0-9.]+m?s +[0-9.]+m?s$`, row)

		res = drover(t, onLedger("drill", "history", "--app", "shop", "-o", "json")...)
		require.NoError(t, res.err)
		var entries []historyEntry
		require.NoError(t, json.Unmarshal([]byte(res.stdout.String()), &entries))
		require.Len(t, entries, 1)
		require.Equal(t, first.ID, entries[0].ID)
		for _, phase := range []string{"failover", "failback", "restore"} {
			require.Positive(t, entries[0].Phases[phase], phase)
		}
	})

	t.Run("reports hold the drill's components", func(t *testing.T) {
		res := drover(t, onLedger("drill", "report", "--app", "shop", "--format", "md")...)
		require.NoError(t, res.err)
		md := res.stdout.String()
		for _, c := range first.Components {
			require.Contains(t, md, "| "+c.Key()+" |")
		}
		require.Contains(t, md, "restore/restore-database:orders")
		require.Contains(t, md, "| Previous drill | none |")

		data := reportJSON(t, onLedger("drill", "report", "--app", "shop", "--format", "json",
			"--drill", shortID(first))...)
		require.Equal(t, first.ID, data.Record.ID)
		require.Nil(t, data.Comparison.Previous)
		require.Len(t, data.Comparison.Components, len(first.Components))

		path := filepath.Join(t.TempDir(), "shop.html")
		res = drover(t, onLedger("drill", "report", "--app", "shop", "--out", path)...)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "Wrote the html report of the drill of shop "+
			"started ")
		require.Contains(t, res.stdout.String(), " to "+path+"\n")
		html, err := os.ReadFile(path)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(strings.ToLower(string(html)), "<!doctype html>"))
		require.Contains(t, string(html), "promote-database:orders")
	})

	var second drills.Record
	t.Run("a second drill is compared with the first", func(t *testing.T) {
		res := invocation{}.run(t, drillLimit, temporal("drill", "run", "--app", "shop",
			"--yes", "--skip-approvals", "--wait", "--output", "json")...)
		require.NoError(t, res.err, "stderr:\n%s", res.stderr)
		var end drillResult
		require.NoError(t, json.Unmarshal([]byte(res.stdout.String()), &end))
		require.Equal(t, drills.OutcomeSucceeded, end.Status)
		require.NotNil(t, end.DrillProgress)
		require.NotNil(t, end.Record)
		require.Equal(t, workflows.DrillDone, end.Phase)
		second = *end.Record
		require.NotEqual(t, first.ID, second.ID)

		data := reportJSON(t, onLedger("drill", "report", "--app", "shop", "-o", "json",
			"--format", "json")...)
		require.Equal(t, second.ID, data.Record.ID)
		require.NotNil(t, data.Comparison.Previous)
		require.Equal(t, first.ID, data.Comparison.Previous.ID)
		compared := 0
		for _, row := range data.Comparison.Components {
			if row.Previous != nil && row.Previous.Delta != nil {
				compared++
			}
			if row.Key == "restore/restore-database:orders" {
				require.Equal(t, report.StatusRemoved, row.Status)
			}
		}
		require.Equal(t, len(second.Components), compared)

		res = drover(t, onLedger("drill", "report", "--app", "shop", "--format", "md")...)
		require.NoError(t, res.err)
		md := res.stdout.String()
		require.Contains(t, md, "| Previous drill | "+first.ID+" (drill, started ")
		// Now, then the previous drill's time and the change, with numbers.
		require.Regexp(t, `\| failover/promote-database:orders \| promote-database \| `+
			`[0-9.]+ s \| [0-9.]+ s \| (±0|[+-][0-9.]+) s \((±0|[+-][0-9.]+)%\) \|`, md)
	})

	t.Run("the baseline is chosen and reported", func(t *testing.T) {
		res := drover(t, onLedger("drill", "baseline", "--app", "shop")...)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "shop has no baseline drill")

		res = drover(t, onLedger("drill", "baseline", "--app", "shop", "--drill", "zz")...)
		require.ErrorContains(t, res.err, "give at least 4 characters")
		res = drover(t, onLedger("drill", "baseline", "--app", "shop", "--drill",
			"ffffffff")...)
		require.ErrorContains(t, res.err, `no record of shop has that ID`)

		res = drover(t, onLedger("drill", "baseline", "--app", "shop", "--drill",
			shortID(first))...)
		require.NoError(t, res.err)
		require.Equal(t, "The baseline of shop is now drill "+shortID(first)+" ("+first.ID+
			", started "+first.Started.UTC().Format("2006-01-02 15:04 UTC")+" by tester)\n",
			res.stdout.String())
		res = drover(t, onLedger("drill", "baseline", "--app", "shop")...)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "The baseline of shop is drill "+shortID(first))

		data := reportJSON(t, onLedger("drill", "report", "--app", "shop", "--format", "json",
			"--target", "0.25")...)
		require.Equal(t, second.ID, data.Record.ID)
		require.NotNil(t, data.Comparison.Baseline)
		require.Equal(t, first.ID, data.Comparison.Baseline.ID)
		require.InDelta(t, 0.25, data.Comparison.Target, 1e-9)
		judged := data.Comparison.Summary.Met + data.Comparison.Summary.Missed
		require.Equal(t, len(second.Components), judged)

		res = drover(t, onLedger("drill", "report", "--app", "shop", "--format", "md")...)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "| Baseline drill | "+first.ID+" (drill, ")

		res = drover(t, onLedger("drill", "history", "--app", "shop")...)
		require.NoError(t, res.err)
		require.Regexp(t, `  baseline$`, lineStarting(res.stdout.String(), shortID(first)))
	})

	t.Run("a schedule starts a drill that is recorded with its id", func(t *testing.T) {
		res := drover(t, temporal("drill", "schedule", "set", "--app", "shop",
			"--cron", "0 9 15 3 *", "--skip-approvals")...)
		require.NoError(t, res.err)
		out := res.stdout.String()
		require.Contains(t, out,
			`Created the drill schedule drover-drill-shop: "0 9 15 3 *" (UTC)`)
		require.Contains(t, out, "Next drill: ")
		require.NotContains(t, out, "waits at")

		res = drover(t, temporal("drill", "schedule", "set", "--app", "shop",
			"--cron", "0 9 15 MAR *", "--skip-approvals")...)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "Changed the drill schedule drover-drill-shop")

		res = drover(t, atTemporal("drill", "schedule", "trigger", "--app", "shop")...)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(), "Drill schedule drover-drill-shop triggered.")

		var scheduled drills.Record
		require.Eventually(t, func() bool {
			recs, err := l.List(ctx, "shop", drills.KindDrill)
			if err != nil {
				t.Logf("read the ledger: %v", err)
				return false
			}
			for _, r := range recs {
				if r.ScheduleID != "" {
					scheduled = r
					return true
				}
			}
			return false
		}, drillLimit, 100*time.Millisecond, "the scheduled drill never reached the ledger")
		require.Equal(t, "drover-drill-shop", scheduled.ScheduleID)
		require.Equal(t, drills.OutcomeSucceeded, scheduled.Outcome, scheduled.Message)
		require.Equal(t, "schedule drover-drill-shop", scheduled.StartedBy)
		require.Equal(t, "scheduled drill, set by tester", scheduled.Reason)
		require.True(t, strings.HasPrefix(scheduled.WorkflowID, "drover-drill-shop-"),
			scheduled.WorkflowID)

		res = drover(t, onLedger("drill", "history", "--app", "shop")...)
		require.NoError(t, res.err)
		require.Regexp(t, `  scheduled$`, lineStarting(res.stdout.String(), shortID(scheduled)))

		res = drover(t, atTemporal("drill", "schedule", "pause", "--app", "shop",
			"--note", "audit freeze")...)
		require.NoError(t, res.err)
		require.Equal(t, "Drill schedule drover-drill-shop paused.\n", res.stdout.String())
		res = drover(t, atTemporal("drill", "schedule", "list")...)
		require.NoError(t, res.err)
		row := lineStarting(res.stdout.String(), "drover-drill-shop ")
		require.Regexp(t, `^drover-drill-shop +shop +0 9 15 (3|MAR) \* +paused +- +`+
			`(\d{4}-\d\d-\d\d \d\d:\d\d|-) +audit freeze$`, row)

		res = drover(t, atTemporal("drill", "schedule", "delete", "--app", "shop")...)
		require.ErrorContains(t, res.err, "pass --yes")
		res = drover(t, atTemporal("drill", "schedule", "delete", "--app", "shop", "--yes")...)
		require.NoError(t, res.err)
		res = drover(t, atTemporal("drill", "schedule", "unpause", "--app", "shop")...)
		require.ErrorContains(t, res.err, "shop has no drill schedule")
	})

	t.Run("a deleted service comes back from its capture", func(t *testing.T) {
		res := invocation{}.run(t, runLimit, temporal("capture", "--app", "shop", "--wait")...)
		require.NoError(t, res.err)
		out := res.stdout.String()
		require.Contains(t, out, "Captured ")
		require.Regexp(t, `\nweb +ecs-service +us-east-1 +shop/web\n`, out)

		cfg, err := awsconfig.Load(ctx, awsconfig.Options{Region: "us-east-1",
			Endpoint: sb.Sim.URL, StaticCredentials: true})
		require.NoError(t, err)
		_, err = ecs.NewFromConfig(cfg).DeleteService(ctx, &ecs.DeleteServiceInput{
			Cluster: aws.String("shop"), Service: aws.String("web"), Force: aws.Bool(true)})
		require.NoError(t, err)
		_, ok := simService(sb, "us-east-1", "web")
		require.False(t, ok, "the simulator still has the deleted service active")

		res = invocation{}.run(t, runLimit, temporal("restore", "--app", "shop",
			"--component", "web", "--yes", "--wait")...)
		require.NoError(t, res.err, "stdout:\n%s", res.stdout)
		require.Regexp(t, `Restored the service web of shop in us-east-1 in [0-9.]+m?s, `+
			`from the capture of `, res.stdout.String())
		web, ok := simService(sb, "us-east-1", "web")
		require.True(t, ok)
		require.Equal(t, "ACTIVE", web.Status)
		require.Equal(t, 4, web.DesiredCount)
		require.Equal(t, web.DesiredCount, web.RunningCount)

		res = invocation{}.run(t, runLimit, temporal("restore", "--app", "shop",
			"--component", "web", "--yes", "--wait", "-o", "json")...)
		require.NoError(t, res.err)
		var again workflows.RestoreResult
		require.NoError(t, json.Unmarshal([]byte(res.stdout.String()), &again))
		require.True(t, again.AlreadyDone)
	})

	// Last, for it leaves the application in its standby.
	t.Run("a cancelled drill cleans up and is recorded as cancelled", func(t *testing.T) {
		res := drover(t, temporal("drill", "run", "--app", "shop", "--yes", "--skip-approvals",
			"--soak", "1h", "--reason", "to be cancelled")...)
		require.NoError(t, res.err)
		require.Contains(t, res.stdout.String(),
			"Stop it (it still cleans up):      drover drill cancel --app shop")
		ref := drillRef{App: "shop", WorkflowID: workflows.DrillWorkflowID("shop")}
		require.Eventually(t, func() bool {
			p, err := queryDrill(ctx, ds.Client(), ref)
			return err == nil && p.Phase == workflows.DrillSoak
		}, drillLimit, 50*time.Millisecond, "the drill never reached its soak")

		res = invocation{}.run(t, drillLimit, atTemporal("drill", "cancel", "--app", "shop",
			"--yes")...)
		require.NoError(t, res.err, "stdout:\n%s", res.stdout)
		out := res.stdout.String()
		require.Contains(t, out, "Asked the drill of shop (run ")
		require.Contains(t, out, "cancelled")
		require.NotContains(t, out, "before the cancellation reached it")

		recs, err := l.List(ctx, "shop", drills.KindDrill)
		require.NoError(t, err)
		var rec drills.Record
		for _, r := range recs {
			if r.Reason == "to be cancelled" {
				rec = r
			}
		}
		require.Equal(t, drills.OutcomeCancelled, rec.Outcome, "records: %+v", recs)
		require.Contains(t, rec.Message, "soak")

		res = drover(t, atTemporal("drill", "cancel", "--app", "shop", "--yes")...)
		require.ErrorContains(t, res.err, "no drill of shop is running")
	})
}

// reportJSON runs `drover drill report --format json` and decodes it.
func reportJSON(t *testing.T, args ...string) report.Data {
	t.Helper()
	res := drover(t, args...)
	require.NoError(t, res.err)
	var data report.Data
	require.NoError(t, json.Unmarshal([]byte(res.stdout.String()), &data))
	return data
}

// simService finds an ECS service in the simulator's state.
func simService(sb *sandbox.Sandbox, region, name string) (awssim.ECSServiceState, bool) {
	for _, s := range sb.Sim.Sim.Snapshot().Regions[region].ECS.Services {
		if s.Name == name && s.Status == "ACTIVE" {
			return s, true
		}
	}
	return awssim.ECSServiceState{}, false
}

func TestCheckCron(t *testing.T) {
	for _, expr := range []string{
		"0 9 15 3 *", "*/15 * * * *", "0 0 1 1,7 MON-FRI", "30 6 1-7 mar sun", "0 0 * * 0",
	} {
		require.NoError(t, checkCron(expr), expr)
	}
	for expr, want := range map[string]string{
		"":              "--cron is required",
		"0 9 15 3":      "has 4 fields",
		"60 9 15 3 *":   `the minute field's "60"`,
		"0 24 * * *":    `the hour field's "24"`,
		"0 9 0 3 *":     `the day of month field's "0"`,
		"0 9 * FOO *":   `the month field's "FOO"`,
		"0 9 * * 7":     `the day of week field's "7"`,
		"0 9 10-2 * *":  "runs backwards",
		"*/0 * * * *":   `step "0"`,
		"0 9 * * MON-x": `the day of week field's "x"`,
	} {
		require.ErrorContains(t, checkCron(expr), want, expr)
	}
}

func TestShownDSNHidesPasswords(t *testing.T) {
	for dsn, want := range map[string]string{
		"":                                   ledger.DefaultPath,
		"/var/lib/drover/ledger.db":          "/var/lib/drover/ledger.db",
		"sqlite:///tmp/l.db":                 "/tmp/l.db",
		"postgres://drover:s3cret@db/drover": "postgres://drover:xxxxx@db/drover",
		"postgres://db/drover?password=s3cret&sslmode=require": "postgres://db/drover?" +
			"password=xxxxx&sslmode=require",
		"host=db user=drover password='s3 cret' dbname=drover": "host=db user=drover " +
			"password=xxxxx dbname=drover",
	} {
		got := shownDSN(dsn)
		require.Equal(t, want, got, dsn)
		require.NotContains(t, got, "s3")
	}
}

func TestDefaultTargetID(t *testing.T) {
	at := time.Date(2025, 3, 15, 9, 5, 0, 0, time.UTC)
	require.Equal(t, "shop-orders-restored-20250315-0905", defaultTargetID("shop-orders", at))
	long := defaultTargetID(strings.Repeat("a", 70), at)
	require.Len(t, long, 60)
	require.True(t, strings.HasSuffix(long, "-restored-20250315-0905"))
}

// TestReportPathKeepsEachDrill: two drills of one day write two reports,
// named so that they sort in the order the drills ran.
func TestReportPathKeepsEachDrill(t *testing.T) {
	morning := drills.Record{App: "shop", Started: time.Date(2026, 12, 3, 9, 5, 7, 0, time.UTC)}
	rerun := drills.Record{App: "shop",
		Started: time.Date(2026, 12, 3, 11, 0, 0, 0, time.FixedZone("CET", 3600))}
	a := reportPath("reports", morning, "html")
	b := reportPath("reports", rerun, "html")
	require.Equal(t, filepath.Join("reports", "shop-2026-12-03-090507Z.html"), a)
	require.Equal(t, filepath.Join("reports", "shop-2026-12-03-100000Z.html"), b, "named in UTC")
	require.Less(t, a, b)
}

func TestFmtDelta(t *testing.T) {
	for seconds, want := range map[float64]string{
		0: "±0ms", 0.0004: "±0ms", -0.125: "-125ms", 0.9: "+900ms", 1.5: "+1.5s", -75: "-1m15s",
	} {
		require.Equal(t, want, fmtDelta(seconds), seconds)
	}
}

func TestFindRecord(t *testing.T) {
	ctx := context.Background()
	l, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	require.NoError(t, err)
	defer l.Close()

	start := time.Date(2025, 3, 15, 9, 0, 0, 0, time.UTC)
	put := func(app, kind, runID string, day int) drills.Record {
		rec := drills.Record{
			ID: "drover-drill-" + app + "/" + runID, App: app, Kind: kind, StartedBy: "t",
			Purpose: "practice", Mode: "graceful", From: "us-east-1", To: "us-west-2",
			WorkflowID: "drover-drill-" + app, RunID: runID,
			Started: start.AddDate(0, 0, day), Ended: start.AddDate(0, 0, day).Add(time.Minute),
			Outcome: drills.OutcomeSucceeded, Components: []drills.Component{},
		}
		require.NoError(t, l.Put(ctx, rec))
		return rec
	}
	old := put("shop", drills.KindDrill, "01a2-0000-aaaa1111", 0)
	latest := put("shop", drills.KindDrill, "01a2-0000-bbbb2222", 1)
	put("shop", drills.KindIncident, "01a2-0000-cccc3333", 2)
	other := put("blog", drills.KindDrill, "01a2-0000-dddd4444", 3)

	for ref, want := range map[string]string{
		"":                   latest.ID,
		old.ID:               old.ID,
		old.RunID:            old.ID,
		"aaaa1111":           old.ID,
		"1111":               old.ID,
		"aaaa":               old.ID,
		"01a2-0000-bbbb":     latest.ID,
		"01a2-0000-cccc3333": "drover-drill-shop/01a2-0000-cccc3333",
	} {
		rec, err := findRecord(ctx, l, "shop", ref)
		require.NoError(t, err, ref)
		require.Equal(t, want, rec.ID, ref)
	}
	_, err = findRecord(ctx, l, "shop", "01a2-0000")
	require.ErrorContains(t, err, "fits 3 records")
	_, err = findRecord(ctx, l, "shop", other.ID)
	require.ErrorContains(t, err, "is of app blog, not shop")
	_, err = findRecord(ctx, l, "shop", "dddd4444")
	require.ErrorContains(t, err, "no record of shop has that ID")
	_, err = findRecord(ctx, l, "web", "")
	require.ErrorContains(t, err, "the ledger holds no drill of web yet")
}
