package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

func workflowOptions(name string) workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: name}
}

// Register registers drover's workflows under their documented names.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Failover, workflowOptions(FailoverWorkflowName))
	r.RegisterWorkflowWithOptions(Failback, workflowOptions(FailbackWorkflowName))
	r.RegisterWorkflowWithOptions(Capture, workflowOptions(CaptureWorkflowName))
	r.RegisterWorkflowWithOptions(Restore, workflowOptions(RestoreWorkflowName))
	r.RegisterWorkflowWithOptions(Drill, workflowOptions(DrillWorkflowName))
}
