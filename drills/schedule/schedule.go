// Package schedule keeps an application's yearly drill on a Temporal
// Schedule: set it from a cron expression, list, pause, unpause, trigger
// and delete it. Overlapping drills are skipped, and a catch-up window lets
// a drill whose minute passed while Temporal was unavailable still run.
// The capture of an application's definitions runs on a schedule of its
// own, the same way.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/workflows"
)

// DefaultCatchupWindow is how late a missed drill may still start.
const DefaultCatchupWindow = 24 * time.Hour

// idPrefix starts the id of every drill schedule.
const idPrefix = "drover-drill-"

// ID returns the schedule id of app's drill. Each drill it starts runs
// under this id followed by the scheduled time.
func ID(app string) string { return idPrefix + app }

// Options describe an application's drill schedule.
type Options struct {
	// Cron is a standard five-field cron expression in UTC, such as
	// "0 9 15 3 *" for 09:00 on 15 March every year.
	Cron string
	// Input is what each drill runs with; Input.App names the application.
	Input workflows.DrillInput
	// CatchupWindow defaults to DefaultCatchupWindow.
	CatchupWindow time.Duration
}

// Entry is one drill schedule as List shows it.
type Entry struct {
	ID      string      `json:"id"`
	App     string      `json:"app"`
	Cron    string      `json:"cron"`
	Paused  bool        `json:"paused"`
	Note    string      `json:"note,omitempty"`
	Next    []time.Time `json:"next,omitempty"`
	LastRun *time.Time  `json:"lastRun,omitempty"`
}

// Set creates the schedule of Input.App, or replaces its cron and input if
// it exists. It reports whether it created one.
func Set(ctx context.Context, c client.Client, opts Options) (bool, error) {
	app := opts.Input.App
	if app == "" {
		return false, errors.New("schedule: the drill input names no app")
	}
	return set(ctx, c, ID(app), app, opts.Cron, opts.CatchupWindow,
		workflows.DrillWorkflowID(app), workflows.DrillWorkflowName, opts.Input)
}

// CaptureID returns the schedule id of app's capture.
func CaptureID(app string) string { return "drover-capture-" + app }

// SetCapture runs the Capture workflow of app on a schedule, creating it or
// replacing its cron. It reports whether it created one.
func SetCapture(ctx context.Context, c client.Client, app, cron string) (bool, error) {
	if app == "" {
		return false, errors.New("schedule: name the app to capture")
	}
	return set(ctx, c, CaptureID(app), app, cron, 0, workflows.CaptureWorkflowID(app),
		workflows.CaptureWorkflowName, workflows.CaptureInput{App: app})
}

// DeleteCapture removes app's capture schedule.
func DeleteCapture(ctx context.Context, c client.Client, app string) error {
	err := c.ScheduleClient().GetHandle(ctx, CaptureID(app)).Delete(ctx)
	var missing *serviceerror.NotFound
	if errors.As(err, &missing) {
		return fmt.Errorf("%s has no capture schedule", app)
	}
	if err != nil {
		return fmt.Errorf("delete the capture schedule of %s: %w", app, err)
	}
	return nil
}

// set creates or updates one schedule that starts workflow with input.
func set(ctx context.Context, c client.Client, id, app, cron string, catchup time.Duration,
	workflowID, workflow string, input any) (bool, error) {
	if fields := strings.Fields(cron); len(fields) != 5 {
		return false, fmt.Errorf("cron %q must have five fields: minute hour day month weekday",
			cron)
	}
	if catchup == 0 {
		catchup = DefaultCatchupWindow
	}
	opts := Options{Cron: cron, CatchupWindow: catchup}
	spec := client.ScheduleSpec{CronExpressions: []string{opts.Cron}}
	// The cron expression travels in the action's memo: Temporal describes
	// a schedule's spec in its own calendar form, and only the action can
	// be changed by an update.
	memo := map[string]any{"app": app, "cron": opts.Cron}
	action := &client.ScheduleWorkflowAction{
		ID:        workflowID,
		Workflow:  workflow,
		Args:      []any{input},
		TaskQueue: activities.WorkflowTaskQueue,
		Memo:      memo,
	}

	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:            id,
		Spec:          spec,
		Action:        action,
		Overlap:       enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: opts.CatchupWindow,
		Memo:          memo,
	})
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return false, fmt.Errorf("create schedule %s: %w", id, err)
	}
	h := c.ScheduleClient().GetHandle(ctx, id)
	err = h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec = &spec
			s.Action = action
			if s.Policy == nil {
				s.Policy = &client.SchedulePolicies{}
			}
			s.Policy.Overlap = enums.SCHEDULE_OVERLAP_POLICY_SKIP
			s.Policy.CatchupWindow = opts.CatchupWindow
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return false, fmt.Errorf("update schedule %s: %w", id, err)
	}
	return false, nil
}

// List returns every drill schedule, by id.
func List(ctx context.Context, c client.Client) ([]Entry, error) {
	iter, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 100})
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	var out []Entry
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		if !strings.HasPrefix(e.ID, idPrefix) {
			continue
		}
		entry := Entry{
			ID: e.ID, App: strings.TrimPrefix(e.ID, idPrefix), Paused: e.Paused,
			Note: e.Note, Next: e.NextActionTimes,
		}
		entry.Cron = memoString(e.Memo.GetFields()["cron"])
		if d, err := c.ScheduleClient().GetHandle(ctx, e.ID).Describe(ctx); err == nil {
			if a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok {
				if cron := memoValue(a.Memo["cron"]); cron != "" {
					entry.Cron = cron
				}
			}
			entry.Paused = d.Schedule.State.Paused
			entry.Note = d.Schedule.State.Note
			entry.Next = d.Info.NextActionTimes
			if n := len(d.Info.RecentActions); n > 0 {
				t := d.Info.RecentActions[n-1].ActualTime
				entry.LastRun = &t
			}
		}
		out = append(out, entry)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// memoValue reads a described action's memo entry, which the SDK hands
// back still encoded.
func memoValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case *commonpb.Payload:
		return memoString(v)
	}
	return ""
}

func memoString(p *commonpb.Payload) string {
	var v string
	if p == nil || converter.GetDefaultDataConverter().FromPayload(p, &v) != nil {
		return ""
	}
	return v
}

// Pause stops app's schedule from starting drills, with a note saying why.
func Pause(ctx context.Context, c client.Client, app, note string) error {
	return wrap(app, "pause", c.ScheduleClient().GetHandle(ctx, ID(app)).
		Pause(ctx, client.SchedulePauseOptions{Note: note}))
}

// Unpause lets app's schedule start drills again.
func Unpause(ctx context.Context, c client.Client, app, note string) error {
	return wrap(app, "unpause", c.ScheduleClient().GetHandle(ctx, ID(app)).
		Unpause(ctx, client.ScheduleUnpauseOptions{Note: note}))
}

// Trigger starts a drill now, as the schedule would; a drill already
// running is not overlapped.
func Trigger(ctx context.Context, c client.Client, app string) error {
	return wrap(app, "trigger", c.ScheduleClient().GetHandle(ctx, ID(app)).
		Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP}))
}

// Delete removes app's schedule; drills it started keep running.
func Delete(ctx context.Context, c client.Client, app string) error {
	return wrap(app, "delete", c.ScheduleClient().GetHandle(ctx, ID(app)).Delete(ctx))
}

func wrap(app, what string, err error) error {
	if err == nil {
		return nil
	}
	var missing *serviceerror.NotFound
	if errors.As(err, &missing) || strings.Contains(err.Error(), "not found") {
		return fmt.Errorf("%s has no drill schedule; create one with `drover drill schedule set`",
			app)
	}
	return fmt.Errorf("%s the drill schedule of %s: %w", what, app, err)
}
