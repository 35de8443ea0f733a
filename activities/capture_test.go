package activities_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/activities"
	"github.com/drover-dev/drover/drills"
)

// service reads one service directly, INACTIVE ones included.
func (f *fixture) service(t *testing.T, region, cluster, name string) ecstypes.Service {
	t.Helper()
	out, err := f.clients[region].ECS.DescribeServices(context.Background(),
		&ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	require.NoError(t, err)
	require.Len(t, out.Services, 1)
	return out.Services[0]
}

// deleteService deletes a service, as losing it would.
func (f *fixture) deleteService(t *testing.T, region, cluster, name string) {
	t.Helper()
	_, err := f.clients[region].ECS.(*ecs.Client).DeleteService(context.Background(),
		&ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String(name),
			Force: aws.Bool(true)})
	require.NoError(t, err)
}

func TestCaptureAndRestoreService(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	web := activities.ServiceRef{Name: "web", Cluster: "shop", Service: "web"}
	before := f.service(t, east, "shop", "web")

	var capture drills.Capture
	require.NoError(t, run(t, f.env(east), activities.CaptureServiceName,
		activities.CaptureServiceInput{App: "shop", Service: web}, &capture))
	require.Equal(t, drills.CaptureECSService, capture.Kind)
	require.Equal(t, "shop/web", capture.Name)
	require.Equal(t, east, capture.Region)
	var def activities.ServiceDefinition
	require.NoError(t, json.Unmarshal(capture.Definition, &def))
	require.Equal(t, int32(4), def.DesiredCount)
	require.Equal(t, aws.ToString(before.TaskDefinition),
		aws.ToString(def.TaskDefinition.TaskDefinitionArn))
	require.Equal(t, "public.ecr.aws/nginx/nginx:1.27",
		aws.ToString(def.TaskDefinition.ContainerDefinitions[0].Image))
	require.NotNil(t, def.Deployment)
	require.Equal(t, before.LaunchType, def.LaunchType)

	in := activities.RestoreServiceInput{App: "shop", Service: web, Region: east,
		Capture: capture}

	t.Run("a live service is left as it is", func(t *testing.T) {
		var res activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.RestoreServiceName, in, &res))
		require.True(t, res.AlreadyDone)
		require.Zero(t, f.calls("CreateService"))
	})

	t.Run("recreates a deleted service from the capture", func(t *testing.T) {
		f.deleteService(t, east, "shop", "web")
		var res activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.RestoreServiceName, in, &res))
		require.False(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("CreateService"))
		// The captured revision is still there with that content.
		require.Zero(t, f.calls("RegisterTaskDefinition"))

		after := f.service(t, east, "shop", "web")
		require.Equal(t, "ACTIVE", aws.ToString(after.Status))
		require.Equal(t, int32(4), after.DesiredCount)
		require.Equal(t, int32(4), after.RunningCount)
		require.Equal(t, aws.ToString(before.TaskDefinition), aws.ToString(after.TaskDefinition))
		require.Equal(t, before.LaunchType, after.LaunchType)
		require.Equal(t, before.DeploymentConfiguration, after.DeploymentConfiguration)
		require.True(t, res.HealthyAt.After(res.ActionStarted))

		var again activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.RestoreServiceName, in, &again))
		require.True(t, again.AlreadyDone)
		require.Equal(t, int64(1), f.calls("CreateService"))
	})

	t.Run("registers a task definition the region lacks, once", func(t *testing.T) {
		// A capture whose content the region does not hold, as after the
		// family was deregistered or the account rebuilt.
		changed := def
		containers := append([]ecstypes.ContainerDefinition(nil),
			def.TaskDefinition.ContainerDefinitions...)
		containers[0].Image = aws.String("public.ecr.aws/nginx/nginx:1.28")
		changed.TaskDefinition.ContainerDefinitions = containers
		b, err := json.Marshal(changed)
		require.NoError(t, err)
		newer := capture
		newer.Definition = b

		f.deleteService(t, east, "shop", "web")
		restore := in
		restore.Capture = newer
		var res activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.RestoreServiceName, restore, &res))
		require.Equal(t, int64(1), f.calls("RegisterTaskDefinition"))
		after := f.service(t, east, "shop", "web")
		require.NotEqual(t, aws.ToString(before.TaskDefinition), aws.ToString(after.TaskDefinition))

		td, err := f.clients[east].ECS.DescribeTaskDefinition(context.Background(),
			&ecs.DescribeTaskDefinitionInput{TaskDefinition: after.TaskDefinition})
		require.NoError(t, err)
		require.Equal(t, "public.ecr.aws/nginx/nginx:1.28",
			aws.ToString(td.TaskDefinition.ContainerDefinitions[0].Image))

		// Lost again: the registered revision is found, not registered
		// a second time.
		f.deleteService(t, east, "shop", "web")
		require.NoError(t, run(t, f.env(east), activities.RestoreServiceName, restore, &res))
		require.Equal(t, int64(1), f.calls("RegisterTaskDefinition"))
		require.Equal(t, aws.ToString(after.TaskDefinition),
			aws.ToString(f.service(t, east, "shop", "web").TaskDefinition))
	})

	t.Run("refuses another region's capture", func(t *testing.T) {
		wrong := in
		wrong.Region = west
		err := run(t, f.env(west), activities.RestoreServiceName, wrong, &activities.StepResult{})
		app := appError(t, err)
		require.Equal(t, activities.ErrInvalid, app.Type())
		require.Contains(t, err.Error(), "taken in us-east-1")
	})

	t.Run("capturing a missing service fails at once", func(t *testing.T) {
		err := run(t, f.env(east), activities.CaptureServiceName, activities.CaptureServiceInput{
			App: "shop", Service: activities.ServiceRef{Name: "x", Cluster: "shop", Service: "x"},
		}, &drills.Capture{})
		app := appError(t, err)
		require.Equal(t, activities.ErrNotFound, app.Type())
		require.True(t, app.NonRetryable())
	})
}

func TestCaptureAndRestoreZone(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	zone := f.zone()
	zoneID := f.seeded.ZoneIDs[zone.Name]
	before := f.recordSets(t)

	var capture drills.Capture
	require.NoError(t, run(t, f.env(east), activities.CaptureZoneName,
		activities.CaptureZoneInput{App: "shop", Zone: zone}, &capture))
	require.Equal(t, drills.CaptureRoute53Zone, capture.Kind)
	require.Equal(t, "shop.example.com.", capture.Name)
	require.Equal(t, activities.ZoneCaptureRegion, capture.Region)
	var def activities.ZoneDefinition
	require.NoError(t, json.Unmarshal(capture.Definition, &def))
	require.Equal(t, zoneID, def.ZoneID)
	// SOA, NS and the four record sets of the topology.
	require.Len(t, def.RecordSets, 6)

	in := activities.RestoreZoneInput{Zone: zone, Capture: capture}
	t.Run("an intact zone is left alone", func(t *testing.T) {
		var res activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.RestoreZoneName, in, &res))
		require.True(t, res.AlreadyDone)
		require.Zero(t, f.calls("ChangeResourceRecordSets"))
	})

	t.Run("puts back deleted and changed records, keeps others", func(t *testing.T) {
		changed := before["api-use1"]
		changed.TTL = aws.Int64(5)
		extra := r53types.ResourceRecordSet{Name: aws.String("extra.shop.example.com."),
			Type: r53types.RRTypeTxt, TTL: aws.Int64(60),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(`"kept"`)}}}
		www := before["www-use1"]
		_, err := f.clients[east].Route53.ChangeResourceRecordSets(context.Background(),
			&route53.ChangeResourceRecordSetsInput{
				HostedZoneId: aws.String(zoneID),
				ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
					{Action: r53types.ChangeActionDelete, ResourceRecordSet: &www},
					{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &changed},
					{Action: r53types.ChangeActionCreate, ResourceRecordSet: &extra},
				}},
			})
		require.NoError(t, err)
		f.srv.Sim.ResetCalls()

		var res activities.StepResult
		require.NoError(t, run(t, f.env(west), activities.RestoreZoneName, in, &res))
		require.False(t, res.AlreadyDone)
		require.Equal(t, int64(1), f.calls("ChangeResourceRecordSets"))
		require.Contains(t, res.Detail, "restored 2 record sets (1 missing, 1 different)")
		require.Contains(t, res.Detail, "left alone 1 record sets the capture lacks")

		after := f.recordSets(t)
		require.Equal(t, before["www-use1"], after["www-use1"])
		require.Equal(t, int64(60), aws.ToInt64(after["api-use1"].TTL))
		out, err := f.clients[east].Route53.ListResourceRecordSets(context.Background(),
			&route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID),
				StartRecordName: aws.String("extra.shop.example.com."),
				StartRecordType: r53types.RRTypeTxt, MaxItems: aws.Int32(1)})
		require.NoError(t, err)
		require.Equal(t, "extra.shop.example.com.", aws.ToString(out.ResourceRecordSets[0].Name),
			"a record set the capture lacks was deleted")

		var again activities.StepResult
		require.NoError(t, run(t, f.env(east), activities.RestoreZoneName, in, &again))
		require.True(t, again.AlreadyDone)
		require.Equal(t, int64(1), f.calls("ChangeResourceRecordSets"))
	})

	t.Run("resumes the heartbeated change", func(t *testing.T) {
		// The change an earlier attempt made, whose id it heartbeated
		// before its worker died.
		www := f.recordSets(t)["www-usw2"]
		out, err := f.clients[east].Route53.ChangeResourceRecordSets(context.Background(),
			&route53.ChangeResourceRecordSetsInput{
				HostedZoneId: aws.String(zoneID),
				ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{
					{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &www},
				}},
			})
		require.NoError(t, err)
		f.srv.Sim.ResetCalls()

		started := time.Now().Add(-time.Second).UTC().Truncate(time.Millisecond)
		id := strings.TrimPrefix(aws.ToString(out.ChangeInfo.Id), "/change/")
		env := f.env(east)
		env.SetHeartbeatDetails(activities.Progress{ActionStarted: started, Token: id})
		var res activities.StepResult
		require.NoError(t, run(t, env, activities.RestoreZoneName, in, &res))
		require.Zero(t, f.calls("ChangeResourceRecordSets"))
		require.NotZero(t, f.calls("GetChange"))
		require.False(t, res.AlreadyDone)
		require.True(t, res.ActionStarted.Equal(started))
		require.Contains(t, res.Detail, id)
	})

	t.Run("a retry that lost the change id waits for a confirming change", func(t *testing.T) {
		// The earlier attempt restored the zone and died before it
		// heartbeated the change's id.
		before := f.recordSets(t)
		f.srv.Sim.ResetCalls()
		from := time.Now()
		started := time.Now().Add(-time.Second).UTC().Truncate(time.Millisecond)
		env := f.env(east)
		env.SetHeartbeatDetails(activities.Progress{ActionStarted: started})
		var res activities.StepResult
		require.NoError(t, run(t, env, activities.RestoreZoneName, in, &res))
		require.Equal(t, int64(1), f.calls("ChangeResourceRecordSets"), "one confirming change")
		require.False(t, res.AlreadyDone)
		require.True(t, res.ActionStarted.Equal(started))
		require.Contains(t, res.Detail, "confirmed")
		require.Equal(t, before, f.recordSets(t), "the confirming change alters nothing")
		require.False(t, res.HealthyAt.Before(f.lastInsync(t, from)))
	})
}
