package ledger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/drills/ledger"
)

// backend is an engine the behaviour tests run against.
type backend struct {
	name string
	// fresh returns the connection string of a ledger nobody opened yet.
	fresh func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "ledger.db")
	}},
	{"postgres", func(t *testing.T) string {
		s := postgresServer(t)
		return s.dsn(s.createDB(t))
	}},
}

// eachBackend runs test once per engine, with a fresh connection string.
func eachBackend(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b.fresh(t))
		})
	}
}

func open(t *testing.T, dsn string) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(t.Context(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// at is a time with nanoseconds in a zone other than UTC, to show that the
// ledger keeps the instant exactly.
func at(day, sec int) time.Time {
	zone := time.FixedZone("CEST", 2*60*60)
	return time.Date(2025, time.April, day, 10, 0, sec, 123456789, zone)
}

// fullRecord has every field and every nested list filled.
func fullRecord(id, app string, started time.Time) drills.Record {
	return drills.Record{
		ID: id, App: app, Kind: drills.KindDrill,
		StartedBy: "alice@example.com", Reason: "annual drill",
		Purpose: "practice", Mode: "graceful",
		From: "eu-west-1", To: "eu-central-1",
		WorkflowID: strings.Split(id, "/")[0], RunID: "run-1",
		ScheduleID: "yearly-" + app,
		Started:    started,
		Ended:      started.Add(17*time.Minute + 3*time.Nanosecond),
		Outcome:    drills.OutcomeSucceeded, Message: "all components recovered",
		Components: []drills.Component{
			{
				Phase: drills.PhaseFailover, Step: "promote-database:orders",
				Component: "orders", Kind: "promote-database", Region: "eu-central-1",
				ActionStarted: started.Add(time.Second),
				HealthyAt:     started.Add(4*time.Minute + 1*time.Nanosecond),
				Seconds:       0.1 + 0.2, Outcome: drills.OutcomeSucceeded,
				Detail: "replica promoted",
			},
			{
				Phase: drills.PhaseFailover, Step: "scale-service:web",
				Component: "web", Kind: "scale-service", Region: "eu-central-1",
				ActionStarted: started.Add(2 * time.Second),
				HealthyAt:     started.Add(3 * time.Minute),
				Seconds:       178.000000001, Outcome: drills.OutcomeSucceeded,
			},
			{
				// A skipped component has no times.
				Phase: drills.PhaseRestore, Step: "restore-database:orders",
				Component: "orders", Kind: "restore-database", Region: "eu-west-1",
				Outcome: drills.OutcomeSkipped, Detail: "no snapshot yet",
			},
		},
		Approvals: []drills.Approval{
			{Phase: drills.PhaseFailover, Step: "flip-dns:shop", By: "bob",
				At: started.Add(5 * time.Second)},
			{Phase: drills.PhaseFailback, Step: "flip-dns:shop", By: "carol",
				At: started.Add(10 * time.Minute)},
		},
		Cleanup: []drills.Cleanup{
			{Region: "eu-west-1", Resource: "rds instance drill-shop-orders-0412",
				Action: "deleted", Outcome: drills.OutcomeSucceeded,
				At: started.Add(16 * time.Minute), Detail: "took 4m"},
		},
	}
}

// requireSameRecord compares records with time.Equal for the times, and
// checks that the ledger hands times back in UTC.
func requireSameRecord(t *testing.T, want, got drills.Record) {
	t.Helper()
	want, got = withoutTimes(t, want, got)
	require.Equal(t, want, got)
}

// withoutTimes checks each pair of times and returns copies without them.
func withoutTimes(t *testing.T, want, got drills.Record) (drills.Record, drills.Record) {
	t.Helper()
	check := func(what string, w, g *time.Time) {
		t.Helper()
		require.Truef(t, w.Equal(*g), "%s: want %s, got %s", what, w, g)
		if !g.IsZero() {
			require.Equal(t, time.UTC, g.Location(), what)
		}
		*w, *g = time.Time{}, time.Time{}
	}
	want.Components = append([]drills.Component(nil), want.Components...)
	want.Approvals = append([]drills.Approval(nil), want.Approvals...)
	want.Cleanup = append([]drills.Cleanup(nil), want.Cleanup...)

	check("started", &want.Started, &got.Started)
	check("ended", &want.Ended, &got.Ended)
	require.Len(t, got.Components, len(want.Components))
	for i := range want.Components {
		w, g := &want.Components[i], &got.Components[i]
		check(w.Key()+" action started", &w.ActionStarted, &g.ActionStarted)
		check(w.Key()+" healthy", &w.HealthyAt, &g.HealthyAt)
	}
	require.Len(t, got.Approvals, len(want.Approvals))
	for i := range want.Approvals {
		check("approval", &want.Approvals[i].At, &got.Approvals[i].At)
	}
	require.Len(t, got.Cleanup, len(want.Cleanup))
	for i := range want.Cleanup {
		check("cleanup", &want.Cleanup[i].At, &got.Cleanup[i].At)
	}
	return want, got
}

func TestPutGetRoundTrip(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		l := open(t, dsn)
		rec := fullRecord("drill-shop/run-1", "shop", at(12, 0))

		require.NoError(t, l.Put(ctx, rec))
		got, err := l.Get(ctx, rec.ID)
		require.NoError(t, err)

		requireSameRecord(t, rec, got)
		require.Equal(t, 0.1+0.2, got.Components[0].Seconds, "floats are kept exactly")

		_, err = l.Get(ctx, "no-such/run")
		require.ErrorIs(t, err, ledger.ErrNotFound)
	})
}

func TestPutIsIdempotent(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		l := open(t, dsn)
		full := fullRecord("drill-shop/run-1", "shop", at(12, 0))

		// A partial write, as a drill that was interrupted leaves it.
		partial := full
		partial.Ended, partial.Outcome = time.Time{}, ""
		partial.Components = full.Components[:1]
		partial.Approvals = nil
		partial.Cleanup = nil
		require.NoError(t, l.Put(ctx, partial))
		require.NoError(t, l.Put(ctx, partial))

		recs, err := l.List(ctx, "shop", "")
		require.NoError(t, err)
		require.Len(t, recs, 1)
		requireSameRecord(t, partial, recs[0])

		// The completed record replaces the partial one wholly.
		require.NoError(t, l.Put(ctx, full))
		got, err := l.Get(ctx, full.ID)
		require.NoError(t, err)
		requireSameRecord(t, full, got)

		// And a shorter rewrite leaves no stale nested rows behind.
		shorter := full
		shorter.Components = full.Components[1:2]
		shorter.Approvals = full.Approvals[1:]
		shorter.Cleanup = nil
		require.NoError(t, l.Put(ctx, shorter))
		got, err = l.Get(ctx, full.ID)
		require.NoError(t, err)
		requireSameRecord(t, shorter, got)

		for table, want := range map[string]int{
			"drills": 1, "drill_components": 1, "drill_approvals": 1, "drill_cleanup": 0,
		} {
			require.Equal(t, want, countRows(t, l, table), table)
		}
	})
}

func countRows(t *testing.T, l *ledger.Ledger, table string) int {
	t.Helper()
	var n int
	err := ledger.DB(l).QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n)
	require.NoError(t, err)
	return n
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		// Two handles stand for two processes, such as a worker and the CLI.
		handles := []*ledger.Ledger{open(t, dsn), open(t, dsn)}
		base := fullRecord("drill-shop/run-1", "shop", at(12, 0))

		// Every version of the record says in Message how many components
		// it has, so a reader can tell a torn read from a whole one.
		version := func(n int) drills.Record {
			r := base
			r.Message = strconv.Itoa(n)
			r.Components = nil
			for i := range n {
				c := base.Components[0]
				c.Step = fmt.Sprintf("promote-database:db%d", i)
				r.Components = append(r.Components, c)
			}
			return r
		}
		require.NoError(t, handles[0].Put(ctx, version(1)))

		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 4 {
			l := handles[w%2]
			wg.Go(func() {
				for i := range 10 {
					if err := l.Put(ctx, version(1+(w+i)%5)); err != nil {
						errs <- err
						return
					}
					got, err := l.Get(ctx, base.ID)
					if err != nil {
						errs <- err
						return
					}
					if strconv.Itoa(len(got.Components)) != got.Message {
						errs <- fmt.Errorf("torn read: %d components, message %q",
							len(got.Components), got.Message)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}

		got, err := handles[1].Get(ctx, base.ID)
		require.NoError(t, err)
		require.Equal(t, got.Message, strconv.Itoa(len(got.Components)))
		require.Equal(t, 1, countRows(t, handles[0], "drills"))
		require.Equal(t, len(got.Components), countRows(t, handles[0], "drill_components"))
	})
}

func TestPutRejectsInvalidRecords(t *testing.T) {
	t.Parallel()
	valid := fullRecord("drill-shop/run-1", "shop", at(12, 0))
	tests := []struct {
		name   string
		change func(*drills.Record)
		want   string
	}{
		{"no id", func(r *drills.Record) { r.ID = "" }, "id is required"},
		{"no app", func(r *drills.Record) { r.App = "" }, "app is required"},
		{"no kind", func(r *drills.Record) { r.Kind = "" }, "kind is required"},
		{"unknown kind", func(r *drills.Record) { r.Kind = "dril" },
			`kind "dril" is unknown: use one of drill, incident`},
		{"no start", func(r *drills.Record) { r.Started = time.Time{} }, "started is required"},
		{"ends before start", func(r *drills.Record) { r.Ended = r.Started.Add(-time.Second) },
			"is before started"},
		{"component without step", func(r *drills.Record) { r.Components[1].Step = "" },
			"phase and step are required"},
		{"NaN seconds", func(r *drills.Record) { r.Components[0].Seconds = math.NaN() },
			"not a finite number"},
		{"year beyond 9999", func(r *drills.Record) {
			r.Cleanup[0].At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		}, "outside the years 1 to 9999"},
	}
	eachBackend(t, func(t *testing.T, dsn string) {
		l := open(t, dsn)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rec := valid
				rec.Components = append([]drills.Component(nil), valid.Components...)
				rec.Cleanup = append([]drills.Cleanup(nil), valid.Cleanup...)
				tt.change(&rec)

				err := l.Put(t.Context(), rec)
				require.ErrorIs(t, err, ledger.ErrInvalid)
				require.ErrorContains(t, err, tt.want)
				require.Zero(t, countRows(t, l, "drills"), "nothing is written")
			})
		}
	})
}

func TestPutRefusesToMoveARecordToAnotherApp(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		l := open(t, dsn)
		rec := fullRecord("drill-shop/run-1", "shop", at(12, 0))
		require.NoError(t, l.Put(ctx, rec))

		moved := rec
		moved.App, moved.Components = "blog", nil
		err := l.Put(ctx, moved)
		require.ErrorIs(t, err, ledger.ErrInvalid)
		require.ErrorContains(t, err, `already stored for app "shop", not "blog"`)

		got, err := l.Get(ctx, rec.ID)
		require.NoError(t, err)
		requireSameRecord(t, rec, got)
	})
}

func TestListAndLatest(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		l := open(t, dsn)

		// Written out of order, and a second app's drill between them.
		d2023 := fullRecord("drill-shop/2023", "shop", at(1, 0).AddDate(-2, 0, 0))
		d2024 := fullRecord("drill-shop/2024", "shop", at(1, 0).AddDate(-1, 0, 0))
		d2025 := fullRecord("drill-shop/2025", "shop", at(1, 0))
		incident := fullRecord("failover-shop/x", "shop", at(1, 0).AddDate(-1, 6, 0))
		incident.Kind = drills.KindIncident
		blog := fullRecord("drill-blog/2025", "blog", at(2, 0))
		blog.Components[0].Seconds = 999
		for _, r := range []drills.Record{d2025, blog, d2023, incident, d2024} {
			require.NoError(t, l.Put(ctx, r))
		}

		ids := func(recs []drills.Record) []string {
			var out []string
			for _, r := range recs {
				out = append(out, r.ID)
			}
			return out
		}
		tests := []struct {
			app, kind string
			want      []string
		}{
			{"shop", "", []string{d2023.ID, d2024.ID, incident.ID, d2025.ID}},
			{"shop", drills.KindDrill, []string{d2023.ID, d2024.ID, d2025.ID}},
			{"shop", drills.KindIncident, []string{incident.ID}},
			{"blog", "", []string{blog.ID}},
			{"", drills.KindDrill, []string{d2023.ID, d2024.ID, d2025.ID, blog.ID}},
			{"none", "", nil},
		}
		for _, tt := range tests {
			recs, err := l.List(ctx, tt.app, tt.kind)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(recs), "List(%q, %q)", tt.app, tt.kind)
		}
		recs, err := l.List(ctx, "shop", "")
		require.NoError(t, err)
		requireSameRecord(t, d2024, recs[1])

		_, err = l.List(ctx, "shop", "drils")
		require.ErrorIs(t, err, ledger.ErrInvalid)

		latest, err := l.Latest(ctx, "shop", drills.KindDrill)
		require.NoError(t, err)
		requireSameRecord(t, d2025, latest)
		latest, err = l.Latest(ctx, "shop", drills.KindIncident)
		require.NoError(t, err)
		require.Equal(t, incident.ID, latest.ID)
		_, err = l.Latest(ctx, "none", "")
		require.ErrorIs(t, err, ledger.ErrNotFound)

		// The nested tables answer a component's history in plain SQL.
		rows, err := ledger.DB(l).QueryContext(ctx, `
SELECT d.id, c.seconds FROM drill_components c JOIN drills d ON d.id = c.drill_id
WHERE d.app = $1 AND d.kind = $2 AND c.phase = $3 AND c.step = $4
ORDER BY d.started_at`, "shop", drills.KindDrill, drills.PhaseFailover, "promote-database:orders")
		require.NoError(t, err)
		defer func() { _ = rows.Close() }()
		var history []string
		for rows.Next() {
			var id string
			var secs float64
			require.NoError(t, rows.Scan(&id, &secs))
			history = append(history, fmt.Sprintf("%s %g", id, secs))
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []string{d2023.ID + " 0.3", d2024.ID + " 0.3", d2025.ID + " 0.3"},
			history)
	})
}

func TestBaseline(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		l := open(t, dsn)
		first := fullRecord("drill-shop/2024", "shop", at(1, 0).AddDate(-1, 0, 0))
		second := fullRecord("drill-shop/2025", "shop", at(1, 0))
		blog := fullRecord("drill-blog/2025", "blog", at(1, 0))
		for _, r := range []drills.Record{first, second, blog} {
			require.NoError(t, l.Put(ctx, r))
		}

		_, ok, err := l.Baseline(ctx, "shop")
		require.NoError(t, err)
		require.False(t, ok, "no baseline chosen yet")

		errs := []struct {
			name, app, id string
			is            error
			want          string
		}{
			{"missing drill", "shop", "drill-shop/1999", ledger.ErrNotFound,
				"store it before choosing it as the baseline"},
			{"another app's drill", "shop", blog.ID, ledger.ErrInvalid,
				`belongs to app "blog", not "shop"`},
			{"no app", "", first.ID, ledger.ErrInvalid, "app and drill id are both required"},
		}
		for _, tt := range errs {
			err := l.SetBaseline(ctx, tt.app, tt.id)
			require.ErrorIs(t, err, tt.is, tt.name)
			require.ErrorContains(t, err, tt.want, tt.name)
		}
		_, ok, err = l.Baseline(ctx, "shop")
		require.NoError(t, err)
		require.False(t, ok, "a refused baseline is not stored")

		require.NoError(t, l.SetBaseline(ctx, "shop", first.ID))
		got, ok, err := l.Baseline(ctx, "shop")
		require.NoError(t, err)
		require.True(t, ok)
		requireSameRecord(t, first, got)

		// Choosing again replaces the choice; other apps keep theirs.
		require.NoError(t, l.SetBaseline(ctx, "shop", second.ID))
		require.NoError(t, l.SetBaseline(ctx, "blog", blog.ID))
		got, _, err = l.Baseline(ctx, "shop")
		require.NoError(t, err)
		require.Equal(t, second.ID, got.ID)
		got, _, err = l.Baseline(ctx, "blog")
		require.NoError(t, err)
		require.Equal(t, blog.ID, got.ID)
	})
}

func TestCaptures(t *testing.T) {
	t.Parallel()
	capture := func(name string, when time.Time, def string) drills.Capture {
		return drills.Capture{
			App: "shop", Region: "eu-west-1", Kind: drills.CaptureECSService,
			Name: name, CapturedAt: when, Definition: json.RawMessage(def),
		}
	}
	// Definitions are kept byte for byte, spacing and key order included.
	older := capture("main/web", at(1, 0), `{"taskDefinition": "web:7",  "desired": 2}`)
	newer := capture("main/web", at(1, 1), `{"taskDefinition":"web:8","desired":3}`)
	api := capture("main/api", at(1, 0), `{"taskDefinition":"api:1"}`)
	zone := capture("shop.example.com.", at(1, 0), `[{"name":"www"}]`)
	zone.Kind, zone.Region = drills.CaptureRoute53Zone, "us-east-1"
	blog := capture("main/web", at(3, 0), `{}`)
	blog.App = "blog"

	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		l := open(t, dsn)

		_, err := l.LatestCapture(ctx, "shop", "eu-west-1", drills.CaptureECSService, "main/web")
		require.ErrorIs(t, err, ledger.ErrNotFound)

		for _, c := range []drills.Capture{newer, older, older, api, zone, blog, newer} {
			require.NoError(t, l.PutCapture(ctx, c))
		}
		require.Equal(t, 5, countRows(t, l, "captures"), "a repeated capture is stored once")

		// The same instant in another zone is the same capture.
		again := older
		again.CapturedAt = older.CapturedAt.UTC()
		require.NoError(t, l.PutCapture(ctx, again))
		require.Equal(t, 5, countRows(t, l, "captures"))

		got, err := l.LatestCapture(ctx, "shop", "eu-west-1", drills.CaptureECSService,
			"main/web")
		require.NoError(t, err)
		requireSameCapture(t, newer, got)

		all, err := l.Captures(ctx, "shop")
		require.NoError(t, err)
		require.Len(t, all, 3)
		for i, want := range []drills.Capture{api, newer, zone} {
			requireSameCapture(t, want, all[i])
		}
	})
}

func requireSameCapture(t *testing.T, want, got drills.Capture) {
	t.Helper()
	require.Truef(t, want.CapturedAt.Equal(got.CapturedAt), "captured at: want %s, got %s",
		want.CapturedAt, got.CapturedAt)
	want.CapturedAt, got.CapturedAt = time.Time{}, time.Time{}
	require.Equal(t, string(want.Definition), string(got.Definition))
	require.Equal(t, want, got)
}

func TestPutCaptureRejectsInvalidCaptures(t *testing.T) {
	t.Parallel()
	l := open(t, filepath.Join(t.TempDir(), "ledger.db"))
	valid := drills.Capture{
		App: "shop", Region: "eu-west-1", Kind: drills.CaptureECSService,
		Name: "main/web", CapturedAt: at(1, 0), Definition: json.RawMessage(`{}`),
	}
	tests := []struct {
		name   string
		change func(*drills.Capture)
		want   string
	}{
		{"no app", func(c *drills.Capture) { c.App = "" }, "app is required"},
		{"no region", func(c *drills.Capture) { c.Region = "" }, "region is required"},
		{"no name", func(c *drills.Capture) { c.Name = "" }, "name is required"},
		{"unknown kind", func(c *drills.Capture) { c.Kind = "ecs" }, `kind "ecs" is unknown`},
		{"no time", func(c *drills.Capture) { c.CapturedAt = time.Time{} },
			"capturedAt is required"},
		{"no definition", func(c *drills.Capture) { c.Definition = nil },
			"definition is required"},
		{"not JSON", func(c *drills.Capture) { c.Definition = json.RawMessage(`{"a":`) },
			"not valid UTF-8 JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.change(&c)
			err := l.PutCapture(t.Context(), c)
			require.ErrorIs(t, err, ledger.ErrInvalid)
			require.ErrorContains(t, err, tt.want)
		})
	}
	require.Zero(t, countRows(t, l, "captures"))
}

func schemaVersion(t *testing.T, l *ledger.Ledger) (version, rows int) {
	t.Helper()
	err := ledger.DB(l).QueryRowContext(t.Context(),
		`SELECT MAX(version), COUNT(*) FROM schema_migrations`).Scan(&version, &rows)
	require.NoError(t, err)
	return version, rows
}

func allVersions() []int {
	var v []int
	for i := 1; i <= ledger.LatestVersion(); i++ {
		v = append(v, i)
	}
	return v
}

func TestMigrationsApplyOnce(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		l, err := ledger.Open(ctx, dsn)
		require.NoError(t, err)
		require.Equal(t, allVersions(), ledger.Applied(l))
		rec := fullRecord("drill-shop/run-1", "shop", at(12, 0))
		require.NoError(t, l.Put(ctx, rec))
		require.NoError(t, l.Close())

		l = open(t, dsn)
		require.Empty(t, ledger.Applied(l), "a second open applies nothing")
		version, rows := schemaVersion(t, l)
		require.Equal(t, ledger.LatestVersion(), version)
		require.Equal(t, len(allVersions()), rows)
		_, err = l.Get(ctx, rec.ID)
		require.NoError(t, err, "the data survives reopening")
	})
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		l, err := ledger.Open(ctx, dsn)
		require.NoError(t, err)
		future := ledger.LatestVersion() + 1
		_, err = ledger.DB(l).ExecContext(ctx, `INSERT INTO schema_migrations
(version, name, applied_at) VALUES ($1, 'from a later drover', '2100-01-01T00:00:00.000000000Z')`,
			future)
		require.NoError(t, err)
		require.NoError(t, l.Close())

		_, err = ledger.Open(ctx, dsn)
		require.ErrorContains(t, err, fmt.Sprintf("schema is at version %d, newer than "+
			"version %d", future, ledger.LatestVersion()))
		require.ErrorContains(t, err, "upgrade drover")
	})
}

func TestConcurrentOpenOfAFreshLedger(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, dsn string) {
		// Each round races two opens on a database nobody opened yet; the
		// first round uses the backend's database, the later fresh ones.
		for round := range 3 {
			if round > 0 {
				dsn = freshLike(t, dsn)
			}
			start := make(chan struct{})
			var wg sync.WaitGroup
			ledgers := make([]*ledger.Ledger, 2)
			errs := make([]error, 2)
			for i := range ledgers {
				wg.Go(func() {
					<-start
					ledgers[i], errs[i] = ledger.Open(context.Background(), dsn)
				})
			}
			close(start)
			wg.Wait()

			var applied []int
			for i, l := range ledgers {
				require.NoError(t, errs[i], "round %d, opener %d", round, i)
				applied = append(applied, ledger.Applied(l)...)
			}
			require.ElementsMatch(t, allVersions(), applied,
				"each migration is applied by exactly one opener")
			version, rows := schemaVersion(t, ledgers[0])
			require.Equal(t, ledger.LatestVersion(), version)
			require.Equal(t, len(allVersions()), rows)
			for _, l := range ledgers {
				require.NoError(t, l.Close())
			}
		}
	})
}

// freshLike returns a new, unopened ledger on the same engine as dsn.
func freshLike(t *testing.T, dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") {
		s := postgresServer(t)
		return s.dsn(s.createDB(t))
	}
	return filepath.Join(t.TempDir(), "ledger.db")
}

func TestOpenWithoutADSNUsesTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ctx := t.Context()

	l, err := ledger.Open(ctx, "")
	require.NoError(t, err)
	rec := fullRecord("drill-shop/run-1", "shop", at(12, 0))
	require.NoError(t, l.Put(ctx, rec))
	require.NoError(t, l.Close())
	require.FileExists(t, filepath.Join(dir, ".drover", "ledger.db"))

	// The same file, named with the sqlite: prefix.
	l = open(t, "sqlite:"+ledger.DefaultPath)
	_, err = l.Get(ctx, rec.ID)
	require.NoError(t, err)
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, dsn, want string
	}{
		{"missing directory", filepath.Join(dir, "nope", "ledger.db"),
			"create it or choose another path"},
		{"query characters in a path", filepath.Join(dir, "ledger.db?mode=ro"),
			"choose a file name without them"},
		{"not a database", writeFile(t, dir, "junk.db", "this is not SQLite, just text"),
			"file is not a database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ledger.Open(t.Context(), tt.dsn)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestEngineFromDSN(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct{ dsn, want string }{
		{"", "sqlite"},
		{"ledger.db", "sqlite"},
		{"sqlite:ledger.db", "sqlite"},
		{"sqlite:///" + filepath.Join(dir, "ledger.db"), "sqlite"},
		{"data=1.db", "sqlite"},
		{"postgres://u:p@localhost/drover", "postgresql"},
		{"POSTGRESQL://u@localhost:5433/drover?sslmode=disable", "postgresql"},
		{"host=localhost dbname=drover", "postgresql"},
		{" dbname = drover", "postgresql"},
	}
	for _, tt := range tests {
		got, err := ledger.Engine(tt.dsn, dir)
		require.NoError(t, err, tt.dsn)
		require.Equal(t, tt.want, got, tt.dsn)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"postgres://drover:s3cret@db:5432/ledger", "postgres://drover:xxxxx@db:5432/ledger"},
		{"postgres://drover:p@ss@db/ledger", "postgres://drover:xxxxx@db/ledger"},
		{"postgres://drover@db/ledger?password=s3cret&sslmode=require",
			"postgres://drover@db/ledger?password=xxxxx&sslmode=require"},
		{"host=db password=s3cret dbname=ledger", "host=db password=xxxxx dbname=ledger"},
		{"host=db password = 'se cr\\'et' dbname=ledger",
			"host=db password = xxxxx dbname=ledger"},
		{"host=db dbname=ledger", "host=db dbname=ledger"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ledger.Redact(tt.in))
	}
}

func TestPasswordNeverInErrors(t *testing.T) {
	t.Parallel()
	s := postgresServer(t)
	db := s.createDB(t)
	closed, err := freePort()
	require.NoError(t, err)
	secret := "Wr0ng-" + randomHex(6)

	tests := []struct{ name, dsn string }{
		{"wrong port", fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?connect_timeout=5",
			pgUser, secret, closed, db)},
		{"wrong password", fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable",
			pgUser, secret, s.port, db)},
		{"wrong port, key=value", fmt.Sprintf("host=127.0.0.1 port=%d user=%s "+
			"password=%s dbname=%s connect_timeout=5", closed, pgUser, secret, db)},
		{"unparsable", fmt.Sprintf("postgres://%s:%s@127.0.0.1:notaport/%s",
			pgUser, secret, db)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ledger.Open(t.Context(), tt.dsn)
			require.Error(t, err)
			t.Log(err)
			require.NotContains(t, err.Error(), secret)
			// The message still names the server, redacted, so it helps.
			require.Contains(t, err.Error(), "xxxxx")
		})
	}
}

func TestPostgresIsReallyUsed(t *testing.T) {
	t.Parallel()
	s := postgresServer(t)
	tests := []struct{ name, dsn string }{
		{"url", s.dsn(s.createDB(t))},
		{"key=value", s.keywordDSN(s.createDB(t))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := open(t, tt.dsn)
			var version string
			err := ledger.DB(l).QueryRowContext(t.Context(), "SELECT version()").Scan(&version)
			require.NoError(t, err)
			require.Contains(t, version, "PostgreSQL")

			var tables int
			err = ledger.DB(l).QueryRowContext(t.Context(), `SELECT COUNT(*)
FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables)
			require.NoError(t, err)
			require.Equal(t, 7, tables, "six ledger tables and schema_migrations")
		})
	}
}
