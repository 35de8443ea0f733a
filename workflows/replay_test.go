package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// replay replays a recorded history under the workflow id it ran with:
// the failover and failback check their id, so the replayer's placeholder
// would fail.
func replay(t *testing.T, name string) error {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)

	r := worker.NewWorkflowReplayer()
	Register(r)
	id := SwitchWorkflowID("shop")
	if strings.HasPrefix(name, "drill") {
		id = DrillWorkflowID("shop")
	}
	return r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: id, RunID: "recorded"},
	})
}

// The histories in testdata were recorded from real runs on a dev server
// (see e2e.TestRecordHistories). Replaying them proves that the current
// workflow code makes the same decisions, so workers can be upgraded while
// a failover runs. A change that breaks this needs workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	var names []string
	for _, p := range paths {
		if name := filepath.Base(p); !strings.HasPrefix(name, "incompatible") {
			names = append(names, name)
		}
	}
	// The first histories, from before any workflow version, and the
	// newest ones must all be there.
	require.Subset(t, names, []string{"failover-practice.json", "failback.json",
		"failover-practice-v2.json", "failback-v2.json", "drill-v2.json"})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, replay(t, name))
		})
	}
}

// incompatible-failover.json is failover-practice.json with the type of its
// first Preflight activity changed to CheckStandby, as an older, different
// workflow would have recorded it (re-make it so after recording). The
// replayer must reject it, or the test above proves nothing.
func TestReplayRejectsAnIncompatibleHistory(t *testing.T) {
	err := replay(t, "incompatible-failover.json")
	require.Error(t, err)
	require.Contains(t, err.Error(), "nondeterministic")
}
