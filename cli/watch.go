package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/client"

	"github.com/drover-dev/drover/workflows"
)

// pollInterval is how often a watcher queries the progress: fine enough
// that a person sees steps change as they happen, cheap for the server.
const pollInterval = 500 * time.Millisecond

// watcher follows a run until it closes, showing its steps as they change.
type watcher struct {
	c    client.Client
	ref  runRef
	show *progressView
	// approve, when set, is called once for each approval step found
	// waiting, instead of telling the operator how to approve it.
	approve  func(ctx context.Context, step string)
	approved map[string]bool
}

// watch returns the run's final progress once it has closed.
func (w *watcher) watch(ctx context.Context) (*workflows.Progress, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type outcome struct {
		p   *workflows.Progress
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		p, err := awaitResult(ctx, w.c, w.ref)
		done <- outcome{p, err}
	}()

	tick := time.NewTicker(pollInterval)
	defer tick.Stop()

	warned := false
	for {
		p, err := queryProgress(ctx, w.c, w.ref)
		switch {
		case err == nil:
			w.show.update(p)
			w.handleApprovals(ctx, p)
		case ctx.Err() == nil && !warned:
			// The result may be on its way; a lasting silence means
			// that no worker serves the workflow queue.
			select {
			case o := <-done:
				done <- o
			default:
				w.show.note(fmt.Sprintf("the run does not answer the progress query (%s); "+
					"is `drover worker` running?", rootMessage(err)))
				warned = true
			}
		}

		select {
		case o := <-done:
			if o.err != nil {
				return nil, o.err
			}
			w.show.final(o.p)
			return o.p, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

func (w *watcher) handleApprovals(ctx context.Context, p *workflows.Progress) {
	if w.approve == nil {
		return
	}
	if w.approved == nil {
		w.approved = map[string]bool{}
	}
	for _, st := range p.Steps {
		if st.State == workflows.StepWaiting && !w.approved[st.ID] {
			w.approved[st.ID] = true
			w.approve(ctx, st.ID)
		}
	}
}

// progressView shows a run's progress as it changes. On a terminal it
// redraws one block in place; elsewhere (a pipe, a log file, a test) it
// writes a line for each step that changed state.
type progressView struct {
	out   io.Writer
	live  bool
	hints hinter
	// now is the clock for the time of a line and a running step's
	// elapsed time.
	now func() time.Time

	drawn  int // lines of the live block on screen
	states map[string]string
	status workflows.RunStatus
	hinted map[string]bool
	// autoApprove is true when a watcher approves on the operator's
	// behalf, so that no hint asks them to.
	autoApprove bool
}

func newProgressView(out io.Writer, live bool, hints hinter) *progressView {
	return &progressView{
		out: out, live: live, hints: hints, now: time.Now,
		states: map[string]string{}, hinted: map[string]bool{},
	}
}

// note prints a message outside the block.
func (v *progressView) note(msg string) {
	if v.live {
		v.clear()
	}
	fmt.Fprintln(v.out, msg)
}

// update shows a progress snapshot of a running run.
func (v *progressView) update(p *workflows.Progress) {
	if v.live {
		v.redraw(p)
		return
	}
	v.lines(p, false)
}

// final shows the closed run and a line that sums it up.
func (v *progressView) final(p *workflows.Progress) {
	if v.live {
		v.redraw(p)
		v.drawn = 0
	} else {
		v.lines(p, true)
		v.steps(p, false)
	}
	fmt.Fprintln(v.out)
	fmt.Fprintln(v.out, summary(p))
	for _, c := range p.Preflight {
		if !c.OK {
			fmt.Fprintf(v.out, "  ✗ %s: %s\n", c.Component, c.Detail)
		}
	}
}

// clear removes the live block, so that other output can be printed.
func (v *progressView) clear() {
	if v.drawn > 0 {
		// Up to the block's first line, then erase to the end of screen.
		fmt.Fprintf(v.out, "\x1b[%dF\x1b[J", v.drawn)
		v.drawn = 0
	}
}

func (v *progressView) redraw(p *workflows.Progress) {
	lines := []string{header(p, v.now())}
	width := stepWidth(p)
	if len(p.Steps) <= maxLiveSteps {
		for _, st := range p.Steps {
			lines = append(lines, v.stepLine(p, st, width, true))
		}
	} else {
		// A block taller than the screen cannot be redrawn in place:
		// a large plan shows its counts and the steps that are busy.
		lines = append(lines, "  "+stateCounts(p))
		shown := 0
		for _, st := range p.Steps {
			switch st.State {
			case workflows.StepRunning, workflows.StepWaiting, workflows.StepFailed:
				if shown < maxLiveSteps {
					lines = append(lines, v.stepLine(p, st, width, true))
				}
				shown++
			}
		}
		if shown > maxLiveSteps {
			lines = append(lines, fmt.Sprintf("  … and %d more", shown-maxLiveSteps))
		}
	}
	lines = append(lines, v.actionHints(p)...)

	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dF\x1b[J", v.drawn)
	}
	for _, l := range lines {
		b.WriteString(truncate(l, maxLiveWidth))
		b.WriteByte('\n')
	}
	_, _ = io.WriteString(v.out, b.String())
	v.drawn = len(lines)
}

// maxLiveSteps is the most steps a live block lists one by one.
const maxLiveSteps = 30

// stateCounts says how many steps are in each state, in the order a run
// goes through them.
func stateCounts(p *workflows.Progress) string {
	count := map[workflows.StepState]int{}
	for _, st := range p.Steps {
		count[st.State]++
	}
	var parts []string
	for _, s := range []workflows.StepState{
		workflows.StepSucceeded, workflows.StepTolerated, workflows.StepSkipped,
		workflows.StepCancelled, workflows.StepFailed, workflows.StepRunning,
		workflows.StepWaiting, workflows.StepPending,
	} {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
		}
	}
	return fmt.Sprintf("%d steps: %s", len(p.Steps), strings.Join(parts, ", "))
}

// maxLiveWidth keeps a live line from wrapping on a common terminal,
// which would throw off the redraw.
const maxLiveWidth = 120

// lines writes a line for each step whose state changed since the last
// snapshot, and the run's own changes of status. Pending steps are not
// news; a closed run's status is left to the summary.
func (v *progressView) lines(p *workflows.Progress, closed bool) {
	stamp := v.now().Format("15:04:05")
	width := stepWidth(p)
	for _, st := range p.Steps {
		key := fmt.Sprintf("%s/%d", st.State, st.Attempts)
		if v.states[st.ID] == key || st.State == workflows.StepPending {
			continue
		}
		v.states[st.ID] = key
		line := strings.TrimLeft(v.stepLine(p, st, width, false), " ")
		fmt.Fprintf(v.out, "%s %s\n", stamp, line)
	}
	if !closed && p.Status != v.status {
		if v.status != "" || p.Status != workflows.RunRunning {
			fmt.Fprintf(v.out, "%s the %s of %s is %s\n", stamp, p.Kind, p.App, p.Status)
		}
		v.status = p.Status
	}
	for _, h := range v.actionHints(p) {
		if !v.hinted[h] {
			v.hinted[h] = true
			fmt.Fprintln(v.out, h)
		}
	}
}

// actionHints tell the operator what a waiting or failed step needs.
func (v *progressView) actionHints(p *workflows.Progress) []string {
	if p.Status != workflows.RunRunning && p.Status != workflows.RunPaused {
		return nil
	}
	var out []string
	for _, st := range p.Steps {
		switch st.State {
		case workflows.StepWaiting:
			if v.autoApprove {
				continue
			}
			out = append(out, fmt.Sprintf("  %s waits for approval: %s", st.ID,
				v.hints.cmd("approve", "--step", st.ID)))
		case workflows.StepFailed:
			out = append(out,
				fmt.Sprintf("  %s failed and waits for you (attempt %d). Retry it: %s",
					st.ID, st.Attempts, v.hints.cmd("retry", "--step", st.ID)),
				fmt.Sprintf("    or skip it: %s", v.hints.cmd("skip", "--step", st.ID)),
				fmt.Sprintf("    or stop the run: %s", v.hints.cmd("abort")))
		}
	}
	if p.Status == workflows.RunPaused {
		out = append(out, "  paused: running steps finish, no new one starts. Resume: "+
			v.hints.cmd("resume"))
	}
	return out
}

// stateMarks make a step's state readable at a glance.
var stateMarks = map[workflows.StepState]string{
	workflows.StepPending:   "·",
	workflows.StepWaiting:   "?",
	workflows.StepRunning:   "▸",
	workflows.StepSucceeded: "✓",
	workflows.StepFailed:    "✗",
	workflows.StepTolerated: "!",
	workflows.StepSkipped:   "-",
	workflows.StepCancelled: "×",
}

// steps writes every step, once, as a still picture.
func (v *progressView) steps(p *workflows.Progress, elapsed bool) {
	if len(p.Steps) == 0 {
		return
	}
	fmt.Fprintln(v.out)
	width := stepWidth(p)
	for _, st := range p.Steps {
		fmt.Fprintln(v.out, v.stepLine(p, st, width, elapsed))
	}
}

// stepLine shows one step. With elapsed, a running step shows how long it
// has been running, which only a picture that is redrawn keeps true.
func (v *progressView) stepLine(p *workflows.Progress, st workflows.StepProgress,
	width int, elapsed bool) string {
	mark := stateMarks[st.State]
	if mark == "" {
		mark = " "
	}
	line := fmt.Sprintf("  %s %-*s  %-10s  %-16s", mark, width, st.ID, orDash(st.Region),
		st.State)
	switch {
	case st.State == workflows.StepRunning:
		if elapsed && st.Started != nil {
			line += "  " + fmtDuration(v.now().Sub(*st.Started))
		}
	case st.Duration > 0 && st.State != workflows.StepPending:
		line += "  " + fmtDuration(st.Duration)
	}
	if st.AlreadyDone {
		line += "  (already done)"
	}
	switch {
	case st.Error != "":
		line += "  " + st.Error
	case st.Detail != "" && st.State != workflows.StepRunning:
		line += "  " + st.Detail
	}
	return strings.TrimRight(line, " ")
}

func stepWidth(p *workflows.Progress) int {
	w := 0
	for _, st := range p.Steps {
		w = max(w, utf8.RuneCountInString(st.ID))
	}
	return w
}

// header is the live block's first line: what runs, and how far it got.
func header(p *workflows.Progress, now time.Time) string {
	h := fmt.Sprintf("%s of %s", capitalize(string(p.Kind)), p.App)
	if p.From != "" {
		h += fmt.Sprintf(": %s → %s", p.From, p.To)
	}
	h += fmt.Sprintf(" (%s)  %s", describeRun(p), p.Status)
	if !p.Started.IsZero() && p.Ended == nil {
		h += "  " + fmtDuration(now.Sub(p.Started))
	}
	return h
}

// describeRun is a run's mode and purpose, in a few words.
func describeRun(p *workflows.Progress) string {
	parts := []string{string(p.Mode), string(p.Purpose)}
	if p.DryRun {
		parts = append(parts, "dry run")
	}
	var out []string
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

// summary sums up a closed run in a line.
func summary(p *workflows.Progress) string {
	what := fmt.Sprintf("%s of %s", capitalize(string(p.Kind)), p.App)
	if p.Kind == "" {
		what = "The run of " + p.App
	}
	switch p.Status {
	case workflows.RunCompleted:
		return fmt.Sprintf("%s completed in %s (%s → %s).",
			what, fmtDuration(p.Duration), p.From, p.To)
	case workflows.RunDryRun:
		return fmt.Sprintf("%s: dry run finished in %s; the read-only checks passed and "+
			"nothing was changed.", what, fmtDuration(p.Duration))
	case workflows.RunPreflightFailed:
		return fmt.Sprintf("%s stopped: preflight failed, nothing was changed. %s",
			what, p.Message)
	}
	msg := fmt.Sprintf("%s ended %s", what, p.Status)
	if p.Message != "" {
		msg += ": " + p.Message
	}
	return msg + "."
}

// runError is the exit status of a watched run: nil only when it
// completed, or finished its dry run.
func runError(p *workflows.Progress) error {
	switch p.Status {
	case workflows.RunCompleted, workflows.RunDryRun:
		return nil
	}
	msg := fmt.Sprintf("the %s of %s ended %s", p.Kind, p.App, p.Status)
	if p.Message != "" {
		msg += ": " + p.Message
	}
	return fmt.Errorf("%s", msg)
}

// truncate shortens s to n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
