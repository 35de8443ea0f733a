package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/drills/ledger"
)

// Ledger runs the activities that read and write the drill ledger. It is
// registered on WorkflowTaskQueue by the process that holds the ledger
// open; no region is needed to reach it.
type Ledger struct {
	l *ledger.Ledger
}

// NewLedger returns the ledger activities of an open ledger.
func NewLedger(l *ledger.Ledger) *Ledger { return &Ledger{l: l} }

// Register registers the ledger activities under the names the
// workflows call.
func (a *Ledger) Register(reg worker.ActivityRegistry) {
	for name, fn := range map[string]any{
		SaveCapturesName:  a.SaveCaptures,
		LatestCaptureName: a.LatestCapture,
		RecordRunName:     a.RecordRun,
	} {
		reg.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

// SaveCapturesResult says how many captures were saved and which the
// ledger refused.
type SaveCapturesResult struct {
	Saved   int              `json:"saved"`
	Refused []RefusedCapture `json:"refused,omitempty"`
}

// RefusedCapture is a capture the ledger would not store, and why.
type RefusedCapture struct {
	Kind   string `json:"kind"`
	Region string `json:"region"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// SaveCaptures stores captures in the ledger. Storing one again is
// harmless, so a retry after a partial failure stores the rest. A capture
// the ledger refuses as invalid is listed in the result rather than
// failing the others; any other failure (the database is unreachable, a
// write conflicted) fails the activity, to be retried.
func (a *Ledger) SaveCaptures(ctx context.Context, captures []drills.Capture) (
	SaveCapturesResult, error) {
	var res SaveCapturesResult
	for _, c := range captures {
		err := a.l.PutCapture(ctx, c)
		switch {
		case errors.Is(err, ledger.ErrInvalid):
			res.Refused = append(res.Refused, RefusedCapture{Kind: c.Kind, Region: c.Region,
				Name: c.Name, Reason: err.Error()})
		case err != nil:
			return SaveCapturesResult{}, fmt.Errorf("save the %s capture of %s: %w",
				c.Kind, c.Name, err)
		default:
			res.Saved++
		}
	}
	return res, nil
}

// LatestCapture returns the newest capture of one component. None is a
// non-retryable NotFound: only a capture run can make one.
func (a *Ledger) LatestCapture(ctx context.Context, in LatestCaptureInput) (
	drills.Capture, error) {
	c, err := a.l.LatestCapture(ctx, in.App, in.Region, in.Kind, in.Name)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		// Expected when nothing was captured yet: the workflow decides
		// what that means, so it is not logged as a worker error.
		return drills.Capture{}, temporal.NewApplicationErrorWithOptions(err.Error()+
			" (the Capture workflow takes them)", ErrNotFound, temporal.ApplicationErrorOptions{
			NonRetryable: true, Cause: err, Category: temporal.ApplicationErrorCategoryBenign,
		})
	case errors.Is(err, ledger.ErrInvalid):
		return drills.Capture{}, temporal.NewNonRetryableApplicationError(err.Error(),
			ErrInvalid, err)
	}
	return c, err
}

// RecordRun stores a drill's or a recovery's record; storing the same
// record again replaces it.
func (a *Ledger) RecordRun(ctx context.Context, rec drills.Record) error {
	err := a.l.Put(ctx, rec)
	if errors.Is(err, ledger.ErrInvalid) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalid, err)
	}
	return err
}
