package awssim_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/infra/awssim"
)

const ecsTestRegion = "us-east-1"

// ecsClient returns an ECS client for region that retries up to
// maxAttempts times with short backoffs, so retry tests stay fast.
func ecsClient(t *testing.T, srv *awssim.Server, region string,
	maxAttempts int) *ecs.Client {
	t.Helper()
	return ecs.NewFromConfig(awsConfig(t, srv, region, maxAttempts), func(o *ecs.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, 5*time.Millisecond)
	})
}

// ecsExactProfile is fastProfile without jitter, so that schedules can be
// computed exactly.
func ecsExactProfile(scale float64) *awssim.Profile {
	p := awssim.DefaultProfile()
	p.TimeScale = scale
	p.Jitter = 0
	return &p
}

// ecsFixture creates a cluster and registers revision 1 of family "web".
func ecsFixture(t *testing.T, client *ecs.Client, cluster string) string {
	t.Helper()
	ctx := context.Background()
	_, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)})
	require.NoError(t, err)
	return ecsRegisterWeb(t, client)
}

func ecsRegisterWeb(t *testing.T, client *ecs.Client) string {
	t.Helper()
	out, err := client.RegisterTaskDefinition(context.Background(),
		&ecs.RegisterTaskDefinitionInput{
			Family: aws.String("web"),
			ContainerDefinitions: []types.ContainerDefinition{{
				Name: aws.String("web"), Image: aws.String("nginx:1.27"), Memory: aws.Int32(256),
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}},
			}},
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			NetworkMode:             types.NetworkModeAwsvpc,
			Cpu:                     aws.String("256"), Memory: aws.String("512"),
		})
	require.NoError(t, err)
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func ecsCreateService(t *testing.T, client *ecs.Client, cluster, name string,
	desired int32) types.Service {
	t.Helper()
	out, err := client.CreateService(context.Background(), &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(name),
		TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(desired),
		LaunchType: types.LaunchTypeFargate,
	})
	require.NoError(t, err)
	return *out.Service
}

func ecsDescribeOne(t *testing.T, client *ecs.Client, cluster, name string) types.Service {
	t.Helper()
	out, err := client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{
		Cluster: aws.String(cluster), Services: []string{name},
	})
	require.NoError(t, err)
	require.Empty(t, out.Failures)
	require.Len(t, out.Services, 1)
	return out.Services[0]
}

// ecsSteadyAt returns the time the simulator recorded id as steady,
// waiting for it to be recorded.
func ecsSteadyAt(t *testing.T, srv *awssim.Server, id string) time.Time {
	t.Helper()
	var at time.Time
	require.Eventually(t, func() bool {
		for _, e := range srv.Sim.Events(time.Time{}) {
			if e.Service == awssim.ServiceECS && e.ID == id && e.State == "steady" {
				at = e.At
				return true
			}
		}
		return false
	}, 5*time.Second, 2*time.Millisecond, "no steady event for %s", id)
	return at
}

func TestECSResources(t *testing.T) {
	srv := startSim(t, fastProfile())
	client := ecsClient(t, srv, ecsTestRegion, 1)
	ctx := context.Background()
	rev1 := ecsFixture(t, client, "prod")
	rev2 := ecsRegisterWeb(t, client)
	require.True(t, strings.HasSuffix(rev1, ":task-definition/web:1"), rev1)
	require.True(t, strings.HasSuffix(rev2, ":task-definition/web:2"), rev2)

	t.Run("task definitions by family, revision and ARN", func(t *testing.T) {
		for ref, want := range map[string]string{"web": rev2, "web:1": rev1, rev1: rev1} {
			out, err := client.DescribeTaskDefinition(ctx,
				&ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
			require.NoError(t, err, ref)
			require.Equal(t, want, aws.ToString(out.TaskDefinition.TaskDefinitionArn), ref)
			require.Equal(t, "web", aws.ToString(out.TaskDefinition.Family))
			require.Len(t, out.TaskDefinition.ContainerDefinitions, 1)
			require.Equal(t, "nginx:1.27",
				aws.ToString(out.TaskDefinition.ContainerDefinitions[0].Image))
		}
		_, err := client.DescribeTaskDefinition(ctx,
			&ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:3")})
		var ce *types.ClientException
		require.ErrorAs(t, err, &ce)
	})

	t.Run("clusters", func(t *testing.T) {
		// Creating a cluster again returns the one that exists.
		again, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})
		require.NoError(t, err)
		out, err := client.DescribeClusters(ctx, &ecs.DescribeClustersInput{
			Clusters: []string{aws.ToString(again.Cluster.ClusterArn), "nope"},
		})
		require.NoError(t, err)
		require.Len(t, out.Clusters, 1)
		require.Equal(t, "prod", aws.ToString(out.Clusters[0].ClusterName))
		require.Equal(t, "ACTIVE", aws.ToString(out.Clusters[0].Status))
		require.Len(t, out.Failures, 1)
		require.Equal(t, "MISSING", aws.ToString(out.Failures[0].Reason))
		require.True(t, strings.HasSuffix(aws.ToString(out.Failures[0].Arn), ":cluster/nope"))
	})

	svc := ecsCreateService(t, client, "prod", "api", 2)
	require.Equal(t, "ACTIVE", aws.ToString(svc.Status))
	require.Equal(t, rev2, aws.ToString(svc.TaskDefinition), "a family means its latest revision")
	require.Equal(t, int32(2), svc.DesiredCount)
	require.Len(t, svc.Deployments, 1)
	require.Equal(t, "PRIMARY", aws.ToString(svc.Deployments[0].Status))
	require.Equal(t, types.DeploymentRolloutStateInProgress, svc.Deployments[0].RolloutState)
	require.Equal(t, types.LaunchTypeFargate, svc.LaunchType)
	require.WithinDuration(t, time.Now(), aws.ToTime(svc.CreatedAt), 5*time.Second)

	t.Run("describe by name and ARN, missing ones as failures", func(t *testing.T) {
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster:  aws.String("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
			Services: []string{"api", aws.ToString(svc.ServiceArn), "ghost"},
		})
		require.NoError(t, err)
		require.Len(t, out.Services, 2)
		for _, s := range out.Services {
			require.Equal(t, svc.ServiceArn, s.ServiceArn)
			require.Equal(t, svc.ClusterArn, s.ClusterArn)
		}
		require.Len(t, out.Failures, 1)
		require.Equal(t, "MISSING", aws.ToString(out.Failures[0].Reason))
		require.Equal(t, "arn:aws:ecs:us-east-1:123456789012:service/prod/ghost",
			aws.ToString(out.Failures[0].Arn))
	})

	t.Run("describe rejects more than ten and none", func(t *testing.T) {
		names := make([]string, 11)
		for i := range names {
			names[i] = fmt.Sprintf("s%d", i)
		}
		for _, list := range [][]string{names, {}} {
			_, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{
				Cluster: aws.String("prod"), Services: list,
			})
			var ipe *types.InvalidParameterException
			require.ErrorAs(t, err, &ipe, "%d services", len(list))
		}
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String("prod"), Services: names[:10],
		})
		require.NoError(t, err)
		require.Len(t, out.Failures, 10)
	})

	t.Run("snapshot", func(t *testing.T) {
		st := srv.Sim.Snapshot().Regions[ecsTestRegion].ECS
		require.Equal(t, []string{"prod"}, st.Clusters)
		require.Equal(t, []string{rev1, rev2}, st.TaskDefinitions)
		require.Len(t, st.Services, 1)
		require.Equal(t, "prod", st.Services[0].Cluster)
		require.Equal(t, "api", st.Services[0].Name)
		require.Equal(t, aws.ToString(svc.ServiceArn), st.Services[0].Arn)
		require.Equal(t, rev2, st.Services[0].TaskDefinition)
		require.Equal(t, 2, st.Services[0].DesiredCount)
	})
}

func TestECSErrors(t *testing.T) {
	srv := startSim(t, fastProfile())
	client := ecsClient(t, srv, ecsTestRegion, 1)
	ctx := context.Background()
	ecsFixture(t, client, "prod")
	ecsCreateService(t, client, "prod", "api", 1)
	ecsCreateService(t, client, "prod", "gone", 0)
	_, err := client.DeleteService(ctx, &ecs.DeleteServiceInput{
		Cluster: aws.String("prod"), Service: aws.String("gone"),
	})
	require.NoError(t, err)

	var (
		clusterNotFound *types.ClusterNotFoundException
		serviceNotFound *types.ServiceNotFoundException
		notActive       *types.ServiceNotActiveException
		invalid         *types.InvalidParameterException
		clientErr       *types.ClientException
	)
	tests := []struct {
		name string
		call func() error
		want any
	}{
		{"unknown cluster", func() error {
			_, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{
				Cluster: aws.String("nope"), Services: []string{"api"}})
			return err
		}, &clusterNotFound},
		{"unknown service", func() error {
			_, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{
				Cluster: aws.String("prod"), Service: aws.String("ghost"), DesiredCount: aws.Int32(1)})
			return err
		}, &serviceNotFound},
		{"deleted service", func() error {
			_, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{
				Cluster: aws.String("prod"), Service: aws.String("gone"), DesiredCount: aws.Int32(1)})
			return err
		}, &notActive},
		{"conflicting create", func() error {
			_, err := client.CreateService(ctx, &ecs.CreateServiceInput{
				Cluster: aws.String("prod"), ServiceName: aws.String("api"),
				TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(5)})
			return err
		}, &invalid},
		{"create without desired count", func() error {
			_, err := client.CreateService(ctx, &ecs.CreateServiceInput{
				Cluster: aws.String("prod"), ServiceName: aws.String("x"),
				TaskDefinition: aws.String("web")})
			return err
		}, &invalid},
		{"bad service name", func() error {
			_, err := client.CreateService(ctx, &ecs.CreateServiceInput{
				Cluster: aws.String("prod"), ServiceName: aws.String("no spaces"),
				TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1)})
			return err
		}, &invalid},
		{"unknown task definition", func() error {
			_, err := client.CreateService(ctx, &ecs.CreateServiceInput{
				Cluster: aws.String("prod"), ServiceName: aws.String("x"),
				TaskDefinition: aws.String("worker:1"), DesiredCount: aws.Int32(1)})
			return err
		}, &clientErr},
		{"empty container list", func() error {
			_, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
				Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{}})
			return err
		}, &clientErr},
		{"delete while scaled above zero", func() error {
			_, err := client.DeleteService(ctx, &ecs.DeleteServiceInput{
				Cluster: aws.String("prod"), Service: aws.String("api")})
			return err
		}, &invalid},
		{"negative desired count", func() error {
			_, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{
				Cluster: aws.String("prod"), Service: aws.String("api"), DesiredCount: aws.Int32(-1)})
			return err
		}, &invalid},
		{"page size out of range", func() error {
			_, err := client.ListServices(ctx, &ecs.ListServicesInput{
				Cluster: aws.String("prod"), MaxResults: aws.Int32(101)})
			return err
		}, &invalid},
		{"forged page token", func() error {
			_, err := client.ListServices(ctx, &ecs.ListServicesInput{
				Cluster: aws.String("prod"), NextToken: aws.String("!!")})
			return err
		}, &invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			require.ErrorAs(t, err, tt.want)
		})
	}
}

func TestECSCreateServiceIdempotency(t *testing.T) {
	srv := startSim(t, fastProfile())
	client := ecsClient(t, srv, ecsTestRegion, 1)
	ctx := context.Background()
	ecsFixture(t, client, "prod")

	in := func(token string) *ecs.CreateServiceInput {
		return &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("api"),
			TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1),
			ClientToken: aws.String(token),
		}
	}
	first, err := client.CreateService(ctx, in("token-1"))
	require.NoError(t, err)
	again, err := client.CreateService(ctx, in("token-1"))
	require.NoError(t, err, "an identical retry returns the service")
	require.Equal(t, first.Service.ServiceArn, again.Service.ServiceArn)
	require.Equal(t, first.Service.CreatedAt, again.Service.CreatedAt)

	_, err = client.CreateService(ctx, in("token-2"))
	var ipe *types.InvalidParameterException
	require.ErrorAs(t, err, &ipe)
	require.Contains(t, ipe.ErrorMessage(), "not idempotent")

	// Deleted, the name is taken while the service drains and free once it
	// is INACTIVE.
	_, err = client.DeleteService(ctx, &ecs.DeleteServiceInput{
		Cluster: aws.String("prod"), Service: aws.String("api"), Force: aws.Bool(true)})
	require.NoError(t, err)
	_, err = client.CreateService(ctx, in("token-3"))
	require.ErrorAs(t, err, &ipe)
	require.Contains(t, ipe.ErrorMessage(), "Draining")
	require.Eventually(t, func() bool {
		_, err = client.CreateService(ctx, in("token-3"))
		return err == nil
	}, 5*time.Second, 5*time.Millisecond)
	svc := ecsDescribeOne(t, client, "prod", "api")
	require.Equal(t, "ACTIVE", aws.ToString(svc.Status))
}

func TestECSListServicesPagination(t *testing.T) {
	srv := startSim(t, fastProfile())
	client := ecsClient(t, srv, ecsTestRegion, 1)
	ctx := context.Background()
	ecsFixture(t, client, "prod")
	ecsFixture(t, client, "other")
	want := map[string]bool{}
	for i := range 25 {
		svc := ecsCreateService(t, client, "prod", fmt.Sprintf("svc-%02d", 24-i), 0)
		want[aws.ToString(svc.ServiceArn)] = true
	}
	ecsCreateService(t, client, "other", "elsewhere", 0)

	t.Run("pages of ten", func(t *testing.T) {
		seen := map[string]int{}
		var sizes []int
		p := ecs.NewListServicesPaginator(client,
			&ecs.ListServicesInput{Cluster: aws.String("prod")},
			func(o *ecs.ListServicesPaginatorOptions) { o.Limit = 10 })
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			require.NoError(t, err)
			sizes = append(sizes, len(page.ServiceArns))
			for _, arn := range page.ServiceArns {
				seen[arn]++
			}
		}
		require.Equal(t, []int{10, 10, 5}, sizes)
		require.Len(t, seen, 25)
		for arn, n := range seen {
			require.True(t, want[arn], "foreign service %s", arn)
			require.Equal(t, 1, n, "service %s listed %d times", arn, n)
		}
	})

	t.Run("default page size", func(t *testing.T) {
		out, err := client.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("prod")})
		require.NoError(t, err)
		require.Len(t, out.ServiceArns, 10)
		require.NotNil(t, out.NextToken)
	})

	t.Run("deleted services leave the listing", func(t *testing.T) {
		_, err := client.DeleteService(ctx, &ecs.DeleteServiceInput{
			Cluster: aws.String("prod"), Service: aws.String("svc-00")})
		require.NoError(t, err)
		out, err := client.ListServices(ctx, &ecs.ListServicesInput{
			Cluster: aws.String("prod"), MaxResults: aws.Int32(100)})
		require.NoError(t, err)
		require.Len(t, out.ServiceArns, 24)
		require.Nil(t, out.NextToken)
	})
}

func TestECSServicesStableWaiter(t *testing.T) {
	srv := startSim(t, fastProfile())
	client := ecsClient(t, srv, ecsTestRegion, 1)
	ecsFixture(t, client, "prod")
	for _, name := range []string{"a", "b", "c"} {
		ecsCreateService(t, client, "prod", name, 3)
	}

	in := &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"a", "b", "c"}}
	w := ecs.NewServicesStableWaiter(client, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
	})
	require.NoError(t, w.Wait(context.Background(), in, 5*time.Second))

	out, err := client.DescribeServices(context.Background(), in)
	require.NoError(t, err)
	for _, s := range out.Services {
		require.Equal(t, int32(3), s.RunningCount)
		require.Equal(t, int32(0), s.PendingCount)
		require.Len(t, s.Deployments, 1)
		require.Equal(t, types.DeploymentRolloutStateCompleted, s.Deployments[0].RolloutState)
		require.NotEmpty(t, s.Events)
		require.Contains(t, aws.ToString(s.Events[0].Message), "steady state")
	}
}

func TestECSDeploymentOverTime(t *testing.T) {
	// Slow enough for a poll to see each step: tasks start in 300 ms,
	// 20 ms apart, and stop in 150 ms.
	srv := startSim(t, ecsExactProfile(100))
	client := ecsClient(t, srv, ecsTestRegion, 1)
	ctx := context.Background()
	ecsFixture(t, client, "prod")
	ecsCreateService(t, client, "prod", "api", 5)

	t.Run("running count climbs task by task", func(t *testing.T) {
		var seen []int32
		require.Eventually(t, func() bool {
			s := ecsDescribeOne(t, client, "prod", "api")
			if n := len(seen); n == 0 || seen[n-1] != s.RunningCount {
				seen = append(seen, s.RunningCount)
			}
			require.LessOrEqual(t, s.RunningCount+s.PendingCount, int32(5))
			return s.RunningCount == 5
		}, 5*time.Second, time.Millisecond)
		for i := 1; i < len(seen); i++ {
			require.Greater(t, seen[i], seen[i-1], "running counts %v", seen)
		}
		require.GreaterOrEqual(t, len(seen), 4, "the ramp skipped steps: %v", seen)
	})

	t.Run("new task definition rolls with two deployments", func(t *testing.T) {
		rev2 := ecsRegisterWeb(t, client)
		out, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster: aws.String("prod"), Service: aws.String("api"), TaskDefinition: aws.String(rev2)})
		require.NoError(t, err)
		deps := out.Service.Deployments
		require.Len(t, deps, 2)
		require.Equal(t, "PRIMARY", aws.ToString(deps[0].Status))
		require.Equal(t, rev2, aws.ToString(deps[0].TaskDefinition))
		require.Equal(t, "ACTIVE", aws.ToString(deps[1].Status))
		require.Equal(t, int32(5), deps[1].RunningCount)
		require.Equal(t, rev2, aws.ToString(out.Service.TaskDefinition))

		sawBoth := false
		require.Eventually(t, func() bool {
			s := ecsDescribeOne(t, client, "prod", "api")
			if len(s.Deployments) == 2 && s.Deployments[0].RunningCount > 0 &&
				s.Deployments[1].RunningCount > 0 {
				sawBoth = true
			}
			return len(s.Deployments) == 1
		}, 5*time.Second, time.Millisecond)
		require.True(t, sawBoth, "never saw old and new tasks running side by side")

		s := ecsDescribeOne(t, client, "prod", "api")
		require.Equal(t, rev2, aws.ToString(s.Deployments[0].TaskDefinition))
		require.Equal(t, int32(5), s.RunningCount)
		require.Equal(t, types.DeploymentRolloutStateCompleted, s.Deployments[0].RolloutState)
	})

	t.Run("scaling in stops tasks after the stop time", func(t *testing.T) {
		start := time.Now()
		out, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster: aws.String("prod"), Service: aws.String("api"), DesiredCount: aws.Int32(2)})
		require.NoError(t, err)
		require.Len(t, out.Service.Deployments, 1, "a new count alone starts no deployment")
		require.Equal(t, int32(2), out.Service.DesiredCount)
		require.Equal(t, int32(5), out.Service.RunningCount, "stopping tasks still run")
		require.Eventually(t, func() bool {
			return ecsDescribeOne(t, client, "prod", "api").RunningCount == 2
		}, 5*time.Second, time.Millisecond)
		require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	})
}

func TestECSSteadyEventTime(t *testing.T) {
	tests := []struct {
		name    string
		desired int32
	}{
		{"one task", 1},
		{"four tasks", 4},
		{"no task", 0},
	}
	srv := startSim(t, ecsExactProfile(600))
	client := ecsClient(t, srv, ecsTestRegion, 1)
	ecsFixture(t, client, "prod")
	p := srv.Sim.Profile()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := strings.ReplaceAll(tt.name, " ", "-")
			svc := ecsCreateService(t, client, "prod", name, tt.desired)
			want := aws.ToTime(svc.CreatedAt)
			if tt.desired > 0 {
				want = want.Add(time.Duration(tt.desired-1)*p.Scaled(p.ECSTaskStagger) +
					p.Scaled(p.ECSTaskStart))
			}
			// Read well after the scheduled time: a lazily advanced service
			// must still report when it became steady, not when it was read.
			time.Sleep(time.Until(want.Add(20 * time.Millisecond)))
			at := ecsSteadyAt(t, srv, "prod/"+name)
			// The wire carries milliseconds; allow for that and rounding.
			require.WithinDuration(t, want, at, 2*time.Millisecond)
		})
	}
}

func TestECSTimeScale(t *testing.T) {
	// The same deployment at twice the scale is scheduled to take half as
	// long: compare what the simulators recorded, not wall clocks.
	took := map[float64]time.Duration{}
	for _, scale := range []float64{300, 600} {
		srv := startSim(t, ecsExactProfile(scale))
		client := ecsClient(t, srv, ecsTestRegion, 1)
		ecsFixture(t, client, "prod")
		svc := ecsCreateService(t, client, "prod", "api", 6)
		w := ecs.NewServicesStableWaiter(client, func(o *ecs.ServicesStableWaiterOptions) {
			o.MinDelay, o.MaxDelay = 30*time.Millisecond, 30*time.Millisecond
		})
		require.NoError(t, w.Wait(context.Background(), &ecs.DescribeServicesInput{
			Cluster: aws.String("prod"), Services: []string{"api"}}, 5*time.Second))
		took[scale] = ecsSteadyAt(t, srv, "prod/api").Sub(aws.ToTime(svc.CreatedAt))
	}
	// At 300: 5 staggers of 6.7 ms and a start of 100 ms.
	require.InDelta(t, 133, took[300].Milliseconds(), 2)
	require.InDelta(t, 2, float64(took[300])/float64(took[600]), 0.05, "took %v", took)
}

func TestECSTasksNeverStart(t *testing.T) {
	srv := startSim(t, fastProfile())
	client := ecsClient(t, srv, ecsTestRegion, 1)
	ecsFixture(t, client, "prod")
	f, err := srv.Sim.AddFault(awssim.Fault{
		Kind: awssim.FaultResource, ResourceFault: awssim.TasksNeverStart,
		Region: ecsTestRegion, Service: awssim.ServiceECS, Resource: "prod/stuck",
	})
	require.NoError(t, err)
	ecsCreateService(t, client, "prod", "stuck", 2)
	ecsCreateService(t, client, "prod", "fine", 2)

	// Well past the time the tasks would take, the healthy service has
	// started and the faulted one still has none running.
	require.Eventually(t, func() bool {
		return ecsDescribeOne(t, client, "prod", "fine").RunningCount == 2
	}, 5*time.Second, time.Millisecond)
	deadline := time.Now().Add(6 * srv.Sim.Profile().Scaled(awssim.DefaultProfile().ECSTaskStart))
	for time.Now().Before(deadline) {
		s := ecsDescribeOne(t, client, "prod", "stuck")
		require.Equal(t, int32(0), s.RunningCount)
		require.Positive(t, s.PendingCount)
		time.Sleep(5 * time.Millisecond)
	}

	require.NoError(t, srv.Sim.RemoveFault(f.ID))
	require.Eventually(t, func() bool {
		return ecsDescribeOne(t, client, "prod", "stuck").RunningCount == 2
	}, 5*time.Second, time.Millisecond)
	ecsSteadyAt(t, srv, "prod/stuck")
}

func TestECSDeleteService(t *testing.T) {
	srv := startSim(t, fastProfile())
	client := ecsClient(t, srv, ecsTestRegion, 1)
	ctx := context.Background()
	ecsFixture(t, client, "prod")
	ecsCreateService(t, client, "prod", "api", 2)
	require.Eventually(t, func() bool {
		return ecsDescribeOne(t, client, "prod", "api").RunningCount == 2
	}, 5*time.Second, time.Millisecond)

	out, err := client.DeleteService(ctx, &ecs.DeleteServiceInput{
		Cluster: aws.String("prod"), Service: aws.String("api"), Force: aws.Bool(true)})
	require.NoError(t, err)
	require.Equal(t, "DRAINING", aws.ToString(out.Service.Status))
	require.Equal(t, int32(0), out.Service.DesiredCount)

	w := ecs.NewServicesStableWaiter(client, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
	})
	err = w.Wait(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String("prod"), Services: []string{"api"}}, time.Second)
	require.ErrorContains(t, err, "Failure", "a draining service is never stable")

	require.Eventually(t, func() bool {
		return aws.ToString(ecsDescribeOne(t, client, "prod", "api").Status) == "INACTIVE"
	}, 5*time.Second, time.Millisecond)
	s := ecsDescribeOne(t, client, "prod", "api")
	require.Equal(t, int32(0), s.RunningCount)
}

// ecsAddFault sets a fault through the control API and lifts it when the
// test ends.
func ecsAddFault(t *testing.T, ctl *awssim.Control, f awssim.Fault) awssim.Fault {
	t.Helper()
	got, err := ctl.AddFault(context.Background(), f)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ctl.RemoveFault(context.Background(), got.ID) })
	return got
}

func ecsCallCount(t *testing.T, ctl *awssim.Control, region, op string) int64 {
	t.Helper()
	calls, err := ctl.Calls(context.Background())
	require.NoError(t, err)
	for _, c := range calls {
		if c.Region == region && c.Service == awssim.ServiceECS && c.Operation == op {
			return c.Count
		}
	}
	return 0
}

func TestECSFaults(t *testing.T) {
	srv := startSim(t, fastProfile())
	ctl := awssim.NewControl(srv.URL)
	ctx := context.Background()
	client := ecsClient(t, srv, ecsTestRegion, 1)
	retrying := ecsClient(t, srv, ecsTestRegion, 3)
	ecsFixture(t, client, "prod")
	list := &ecs.ListServicesInput{Cluster: aws.String("prod")}

	t.Run("blackout refuse", func(t *testing.T) {
		ecsAddFault(t, ctl, awssim.Fault{Kind: awssim.FaultBlackout, Region: ecsTestRegion,
			Mode: awssim.BlackoutRefuse})
		_, err := client.ListServices(ctx, list)
		require.Error(t, err)
		var apiErr smithy.APIError
		require.False(t, errors.As(err, &apiErr), "a refused connection has no AWS error: %v", err)

		other := ecsClient(t, srv, "eu-west-1", 1)
		_, err = other.ListServices(ctx, list)
		var cnf *types.ClusterNotFoundException
		require.ErrorAs(t, err, &cnf, "another region still answers")
	})

	t.Run("blackout hang", func(t *testing.T) {
		f := ecsAddFault(t, ctl, awssim.Fault{Kind: awssim.FaultBlackout, Region: ecsTestRegion,
			Service: awssim.ServiceECS, Mode: awssim.BlackoutHang})
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := client.ListServices(short, list)
		require.Error(t, err)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 2*time.Second)

		// A call held by the blackout goes through once it is lifted.
		before := ecsCallCount(t, ctl, ecsTestRegion, "ListServices")
		done := make(chan error, 1)
		go func() {
			long, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, err := client.ListServices(long, list)
			done <- err
		}()
		require.Eventually(t, func() bool {
			return ecsCallCount(t, ctl, ecsTestRegion, "ListServices") > before
		}, 2*time.Second, time.Millisecond)
		select {
		case err := <-done:
			t.Fatalf("the call returned during the blackout: %v", err)
		default:
		}
		require.NoError(t, ctl.RemoveFault(ctx, f.ID))
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(3 * time.Second):
			t.Fatal("the held call was not released")
		}
	})

	t.Run("blackout unavailable is retried", func(t *testing.T) {
		ecsAddFault(t, ctl, awssim.Fault{Kind: awssim.FaultBlackout, Region: ecsTestRegion,
			Service: awssim.ServiceECS, Mode: awssim.BlackoutUnavailable})
		require.NoError(t, ctl.ResetCalls(ctx))
		_, err := retrying.ListServices(ctx, list)
		var re *awshttp.ResponseError
		require.ErrorAs(t, err, &re)
		require.Equal(t, http.StatusServiceUnavailable, re.HTTPStatusCode())
		require.Equal(t, int64(3), ecsCallCount(t, ctl, ecsTestRegion, "ListServices"))
	})

	t.Run("error rate with a chosen code", func(t *testing.T) {
		ecsAddFault(t, ctl, awssim.Fault{Kind: awssim.FaultError, Region: ecsTestRegion,
			Service: awssim.ServiceECS, Operation: "ListServices", Rate: 1,
			Code: "AccessDeniedException", Message: "not today"})
		_, err := client.ListServices(ctx, list)
		var ade *types.AccessDeniedException
		require.ErrorAs(t, err, &ade)
		require.Equal(t, "not today", ade.ErrorMessage())
		_, err = client.DescribeClusters(ctx, &ecs.DescribeClustersInput{})
		require.NoError(t, err, "other operations are untouched")
	})

	t.Run("server error code is typed and retried", func(t *testing.T) {
		ecsAddFault(t, ctl, awssim.Fault{Kind: awssim.FaultError, Region: ecsTestRegion,
			Service: awssim.ServiceECS, Operation: "ListServices", Rate: 1,
			Code: "ServerException", Status: http.StatusInternalServerError})
		require.NoError(t, ctl.ResetCalls(ctx))
		_, err := retrying.ListServices(ctx, list)
		var se *types.ServerException
		require.ErrorAs(t, err, &se)
		require.Equal(t, int64(3), ecsCallCount(t, ctl, ecsTestRegion, "ListServices"))
	})

	t.Run("latency", func(t *testing.T) {
		ecsAddFault(t, ctl, awssim.Fault{Kind: awssim.FaultLatency, Region: ecsTestRegion,
			Service: awssim.ServiceECS, Latency: awssim.Duration(150 * time.Millisecond)})
		start := time.Now()
		_, err := client.ListServices(ctx, list)
		require.NoError(t, err)
		require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	})

	t.Run("throttle", func(t *testing.T) {
		ecsAddFault(t, ctl, awssim.Fault{Kind: awssim.FaultThrottle, Region: ecsTestRegion,
			Service: awssim.ServiceECS, PerSecond: 0.001, Burst: 3})
		for i := range 3 {
			_, err := client.ListServices(ctx, list)
			require.NoError(t, err, "call %d is within the burst", i)
		}
		_, err := client.ListServices(ctx, list)
		var apiErr smithy.APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, "ThrottlingException", apiErr.ErrorCode())

		require.NoError(t, ctl.ResetCalls(ctx))
		_, err = retrying.ListServices(ctx, list)
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, "ThrottlingException", apiErr.ErrorCode())
		require.Equal(t, int64(3), ecsCallCount(t, ctl, ecsTestRegion, "ListServices"),
			"the SDK retries throttled calls")
	})

	t.Run("calls are counted per region and operation", func(t *testing.T) {
		require.NoError(t, ctl.ResetCalls(ctx))
		west := ecsClient(t, srv, "eu-west-1", 1)
		for range 2 {
			_, err := client.ListServices(ctx, list)
			require.NoError(t, err)
		}
		_, err := west.DescribeClusters(ctx, &ecs.DescribeClustersInput{})
		require.NoError(t, err)
		require.Equal(t, int64(2), ecsCallCount(t, ctl, ecsTestRegion, "ListServices"))
		require.Equal(t, int64(0), ecsCallCount(t, ctl, ecsTestRegion, "DescribeClusters"))
		require.Equal(t, int64(1), ecsCallCount(t, ctl, "eu-west-1", "DescribeClusters"))
	})
}

func TestECSRawRequests(t *testing.T) {
	srv := startSim(t, fastProfile())
	auth := fakeAuth("us-east-1", "ecs")
	tests := []struct {
		name     string
		target   string
		body     string
		noAuth   bool
		status   int
		wantCode string
	}{
		{"malformed body", "DescribeServices", `{"services": [`, false, 400, "SerializationException"},
		{"not an object", "ListServices", `[1, 2]`, false, 400, "SerializationException"},
		{"wrong member type", "DescribeServices", `{"services": "api"}`, false, 400,
			"SerializationException"},
		{"unknown operation", "LaunchRockets", `{}`, false, 400, "UnknownOperationException"},
		{"empty body", "DescribeClusters", ``, false, 200, ""},
		{"unsigned", "ListServices", `{}`, true, 403, "MissingAuthenticationToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/",
				strings.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+tt.target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			if !tt.noAuth {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tt.status, resp.StatusCode, string(body))
			require.Equal(t, "application/x-amz-json-1.1", resp.Header.Get("Content-Type"))
			require.NotEmpty(t, resp.Header.Get("X-Amzn-Requestid"))
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			require.NoError(t, json.Unmarshal(body, &e), string(body))
			require.Equal(t, tt.wantCode, e.Type)
			if tt.wantCode != "" {
				require.NotEmpty(t, e.Message)
			}
		})
	}
}
