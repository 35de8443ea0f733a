package activities

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"go.temporal.io/sdk/activity"

	"github.com/drover-dev/drover/topology"
)

// maxWeight is the largest weight Route 53 accepts.
const maxWeight = 255

// dnsName puts a domain name in the form Route 53 lists it in: lower
// case, with its final dot, and a leading wildcard unescaped.
func dnsName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.ReplaceAll(s, `\052`, "*")
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// zoneIDOf strips the /hostedzone/ that Route 53 puts before zone ids.
func zoneIDOf(id string) string { return strings.TrimPrefix(id, "/hostedzone/") }

// findZone returns the id of a topology zone: its ZoneID, or the one
// hosted zone whose name is its Domain.
func (r *Region) findZone(ctx context.Context, z topology.Zone) (string, error) {
	if z.ZoneID != "" {
		return zoneIDOf(z.ZoneID), nil
	}
	if z.Domain == "" {
		return "", nonRetryable(ErrInvalid, "zone %q has neither a domain nor a zoneId", z.Name)
	}
	want := dnsName(z.Domain)
	var ids []string
	in := &route53.ListHostedZonesByNameInput{DNSName: aws.String(want)}
	for {
		if err := r.waitRoute53(ctx); err != nil {
			return "", err
		}
		out, err := r.clients.Route53.ListHostedZonesByName(ctx, in)
		if err != nil {
			return "", r.awsError(err, "list hosted zones named "+want)
		}
		last := ""
		for _, hz := range out.HostedZones {
			last = dnsName(aws.ToString(hz.Name))
			if last == want {
				ids = append(ids, zoneIDOf(aws.ToString(hz.Id)))
			}
		}
		// Zones come sorted by name, so once a page ends past the
		// domain no later page holds another of that name.
		if !out.IsTruncated || last != want {
			break
		}
		in.DNSName, in.HostedZoneId = out.NextDNSName, out.NextHostedZoneId
	}
	switch len(ids) {
	case 0:
		return "", nonRetryable(ErrNotFound,
			"no hosted zone is named %s; create it or fix zone %q's domain", want, z.Name)
	case 1:
		return ids[0], nil
	}
	return "", nonRetryable(ErrInvalid,
		"%d hosted zones are named %s (%s); set zone %q's zoneId to pick one",
		len(ids), want, strings.Join(ids, ", "), z.Name)
}

// listRecordSets reads every record set of a zone, page by page.
func (r *Region) listRecordSets(ctx context.Context, zoneID string) (
	[]r53types.ResourceRecordSet, error) {
	var sets []r53types.ResourceRecordSet
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)}
	for {
		if err := r.waitRoute53(ctx); err != nil {
			return nil, err
		}
		out, err := r.clients.Route53.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, r.awsError(err, "list the records of hosted zone "+zoneID)
		}
		sets = append(sets, out.ResourceRecordSets...)
		if !out.IsTruncated {
			return sets, nil
		}
		in.StartRecordName = out.NextRecordName
		in.StartRecordType = out.NextRecordType
		in.StartRecordIdentifier = out.NextRecordIdentifier
	}
}

// recordKey finds a record set by name, type and set identifier.
type recordKey struct{ name, typ, set string }

func keyOf(s r53types.ResourceRecordSet) recordKey {
	return recordKey{dnsName(aws.ToString(s.Name)), string(s.Type), aws.ToString(s.SetIdentifier)}
}

// zoneRecords indexes a zone's record sets.
type zoneRecords map[recordKey]r53types.ResourceRecordSet

func indexRecords(sets []r53types.ResourceRecordSet) zoneRecords {
	m := make(zoneRecords, len(sets))
	for _, s := range sets {
		m[keyOf(s)] = s
	}
	return m
}

// target returns the record set of region in a topology record.
func (zr zoneRecords) target(rec topology.Record, region string) (
	r53types.ResourceRecordSet, bool) {
	t, ok := rec.Targets[region]
	if !ok {
		return r53types.ResourceRecordSet{}, false
	}
	s, ok := zr[recordKey{dnsName(rec.Name), rec.Type, t.SetIdentifier}]
	return s, ok
}

// sortedRegions returns a record's regions in a fixed order, so that the
// changes and messages built from them do not vary between attempts.
func sortedRegions(rec topology.Record) []string {
	regions := make([]string, 0, len(rec.Targets))
	for region := range rec.Targets {
		regions = append(regions, region)
	}
	sort.Strings(regions)
	return regions
}

// flipChanges computes the UPSERTs that send a zone's records to target,
// keeping each record set's values, TTL, alias and health check. A failover
// record's target set becomes PRIMARY and the others SECONDARY; a weighted
// record's target set takes the sum of the weights (100 if they are all
// 0, at most 255) and the others 0. No changes means the zone is there.
func flipChanges(z topology.Zone, target string, zr zoneRecords) ([]r53types.Change, error) {
	var changes []r53types.Change
	var missing []string
	for _, rec := range z.Records {
		if _, ok := rec.Targets[target]; !ok {
			return nil, nonRetryable(ErrInvalid,
				"record %s %s in zone %q has no target for %s; add one to the topology",
				rec.Name, rec.Type, z.Name, target)
		}
		found := map[string]r53types.ResourceRecordSet{}
		for _, region := range sortedRegions(rec) {
			s, ok := zr.target(rec, region)
			if !ok {
				missing = append(missing, fmt.Sprintf("%s %s set %q (%s)",
					dnsName(rec.Name), rec.Type, rec.Targets[region].SetIdentifier, region))
				continue
			}
			found[region] = s
		}
		if len(found) != len(rec.Targets) {
			continue
		}
		var total int64
		for _, region := range sortedRegions(rec) {
			total += aws.ToInt64(found[region].Weight)
		}
		if total == 0 {
			total = 100
		}
		total = min(total, maxWeight)

		for _, region := range sortedRegions(rec) {
			s := found[region]
			want := s
			switch rec.Routing {
			case topology.RoutingFailover:
				if s.Failover == "" {
					return nil, nonRetryable(ErrInvalid,
						"record set %q of %s is not a failover record; fix its routing in "+
							"the topology or the zone", aws.ToString(s.SetIdentifier), rec.Name)
				}
				want.Failover = r53types.ResourceRecordSetFailoverSecondary
				if region == target {
					want.Failover = r53types.ResourceRecordSetFailoverPrimary
				}
				if want.Failover == s.Failover {
					continue
				}
			case topology.RoutingWeighted:
				if s.Weight == nil {
					return nil, nonRetryable(ErrInvalid,
						"record set %q of %s is not a weighted record; fix its routing in "+
							"the topology or the zone", aws.ToString(s.SetIdentifier), rec.Name)
				}
				w := int64(0)
				if region == target {
					w = total
				}
				if w == aws.ToInt64(s.Weight) {
					continue
				}
				want.Weight = aws.Int64(w)
			default:
				return nil, nonRetryable(ErrInvalid, "record %s has routing %q; want %s or %s",
					rec.Name, rec.Routing, topology.RoutingFailover, topology.RoutingWeighted)
			}
			changes = append(changes, r53types.Change{
				Action:            r53types.ChangeActionUpsert,
				ResourceRecordSet: &want,
			})
		}
	}
	if len(missing) > 0 {
		return nil, nonRetryable(ErrNotFound, "zone %q lacks record sets: %s; create them or "+
			"fix the topology's set identifiers", z.Name, strings.Join(missing, ", "))
	}
	return changes, nil
}

// confirmChanges are UPSERTs of the target's record sets exactly as they
// stand: a change that alters nothing, made to learn when the zone's
// earlier changes are INSYNC. flipChanges has checked that every record
// has a set for the target.
func confirmChanges(z topology.Zone, target string, zr zoneRecords) []r53types.Change {
	var changes []r53types.Change
	for _, rec := range z.Records {
		if s, ok := zr.target(rec, target); ok {
			changes = append(changes, r53types.Change{
				Action:            r53types.ChangeActionUpsert,
				ResourceRecordSet: &s,
			})
		}
	}
	return changes
}

// FlipDNS sends a zone's records to the target region in one change and
// waits until Route 53 reports it INSYNC. The change id is heartbeated,
// so a retried attempt waits on the same change instead of making another.
func (r *Region) FlipDNS(ctx context.Context, in FlipDNSInput) (StepResult, error) {
	prog := resumeProgress(ctx)
	if prog.Token != "" {
		res, err := r.awaitChange(ctx, prog, in.Zone)
		if !hasCode(err, "NoSuchChange") {
			return res, err
		}
		// The change is unknown (too old, or never made): look afresh.
		prog.Token = ""
	}

	zoneID, err := r.findZone(ctx, in.Zone)
	if err != nil {
		return StepResult{}, err
	}
	sets, err := r.listRecordSets(ctx, zoneID)
	if err != nil {
		return StepResult{}, err
	}
	changes, err := flipChanges(in.Zone, in.Target, indexRecords(sets))
	if err != nil {
		return StepResult{}, err
	}
	comment := fmt.Sprintf("drover: send %s to %s", in.Zone.Name, in.Target)
	confirming := len(changes) == 0
	if confirming {
		if prog.ActionStarted.IsZero() {
			now := r.now()
			return StepResult{ActionStarted: now, HealthyAt: now, AlreadyDone: true,
				Detail: fmt.Sprintf("zone %s already sends its records to %s",
					in.Zone.Name, in.Target)}, nil
		}
		// An earlier attempt changed the zone and died before it
		// heartbeated the change's id, so whether that change is INSYNC
		// is unknown, and Route 53 cannot list a zone's changes. Send the
		// target's record sets again as they are: Route 53 applies a
		// zone's changes in order, so this one is INSYNC no earlier than
		// the lost one, and the step is not called healthy before DNS
		// answers with the flip everywhere.
		changes = confirmChanges(in.Zone, in.Target, indexRecords(sets))
		comment = fmt.Sprintf("drover: confirm that %s sends its records to %s",
			in.Zone.Name, in.Target)
	}

	if err := r.waitRoute53Change(ctx); err != nil {
		return StepResult{}, err
	}
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	prog.Detail = fmt.Sprintf("changing %d record sets in %s", len(changes), zoneID)
	activity.RecordHeartbeat(ctx, prog)
	out, err := r.clients.Route53.ChangeResourceRecordSets(ctx,
		&route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID),
			ChangeBatch: &r53types.ChangeBatch{
				Comment: aws.String(comment),
				Changes: changes,
			},
		})
	if err != nil {
		return StepResult{}, r.awsError(err, "change the records of hosted zone "+zoneID)
	}
	prog.Token = strings.TrimPrefix(aws.ToString(out.ChangeInfo.Id), "/change/")
	prog.Detail = "waiting for change " + prog.Token + " to be INSYNC"
	activity.RecordHeartbeat(ctx, prog)
	res, err := r.awaitChange(ctx, prog, in.Zone)
	if err != nil {
		return StepResult{}, err
	}
	res.Detail = fmt.Sprintf("zone %s sends %d record sets to %s", in.Zone.Name,
		len(changes), in.Target)
	if confirming {
		res.Detail = fmt.Sprintf("zone %s sends its records to %s; an unchanged change, %s, "+
			"confirmed the earlier attempt's is INSYNC", in.Zone.Name, in.Target, prog.Token)
	}
	return res, nil
}

// awaitChange polls a Route 53 change until it is INSYNC. A NoSuchChange
// error comes back as AWS gave it, for the caller to recognise.
func (r *Region) awaitChange(ctx context.Context, prog Progress, z topology.Zone) (
	StepResult, error) {
	pace := r.pacer()
	defer pace.stop()
	for {
		if err := r.waitRoute53(ctx); err != nil {
			return StepResult{}, err
		}
		out, err := r.clients.Route53.GetChange(ctx, &route53.GetChangeInput{
			Id: aws.String(prog.Token),
		})
		at := r.now()
		switch {
		case hasCode(err, "NoSuchChange"):
			return StepResult{}, err
		case err != nil:
			cerr := r.awsError(err, "read change "+prog.Token)
			if !isRetryable(cerr) {
				return StepResult{}, cerr
			}
			prog.Detail = "reading the change failed, will retry: " + cerr.Error()
		case out.ChangeInfo != nil && out.ChangeInfo.Status == r53types.ChangeStatusInsync:
			return StepResult{ActionStarted: prog.ActionStarted, HealthyAt: at,
				Detail: fmt.Sprintf("zone %s: change %s is INSYNC", z.Name, prog.Token)}, nil
		default:
			prog.Detail = "waiting for change " + prog.Token + " to be INSYNC"
		}
		activity.RecordHeartbeat(ctx, prog)
		if err := pace.wait(ctx); err != nil {
			return StepResult{}, fmt.Errorf("zone %s: gave up waiting for change %s: %w",
				z.Name, prog.Token, err)
		}
	}
}

// healthChecksOf returns the health check ids of the target's record sets
// in the zones, read from the zones themselves.
func (r *Region) healthChecksOf(ctx context.Context, zones []topology.Zone, target string) (
	[]string, error) {
	var ids []string
	for _, z := range zones {
		zoneID, err := r.findZone(ctx, z)
		if err != nil {
			return nil, err
		}
		sets, err := r.listRecordSets(ctx, zoneID)
		if err != nil {
			return nil, err
		}
		zr := indexRecords(sets)
		for _, rec := range z.Records {
			s, ok := zr.target(rec, target)
			if !ok {
				continue // no record for the target: nothing to check
			}
			if id := aws.ToString(s.HealthCheckId); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// healthCheckHealthy reports whether every Route 53 checker reports the
// health check healthy. A check without observations is not healthy yet.
func (r *Region) healthCheckHealthy(ctx context.Context, id string) (bool, string, error) {
	if err := r.waitRoute53(ctx); err != nil {
		return false, "", err
	}
	out, err := r.clients.Route53.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{
		HealthCheckId: aws.String(id),
	})
	if err != nil {
		return false, "", r.awsError(err, "read the status of health check "+id)
	}
	if len(out.HealthCheckObservations) == 0 {
		return false, "health check " + id + " has no observations yet", nil
	}
	for _, o := range out.HealthCheckObservations {
		st := ""
		if o.StatusReport != nil {
			st = aws.ToString(o.StatusReport.Status)
		}
		if !strings.HasPrefix(st, "Success") {
			return false, fmt.Sprintf("health check %s: %s", id, st), nil
		}
	}
	return true, "", nil
}

// checkURL reports whether url answers 2xx to a GET.
func (r *Region) checkURL(ctx context.Context, url string) (bool, string) {
	// A health URL that takes long to answer is as good as down; the
	// bound also keeps a hung endpoint from stretching the poll.
	ctx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, fmt.Sprintf("health URL %s: %v", url, err)
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return false, fmt.Sprintf("health URL %s: %v", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false, fmt.Sprintf("health URL %s answered %s", url, resp.Status)
	}
	return true, ""
}

// Verify checks the application in the target region end to end until it
// is healthy: the health URL answers 2xx and every Route 53 health check
// of the target's records reports healthy. It tries every PollInterval
// until its context ends.
func (r *Region) Verify(ctx context.Context, in VerifyInput) (StepResult, error) {
	prog := resumeProgress(ctx)
	if prog.ActionStarted.IsZero() {
		prog.ActionStarted = r.now()
	}
	activity.RecordHeartbeat(ctx, prog)
	checks, err := r.healthChecksOf(ctx, in.Zones, in.Target)
	if err != nil {
		return StepResult{}, err
	}
	pace := r.pacer()
	defer pace.stop()
	for {
		var problems []string
		if in.HealthURL != "" {
			if ok, why := r.checkURL(ctx, in.HealthURL); !ok {
				problems = append(problems, why)
			}
		}
		for _, id := range checks {
			ok, why, err := r.healthCheckHealthy(ctx, id)
			switch {
			case err != nil && !isRetryable(err):
				return StepResult{}, err
			case err != nil:
				problems = append(problems, err.Error())
			case !ok:
				problems = append(problems, why)
			}
		}
		if len(problems) == 0 {
			what := fmt.Sprintf("%d Route 53 health checks", len(checks))
			if in.HealthURL != "" {
				what = in.HealthURL + " and " + what
			}
			return StepResult{ActionStarted: prog.ActionStarted, HealthyAt: r.now(),
				Detail: fmt.Sprintf("%s is healthy: %s", in.Target, what)}, nil
		}
		prog.Detail = strings.Join(problems, "; ")
		activity.RecordHeartbeat(ctx, prog)
		if err := pace.wait(ctx); err != nil {
			return StepResult{}, fmt.Errorf("%s not healthy when time ran out: %s: %w",
				in.Target, prog.Detail, err)
		}
	}
}
