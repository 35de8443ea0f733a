package seed

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/drover-dev/drover/topology"
)

// Health checks that seeding creates probe every 30 seconds and call an
// endpoint unhealthy after three failures, Route 53's defaults.
const (
	healthCheckInterval  = 30
	healthCheckThreshold = 3
)

// zone creates a hosted zone when missing, then the health checks and
// records that are missing from it, in one change, and waits until Route
// 53 has it in sync.
func (s *seeder) zone(ctx context.Context, z *topology.Zone) error {
	api := s.clients[s.t.Primary().Name].Route53
	zoneID, pending, err := s.ensureZone(ctx, api, z)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.res.ZoneIDs[z.Name] = zoneID
	s.mu.Unlock()

	existing, err := listRecords(ctx, api, zoneID)
	if err != nil {
		return fmt.Errorf("list records of zone %s (%s): %w", z.Domain, zoneID, err)
	}

	var changes []r53types.Change
	var created []string
	for _, r := range z.Records {
		for _, region := range s.t.RegionNames() {
			target, ok := r.Targets[region]
			if !ok {
				continue
			}
			id := r.Name + " " + r.Type + " " + target.SetIdentifier
			key := HealthCheckKey(r.Name, r.Type, region)
			want := s.recordSet(r, region, target)
			if have, ok := existing[recordKey(r.Name, r.Type, target.SetIdentifier)]; ok {
				s.existed(GlobalRegion, KindRecord, id)
				if err := s.existingHealthCheck(ctx, api, key, have, target); err != nil {
					return err
				}
				if diff := recordDiff(want, have); diff != "" {
					s.printf("%s %s %s: %s differs from the topology's; left as it is",
						GlobalRegion, KindRecord, id, diff)
				}
				continue
			}
			if target.HealthCheck != nil {
				hcID, err := s.createHealthCheck(ctx, api, key, target.HealthCheck)
				if err != nil {
					return err
				}
				want.HealthCheckId = aws.String(hcID)
			}
			changes = append(changes, r53types.Change{
				Action:            r53types.ChangeActionCreate,
				ResourceRecordSet: &want,
			})
			created = append(created, id)
		}
	}

	if len(changes) > 0 {
		out, err := api.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID),
			ChangeBatch: &r53types.ChangeBatch{
				Comment: aws.String("drover seeds the " + s.t.App + " sandbox"),
				Changes: changes,
			},
		})
		if err != nil {
			return fmt.Errorf("create %d records in zone %s (%s): %w",
				len(changes), z.Domain, zoneID, err)
		}
		for _, id := range created {
			s.created(GlobalRegion, KindRecord, id)
		}
		pending = append(pending, aws.ToString(out.ChangeInfo.Id))
	}

	for _, change := range pending {
		if err := s.waitChange(ctx, api, change); err != nil {
			return err
		}
	}
	return nil
}

// ensureZone returns the hosted zone's id, without the /hostedzone/
// prefix, and the change that creating it started, if it did.
func (s *seeder) ensureZone(ctx context.Context, api Route53API,
	z *topology.Zone) (string, []string, error) {
	if z.ZoneID != "" {
		// A zone id cannot be chosen, only found.
		out, err := api.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(z.ZoneID)})
		if err != nil {
			return "", nil, fmt.Errorf("hosted zone %s (%s): %w", z.ZoneID, z.Domain, err)
		}
		if name := aws.ToString(out.HostedZone.Name); !sameName(name, z.Domain) {
			return "", nil, fmt.Errorf("hosted zone %s is %s, not %s", z.ZoneID, name, z.Domain)
		}
		s.existed(GlobalRegion, KindHostedZone, z.Domain)
		return z.ZoneID, nil, nil
	}

	if id, err := findZone(ctx, api, z.Domain); err != nil || id != "" {
		if err == nil {
			s.existed(GlobalRegion, KindHostedZone, z.Domain)
		}
		return id, nil, err
	}
	out, err := api.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String(z.Domain),
		// The same reference makes Route 53 refuse a second zone if two
		// runs race, rather than create a twin.
		// TODO: AWS also refuses a reference that a deleted zone used, so
		// seeding again after deleting the zone by hand fails there; a
		// generation number in the reference would allow it.
		CallerReference: aws.String(token(s.t.App, "zone", z.Domain)),
		HostedZoneConfig: &r53types.HostedZoneConfig{
			Comment: aws.String("drover sandbox of " + s.t.App),
		},
	})
	var exists *r53types.HostedZoneAlreadyExists
	if errors.As(err, &exists) {
		if id, _ := findZone(ctx, api, z.Domain); id != "" {
			s.existed(GlobalRegion, KindHostedZone, z.Domain)
			return id, nil, nil
		}
	}
	if err != nil {
		return "", nil, fmt.Errorf("create hosted zone %s: %w", z.Domain, err)
	}
	s.created(GlobalRegion, KindHostedZone, z.Domain)
	return zoneID(aws.ToString(out.HostedZone.Id)), []string{aws.ToString(out.ChangeInfo.Id)}, nil
}

// findZone returns the id of the first hosted zone named domain, or "".
func findZone(ctx context.Context, api Route53API, domain string) (string, error) {
	out, err := api.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{
		DNSName: aws.String(domain), MaxItems: aws.Int32(1),
	})
	if err != nil {
		return "", fmt.Errorf("find hosted zone %s: %w", domain, err)
	}
	for _, hz := range out.HostedZones {
		if sameName(aws.ToString(hz.Name), domain) {
			return zoneID(aws.ToString(hz.Id)), nil
		}
	}
	return "", nil
}

func zoneID(id string) string { return strings.TrimPrefix(id, "/hostedzone/") }

// sameName compares domain names as DNS does: without case, with or
// without the final dot.
func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

func recordKey(name, typ, setID string) string {
	return strings.ToLower(strings.TrimSuffix(name, ".")) + "|" + typ + "|" + setID
}

// listRecords returns the zone's record sets by name, type and set
// identifier.
func listRecords(ctx context.Context, api Route53API,
	zoneID string) (map[string]r53types.ResourceRecordSet, error) {
	out := map[string]r53types.ResourceRecordSet{}
	pages := route53.NewListResourceRecordSetsPaginator(api,
		&route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, rr := range page.ResourceRecordSets {
			out[recordKey(aws.ToString(rr.Name), string(rr.Type),
				aws.ToString(rr.SetIdentifier))] = rr
		}
	}
	return out, nil
}

// recordSet is the record the topology asks for in region, without its
// health check.
func (s *seeder) recordSet(r topology.Record, region string,
	target topology.RecordTarget) r53types.ResourceRecordSet {
	rr := r53types.ResourceRecordSet{
		Name:            aws.String(r.Name),
		Type:            r53types.RRType(r.Type),
		SetIdentifier:   aws.String(target.SetIdentifier),
		TTL:             aws.Int64(target.TTL),
		ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(target.Value)}},
	}
	switch r.Routing {
	case topology.RoutingFailover:
		rr.Failover = r53types.ResourceRecordSetFailover(s.t.FailoverRole(region))
	case topology.RoutingWeighted:
		rr.Weight = target.Weight
	}
	return rr
}

// recordDiff names what differs between the record the topology wants
// and the one the zone has, or returns "".
func recordDiff(want, have r53types.ResourceRecordSet) string {
	var diffs []string
	if aws.ToInt64(want.TTL) != aws.ToInt64(have.TTL) {
		diffs = append(diffs, fmt.Sprintf("TTL %d", aws.ToInt64(have.TTL)))
	}
	if want.Failover != have.Failover {
		diffs = append(diffs, fmt.Sprintf("failover %s", have.Failover))
	}
	if aws.ToInt64(want.Weight) != aws.ToInt64(have.Weight) {
		diffs = append(diffs, fmt.Sprintf("weight %d", aws.ToInt64(have.Weight)))
	}
	var values []string
	for _, v := range have.ResourceRecords {
		values = append(values, aws.ToString(v.Value))
	}
	if len(values) != 1 || !sameName(values[0], aws.ToString(want.ResourceRecords[0].Value)) {
		diffs = append(diffs, "value "+strings.Join(values, ","))
	}
	return strings.Join(diffs, ", ")
}

// existingHealthCheck records the health check of a record that exists,
// and says so when it differs from what the topology asks for.
func (s *seeder) existingHealthCheck(ctx context.Context, api Route53API, key string,
	have r53types.ResourceRecordSet, target topology.RecordTarget) error {
	id := aws.ToString(have.HealthCheckId)
	switch {
	case id == "" && target.HealthCheck == nil:
		return nil
	case id == "":
		s.printf("%s %s %s: the record has none; left as it is", GlobalRegion, KindHealthCheck, key)
		return nil
	}
	s.mu.Lock()
	s.res.HealthCheckIDs[key] = id
	s.mu.Unlock()
	s.existed(GlobalRegion, KindHealthCheck, key)
	if target.HealthCheck == nil {
		return nil
	}
	out, err := api.GetHealthCheck(ctx, &route53.GetHealthCheckInput{HealthCheckId: aws.String(id)})
	if err != nil {
		return fmt.Errorf("health check %s of %s: %w", id, key, err)
	}
	if diff := healthCheckDiff(healthCheckConfig(target.HealthCheck),
		out.HealthCheck.HealthCheckConfig); diff != "" {
		s.printf("%s %s %s: %s differs from the topology's; left as it is",
			GlobalRegion, KindHealthCheck, key, diff)
	}
	return nil
}

func healthCheckConfig(h *topology.HealthCheck) *r53types.HealthCheckConfig {
	c := &r53types.HealthCheckConfig{
		Type:                     r53types.HealthCheckType(h.Type),
		FullyQualifiedDomainName: aws.String(h.FQDN),
		Port:                     aws.Int32(h.Port),
		RequestInterval:          aws.Int32(healthCheckInterval),
		FailureThreshold:         aws.Int32(healthCheckThreshold),
	}
	if h.Type != "TCP" {
		c.ResourcePath = aws.String(h.Path)
	}
	return c
}

func healthCheckDiff(want, have *r53types.HealthCheckConfig) string {
	if have == nil {
		return "its configuration"
	}
	var diffs []string
	if want.Type != have.Type {
		diffs = append(diffs, "type "+string(have.Type))
	}
	if !sameName(aws.ToString(want.FullyQualifiedDomainName),
		aws.ToString(have.FullyQualifiedDomainName)) {
		diffs = append(diffs, "fqdn "+aws.ToString(have.FullyQualifiedDomainName))
	}
	if aws.ToInt32(want.Port) != aws.ToInt32(have.Port) {
		diffs = append(diffs, fmt.Sprintf("port %d", aws.ToInt32(have.Port)))
	}
	if aws.ToString(want.ResourcePath) != aws.ToString(have.ResourcePath) {
		diffs = append(diffs, "path "+aws.ToString(have.ResourcePath))
	}
	return strings.Join(diffs, ", ")
}

// createHealthCheck creates the health check of a record that is about to
// be created. Its caller reference comes from the app, record and region,
// so a run that died after creating it gets the same one back.
func (s *seeder) createHealthCheck(ctx context.Context, api Route53API, key string,
	h *topology.HealthCheck) (string, error) {
	ref := token(s.t.App, "health-check", key)
	out, err := api.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
		CallerReference:   aws.String(ref),
		HealthCheckConfig: healthCheckConfig(h),
	})
	var exists *r53types.HealthCheckAlreadyExists
	if errors.As(err, &exists) {
		return "", fmt.Errorf("health check of %s: one with caller reference %s exists "+
			"with other settings; delete it or restore its settings", key, ref)
	}
	if err != nil {
		return "", fmt.Errorf("create health check of %s: %w", key, err)
	}
	id := aws.ToString(out.HealthCheck.Id)
	s.mu.Lock()
	s.res.HealthCheckIDs[key] = id
	s.mu.Unlock()
	s.created(GlobalRegion, KindHealthCheck, key)
	return id, nil
}

func (s *seeder) waitChange(ctx context.Context, api Route53API, id string) error {
	what := fmt.Sprintf("%s route53 change %s", GlobalRegion, strings.TrimPrefix(id, "/change/"))
	return s.poll(ctx, what, func(ctx context.Context) (string, bool, error) {
		out, err := api.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
		if err != nil {
			return "", false, err
		}
		status := out.ChangeInfo.Status
		return string(status), status == r53types.ChangeStatusInsync, nil
	})
}
