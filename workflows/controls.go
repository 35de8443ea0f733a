package workflows

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/drover-dev/drover/plan"
)

// registerControls sets up the operator's updates. Each validator rejects
// a request that does not fit the run's state before it enters history.
func (s *switchRun) registerControls(ctx workflow.Context) error {
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateApprove, s.approve, s.validateApprove},
		{UpdatePause, s.pause, s.validatePause},
		{UpdateResume, s.resume, s.validateResume},
		{UpdateSkip, s.skip, s.validateSkip},
		{UpdateRetry, s.retry, s.validateRetry},
		{UpdateAbort, s.abort, s.validateAbort},
		{UpdateUngraceful, s.ungraceful, s.validateUngraceful},
	}
	for _, h := range handlers {
		err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator})
		if err != nil {
			return fmt.Errorf("register update %s: %w", h.name, err)
		}
	}
	return nil
}

var errFinished = errors.New("the run has finished")

func (s *switchRun) finished() bool {
	return s.progress.Ended != nil || s.aborted
}

func (s *switchRun) validateApprove(ctx workflow.Context, req ApproveRequest) error {
	if s.finished() {
		return errFinished
	}
	if s.plan == nil {
		return errors.New("the plan is not ready yet; approve once preflight has started")
	}
	if req.Step == "" {
		if len(s.approvable()) == 0 {
			return errors.New("no step waits for approval")
		}
		return nil
	}
	sr, err := s.lookup(req.Step)
	if err != nil {
		return err
	}
	if sr.p.Kind != plan.StepApproval {
		return fmt.Errorf("step %s is not an approval (approvals: %s)",
			req.Step, strings.Join(s.approvals(), ", "))
	}
	if sr.p.State.finished() || sr.approved {
		return fmt.Errorf("step %s is already %s", req.Step, sr.p.State)
	}
	return nil
}

// approve approves ahead of time too: a pending approval step that is
// approved passes as soon as it is reached.
func (s *switchRun) approve(ctx workflow.Context, req ApproveRequest) (string, error) {
	ids := []string{req.Step}
	if req.Step == "" {
		ids = s.approvable()
	}
	for _, id := range ids {
		sr := s.steps[id]
		sr.approved = true
		sr.p.ApprovedBy = req.By
	}
	s.changed = true
	s.log.Info("Approved", "Steps", ids, "By", req.By)
	return "approved " + strings.Join(ids, ", "), nil
}

// approvable lists the approval steps that are not yet approved.
func (s *switchRun) approvable() []string {
	var ids []string
	for _, st := range s.progress.Steps {
		if st.Kind == plan.StepApproval && !st.State.finished() && !s.steps[st.ID].approved {
			ids = append(ids, st.ID)
		}
	}
	return ids
}

func (s *switchRun) approvals() []string {
	var ids []string
	for _, st := range s.progress.Steps {
		if st.Kind == plan.StepApproval {
			ids = append(ids, st.ID)
		}
	}
	if len(ids) == 0 {
		return []string{"none"}
	}
	return ids
}

func (s *switchRun) validatePause(ctx workflow.Context) error {
	if s.finished() {
		return errFinished
	}
	if s.paused {
		return errors.New("the run is already paused")
	}
	return nil
}

// pause stops new steps from starting; running steps finish.
func (s *switchRun) pause(ctx workflow.Context) (string, error) {
	s.paused = true
	s.changed = true
	s.log.Info("Paused")
	return "paused: running steps finish, no new step starts until resume", nil
}

func (s *switchRun) validateResume(ctx workflow.Context) error {
	if s.finished() {
		return errFinished
	}
	if !s.paused {
		return errors.New("the run is not paused")
	}
	return nil
}

func (s *switchRun) resume(ctx workflow.Context) (string, error) {
	s.paused = false
	s.changed = true
	s.log.Info("Resumed")
	return "resumed", nil
}

func (s *switchRun) validateSkip(ctx workflow.Context, req StepRequest) error {
	if s.finished() {
		return errFinished
	}
	sr, err := s.lookup(req.Step)
	if err != nil {
		return err
	}
	switch sr.p.State {
	case StepPending, StepWaiting, StepFailed:
		return nil
	case StepRunning:
		return fmt.Errorf("step %s is running; wait for it, or abort the run", req.Step)
	}
	return fmt.Errorf("step %s is already %s", req.Step, sr.p.State)
}

// skip passes over a step: its dependents run as if it had succeeded.
func (s *switchRun) skip(ctx workflow.Context, req StepRequest) (string, error) {
	sr := s.steps[req.Step]
	switch sr.p.State {
	case StepFailed:
		sr.decision = UpdateSkip
	default:
		now := workflow.Now(ctx)
		sr.p.State = StepSkipped
		sr.p.Ended = &now
		sr.p.Detail = "skipped by " + orSomeone(req.By)
	}
	s.changed = true
	s.log.Info("Skipped", "Step", req.Step, "By", req.By)
	return "skipped " + req.Step, nil
}

func (s *switchRun) validateRetry(ctx workflow.Context, req StepRequest) error {
	if s.finished() {
		return errFinished
	}
	sr, err := s.lookup(req.Step)
	if err != nil {
		return err
	}
	if sr.p.State != StepFailed {
		return fmt.Errorf("step %s is %s; only a failed step can be retried", req.Step, sr.p.State)
	}
	return nil
}

func (s *switchRun) retry(ctx workflow.Context, req StepRequest) (string, error) {
	s.steps[req.Step].decision = UpdateRetry
	s.changed = true
	s.log.Info("Retrying", "Step", req.Step, "By", req.By)
	return "retrying " + req.Step, nil
}

func (s *switchRun) validateAbort(ctx workflow.Context, req AbortRequest) error {
	if s.finished() {
		return errFinished
	}
	return nil
}

// abort cancels running steps and starts no more. What completed stays
// done; the result describes the state left behind.
func (s *switchRun) abort(ctx workflow.Context, req AbortRequest) (string, error) {
	s.aborted = true
	s.abortBy = req.By
	if req.Reason != "" {
		s.abortBy = strings.TrimSpace(orSomeone(req.By) + " (" + req.Reason + ")")
	}
	for _, st := range s.progress.Steps {
		sr := s.steps[st.ID]
		if st.State == StepRunning && sr.cancel != nil {
			sr.cancel()
		}
	}
	for i := range s.progress.Steps {
		if s.progress.Steps[i].State == StepPending {
			s.progress.Steps[i].State = StepCancelled
		}
	}
	s.changed = true
	s.log.Warn("Aborted", "By", req.By, "Reason", req.Reason)
	return "aborting: running steps are cancelled, pending steps will not run", nil
}

func (s *switchRun) validateUngraceful(ctx workflow.Context) error {
	if s.finished() {
		return errFinished
	}
	if s.kind == plan.Failback {
		return errors.New("a failback is always graceful")
	}
	if s.in.Mode == plan.Ungraceful {
		return errors.New("the run is already ungraceful")
	}
	return nil
}

// ungraceful switches a running failover to ungraceful mode: the source
// region is no longer waited for, steps not yet started that only served a
// graceful move are skipped, and databases promoted from now on allow data
// loss.
func (s *switchRun) ungraceful(ctx workflow.Context) (string, error) {
	s.in.Mode = plan.Ungraceful
	s.progress.Mode = plan.Ungraceful
	var skipped []string
	if s.plan != nil {
		now := workflow.Now(ctx)
		for i := range s.progress.Steps {
			st := &s.progress.Steps[i]
			if st.Kind == plan.StepStopWriters && st.State == StepPending {
				st.State = StepSkipped
				st.Ended = &now
				st.Detail = "skipped: switched to ungraceful"
				skipped = append(skipped, st.ID)
			}
		}
	}
	s.changed = true
	s.log.Warn("Switched to ungraceful", "Skipped", skipped)
	return "now ungraceful; skipped " + listOrNone(skipped), nil
}

func (s *switchRun) lookup(id string) (*stepRun, error) {
	if s.plan == nil {
		return nil, errors.New("the plan is not ready yet")
	}
	sr, ok := s.steps[id]
	if !ok {
		return nil, fmt.Errorf("no step %q in this run", id)
	}
	return sr, nil
}

// showDetails sets the text the web UI shows as the run's current details.
func (s *switchRun) showDetails(ctx workflow.Context) {
	if s.plan == nil {
		return
	}
	p := s.snapshot()
	var b strings.Builder
	fmt.Fprintf(&b, "**%s %s** %s → %s (%s, %s): %s\n\n", p.Kind, p.App, p.From, p.To,
		p.Mode, p.Purpose, p.Status)
	for _, st := range p.Steps {
		line := fmt.Sprintf("- `%s` %s", st.ID, st.State)
		if st.Region != "" {
			line += " in " + st.Region
		}
		if st.Duration > 0 && st.State.finished() {
			line += fmt.Sprintf(" (%s)", st.Duration.Round(100*1e6))
		}
		if st.Error != "" {
			line += ": " + st.Error
		}
		b.WriteString(line + "\n")
	}
	workflow.SetCurrentDetails(ctx, b.String())
}
