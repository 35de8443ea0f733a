package activities_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/drills/ledger"
)

// ledgerEnv opens a SQLite ledger in a temporary directory and returns an
// activity environment with the ledger activities.
func ledgerEnv(t *testing.T) *testsuite.TestActivityEnvironment {
	t.Helper()
	l, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	activities.NewLedger(l).Register(env)
	return env
}

func TestLedgerActivities(t *testing.T) {
	env := ledgerEnv(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	capture := func(at time.Time, image string) drills.Capture {
		def, err := json.Marshal(map[string]string{"image": image})
		require.NoError(t, err)
		return drills.Capture{App: "shop", Region: "us-east-1", Kind: drills.CaptureECSService,
			Name: "shop/web", CapturedAt: at, Definition: def}
	}
	web := activities.LatestCaptureInput{App: "shop", Region: "us-east-1",
		Kind: drills.CaptureECSService, Name: "shop/web"}

	t.Run("saves captures and refuses invalid ones without failing the rest", func(t *testing.T) {
		bad := capture(at, "x")
		bad.Kind = "no-such-kind"
		var res activities.SaveCapturesResult
		require.NoError(t, run(t, env, activities.SaveCapturesName, []drills.Capture{
			capture(at, "nginx:1.27"), bad, capture(at.Add(time.Hour), "nginx:1.28"),
		}, &res))
		require.Equal(t, 2, res.Saved)
		require.Len(t, res.Refused, 1)
		require.Equal(t, "no-such-kind", res.Refused[0].Kind)
		require.Contains(t, res.Refused[0].Reason, "unknown")
	})

	t.Run("the latest capture wins", func(t *testing.T) {
		var got drills.Capture
		require.NoError(t, run(t, env, activities.LatestCaptureName, web, &got))
		require.True(t, got.CapturedAt.Equal(at.Add(time.Hour)))
		require.JSONEq(t, `{"image":"nginx:1.28"}`, string(got.Definition))
	})

	t.Run("no capture is not found, at once", func(t *testing.T) {
		missing := web
		missing.Name = "shop/api"
		err := run(t, env, activities.LatestCaptureName, missing, &drills.Capture{})
		app := appError(t, err)
		require.Equal(t, activities.ErrNotFound, app.Type())
		require.True(t, app.NonRetryable())
		require.Contains(t, err.Error(), "shop/api")
	})

	t.Run("records a run; an invalid one fails at once", func(t *testing.T) {
		rec := drills.Record{ID: "drover-drill-shop/run-1", App: "shop", Kind: drills.KindDrill,
			Started: at, Ended: at.Add(time.Minute), Outcome: drills.OutcomeSucceeded}
		_, err := env.ExecuteActivity(activities.RecordRunName, rec)
		require.NoError(t, err)

		rec.ID = ""
		_, err = env.ExecuteActivity(activities.RecordRunName, rec)
		app := appError(t, err)
		require.Equal(t, activities.ErrInvalid, app.Type())
		require.True(t, app.NonRetryable())
	})
}
