package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/topology"
)

// ServiceDefinition is the Definition of a drills.CaptureECSService
// capture: what CreateService needs to make the service again, and the
// task definition its PRIMARY deployment ran. Members of ECS's own shapes
// are kept as the AWS SDK's types encode to JSON (with their Go field
// names), so that nothing ECS returned is lost in a translation.
type ServiceDefinition struct {
	Cluster    string `json:"cluster"`
	Service    string `json:"service"`
	ServiceARN string `json:"serviceArn"`

	LaunchType         ecstypes.LaunchType         `json:"launchType,omitempty"`
	PlatformVersion    string                      `json:"platformVersion,omitempty"`
	SchedulingStrategy ecstypes.SchedulingStrategy `json:"schedulingStrategy,omitempty"`
	DesiredCount       int32                       `json:"desiredCount"`

	// CapacityProviders is the service's capacity provider strategy,
	// which ECS takes instead of a launch type.
	CapacityProviders []ecstypes.CapacityProviderStrategyItem `json:"capacityProviders,omitempty"`

	NetworkConfiguration *ecstypes.NetworkConfiguration `json:"networkConfiguration,omitempty"`
	LoadBalancers        []ecstypes.LoadBalancer        `json:"loadBalancers,omitempty"`
	ServiceRegistries    []ecstypes.ServiceRegistry     `json:"serviceRegistries,omitempty"`

	HealthCheckGracePeriodSeconds *int32 `json:"healthCheckGracePeriodSeconds,omitempty"`

	// Deployment is the service's deployment configuration.
	Deployment           *ecstypes.DeploymentConfiguration `json:"deployment,omitempty"`
	DeploymentController *ecstypes.DeploymentController    `json:"deploymentController,omitempty"`

	PlacementConstraints []ecstypes.PlacementConstraint `json:"placementConstraints,omitempty"`
	PlacementStrategy    []ecstypes.PlacementStrategy   `json:"placementStrategy,omitempty"`

	EnableECSManagedTags bool                   `json:"enableEcsManagedTags,omitempty"`
	EnableExecuteCommand bool                   `json:"enableExecuteCommand,omitempty"`
	PropagateTags        ecstypes.PropagateTags `json:"propagateTags,omitempty"`
	Tags                 []ecstypes.Tag         `json:"tags,omitempty"`

	// TaskDefinition is the whole task definition of the PRIMARY
	// deployment, as DescribeTaskDefinition gave it, and
	// TaskDefinitionTags its tags.
	TaskDefinition     ecstypes.TaskDefinition `json:"taskDefinition"`
	TaskDefinitionTags []ecstypes.Tag          `json:"taskDefinitionTags,omitempty"`
}

// ZoneDefinition is the Definition of a drills.CaptureRoute53Zone
// capture: every record set of the hosted zone, as Route 53 listed them.
type ZoneDefinition struct {
	ZoneID     string                       `json:"zoneId"`
	Domain     string                       `json:"domain"`
	RecordSets []r53types.ResourceRecordSet `json:"recordSets"`
}

// Kinds of DatabaseSettings.
const (
	DatabaseInstance = "instance"
	DatabaseCluster  = "cluster"
)

// DatabaseSettings is the Definition of a CaptureRDSInstance or
// CaptureRDSCluster capture, and what a restore copies from the live
// original: the settings RDS would otherwise reset to its defaults.
// Storage, instance class and Multi-AZ belong to an instance;
// ClusterParameterGroup and Members to a cluster.
type DatabaseSettings struct {
	Kind       string `json:"kind"`
	Identifier string `json:"identifier"`
	ARN        string `json:"arn"`
	// ResourceID is the instance's DbiResourceId or the cluster's
	// DbClusterResourceId, which names retained backups after the
	// database itself is gone.
	ResourceID    string `json:"resourceId,omitempty"`
	Engine        string `json:"engine"`
	EngineVersion string `json:"engineVersion,omitempty"`
	Port          int32  `json:"port,omitempty"`

	SubnetGroup           string   `json:"subnetGroup,omitempty"`
	SecurityGroups        []string `json:"securityGroups,omitempty"`
	ParameterGroup        string   `json:"parameterGroup,omitempty"`
	OptionGroup           string   `json:"optionGroup,omitempty"`
	ClusterParameterGroup string   `json:"clusterParameterGroup,omitempty"`

	InstanceClass     string `json:"instanceClass,omitempty"`
	MultiAZ           bool   `json:"multiAZ,omitempty"`
	StorageType       string `json:"storageType,omitempty"`
	AllocatedStorage  int32  `json:"allocatedStorage,omitempty"`
	Iops              *int32 `json:"iops,omitempty"`
	StorageThroughput *int32 `json:"storageThroughput,omitempty"`

	BackupRetention    int32             `json:"backupRetention"`
	DeletionProtection bool              `json:"deletionProtection,omitempty"`
	PubliclyAccessible bool              `json:"publiclyAccessible,omitempty"`
	CopyTagsToSnapshot bool              `json:"copyTagsToSnapshot,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`

	// Members are an Aurora cluster's instances, writer first.
	Members []MemberSettings `json:"members,omitempty"`
}

// MemberSettings is one instance of an Aurora cluster.
type MemberSettings struct {
	Identifier     string `json:"identifier"`
	InstanceClass  string `json:"instanceClass"`
	ParameterGroup string `json:"parameterGroup,omitempty"`
	Writer         bool   `json:"writer,omitempty"`
	PromotionTier  *int32 `json:"promotionTier,omitempty"`
}

// CaptureService copies a service's settings and the task definition of
// its PRIMARY deployment. It only reads.
func (r *Region) CaptureService(ctx context.Context, in CaptureServiceInput) (
	drills.Capture, error) {
	ref := in.Service
	if ref.Cluster == "" || ref.Service == "" {
		return drills.Capture{}, nonRetryable(ErrInvalid,
			"service %q needs a cluster and a service name", ref.Name)
	}
	what := fmt.Sprintf("service %s/%s", ref.Cluster, ref.Service)
	if err := r.waitECS(ctx); err != nil {
		return drills.Capture{}, err
	}
	out, err := r.clients.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster:  aws.String(ref.Cluster),
		Services: []string{ref.Service},
		Include:  []ecstypes.ServiceField{ecstypes.ServiceFieldTags},
	})
	if err != nil {
		return drills.Capture{}, r.awsError(err, "describe "+what)
	}
	var svc *ecstypes.Service
	for i := range out.Services {
		if aws.ToString(out.Services[i].ServiceName) == ref.Service {
			svc = &out.Services[i]
		}
	}
	if svc == nil {
		return drills.Capture{}, nonRetryable(ErrNotFound,
			"%s does not exist in %s; nothing to capture", what, r.cfg.Region)
	}
	if st := aws.ToString(svc.Status); st != "ACTIVE" {
		return drills.Capture{}, nonRetryable(ErrInvalidState,
			"%s in %s is %s; only an ACTIVE service is worth capturing", what, r.cfg.Region, st)
	}

	taskDef := aws.ToString(svc.TaskDefinition)
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			taskDef = aws.ToString(d.TaskDefinition)
		}
	}
	if err := r.waitECS(ctx); err != nil {
		return drills.Capture{}, err
	}
	td, err := r.clients.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(taskDef),
		Include:        []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags},
	})
	if err != nil {
		return drills.Capture{}, r.awsError(err, "describe task definition "+taskDef)
	}
	if td.TaskDefinition == nil {
		return drills.Capture{}, nonRetryable(ErrNotFound,
			"task definition %s of %s in %s came back empty", taskDef, what, r.cfg.Region)
	}

	def := ServiceDefinition{
		Cluster: ref.Cluster, Service: ref.Service, ServiceARN: aws.ToString(svc.ServiceArn),
		LaunchType:                    svc.LaunchType,
		CapacityProviders:             svc.CapacityProviderStrategy,
		PlatformVersion:               aws.ToString(svc.PlatformVersion),
		SchedulingStrategy:            svc.SchedulingStrategy,
		DesiredCount:                  svc.DesiredCount,
		NetworkConfiguration:          svc.NetworkConfiguration,
		LoadBalancers:                 svc.LoadBalancers,
		ServiceRegistries:             svc.ServiceRegistries,
		HealthCheckGracePeriodSeconds: svc.HealthCheckGracePeriodSeconds,
		Deployment:                    svc.DeploymentConfiguration,
		DeploymentController:          svc.DeploymentController,
		PlacementConstraints:          svc.PlacementConstraints,
		PlacementStrategy:             svc.PlacementStrategy,
		EnableECSManagedTags:          svc.EnableECSManagedTags,
		EnableExecuteCommand:          svc.EnableExecuteCommand,
		PropagateTags:                 svc.PropagateTags,
		Tags:                          svc.Tags,
		TaskDefinition:                *td.TaskDefinition,
		TaskDefinitionTags:            td.Tags,
	}
	return r.capture(in.App, r.cfg.Region, drills.CaptureECSService,
		ServiceCaptureName(ref.Cluster, ref.Service), def)
}

// CaptureZone copies every record set of a hosted zone, page by page. It
// only reads.
func (r *Region) CaptureZone(ctx context.Context, in CaptureZoneInput) (drills.Capture, error) {
	zoneID, err := r.findZone(ctx, in.Zone)
	if err != nil {
		return drills.Capture{}, err
	}
	sets, err := r.listRecordSets(ctx, zoneID)
	if err != nil {
		return drills.Capture{}, err
	}
	domain := ZoneCaptureName(in.Zone)
	def := ZoneDefinition{ZoneID: zoneID, Domain: domain, RecordSets: sets}
	return r.capture(in.App, ZoneCaptureRegion, drills.CaptureRoute53Zone, domain, def)
}

// CaptureDatabase copies the settings of a database's instance (rds) or
// cluster (aurora-global) in this region, with a cluster's member
// instances. It only reads.
func (r *Region) CaptureDatabase(ctx context.Context, in CaptureDatabaseInput) (
	drills.Capture, error) {
	db := in.Database
	switch db.Engine {
	case topology.EngineRDS:
		ref, err := r.localRef("instance", db.Name, db.Instances[r.cfg.Region])
		if err != nil {
			return drills.Capture{}, err
		}
		inst, err := r.describeInstance(ctx, ref.id)
		if err != nil {
			return drills.Capture{}, err
		}
		if inst == nil {
			return drills.Capture{}, nonRetryable(ErrNotFound,
				"DB instance %s does not exist in %s; nothing to capture", ref.id, r.cfg.Region)
		}
		return r.capture(in.App, r.cfg.Region, CaptureRDSInstance, ref.id,
			instanceSettings(inst))
	case topology.EngineAuroraGlobal:
		ref, err := r.localRef("cluster", db.Name, db.Clusters[r.cfg.Region])
		if err != nil {
			return drills.Capture{}, err
		}
		cl, err := r.describeCluster(ctx, ref.id)
		if err != nil {
			return drills.Capture{}, err
		}
		if cl == nil {
			return drills.Capture{}, nonRetryable(ErrNotFound,
				"DB cluster %s does not exist in %s; nothing to capture", ref.id, r.cfg.Region)
		}
		set, err := r.clusterSettings(ctx, cl)
		if err != nil {
			return drills.Capture{}, err
		}
		return r.capture(in.App, r.cfg.Region, CaptureRDSCluster, ref.id, set)
	}
	return drills.Capture{}, nonRetryable(ErrInvalid, "database %q has engine %q; want %s or %s",
		db.Name, db.Engine, topology.EngineRDS, topology.EngineAuroraGlobal)
}

// ServiceCaptureName is the Name of a service's captures.
func ServiceCaptureName(cluster, service string) string { return cluster + "/" + service }

// ZoneCaptureName is the Name of a zone's captures: its domain as Route
// 53 writes it, lowercase and with the final dot.
func ZoneCaptureName(z topology.Zone) string { return dnsName(z.Domain) }

// DatabaseCaptureKey returns the Kind and Name of the captures of a
// database's copy in region, and false when it has none there.
func DatabaseCaptureKey(db topology.Database, region string) (kind, name string, ok bool) {
	switch db.Engine {
	case topology.EngineRDS:
		if v := db.Instances[region]; v != "" {
			return CaptureRDSInstance, topology.RDSIdentifier(v), true
		}
	case topology.EngineAuroraGlobal:
		if v := db.Clusters[region]; v != "" {
			return CaptureRDSCluster, topology.RDSIdentifier(v), true
		}
	}
	return "", "", false
}

// capture wraps a definition in a drills.Capture taken now.
func (r *Region) capture(app, region, kind, name string, def any) (drills.Capture, error) {
	b, err := json.Marshal(def)
	if err != nil {
		return drills.Capture{}, nonRetryable(ErrInvalid, "encode the %s capture of %s: %v",
			kind, name, err)
	}
	return drills.Capture{App: app, Region: region, Kind: kind, Name: name,
		CapturedAt: r.now().UTC(), Definition: b}, nil
}

// instanceSettings reads the settings of an RDS instance.
func instanceSettings(inst *rdstypes.DBInstance) DatabaseSettings {
	s := DatabaseSettings{
		Kind:               DatabaseInstance,
		Identifier:         aws.ToString(inst.DBInstanceIdentifier),
		ARN:                aws.ToString(inst.DBInstanceArn),
		ResourceID:         aws.ToString(inst.DbiResourceId),
		Engine:             aws.ToString(inst.Engine),
		EngineVersion:      aws.ToString(inst.EngineVersion),
		InstanceClass:      aws.ToString(inst.DBInstanceClass),
		MultiAZ:            aws.ToBool(inst.MultiAZ),
		StorageType:        aws.ToString(inst.StorageType),
		AllocatedStorage:   aws.ToInt32(inst.AllocatedStorage),
		Iops:               inst.Iops,
		StorageThroughput:  inst.StorageThroughput,
		BackupRetention:    aws.ToInt32(inst.BackupRetentionPeriod),
		DeletionProtection: aws.ToBool(inst.DeletionProtection),
		PubliclyAccessible: aws.ToBool(inst.PubliclyAccessible),
		CopyTagsToSnapshot: aws.ToBool(inst.CopyTagsToSnapshot),
		SecurityGroups:     instanceSecurityGroups(inst),
		Tags:               rdsTags(inst.TagList),
	}
	if inst.Endpoint != nil {
		s.Port = aws.ToInt32(inst.Endpoint.Port)
	}
	if inst.DBSubnetGroup != nil {
		s.SubnetGroup = aws.ToString(inst.DBSubnetGroup.DBSubnetGroupName)
	}
	if len(inst.DBParameterGroups) > 0 {
		s.ParameterGroup = aws.ToString(inst.DBParameterGroups[0].DBParameterGroupName)
	}
	if len(inst.OptionGroupMemberships) > 0 {
		s.OptionGroup = aws.ToString(inst.OptionGroupMemberships[0].OptionGroupName)
	}
	return s
}

func instanceSecurityGroups(inst *rdstypes.DBInstance) []string {
	var ids []string
	for _, sg := range inst.VpcSecurityGroups {
		if id := aws.ToString(sg.VpcSecurityGroupId); id != "" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// clusterSettings reads the settings of an Aurora cluster and of each of
// its member instances.
func (r *Region) clusterSettings(ctx context.Context, cl *rdstypes.DBCluster) (
	DatabaseSettings, error) {
	s := DatabaseSettings{
		Kind:                  DatabaseCluster,
		Identifier:            aws.ToString(cl.DBClusterIdentifier),
		ARN:                   aws.ToString(cl.DBClusterArn),
		ResourceID:            aws.ToString(cl.DbClusterResourceId),
		Engine:                aws.ToString(cl.Engine),
		EngineVersion:         aws.ToString(cl.EngineVersion),
		Port:                  aws.ToInt32(cl.Port),
		SubnetGroup:           aws.ToString(cl.DBSubnetGroup),
		ClusterParameterGroup: aws.ToString(cl.DBClusterParameterGroup),
		StorageType:           aws.ToString(cl.StorageType),
		BackupRetention:       aws.ToInt32(cl.BackupRetentionPeriod),
		DeletionProtection:    aws.ToBool(cl.DeletionProtection),
		CopyTagsToSnapshot:    aws.ToBool(cl.CopyTagsToSnapshot),
		Tags:                  rdsTags(cl.TagList),
	}
	for _, sg := range cl.VpcSecurityGroups {
		if id := aws.ToString(sg.VpcSecurityGroupId); id != "" {
			s.SecurityGroups = append(s.SecurityGroups, id)
		}
	}
	slices.Sort(s.SecurityGroups)
	for _, m := range cl.DBClusterMembers {
		id := aws.ToString(m.DBInstanceIdentifier)
		inst, err := r.describeInstance(ctx, id)
		if err != nil {
			return DatabaseSettings{}, err
		}
		if inst == nil {
			continue // deleted since the cluster was read
		}
		ms := MemberSettings{
			Identifier:    id,
			InstanceClass: aws.ToString(inst.DBInstanceClass),
			Writer:        aws.ToBool(m.IsClusterWriter),
			PromotionTier: m.PromotionTier,
		}
		if len(inst.DBParameterGroups) > 0 {
			ms.ParameterGroup = aws.ToString(inst.DBParameterGroups[0].DBParameterGroupName)
		}
		s.Members = append(s.Members, ms)
	}
	// Writer first, so that a restore makes its first instance the one
	// that took writes; otherwise in the cluster's order.
	slices.SortStableFunc(s.Members, func(a, b MemberSettings) int {
		switch {
		case a.Writer == b.Writer:
			return 0
		case a.Writer:
			return -1
		}
		return 1
	})
	return s, nil
}

// rdsTags turns an RDS tag list into a map, without the tags AWS keeps
// for itself (aws:...), which nobody may set.
func rdsTags(list []rdstypes.Tag) map[string]string {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]string, len(list))
	for _, t := range list {
		k := aws.ToString(t.Key)
		if k == "" || strings.HasPrefix(k, "aws:") {
			continue
		}
		m[k] = aws.ToString(t.Value)
	}
	return m
}

// decodeDefinition reads a capture's Definition of the kinds given into
// out, or says what is wrong with the capture.
func decodeDefinition(c *drills.Capture, out any, kinds ...string) error {
	if !slices.Contains(kinds, c.Kind) {
		return nonRetryable(ErrInvalid, "the capture of %s taken %s is of kind %q, not %s",
			c.Name, c.CapturedAt.Format("2006-01-02 15:04:05Z07:00"), c.Kind,
			strings.Join(kinds, " or "))
	}
	if err := json.Unmarshal(c.Definition, out); err != nil {
		return nonRetryable(ErrInvalid, "the %s capture of %s taken %s does not decode: %v; "+
			"capture it again", c.Kind, c.Name, c.CapturedAt.Format("2006-01-02 15:04:05Z07:00"), err)
	}
	return nil
}
