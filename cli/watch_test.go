package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/workflows"
)

// snapshot returns a progress with steps in the given states.
func snapshot(status workflows.RunStatus, states ...workflows.StepState) *workflows.Progress {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ids := []string{"preflight", "approve:database", "promote-database:orders"}
	p := &workflows.Progress{
		App: "shop", Kind: plan.Failover, Mode: plan.Graceful, Purpose: workflows.Practice,
		From: "us-east-1", To: "us-west-2", Status: status, Started: start,
	}
	for i, st := range states {
		sp := workflows.StepProgress{Step: plan.Step{ID: ids[i], Region: "us-west-2"}, State: st}
		if st != workflows.StepPending {
			sp.Started = &start
			sp.Attempts = 1
		}
		if st == workflows.StepSucceeded {
			sp.Duration = 1500 * time.Millisecond
		}
		if st == workflows.StepFailed {
			sp.Error = "AccessDenied: not allowed to promote"
		}
		p.Steps = append(p.Steps, sp)
	}
	return p
}

func fixedView(out *bytes.Buffer, live bool) *progressView {
	v := newProgressView(out, live, hinter{app: "shop"})
	v.now = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 3, 0, time.UTC) }
	return v
}

func TestProgressViewLines(t *testing.T) {
	var out bytes.Buffer
	v := fixedView(&out, false)

	v.update(snapshot(workflows.RunRunning,
		workflows.StepSucceeded, workflows.StepWaiting, workflows.StepPending))
	first := out.String()
	require.Contains(t, first, "12:00:03 ✓ preflight")
	require.Contains(t, first, "1.5s")
	require.Contains(t, first, "waiting-approval")
	require.Contains(t, first, "approve:database waits for approval: "+
		"drover approve --app shop --step approve:database")
	require.NotContains(t, first, "promote-database:orders", "pending steps are not news")

	// The same snapshot again adds nothing.
	v.update(snapshot(workflows.RunRunning,
		workflows.StepSucceeded, workflows.StepWaiting, workflows.StepPending))
	require.Equal(t, first, out.String())

	// A failure says how to retry, skip or abort, once.
	out.Reset()
	failed := snapshot(workflows.RunRunning,
		workflows.StepSucceeded, workflows.StepSucceeded, workflows.StepFailed)
	v.update(failed)
	v.update(failed)
	got := out.String()
	require.Contains(t, got, "✗ promote-database:orders")
	require.Contains(t, got, "AccessDenied: not allowed to promote")
	require.Equal(t, 1, strings.Count(got,
		"drover retry --app shop --step promote-database:orders"))
	require.Contains(t, got, "drover skip --app shop --step promote-database:orders")
	require.Contains(t, got, "drover abort --app shop")

	// A pause is news; the closed run's summary ends the output.
	out.Reset()
	v.update(snapshot(workflows.RunPaused,
		workflows.StepSucceeded, workflows.StepSucceeded, workflows.StepFailed))
	require.Contains(t, out.String(), "the failover of shop is paused")
	require.Contains(t, out.String(), "drover resume --app shop")

	out.Reset()
	done := snapshot(workflows.RunCompleted,
		workflows.StepSucceeded, workflows.StepSucceeded, workflows.StepSucceeded)
	done.Duration = 9 * time.Second
	v.final(done)
	require.Contains(t, out.String(), "Failover of shop completed in 9s (us-east-1 → us-west-2).")
	require.NotContains(t, out.String(), "is completed")
}

func TestProgressViewLive(t *testing.T) {
	var out bytes.Buffer
	v := fixedView(&out, true)

	v.update(snapshot(workflows.RunRunning,
		workflows.StepRunning, workflows.StepPending, workflows.StepPending))
	first := out.String()
	require.NotContains(t, first, "\x1b[", "the first drawing has nothing to replace")
	require.Contains(t, first, "Failover of shop: us-east-1 → us-west-2 (graceful, practice)"+
		"  running  3s")
	require.Contains(t, first, "▸ preflight")
	require.Contains(t, first, "· promote-database:orders")
	drawn := strings.Count(first, "\n")
	require.Equal(t, 4, drawn)

	out.Reset()
	v.update(snapshot(workflows.RunRunning,
		workflows.StepSucceeded, workflows.StepWaiting, workflows.StepPending))
	// The block is replaced in place: up to its first line, erase, redraw.
	require.True(t, strings.HasPrefix(out.String(), "\x1b[4F\x1b[J"), "%q", out.String())
	require.Contains(t, out.String(), "✓ preflight")
	require.Contains(t, out.String(), "drover approve --app shop --step approve:database")

	// A note clears the block so it is not overwritten by the next one.
	out.Reset()
	v.note("drover dev approved approve:database")
	require.True(t, strings.HasPrefix(out.String(), "\x1b[5F\x1b[J"), "%q", out.String())
	out.Reset()
	v.update(snapshot(workflows.RunRunning,
		workflows.StepSucceeded, workflows.StepSucceeded, workflows.StepRunning))
	require.NotContains(t, out.String(), "\x1b[")
}

func TestProgressViewLiveLargePlan(t *testing.T) {
	var out bytes.Buffer
	v := fixedView(&out, true)
	p := snapshot(workflows.RunRunning)
	for i := range 40 {
		st := workflows.StepProgress{State: workflows.StepPending}
		st.ID = fmt.Sprintf("scale-service:svc%02d", i)
		switch {
		case i < 25:
			st.State = workflows.StepSucceeded
		case i < 27:
			st.State = workflows.StepRunning
		}
		p.Steps = append(p.Steps, st)
	}
	v.update(p)

	// The block stays short enough to redraw: counts, and the busy steps.
	got := out.String()
	require.Contains(t, got, "40 steps: 25 succeeded, 2 running, 13 pending")
	require.Contains(t, got, "▸ scale-service:svc25")
	require.Contains(t, got, "▸ scale-service:svc26")
	require.NotContains(t, got, "svc24")
	require.NotContains(t, got, "svc27")
	require.Equal(t, 4, strings.Count(got, "\n"))
}

func TestRunError(t *testing.T) {
	for status, ok := range map[workflows.RunStatus]bool{
		workflows.RunCompleted:       true,
		workflows.RunDryRun:          true,
		workflows.RunAborted:         false,
		workflows.RunPreflightFailed: false,
		runFailed:                    false,
		runTerminated:                false,
	} {
		t.Run(string(status), func(t *testing.T) {
			p := &workflows.Progress{App: "shop", Kind: plan.Failback, Status: status,
				Message: "because"}
			err := runError(p)
			if ok {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, "the failback of shop ended "+string(status)+": because")
		})
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		name        string
		answer      string
		interactive bool
		wantErr     string
	}{
		{"yes", "y\n", true, ""},
		{"full yes", " YES \n", true, ""},
		{"no", "n\n", true, "not confirmed"},
		{"anything else", "sure\n", true, "not confirmed"},
		{"no answer", "", true, "no answer on stdin; pass --yes"},
		{"no terminal", "y\n", false, "stdin is not a terminal; pass --yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := prompter{in: strings.NewReader(tt.answer), out: &out, interactive: tt.interactive}
			err := p.confirm("Abort the failover of shop?")
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
			if tt.interactive {
				require.Contains(t, out.String(), "Abort the failover of shop? [y/N] ")
			}
		})
	}
}

func TestHintsRepeatConnectionFlags(t *testing.T) {
	h := hinter{app: "shop", conn: " --temporal-address 10.0.0.5:7233"}
	require.Equal(t, "drover retry --app shop --step verify --temporal-address 10.0.0.5:7233",
		h.cmd("retry", "--step", "verify"))
}

func TestConnFlagsRepeatOnlyWhatWasTyped(t *testing.T) {
	g := &globals{}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	g.bind(fs)
	require.NoError(t, fs.Parse([]string{"--namespace", "dr", "--temporal-api-key", "secret"}))
	g.noteConnFlags(fs)
	require.NoError(t, g.resolve(fs, fakeEnv(map[string]string{
		"DROVER_TEMPORAL_ADDRESS": "temporal.internal:7233",
	})))

	// The environment's address reaches the suggested command by itself;
	// the key must never be printed.
	require.Equal(t, " --namespace dr", g.connFlags)
	require.Equal(t, "temporal.internal:7233", g.temporalAddress)
}

func TestWriteStarted(t *testing.T) {
	p := &plan.Plan{Steps: []*plan.Step{
		{ID: "preflight", Kind: plan.StepPreflight},
		{ID: "approve:database", Kind: plan.StepApproval},
	}}
	ref := runRef{App: "shop", Kind: plan.Failover, WorkflowID: "drover-switch-shop", RunID: "r1"}
	var out bytes.Buffer
	require.NoError(t, writeStarted(&out, ref, "failover shop a → b (graceful, practice)", p,
		hinter{app: "shop"}))
	got := out.String()
	require.Contains(t, got, "Started failover shop a → b (graceful, practice)\n")
	require.Contains(t, got, "workflow id  drover-switch-shop\n")
	require.Contains(t, got, "run id       r1\n")
	require.Contains(t, got, "drover status --app shop --watch\n")
	require.Contains(t, got, "drover approve --app shop   (it waits at approve:database)\n")
	require.Contains(t, got, "drover abort --app shop\n")
}
