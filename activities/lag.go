package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/drover-dev/drover/topology"
)

// lagWindow is how far back preflight looks for a replica's lag. RDS
// publishes the lag metrics once a minute, and CloudWatch shows a minute
// a minute or two late, so five minutes always hold a datapoint of a
// replica that replicates.
const lagWindow = 5 * time.Minute

// lagMetric names an RDS replica-lag metric in CloudWatch: ReplicaLag of
// a read replica, in seconds, or AuroraGlobalDBReplicationLag of a
// secondary cluster, in milliseconds.
type lagMetric struct {
	name      string
	dimension string
}

var (
	instanceLag = lagMetric{name: "ReplicaLag", dimension: "DBInstanceIdentifier"}
	clusterLag  = lagMetric{name: "AuroraGlobalDBReplicationLag", dimension: "DBClusterIdentifier"}
)

// lagReading is the latest datapoint of a lag metric.
type lagReading struct {
	lag time.Duration
	at  time.Time // the start of the datapoint's period
}

// readLag returns the highest lag of the newest datapoint CloudWatch has
// for the resource in this region within lagWindow, and false when it has
// none. The metric is read where the replica is, so a source region that
// is down does not keep the standby's lag from being known.
func (r *Region) readLag(ctx context.Context, m lagMetric, id string) (lagReading, bool, error) {
	// CloudWatch's quota is its own, but a preflight makes one read per
	// database: the database reads' bucket is enough to keep it polite.
	if err := r.waitRDS(ctx); err != nil {
		return lagReading{}, false, err
	}
	now := r.now()
	out, err := r.clients.CloudWatch.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace:  aws.String("AWS/RDS"),
		MetricName: aws.String(m.name),
		Dimensions: []cwtypes.Dimension{{Name: aws.String(m.dimension), Value: aws.String(id)}},
		StartTime:  aws.Time(now.Add(-lagWindow)),
		EndTime:    aws.Time(now),
		Period:     aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticMaximum},
	})
	if err != nil {
		return lagReading{}, false, r.awsError(err,
			fmt.Sprintf("read the %s of %s from CloudWatch", m.name, id))
	}
	var latest *cwtypes.Datapoint
	for i, d := range out.Datapoints {
		if d.Maximum == nil || d.Timestamp == nil {
			continue
		}
		if latest == nil || d.Timestamp.After(*latest.Timestamp) {
			latest = &out.Datapoints[i]
		}
	}
	if latest == nil {
		return lagReading{}, false, nil
	}
	lag, err := lagDuration(*latest.Maximum, latest.Unit)
	if err != nil {
		return lagReading{}, false, nonRetryable(ErrInvalid, "%s of %s: %v", m.name, id, err)
	}
	return lagReading{lag: lag, at: *latest.Timestamp}, true, nil
}

// lagDuration converts a lag datapoint to a duration by its unit.
func lagDuration(v float64, unit cwtypes.StandardUnit) (time.Duration, error) {
	switch unit {
	case cwtypes.StandardUnitSeconds:
		return time.Duration(v * float64(time.Second)), nil
	case cwtypes.StandardUnitMilliseconds:
		return time.Duration(v * float64(time.Millisecond)), nil
	case cwtypes.StandardUnitMicroseconds:
		return time.Duration(v * float64(time.Microsecond)), nil
	}
	return 0, fmt.Errorf("unit %q is not a time", unit)
}

// checkLag adds the check that a replica's lag is within the database's
// maxLag. A replica created within lagWindow may have no datapoint yet,
// and passes on its replication status alone; an older one without a
// datapoint fails, because how much a failover would lose is then
// unknown.
//
// CloudWatch only informs the move, so a CloudWatch that fails (after the
// SDK's own retries) or refuses the worker makes a failed check, not a
// failed activity: the other checks still stand, and an operator who
// accepts an unknown lag passes it with force instead of waiting for
// preflight's retries.
//
// An ungraceful failover (accept) has already accepted losing what the
// replica lacks: the source region is impaired, and its lag only grows
// while it is. There the check reports the lag and passes, so that a
// recovery does not stop at preflight for what it set out to accept.
func (r *Region) checkLag(ctx context.Context, c *checks, db topology.Database, m lagMetric,
	id string, created time.Time, accept bool) error {
	add := func(ok bool, hint, format string, args ...any) {
		detail := fmt.Sprintf(format, args...)
		switch {
		case !ok && accept:
			ok, detail = true, detail+"; the ungraceful failover goes on, accepting the loss"
		case !ok:
			detail += hint
		}
		c.add(db.Name, ok, "%s", detail)
	}
	reading, ok, err := r.readLag(ctx, m, id)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		hint := "; run preflight again, or force it to go on with the lag unknown"
		switch errorTypeOf(err) {
		case ErrAccessDenied:
			hint = "; drover's role needs cloudwatch:GetMetricStatistics"
		case ErrInvalid:
			hint = ""
		}
		add(false, hint, "the replica lag of %s in %s could not be read: %v", id, r.cfg.Region, err)
		return nil
	}
	limit := time.Duration(db.MaxLag)
	switch {
	case !ok && !created.IsZero() && r.now().Sub(created) < lagWindow:
		add(true, "", "%s in %s is too new for CloudWatch to report its %s (created "+
			"%s ago); its replication is normal", id, r.cfg.Region, m.name,
			r.now().Sub(created).Round(time.Second))
	case !ok:
		add(false, "; check that the replica replicates", "CloudWatch in %s has no %s of %s in "+
			"the last %s, so the data a failover would lose is unknown", r.cfg.Region,
			m.name, id, lagWindow)
	case reading.lag > limit:
		add(false, "; wait for it to catch up, or raise maxLag", "%s in %s lags %s behind its "+
			"source (%s at %s), more than the topology's maxLag of %s",
			id, r.cfg.Region, fmtLag(reading.lag), m.name,
			reading.at.UTC().Format(time.TimeOnly), limit)
	default:
		add(true, "", "%s in %s lags %s behind its source (maxLag %s)",
			id, r.cfg.Region, fmtLag(reading.lag), limit)
	}
	return nil
}

// fmtLag shows a lag to the millisecond below a minute and to the second
// above.
func fmtLag(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}
