package seed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/drover-dev/drover/topology"
)

// ecsDescribeLimit is how many services DescribeServices takes at once.
const ecsDescribeLimit = 10

// ecs creates one region's clusters, task definitions and services, then
// waits until every service runs its desired count.
func (s *seeder) ecs(ctx context.Context, region string) error {
	if len(s.t.Services) == 0 {
		return nil
	}
	api := s.clients[region].ECS

	var clusters []string
	for _, svc := range s.t.Services {
		if !slices.Contains(clusters, svc.Cluster) {
			clusters = append(clusters, svc.Cluster)
		}
	}
	for _, name := range clusters {
		if err := s.ensureECSCluster(ctx, api, region, name); err != nil {
			return err
		}
	}

	for _, cluster := range clusters {
		var names []string
		for _, svc := range s.t.Services {
			if svc.Cluster == cluster {
				names = append(names, svc.Service)
			}
		}
		existing, err := describeServices(ctx, api, cluster, names)
		if err != nil {
			return fmt.Errorf("%s: describe ECS services in cluster %s: %w", region, cluster, err)
		}
		for i := range s.t.Services {
			svc := &s.t.Services[i]
			if svc.Cluster != cluster {
				continue
			}
			if err := s.ensureService(ctx, api, region, svc, existing[svc.Service]); err != nil {
				return err
			}
		}
	}
	return s.waitServices(ctx, api, region, clusters)
}

func (s *seeder) ensureECSCluster(ctx context.Context, api ECSAPI, region, name string) error {
	out, err := api.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{name}})
	if err != nil {
		return fmt.Errorf("%s: describe ECS cluster %s: %w", region, name, err)
	}
	for _, c := range out.Clusters {
		if aws.ToString(c.ClusterName) == name && aws.ToString(c.Status) == "ACTIVE" {
			s.existed(region, KindCluster, name)
			return nil
		}
	}
	// CreateCluster returns the cluster that exists under the name, so a
	// run that crashed after creating it and retries is harmless.
	_, err = api.CreateCluster(ctx, &ecs.CreateClusterInput{
		ClusterName: aws.String(name),
		Tags:        []ecstypes.Tag{{Key: aws.String(appTag), Value: aws.String(s.t.App)}},
	})
	if err != nil {
		return fmt.Errorf("%s: create ECS cluster %s: %w", region, name, err)
	}
	s.created(region, KindCluster, name)
	return nil
}

// describeServices returns the ACTIVE services among names, by name.
func describeServices(ctx context.Context, api ECSAPI, cluster string,
	names []string) (map[string]ecstypes.Service, error) {
	found := map[string]ecstypes.Service{}
	for batch := range slices.Chunk(names, ecsDescribeLimit) {
		out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(cluster), Services: batch,
		})
		if err != nil {
			return nil, err
		}
		for _, svc := range out.Services {
			if aws.ToString(svc.Status) == "ACTIVE" {
				found[aws.ToString(svc.ServiceName)] = svc
			}
		}
	}
	return found, nil
}

// family names a service's task definitions; a topology never has two
// services of one cluster and name.
func (s *seeder) family(svc *topology.Service) string {
	return svc.Cluster + "-" + svc.Service
}

func (s *seeder) ensureService(ctx context.Context, api ECSAPI, region string,
	svc *topology.Service, existing ecstypes.Service) error {
	id := svc.Cluster + "/" + svc.Service
	want := svc.Sandbox.DesiredCount[region]
	taskDef, err := s.ensureTaskDefinition(ctx, api, region, svc)
	if err != nil {
		return err
	}
	if existing.ServiceName != nil {
		s.existed(region, KindService, id)
		if existing.DesiredCount != want {
			// A failover or a person may have scaled it since; seeding
			// only creates what is missing.
			s.printf("%s %s %s: desired count %d, the topology's sandbox says %d; "+
				"left as it is", region, KindService, id, existing.DesiredCount, want)
		}
		return nil
	}

	_, err = api.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster:        aws.String(svc.Cluster),
		ServiceName:    aws.String(svc.Service),
		TaskDefinition: aws.String(taskDef),
		DesiredCount:   aws.Int32(want),
		// The same token and request make a retry after a lost answer
		// return the service it created instead of failing.
		ClientToken: aws.String(token(s.t.App, region, id)),
		Tags:        []ecstypes.Tag{{Key: aws.String(appTag), Value: aws.String(s.t.App)}},
	})
	if err != nil {
		return fmt.Errorf("%s: create ECS service %s: %w", region, id, err)
	}
	s.created(region, KindService, id)
	return nil
}

// appTag marks what seeding creates with the application's name.
const appTag = "drover:app"

// ensureTaskDefinition returns the ARN of the family's latest revision,
// registering the first one when the family has none. A family that
// exists is used as it is, whatever image it runs.
func (s *seeder) ensureTaskDefinition(ctx context.Context, api ECSAPI, region string,
	svc *topology.Service) (string, error) {
	family := s.family(svc)
	out, err := api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(family),
	})
	if err == nil && out.TaskDefinition != nil {
		s.existed(region, KindTaskDefinition, family)
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
	}
	// ECS reports a missing family as a ClientException, the same type it
	// uses for other client mistakes; registering settles which it was.
	var ce *ecstypes.ClientException
	if err != nil && !errors.As(err, &ce) {
		return "", fmt.Errorf("%s: describe ECS task definition %s: %w", region, family, err)
	}

	reg, err := api.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name:      aws.String(svc.Service),
			Image:     aws.String(svc.Sandbox.Image),
			Essential: aws.Bool(true),
			Memory:    aws.Int32(512),
		}},
		Tags: []ecstypes.Tag{{Key: aws.String(appTag), Value: aws.String(s.t.App)}},
	})
	if err != nil {
		return "", fmt.Errorf("%s: register ECS task definition %s: %w", region, family, err)
	}
	s.created(region, KindTaskDefinition, family)
	return aws.ToString(reg.TaskDefinition.TaskDefinitionArn), nil
}

// waitServices waits until every service of the region is steady: one
// deployment, running its desired count.
func (s *seeder) waitServices(ctx context.Context, api ECSAPI, region string,
	clusters []string) error {
	for _, cluster := range clusters {
		var names []string
		for _, svc := range s.t.Services {
			if svc.Cluster == cluster {
				names = append(names, svc.Service)
			}
		}
		// One poll per batch of ten keeps the calls few; the progress
		// lines stay per service.
		for batch := range slices.Chunk(names, ecsDescribeLimit) {
			last := map[string]string{}
			var unsteady []string
			what := fmt.Sprintf("%s ecs cluster %s", region, cluster)
			err := s.poll(ctx, what, func(ctx context.Context) (string, bool, error) {
				out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{
					Cluster: aws.String(cluster), Services: batch,
				})
				if err != nil {
					return "", false, err
				}
				if len(out.Failures) > 0 {
					f := out.Failures[0]
					return "", false, fmt.Errorf("service %s: %s", aws.ToString(f.Arn),
						aws.ToString(f.Reason))
				}
				unsteady = unsteady[:0]
				for _, svc := range out.Services {
					name := aws.ToString(svc.ServiceName)
					state := fmt.Sprintf("%d/%d running", svc.RunningCount, svc.DesiredCount)
					if len(svc.Deployments) > 1 {
						state += fmt.Sprintf(", %d deployments", len(svc.Deployments))
					}
					if state != last[name] {
						s.printf("%s %s %s/%s: %s", region, KindService, cluster, name, state)
						last[name] = state
					}
					if svc.RunningCount != svc.DesiredCount || len(svc.Deployments) != 1 {
						unsteady = append(unsteady, name+" "+state)
					}
				}
				return "", len(unsteady) == 0 && len(out.Services) == len(batch), nil
			})
			if err != nil && len(unsteady) > 0 {
				return fmt.Errorf("%w; not steady: %s", err, strings.Join(unsteady, "; "))
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
