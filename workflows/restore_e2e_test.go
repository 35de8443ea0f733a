package workflows_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/infra/awsconfig"
	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/infra/devserver"
	"github.com/drover-dev/drover/infra/sandbox"
	"github.com/drover-dev/drover/workflows"
)

// TestCaptureAndRestoreEndToEnd runs Capture and Restore on a real dev
// server, with workers that hold a SQLite ledger, against the simulated
// regions seeded with the example: it captures the shop, loses a service
// and restores it from the capture, then restores the orders database from
// its latest snapshot into a scratch instance, and deletes that again.
func TestCaptureAndRestoreEndToEnd(t *testing.T) {
	const east = "us-east-1"
	temporal := devserver.StartForTest(t)
	p := awssim.DefaultProfile()
	p.TimeScale = 600
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Options{
		Topology: "../examples/shop.yaml", WorkDir: t.TempDir(), SimAddr: "127.0.0.1:0",
		Profile: &p, Client: temporal.Client(), NoWorkers: true,
	})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	sb.WorkerCfg.LedgerDSN = filepath.Join(t.TempDir(), "ledger.db")
	require.NoError(t, sb.StartWorkers(ctx))

	execute := func(id, wf string, in, out any) error {
		run, err := sb.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: activities.WorkflowTaskQueue,
		}, wf, in)
		require.NoError(t, err)
		return run.Get(ctx, out)
	}

	var sum workflows.CaptureSummary
	require.NoError(t, execute(workflows.CaptureWorkflowID("shop"),
		workflows.CaptureWorkflowName, workflows.CaptureInput{App: "shop"}, &sum))
	captured := map[string]bool{}
	for _, c := range sum.Captured {
		captured[c.Kind+" "+c.Region+" "+c.Name] = true
	}
	for _, want := range []string{
		"ecs-service us-east-1 shop/web", "ecs-service us-west-2 shop/shop-checkout",
		"route53-zone global shop.example.com.",
	} {
		require.True(t, captured[want], "%s not captured; failed: %+v", want, sum.Failed)
	}
	require.Empty(t, sum.Failed, "every component is captured")
	kinds := map[string]bool{}
	for _, c := range sum.Captured {
		kinds[c.Kind] = true
	}
	require.True(t, kinds[activities.CaptureRDSInstance] && kinds[activities.CaptureRDSCluster],
		"database settings are captured too: %+v", sum.Captured)

	t.Run("a lost service comes back from its capture", func(t *testing.T) {
		cfg, err := awsconfig.Load(ctx, awsconfig.Options{Region: east, Endpoint: sb.Sim.URL,
			StaticCredentials: true})
		require.NoError(t, err)
		before := service(sb, east, "web")
		_, err = ecs.NewFromConfig(cfg).DeleteService(ctx, &ecs.DeleteServiceInput{
			Cluster: aws.String("shop"), Service: aws.String("web"), Force: aws.Bool(true)})
		require.NoError(t, err)

		var res workflows.RestoreResult
		in := workflows.RestoreInput{App: "shop", Component: "web", Region: east,
			RequestedBy: "e2e"}
		id := workflows.RestoreWorkflowID("shop", "web", east)
		require.NoError(t, execute(id, workflows.RestoreWorkflowName, in, &res))
		require.Equal(t, workflows.RestoreCompleted, res.Status)
		require.False(t, res.AlreadyDone)
		require.Positive(t, res.Duration)

		after := service(sb, east, "web")
		require.Equal(t, "ACTIVE", after.Status)
		require.Equal(t, before.DesiredCount, after.DesiredCount)
		require.Equal(t, after.DesiredCount, after.RunningCount)
		require.Equal(t, before.TaskDefinition, after.TaskDefinition)

		var again workflows.RestoreResult
		require.NoError(t, execute(id, workflows.RestoreWorkflowName, in, &again))
		require.True(t, again.AlreadyDone)
	})

	t.Run("orders restored into a scratch instance and deleted", func(t *testing.T) {
		var res workflows.RestoreResult
		require.NoError(t, execute(workflows.RestoreWorkflowID("shop", "orders", east),
			workflows.RestoreWorkflowName, workflows.RestoreInput{App: "shop",
				Component: "orders", Region: east, TargetID: "shop-orders-scratch"}, &res))
		require.Equal(t, workflows.RestoreCompleted, res.Status)
		require.NotEmpty(t, res.SnapshotID)
		require.Equal(t, "live", res.SettingsFrom)
		require.Contains(t, res.Verified, "shop-orders-scratch")
		require.True(t, res.HealthyAt.After(*res.ActionStarted))

		st := sb.Sim.Sim.Snapshot()
		scratch, orders := instance(st, east, "shop-orders-scratch"),
			instance(st, east, "shop-orders")
		require.NotNil(t, scratch)
		require.Equal(t, "available", scratch.Status)
		require.Equal(t, orders.SubnetGroup, scratch.SubnetGroup)
		require.Equal(t, orders.SecurityGroups, scratch.SecurityGroups)
		require.Equal(t, orders.ParameterGroup, scratch.ParameterGroup)
		require.Equal(t, orders.Class, scratch.Class)
		require.Equal(t, orders.MultiAZ, scratch.MultiAZ)

		// The scratch instance goes as a drill's cleanup would remove it.
		var del activities.StepResult
		runActivity(t, sb, east, activities.DeleteDatabaseName, activities.DeleteDatabaseInput{
			Region: east, InstanceID: "shop-orders-scratch",
			LiveIDs: activities.LiveDatabaseIDs(sb.Topology),
		}, &del)
		require.False(t, del.AlreadyDone)
		require.Nil(t, instance(sb.Sim.Sim.Snapshot(), east, "shop-orders-scratch"))
	})
}

// runActivity runs one activity of region against the sandbox's simulator.
func runActivity(t *testing.T, sb *sandbox.Sandbox, region, name string, in, out any) {
	t.Helper()
	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{Region: region,
		Endpoint: sb.Sim.URL, StaticCredentials: true})
	require.NoError(t, err)
	cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	activities.NewRegion(activities.Config{Region: region, PollInterval: 20 * time.Millisecond},
		activities.NewClients(cfg)).Register(env)
	val, err := env.ExecuteActivity(name, in)
	require.NoError(t, err)
	require.NoError(t, val.Get(out))
}

func service(sb *sandbox.Sandbox, region, name string) awssim.ECSServiceState {
	for _, s := range sb.Sim.Sim.Snapshot().Regions[region].ECS.Services {
		if s.Name == name {
			return s
		}
	}
	return awssim.ECSServiceState{}
}

func instance(st awssim.State, region, id string) *awssim.RDSInstanceState {
	for _, i := range st.Regions[region].RDS.Instances {
		if i.ID == id {
			return &i
		}
	}
	return nil
}
