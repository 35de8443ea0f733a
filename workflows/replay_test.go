package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

// The histories in testdata were recorded from real runs on a dev server
// (see e2e.TestRecordHistories). Replaying them proves that the current
// workflow code makes the same decisions, so workers can be upgraded while
// a failover runs. A change that breaks this needs workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	for _, name := range []string{"failover-practice.json", "failback.json"} {
		t.Run(name, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			Register(r)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil,
				filepath.Join("testdata", name)))
		})
	}
}

// incompatible-failover.json is failover-practice.json with the type of its
// first Preflight activity changed to CheckStandby, as an older, different
// workflow would have recorded it (re-make it so after recording). The
// replayer must reject it, or the test above proves nothing.
func TestReplayRejectsAnIncompatibleHistory(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	Register(r)
	err := r.ReplayWorkflowHistoryFromJSONFile(nil,
		filepath.Join("testdata", "incompatible-failover.json"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "nondeterministic")
}
