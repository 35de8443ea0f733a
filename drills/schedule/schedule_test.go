package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/drover-dev/drover/drills/schedule"
	"github.com/drover-dev/drover/infra/devserver"
	"github.com/drover-dev/drover/workflows"
)

func TestScheduleLifecycle(t *testing.T) {
	c := devserver.StartForTest(t).Client()
	ctx := context.Background()
	in := workflows.DrillInput{App: "shop", SkipApprovals: true}

	created, err := schedule.Set(ctx, c, schedule.Options{Cron: "0 9 15 3 *", Input: in})
	require.NoError(t, err)
	require.True(t, created)

	// Setting again replaces the cron, and List shows the new one.
	created, err = schedule.Set(ctx, c, schedule.Options{Cron: "30 8 1 4 *", Input: in})
	require.NoError(t, err)
	require.False(t, created)
	list := func() schedule.Entry {
		entries, err := schedule.List(ctx, c)
		require.NoError(t, err)
		require.Len(t, entries, 1)
		return entries[0]
	}
	e := list()
	require.Equal(t, "drover-drill-shop", e.ID)
	require.Equal(t, "shop", e.App)
	require.Equal(t, "30 8 1 4 *", e.Cron)
	require.False(t, e.Paused)
	require.NotEmpty(t, e.Next)
	require.Equal(t, 8, e.Next[0].UTC().Hour())

	require.NoError(t, schedule.Pause(ctx, c, "shop", "freeze until the audit"))
	e = list()
	require.True(t, e.Paused)
	require.Equal(t, "freeze until the audit", e.Note)
	require.NoError(t, schedule.Unpause(ctx, c, "shop", ""))
	require.False(t, list().Paused)

	// A trigger starts a drill now, under the schedule's id.
	require.NoError(t, schedule.Trigger(ctx, c, "shop"))
	require.Eventually(t, func() bool { return list().LastRun != nil },
		30*time.Second, 100*time.Millisecond)

	require.NoError(t, schedule.Delete(ctx, c, "shop"))
	err = schedule.Pause(ctx, c, "shop", "")
	require.ErrorContains(t, err, "shop has no drill schedule")
	_, err = schedule.Set(ctx, c, schedule.Options{Cron: "every day", Input: in})
	require.ErrorContains(t, err, "five fields")
}

func TestCaptureSchedule(t *testing.T) {
	c := devserver.StartForTest(t).Client()
	ctx := context.Background()

	created, err := schedule.SetCapture(ctx, c, "shop", "0 * * * *")
	require.NoError(t, err)
	require.True(t, created)
	created, err = schedule.SetCapture(ctx, c, "shop", "15 * * * *")
	require.NoError(t, err)
	require.False(t, created)

	d, err := c.ScheduleClient().GetHandle(ctx, schedule.CaptureID("shop")).Describe(ctx)
	require.NoError(t, err)
	action, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	require.Equal(t, workflows.CaptureWorkflowName, action.Workflow)
	require.NotEmpty(t, d.Info.NextActionTimes)
	require.Equal(t, 15, d.Info.NextActionTimes[0].UTC().Minute())

	// Drill schedules are listed on their own.
	entries, err := schedule.List(ctx, c)
	require.NoError(t, err)
	require.Empty(t, entries)

	require.NoError(t, schedule.DeleteCapture(ctx, c, "shop"))
	require.ErrorContains(t, schedule.DeleteCapture(ctx, c, "shop"), "no capture schedule")
}
