package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/drover-dev/drover/workflows"
)

// TestRecordHistories writes the histories that the workflows' replay test
// replays. It runs only when asked, after a change to the workflows that
// is meant to be compatible has been made safe with versioning; the value
// tags the files, so histories of earlier versions stay and keep being
// replayed:
//
//	DROVER_RECORD_HISTORIES=v3 go test ./e2e -run TestRecordHistories
func TestRecordHistories(t *testing.T) {
	tag := os.Getenv("DROVER_RECORD_HISTORIES")
	if tag == "" {
		t.Skip("set DROVER_RECORD_HISTORIES=<tag> to record new replay histories")
	}
	sb := startSandbox(t, 600)
	ctx := context.Background()

	// A failover that waits for its approval, approved through the
	// update, so the history holds an update too.
	run := start(t, sb, workflows.FailoverWorkflowName, workflows.SwitchInput{
		App: "shop", To: standby, Purpose: workflows.Practice, RequestedBy: "recorder",
	})
	require.Eventually(t, func() bool {
		h, err := sb.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: run.GetID(), RunID: run.GetRunID(),
			UpdateName:   workflows.UpdateApprove,
			Args:         []any{workflows.ApproveRequest{By: "recorder"}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		return err == nil && h.Get(ctx, nil) == nil
	}, time.Minute, 50*time.Millisecond)
	p := result(t, run, 2*time.Minute)
	require.Equal(t, workflows.RunCompleted, p.Status)
	save(t, sb.Client, run, "failover-practice-"+tag+".json")

	run = start(t, sb, workflows.FailbackWorkflowName, workflows.SwitchInput{
		App: "shop", SkipApprovals: true, RequestedBy: "recorder",
	})
	p = result(t, run, 3*time.Minute)
	require.Equal(t, workflows.RunCompleted, p.Status)
	save(t, sb.Client, run, "failback-"+tag+".json")

	drill := startDrill(t, sb.Client, workflows.DrillInput{
		App: "shop", SkipApprovals: true, RequestedBy: "recorder",
		Restore: &workflows.RestoreExercise{Database: "orders"},
	})
	ctx3, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	require.NoError(t, drill.Get(ctx3, nil))
	save(t, sb.Client, drill, "drill-"+tag+".json")
}

func save(t *testing.T, c client.Client, run client.WorkflowRun, name string) {
	t.Helper()
	iter := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(),
		false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, e)
	}
	out, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	require.NoError(t, err)
	path := filepath.Join("..", "workflows", "testdata", name)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, out, 0o644))
	t.Logf("wrote %s: %d events", path, len(h.Events))
}
