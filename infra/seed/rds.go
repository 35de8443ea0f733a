package seed

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/drover-dev/drover/topology"
)

// The master user's password is kept by RDS in Secrets Manager, so that no
// secret passes through drover.
const (
	masterUser       = "drover"
	allocatedStorage = 20
)

// rdsInstances creates the primary DB instance, waits until it can be
// replicated, then creates a cross-region read replica in each standby
// and waits until they are available.
func (s *seeder) rdsInstances(ctx context.Context, db *topology.Database) error {
	primary := s.t.Primary().Name
	id := topology.RDSIdentifier(db.Instances[primary])
	api := s.clients[primary].RDS

	source, err := s.ensurePrimaryInstance(ctx, api, primary, id, db)
	if err != nil {
		return err
	}
	// RDS replicates only from an available instance.
	if err := s.waitInstance(ctx, api, primary, id); err != nil {
		return err
	}

	return s.eachStandby(func(region string) error {
		replica := topology.RDSIdentifier(db.Instances[region])
		api := s.clients[region].RDS
		if err := s.ensureReplica(ctx, api, region, replica, source, db); err != nil {
			return err
		}
		return s.waitInstance(ctx, api, region, replica)
	})
}

// eachStandby runs f for every standby region at once and joins the errors.
func (s *seeder) eachStandby(f func(region string) error) error {
	standbys := s.t.Standbys()
	errs := make([]error, len(standbys))
	var wg sync.WaitGroup
	for i, r := range standbys {
		wg.Go(func() { errs[i] = f(r.Name) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func describeInstance(ctx context.Context, api RDSAPI, id string) (*rdstypes.DBInstance, error) {
	out, err := api.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{
		DBInstanceIdentifier: aws.String(id),
	})
	var nf *rdstypes.DBInstanceNotFoundFault
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(out.DBInstances) == 0 {
		return nil, nil
	}
	return &out.DBInstances[0], nil
}

func (s *seeder) tags() []rdstypes.Tag {
	return []rdstypes.Tag{{Key: aws.String(appTag), Value: aws.String(s.t.App)}}
}

func optional(v string) *string {
	if v == "" {
		return nil
	}
	return aws.String(v)
}

// ensurePrimaryInstance returns the ARN of the primary DB instance, which
// it creates when missing.
func (s *seeder) ensurePrimaryInstance(ctx context.Context, api RDSAPI, region, id string,
	db *topology.Database) (string, error) {
	check := func(inst *rdstypes.DBInstance) (string, error) {
		if got := aws.ToString(inst.Engine); got != db.Sandbox.Engine {
			return "", fmt.Errorf("%s: DB instance %s exists with engine %s, not %s",
				region, id, got, db.Sandbox.Engine)
		}
		if src := aws.ToString(inst.ReadReplicaSourceDBInstanceIdentifier); src != "" {
			return "", fmt.Errorf("%s: DB instance %s exists as a read replica of %s, "+
				"but the topology has it as the primary; has the sandbox failed over?",
				region, id, src)
		}
		return aws.ToString(inst.DBInstanceArn), nil
	}

	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return "", fmt.Errorf("%s: describe DB instance %s: %w", region, id, err)
	}
	if inst != nil {
		s.existed(region, KindDBInstance, id)
		return check(inst)
	}

	sb := db.Sandbox
	out, err := api.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier:     aws.String(id),
		DBInstanceClass:          aws.String(sb.InstanceClass),
		Engine:                   aws.String(sb.Engine),
		EngineVersion:            optional(sb.EngineVersion),
		AllocatedStorage:         aws.Int32(allocatedStorage),
		MasterUsername:           aws.String(masterUser),
		ManageMasterUserPassword: aws.Bool(true),
		BackupRetentionPeriod:    sb.BackupRetention,
		DBSubnetGroupName:        optional(sb.SubnetGroup),
		DBParameterGroupName:     optional(sb.ParameterGroup),
		VpcSecurityGroupIds:      sb.SecurityGroups[region],
		MultiAZ:                  aws.Bool(sb.MultiAZ),
		Tags:                     s.tags(),
	})
	var exists *rdstypes.DBInstanceAlreadyExistsFault
	if errors.As(err, &exists) {
		// Another run got there between the read and the create.
		if inst, _ := describeInstance(ctx, api, id); inst != nil {
			s.existed(region, KindDBInstance, id)
			return check(inst)
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s: create DB instance %s: %w", region, id, err)
	}
	s.created(region, KindDBInstance, id)
	return aws.ToString(out.DBInstance.DBInstanceArn), nil
}

// ensureReplica creates a cross-region read replica of source (an ARN)
// when it is missing.
func (s *seeder) ensureReplica(ctx context.Context, api RDSAPI, region, id, source string,
	db *topology.Database) error {
	check := func(inst *rdstypes.DBInstance) error {
		src := aws.ToString(inst.ReadReplicaSourceDBInstanceIdentifier)
		if src == "" {
			return fmt.Errorf("%s: DB instance %s exists but replicates nothing; the "+
				"topology has it as a replica of %s. Was it promoted?", region, id, source)
		}
		if src != source && topology.RDSIdentifier(src) != topology.RDSIdentifier(source) {
			return fmt.Errorf("%s: DB instance %s replicates %s, not %s",
				region, id, src, source)
		}
		return nil
	}

	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return fmt.Errorf("%s: describe DB instance %s: %w", region, id, err)
	}
	if inst != nil {
		s.existed(region, KindDBInstance, id)
		return check(inst)
	}

	sb := db.Sandbox
	_, err = api.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier:       aws.String(id),
		SourceDBInstanceIdentifier: aws.String(source),
		DBInstanceClass:            aws.String(sb.InstanceClass),
		DBSubnetGroupName:          optional(sb.SubnetGroup),
		DBParameterGroupName:       optional(sb.ParameterGroup),
		VpcSecurityGroupIds:        sb.SecurityGroups[region],
		MultiAZ:                    aws.Bool(sb.MultiAZ),
		Tags:                       s.tags(),
	})
	var exists *rdstypes.DBInstanceAlreadyExistsFault
	if errors.As(err, &exists) {
		if inst, _ := describeInstance(ctx, api, id); inst != nil {
			s.existed(region, KindDBInstance, id)
			return check(inst)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: create read replica %s of %s: %w", region, id, source, err)
	}
	s.created(region, KindDBInstance, id)
	return nil
}

func (s *seeder) waitInstance(ctx context.Context, api RDSAPI, region, id string) error {
	what := fmt.Sprintf("%s %s %s", region, KindDBInstance, id)
	return s.poll(ctx, what, func(ctx context.Context) (string, bool, error) {
		inst, err := describeInstance(ctx, api, id)
		if err != nil {
			return "", false, err
		}
		if inst == nil {
			return "", false, errors.New("vanished while being created")
		}
		status := aws.ToString(inst.DBInstanceStatus)
		return status, status == "available", nil
	})
}

// auroraGlobal creates the primary region's cluster, makes it the source
// of a global cluster, joins a secondary cluster in each standby, and
// gives every cluster one instance.
func (s *seeder) auroraGlobal(ctx context.Context, db *topology.Database) error {
	primary := s.t.Primary().Name
	api := s.clients[primary].RDS
	global := topology.RDSIdentifier(db.GlobalCluster)
	id := topology.RDSIdentifier(db.Clusters[primary])

	clusterARN, err := s.ensureDBCluster(ctx, api, primary, id, "", db)
	if err != nil {
		return err
	}
	if err := s.waitCluster(ctx, api, primary, id); err != nil {
		return err
	}
	if err := s.ensureGlobalCluster(ctx, api, global, clusterARN); err != nil {
		return err
	}
	if err := s.waitGlobalCluster(ctx, api, global); err != nil {
		return err
	}

	var wg sync.WaitGroup
	var primaryErr error
	wg.Go(func() { primaryErr = s.ensureClusterInstance(ctx, api, primary, id, db) })
	standbyErr := s.eachStandby(func(region string) error {
		api := s.clients[region].RDS
		id := topology.RDSIdentifier(db.Clusters[region])
		if _, err := s.ensureDBCluster(ctx, api, region, id, global, db); err != nil {
			return err
		}
		if err := s.waitCluster(ctx, api, region, id); err != nil {
			return err
		}
		return s.ensureClusterInstance(ctx, api, region, id, db)
	})
	wg.Wait()
	if err := errors.Join(primaryErr, standbyErr); err != nil {
		return err
	}
	return s.checkGlobalMembers(ctx, api, global, db)
}

func describeCluster(ctx context.Context, api RDSAPI, id string) (*rdstypes.DBCluster, error) {
	out, err := api.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{
		DBClusterIdentifier: aws.String(id),
	})
	var nf *rdstypes.DBClusterNotFoundFault
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(out.DBClusters) == 0 {
		return nil, nil
	}
	return &out.DBClusters[0], nil
}

func describeGlobalCluster(ctx context.Context, api RDSAPI,
	id string) (*rdstypes.GlobalCluster, error) {
	out, err := api.DescribeGlobalClusters(ctx, &rds.DescribeGlobalClustersInput{
		GlobalClusterIdentifier: aws.String(id),
	})
	var nf *rdstypes.GlobalClusterNotFoundFault
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(out.GlobalClusters) == 0 {
		return nil, nil
	}
	return &out.GlobalClusters[0], nil
}

// ensureDBCluster returns the ARN of an Aurora cluster, creating it when
// missing: as the primary cluster when global is empty, else as a
// secondary that joins global.
func (s *seeder) ensureDBCluster(ctx context.Context, api RDSAPI, region, id, global string,
	db *topology.Database) (string, error) {
	check := func(c *rdstypes.DBCluster) (string, error) {
		if got := aws.ToString(c.Engine); got != db.Sandbox.Engine {
			return "", fmt.Errorf("%s: DB cluster %s exists with engine %s, not %s",
				region, id, got, db.Sandbox.Engine)
		}
		return aws.ToString(c.DBClusterArn), nil
	}

	c, err := describeCluster(ctx, api, id)
	if err != nil {
		return "", fmt.Errorf("%s: describe DB cluster %s: %w", region, id, err)
	}
	if c != nil {
		s.existed(region, KindDBCluster, id)
		return check(c)
	}

	sb := db.Sandbox
	in := &rds.CreateDBClusterInput{
		DBClusterIdentifier:         aws.String(id),
		Engine:                      aws.String(sb.Engine),
		EngineVersion:               optional(sb.EngineVersion),
		BackupRetentionPeriod:       sb.BackupRetention,
		DBSubnetGroupName:           optional(sb.SubnetGroup),
		DBClusterParameterGroupName: optional(sb.ParameterGroup),
		VpcSecurityGroupIds:         sb.SecurityGroups[region],
		Tags:                        s.tags(),
	}
	if global == "" {
		in.MasterUsername = aws.String(masterUser)
		in.ManageMasterUserPassword = aws.Bool(true)
	} else {
		// A secondary cluster takes its users from the primary.
		in.GlobalClusterIdentifier = aws.String(global)
	}
	out, err := api.CreateDBCluster(ctx, in)
	var exists *rdstypes.DBClusterAlreadyExistsFault
	if errors.As(err, &exists) {
		if c, _ := describeCluster(ctx, api, id); c != nil {
			s.existed(region, KindDBCluster, id)
			return check(c)
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s: create DB cluster %s: %w", region, id, err)
	}
	s.created(region, KindDBCluster, id)
	return aws.ToString(out.DBCluster.DBClusterArn), nil
}

func (s *seeder) ensureGlobalCluster(ctx context.Context, api RDSAPI, id, source string) error {
	g, err := describeGlobalCluster(ctx, api, id)
	if err != nil {
		return fmt.Errorf("describe global cluster %s: %w", id, err)
	}
	if g != nil {
		s.existed(GlobalRegion, KindGlobalCluster, id)
		return nil
	}
	_, err = api.CreateGlobalCluster(ctx, &rds.CreateGlobalClusterInput{
		GlobalClusterIdentifier:   aws.String(id),
		SourceDBClusterIdentifier: aws.String(source),
	})
	var exists *rdstypes.GlobalClusterAlreadyExistsFault
	if errors.As(err, &exists) {
		s.existed(GlobalRegion, KindGlobalCluster, id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("create global cluster %s from %s: %w", id, source, err)
	}
	s.created(GlobalRegion, KindGlobalCluster, id)
	return nil
}

// checkGlobalMembers makes sure the global cluster holds every region's
// cluster, with the primary region's as its writer: a global cluster that
// existed before may have been built or failed over differently.
func (s *seeder) checkGlobalMembers(ctx context.Context, api RDSAPI, id string,
	db *topology.Database) error {
	g, err := describeGlobalCluster(ctx, api, id)
	if err != nil {
		return fmt.Errorf("describe global cluster %s: %w", id, err)
	}
	if g == nil {
		return fmt.Errorf("global cluster %s vanished", id)
	}
	writer := map[string]bool{}
	for _, m := range g.GlobalClusterMembers {
		writer[topology.RDSIdentifier(aws.ToString(m.DBClusterArn))] = aws.ToBool(m.IsWriter)
	}
	var problems []error
	for _, region := range s.t.RegionNames() {
		cluster := topology.RDSIdentifier(db.Clusters[region])
		isWriter, member := writer[cluster]
		switch {
		case !member:
			problems = append(problems, fmt.Errorf("global cluster %s has no member %s (%s)",
				id, cluster, region))
		case region == s.t.Primary().Name && !isWriter:
			problems = append(problems, fmt.Errorf("global cluster %s: %s in the primary "+
				"region is not the writer; has the sandbox failed over?", id, cluster))
		}
	}
	return errors.Join(problems...)
}

// ensureClusterInstance gives an Aurora cluster its one instance, named
// after the cluster, and waits until it is available.
func (s *seeder) ensureClusterInstance(ctx context.Context, api RDSAPI, region, cluster string,
	db *topology.Database) error {
	id := clusterInstanceID(cluster)
	check := func(inst *rdstypes.DBInstance) error {
		if got := aws.ToString(inst.DBClusterIdentifier); got != cluster {
			return fmt.Errorf("%s: DB instance %s exists in cluster %q, not %s",
				region, id, got, cluster)
		}
		return nil
	}

	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return fmt.Errorf("%s: describe DB instance %s: %w", region, id, err)
	}
	if inst != nil {
		s.existed(region, KindDBInstance, id)
		if err := check(inst); err != nil {
			return err
		}
		return s.waitInstance(ctx, api, region, id)
	}

	_, err = api.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id),
		DBClusterIdentifier:  aws.String(cluster),
		DBInstanceClass:      aws.String(db.Sandbox.InstanceClass),
		Engine:               aws.String(db.Sandbox.Engine),
		Tags:                 s.tags(),
	})
	var exists *rdstypes.DBInstanceAlreadyExistsFault
	switch {
	case errors.As(err, &exists):
		inst, _ := describeInstance(ctx, api, id)
		if inst == nil {
			return fmt.Errorf("%s: create DB instance %s in cluster %s: %w",
				region, id, cluster, err)
		}
		s.existed(region, KindDBInstance, id)
		if err := check(inst); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("%s: create DB instance %s in cluster %s: %w", region, id, cluster, err)
	default:
		s.created(region, KindDBInstance, id)
	}
	return s.waitInstance(ctx, api, region, id)
}

// clusterInstanceID names the instance seeding puts in an Aurora cluster,
// within RDS's 63 characters.
func clusterInstanceID(cluster string) string {
	const suffix = "-1"
	if len(cluster)+len(suffix) > 63 {
		cluster = cluster[:63-len(suffix)]
	}
	return cluster + suffix
}

func (s *seeder) waitCluster(ctx context.Context, api RDSAPI, region, id string) error {
	what := fmt.Sprintf("%s %s %s", region, KindDBCluster, id)
	return s.poll(ctx, what, func(ctx context.Context) (string, bool, error) {
		c, err := describeCluster(ctx, api, id)
		if err != nil {
			return "", false, err
		}
		if c == nil {
			return "", false, errors.New("vanished while being created")
		}
		status := aws.ToString(c.Status)
		return status, status == "available", nil
	})
}

func (s *seeder) waitGlobalCluster(ctx context.Context, api RDSAPI, id string) error {
	what := fmt.Sprintf("%s %s %s", GlobalRegion, KindGlobalCluster, id)
	return s.poll(ctx, what, func(ctx context.Context) (string, bool, error) {
		g, err := describeGlobalCluster(ctx, api, id)
		if err != nil {
			return "", false, err
		}
		if g == nil {
			return "", false, errors.New("vanished while being created")
		}
		status := aws.ToString(g.Status)
		return status, status == "available", nil
	})
}
