package awssim_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/infra/awssim"
)

// r53Client returns a Route 53 client for srv; attempts 1 shows every error.
func r53Client(t *testing.T, srv *awssim.Server, attempts int,
	optFns ...func(*route53.Options)) *route53.Client {
	t.Helper()
	return route53.NewFromConfig(awsConfig(t, srv, "us-east-1", attempts), optFns...)
}

// r53NewZone creates a public hosted zone and returns its ID.
func r53NewZone(t *testing.T, c *route53.Client, name, ref string) string {
	t.Helper()
	out, err := c.CreateHostedZone(context.Background(), &route53.CreateHostedZoneInput{
		Name: aws.String(name), CallerReference: aws.String(ref),
	})
	require.NoError(t, err)
	return *out.HostedZone.Id
}

// r53Set builds a record set with a TTL and values.
func r53Set(name string, typ types.RRType, values ...string) *types.ResourceRecordSet {
	rs := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(60)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func r53Failover(rs *types.ResourceRecordSet, id string, role types.ResourceRecordSetFailover,
	healthCheck string) *types.ResourceRecordSet {
	rs.SetIdentifier, rs.Failover = aws.String(id), role
	if healthCheck != "" {
		rs.HealthCheckId = aws.String(healthCheck)
	}
	return rs
}

func r53Weighted(rs *types.ResourceRecordSet, id string, weight int64) *types.ResourceRecordSet {
	rs.SetIdentifier, rs.Weight = aws.String(id), aws.Int64(weight)
	return rs
}

func r53Do(action types.ChangeAction, rs *types.ResourceRecordSet) types.Change {
	return types.Change{Action: action, ResourceRecordSet: rs}
}

func r53Change(c *route53.Client, zoneID string,
	changes ...types.Change) (*route53.ChangeResourceRecordSetsOutput, error) {
	return c.ChangeResourceRecordSets(context.Background(), &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID),
		ChangeBatch:  &types.ChangeBatch{Changes: changes},
	})
}

// r53ListAll lists every record set of a zone, one page of 300.
func r53ListAll(t *testing.T, c *route53.Client, zoneID string) []types.ResourceRecordSet {
	t.Helper()
	out, err := c.ListResourceRecordSets(context.Background(), &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID),
	})
	require.NoError(t, err)
	require.False(t, out.IsTruncated)
	return out.ResourceRecordSets
}

// r53KeyOf names a record set by name, type and set identifier.
func r53KeyOf(rs types.ResourceRecordSet) string {
	return fmt.Sprintf("%s %s %s", aws.ToString(rs.Name), rs.Type, aws.ToString(rs.SetIdentifier))
}

// r53SortKey orders as Route 53 documents its lists: by name with the
// labels reversed, then type, then set identifier. It is written apart
// from the simulator's comparison so that each checks the other.
func r53SortKey(name, typ, id string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, "\x01") + "\x00" + typ + "\x00" + id
}

func r53IsErr[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func TestRoute53HostedZoneCreateAndGet(t *testing.T) {
	srv := startSim(t, fastProfile())
	c := r53Client(t, srv, 1)
	ctx := context.Background()

	out, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("Example.COM"), CallerReference: aws.String("ref-1"),
		HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("primary zone")},
	})
	require.NoError(t, err)
	require.Equal(t, "example.com.", *out.HostedZone.Name)
	require.True(t, strings.HasPrefix(*out.HostedZone.Id, "/hostedzone/Z"), *out.HostedZone.Id)
	require.Equal(t, types.ChangeStatusPending, out.ChangeInfo.Status)
	require.True(t, strings.HasPrefix(*out.ChangeInfo.Id, "/change/C"), *out.ChangeInfo.Id)
	require.Len(t, out.DelegationSet.NameServers, 4)
	require.Contains(t, aws.ToString(out.Location), "/2013-04-01/hostedzone/")

	t.Run("same caller reference", func(t *testing.T) {
		_, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
			Name: aws.String("other.com"), CallerReference: aws.String("ref-1"),
		})
		require.True(t, r53IsErr[*types.HostedZoneAlreadyExists](err), "%v", err)
	})

	t.Run("get by the returned ID", func(t *testing.T) {
		got, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: out.HostedZone.Id})
		require.NoError(t, err)
		require.Equal(t, *out.HostedZone.Id, *got.HostedZone.Id)
		require.Equal(t, "primary zone", aws.ToString(got.HostedZone.Config.Comment))
		require.EqualValues(t, 2, aws.ToInt64(got.HostedZone.ResourceRecordSetCount))
		require.Equal(t, out.DelegationSet.NameServers, got.DelegationSet.NameServers)
	})

	t.Run("unknown zone", func(t *testing.T) {
		_, err := c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("ZNOSUCHZONE")})
		require.True(t, r53IsErr[*types.NoSuchHostedZone](err), "%v", err)
	})

	t.Run("a new zone holds its SOA and NS records", func(t *testing.T) {
		sets := r53ListAll(t, c, *out.HostedZone.Id)
		require.Len(t, sets, 2)
		require.Equal(t, types.RRTypeNs, sets[0].Type)
		require.Equal(t, types.RRTypeSoa, sets[1].Type)
		var ns []string
		for _, r := range sets[0].ResourceRecords {
			ns = append(ns, strings.TrimSuffix(*r.Value, "."))
		}
		require.Equal(t, out.DelegationSet.NameServers, ns)
	})
}

func TestRoute53ListHostedZonesByName(t *testing.T) {
	srv := startSim(t, fastProfile())
	c := r53Client(t, srv, 1)
	ctx := context.Background()

	names := []string{"zzz.com", "example.org", "a.example.com", "example.com",
		"b.example.net", "example.com", "m.example.com"}
	type zone struct{ id, name string }
	var zones []zone
	for i, n := range names {
		id := r53NewZone(t, c, n, fmt.Sprintf("ref-%d", i))
		zones = append(zones, zone{strings.TrimPrefix(id, "/hostedzone/"), n + "."})
	}
	sort.Slice(zones, func(i, j int) bool {
		a, b := r53SortKey(zones[i].name, "", ""), r53SortKey(zones[j].name, "", "")
		if a != b {
			return a < b
		}
		return zones[i].id < zones[j].id
	})
	var want []string
	for _, z := range zones {
		want = append(want, "/hostedzone/"+z.id)
	}

	t.Run("pages of two visit every zone once in order", func(t *testing.T) {
		var got []string
		in := &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(2)}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10, "pagination does not end")
			out, err := c.ListHostedZonesByName(ctx, in)
			require.NoError(t, err)
			require.LessOrEqual(t, len(out.HostedZones), 2)
			for _, z := range out.HostedZones {
				got = append(got, *z.Id)
			}
			if !out.IsTruncated {
				break
			}
			in.DNSName, in.HostedZoneId = out.NextDNSName, out.NextHostedZoneId
		}
		require.Equal(t, want, got)
	})

	t.Run("start at a name", func(t *testing.T) {
		out, err := c.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{
			DNSName: aws.String("example.net"), MaxItems: aws.Int32(1),
		})
		require.NoError(t, err)
		require.Len(t, out.HostedZones, 1)
		require.Equal(t, "b.example.net.", *out.HostedZones[0].Name)
		require.True(t, out.IsTruncated)
		require.Equal(t, "example.org.", aws.ToString(out.NextDNSName))
	})

	t.Run("start at the second of two zones with one name", func(t *testing.T) {
		second := want[1] // both example.com. zones sort first
		out, err := c.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{
			DNSName: aws.String("example.com."), HostedZoneId: aws.String(second),
		})
		require.NoError(t, err)
		require.Equal(t, second, *out.HostedZones[0].Id)
		require.Len(t, out.HostedZones, len(want)-1)
	})
}

func TestRoute53FailoverAndWeightedRecords(t *testing.T) {
	srv := startSim(t, fastProfile())
	c := r53Client(t, srv, 1)
	ctx := context.Background()
	zoneID := r53NewZone(t, c, "example.com", "zone")

	var checks []string
	for i, ip := range []string{"192.0.2.10", "198.51.100.10"} {
		out, err := c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
			CallerReference: aws.String(fmt.Sprintf("hc-%d", i)),
			HealthCheckConfig: &types.HealthCheckConfig{
				Type: types.HealthCheckTypeHttp, IPAddress: aws.String(ip),
			},
		})
		require.NoError(t, err)
		checks = append(checks, *out.HealthCheck.Id)
	}

	out, err := r53Change(c, zoneID,
		r53Do(types.ChangeActionCreate, r53Failover(r53Set("app.example.com", types.RRTypeA,
			"192.0.2.10"), "primary", types.ResourceRecordSetFailoverPrimary, checks[0])),
		r53Do(types.ChangeActionCreate, r53Failover(r53Set("app.example.com", types.RRTypeA,
			"198.51.100.10"), "secondary", types.ResourceRecordSetFailoverSecondary, checks[1])),
		r53Do(types.ChangeActionCreate, r53Weighted(r53Set("w.example.com", types.RRTypeA,
			"192.0.2.20"), "blue", 200)),
		r53Do(types.ChangeActionCreate, r53Weighted(r53Set("w.example.com", types.RRTypeA,
			"192.0.2.21"), "green", 0)),
		r53Do(types.ChangeActionCreate, &types.ResourceRecordSet{
			Name: aws.String("alias.example.com"), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{
				HostedZoneId: aws.String(zoneID), DNSName: aws.String("app.example.com"),
				EvaluateTargetHealth: true,
			},
		}),
		r53Do(types.ChangeActionCreate, r53Set("www.example.com", types.RRTypeCname,
			"app.example.com")),
	)
	require.NoError(t, err)
	require.Equal(t, types.ChangeStatusPending, out.ChangeInfo.Status)

	sets := r53ListAll(t, c, zoneID)
	var keys []string
	for _, rs := range sets {
		keys = append(keys, r53KeyOf(rs))
	}
	require.Equal(t, []string{
		"example.com. NS ", "example.com. SOA ",
		"alias.example.com. A ",
		"app.example.com. A primary", "app.example.com. A secondary",
		"w.example.com. A blue", "w.example.com. A green",
		"www.example.com. CNAME ",
	}, keys)

	primary, secondary := sets[3], sets[4]
	require.Equal(t, types.ResourceRecordSetFailoverPrimary, primary.Failover)
	require.Equal(t, checks[0], aws.ToString(primary.HealthCheckId))
	require.Equal(t, types.ResourceRecordSetFailoverSecondary, secondary.Failover)
	require.Equal(t, checks[1], aws.ToString(secondary.HealthCheckId))
	require.EqualValues(t, 60, aws.ToInt64(primary.TTL))
	require.Equal(t, "192.0.2.10", *primary.ResourceRecords[0].Value)
	require.EqualValues(t, 200, aws.ToInt64(sets[5].Weight))
	require.NotNil(t, sets[6].Weight, "a weight of 0 is a weight")
	require.EqualValues(t, 0, *sets[6].Weight)
	alias := sets[2].AliasTarget
	require.NotNil(t, alias)
	require.Equal(t, "app.example.com.", *alias.DNSName)
	require.Equal(t, strings.TrimPrefix(zoneID, "/hostedzone/"), *alias.HostedZoneId)
	require.True(t, alias.EvaluateTargetHealth)
	require.Nil(t, sets[2].TTL)

	t.Run("upsert, and delete then create in one batch", func(t *testing.T) {
		_, err := r53Change(c, zoneID,
			r53Do(types.ChangeActionUpsert, r53Failover(r53Set("app.example.com", types.RRTypeA,
				"192.0.2.99"), "primary", types.ResourceRecordSetFailoverPrimary, checks[0])),
			r53Do(types.ChangeActionDelete, r53Failover(r53Set("app.example.com", types.RRTypeA,
				"198.51.100.10"), "secondary", types.ResourceRecordSetFailoverSecondary, checks[1])),
			r53Do(types.ChangeActionCreate, r53Failover(r53Set("app.example.com", types.RRTypeA,
				"198.51.100.99"), "secondary", types.ResourceRecordSetFailoverSecondary, checks[1])),
		)
		require.NoError(t, err)

		var values []string
		for _, z := range srv.Sim.Snapshot().Route53.HostedZones {
			for _, rs := range z.RecordSets {
				if rs.Name == "app.example.com." {
					values = append(values, rs.Failover+"="+strings.Join(rs.Values, ","))
				}
			}
		}
		require.Equal(t, []string{"PRIMARY=192.0.2.99", "SECONDARY=198.51.100.99"}, values)
	})
}

func TestRoute53ChangeBatchValidation(t *testing.T) {
	srv := startSim(t, fastProfile())
	c := r53Client(t, srv, 1)
	ctx := context.Background()
	zoneID := r53NewZone(t, c, "example.com", "zone")
	hc, err := c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
		CallerReference: aws.String("hc"),
		HealthCheckConfig: &types.HealthCheckConfig{
			Type: types.HealthCheckTypeTcp, IPAddress: aws.String("192.0.2.1"), Port: aws.Int32(5432),
		},
	})
	require.NoError(t, err)
	check := *hc.HealthCheck.Id

	existing := func() *types.ResourceRecordSet {
		return r53Set("exists.example.com", types.RRTypeA, "192.0.2.1")
	}
	primary := func() *types.ResourceRecordSet {
		return r53Failover(r53Set("fo.example.com", types.RRTypeA, "192.0.2.2"), "p",
			types.ResourceRecordSetFailoverPrimary, check)
	}
	_, err = r53Change(c, zoneID,
		r53Do(types.ChangeActionCreate, existing()),
		r53Do(types.ChangeActionCreate, primary()),
		r53Do(types.ChangeActionCreate, r53Failover(r53Set("fo.example.com", types.RRTypeA,
			"192.0.2.3"), "s", types.ResourceRecordSetFailoverSecondary, "")),
	)
	require.NoError(t, err)
	baseline := r53ListAll(t, c, zoneID)

	create := func(rs *types.ResourceRecordSet) types.Change {
		return r53Do(types.ChangeActionCreate, rs)
	}
	tests := []struct {
		name    string
		changes []types.Change
		// messages are fragments of the InvalidChangeBatch messages, in order.
		messages []string
		// isErr checks any other error.
		isErr func(error) bool
	}{
		{
			name:    "create an existing set",
			changes: []types.Change{create(existing())},
			messages: []string{"Tried to create resource record set " +
				"[name='exists.example.com.', type='A'] but it already exists"},
		},
		{
			name:    "create an existing set with an identifier",
			changes: []types.Change{create(primary())},
			messages: []string{"Tried to create resource record set " +
				"[name='fo.example.com.', type='A', set-identifier='p'] but it already exists"},
		},
		{
			name: "delete a missing set",
			changes: []types.Change{r53Do(types.ChangeActionDelete,
				r53Set("missing.example.com", types.RRTypeA, "192.0.2.1"))},
			messages: []string{"[name='missing.example.com.', type='A'] but it was not found"},
		},
		{
			name: "delete with other values",
			changes: []types.Change{r53Do(types.ChangeActionDelete,
				r53Set("exists.example.com", types.RRTypeA, "192.0.2.200"))},
			messages: []string{"but the values provided do not match the current values"},
		},
		{
			name: "two changes to one set",
			changes: []types.Change{
				r53Do(types.ChangeActionUpsert, r53Set("dup.example.com", types.RRTypeA, "192.0.2.1")),
				r53Do(types.ChangeActionUpsert, r53Set("dup.example.com", types.RRTypeA, "192.0.2.2")),
			},
			messages: []string{"invalid set of changes for a resource record set 'A dup.example.com.'"},
		},
		{
			name:     "a name outside the zone",
			changes:  []types.Change{create(r53Set("www.example.org", types.RRTypeA, "192.0.2.1"))},
			messages: []string{"RRSet with DNS name www.example.org. is not permitted in zone example.com."},
		},
		{
			name: "a second PRIMARY",
			changes: []types.Change{create(r53Failover(r53Set("fo.example.com", types.RRTypeA,
				"192.0.2.9"), "p2", types.ResourceRecordSetFailoverPrimary, ""))},
			messages: []string{"as failover PRIMARY, but the record set with set identifier 'p'"},
		},
		{
			name: "weighted beside failover",
			changes: []types.Change{create(r53Weighted(r53Set("fo.example.com", types.RRTypeA,
				"192.0.2.9"), "w", 10))},
			messages: []string{"with weighted routing, but a record set with the same name " +
				"and type uses failover routing"},
		},
		{
			name: "a CNAME beside an A record",
			changes: []types.Change{create(r53Set("exists.example.com", types.RRTypeCname,
				"x.example.net"))},
			messages: []string{"RRSet of type CNAME with DNS name exists.example.com. is not permitted"},
		},
		{
			name:     "not an IPv4 address",
			changes:  []types.Change{create(r53Set("ip.example.com", types.RRTypeA, "192.0.2"))},
			messages: []string{"ARRDATAIllegalIPv4Address"},
		},
		{
			name: "one bad change spoils the batch",
			changes: []types.Change{
				create(r53Set("fine.example.com", types.RRTypeA, "192.0.2.1")),
				create(existing()),
			},
			messages: []string{"already exists"},
		},
		{
			name: "every problem is reported",
			changes: []types.Change{
				create(existing()),
				r53Do(types.ChangeActionDelete, r53Set("gone.example.com", types.RRTypeA, "192.0.2.1")),
			},
			messages: []string{"already exists", "was not found"},
		},
		{
			name: "the SOA record stays",
			changes: []types.Change{r53Do(types.ChangeActionDelete,
				&types.ResourceRecordSet{
					Name: baseline[1].Name, Type: baseline[1].Type, TTL: baseline[1].TTL,
					ResourceRecords: baseline[1].ResourceRecords,
				})},
			messages: []string{"A HostedZone must contain exactly one SOA record."},
		},
		{
			name: "failover without a set identifier",
			changes: []types.Change{create(&types.ResourceRecordSet{
				Name: aws.String("x.example.com"), Type: types.RRTypeA, TTL: aws.Int64(60),
				Failover:        types.ResourceRecordSetFailoverPrimary,
				ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}},
			})},
			isErr: r53IsErr[*types.InvalidInput],
		},
		{
			name: "weight without a set identifier",
			changes: []types.Change{create(&types.ResourceRecordSet{
				Name: aws.String("x.example.com"), Type: types.RRTypeA, TTL: aws.Int64(60),
				Weight:          aws.Int64(1),
				ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}},
			})},
			isErr: r53IsErr[*types.InvalidInput],
		},
		{
			name: "a set identifier without a routing policy",
			changes: []types.Change{create(&types.ResourceRecordSet{
				Name: aws.String("x.example.com"), Type: types.RRTypeA, TTL: aws.Int64(60),
				SetIdentifier:   aws.String("lonely"),
				ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}},
			})},
			isErr: r53IsErr[*types.InvalidInput],
		},
		{
			name: "two routing policies",
			changes: []types.Change{create(r53Weighted(r53Failover(r53Set("x.example.com",
				types.RRTypeA, "192.0.2.1"), "both", types.ResourceRecordSetFailoverPrimary, ""),
				"both", 1))},
			isErr: r53IsErr[*types.InvalidInput],
		},
		{
			name: "a weight above 255",
			changes: []types.Change{create(r53Weighted(r53Set("x.example.com", types.RRTypeA,
				"192.0.2.1"), "heavy", 256))},
			isErr: r53IsErr[*types.InvalidInput],
		},
		{
			name: "an unknown failover role",
			changes: []types.Change{create(r53Failover(r53Set("x.example.com", types.RRTypeA,
				"192.0.2.1"), "t", "TERTIARY", ""))},
			isErr: r53IsErr[*types.InvalidInput],
		},
		{
			name: "values without a TTL",
			changes: []types.Change{create(&types.ResourceRecordSet{
				Name: aws.String("x.example.com"), Type: types.RRTypeA,
				ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}},
			})},
			isErr: r53IsErr[*types.InvalidInput],
		},
		{
			name: "a TTL without values",
			changes: []types.Change{create(&types.ResourceRecordSet{
				Name: aws.String("x.example.com"), Type: types.RRTypeA, TTL: aws.Int64(60),
			})},
			isErr: r53IsErr[*types.InvalidInput],
		},
		{
			name: "an alias with a TTL",
			changes: []types.Change{create(&types.ResourceRecordSet{
				Name: aws.String("x.example.com"), Type: types.RRTypeA, TTL: aws.Int64(60),
				AliasTarget: &types.AliasTarget{
					HostedZoneId: aws.String(zoneID), DNSName: aws.String("exists.example.com"),
				},
			})},
			isErr: r53IsErr[*types.InvalidInput],
		},
		{
			name: "an unknown health check",
			changes: []types.Change{create(r53Failover(r53Set("x.example.com", types.RRTypeA,
				"192.0.2.1"), "p", types.ResourceRecordSetFailoverPrimary,
				"00000000-0000-0000-0000-000000000000"))},
			isErr: r53IsErr[*types.NoSuchHealthCheck],
		},
		{
			name:    "an empty batch",
			changes: []types.Change{},
			isErr:   r53IsErr[*types.InvalidInput],
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r53Change(c, zoneID, tc.changes...)
			require.Error(t, err)
			if tc.isErr != nil {
				require.True(t, tc.isErr(err), "unexpected error %v", err)
			} else {
				var batch *types.InvalidChangeBatch
				require.ErrorAs(t, err, &batch)
				require.Len(t, batch.Messages, len(tc.messages), "messages %q", batch.Messages)
				for i, m := range tc.messages {
					require.Contains(t, batch.Messages[i], m)
				}
			}
			require.Equal(t, baseline, r53ListAll(t, c, zoneID), "a refused batch changed the zone")
		})
	}
}

// TestRoute53ChangeBatchLimits: Route 53 refuses a batch of more than
// 1,000 ResourceRecord elements or 32,000 characters of values, counting
// those of an UPSERT twice, and changes nothing.
func TestRoute53ChangeBatchLimits(t *testing.T) {
	srv := startSim(t, fastProfile())
	c := r53Client(t, srv, 1)

	// batch makes n changes of one-value record sets in zone, each value
	// of the given length: an A record's address, or else a TXT string.
	batch := func(action types.ChangeAction, zone string, n, length int) []types.Change {
		var out []types.Change
		for i := range n {
			name := fmt.Sprintf("h%04d.%s", i, zone)
			rs := r53Set(name, types.RRTypeA, fmt.Sprintf("10.0.%d.%d", i/256, i%256))
			if length > 0 {
				rs = r53Set(name, types.RRTypeTxt, `"`+strings.Repeat("x", length-2)+`"`)
			}
			out = append(out, r53Do(action, rs))
		}
		return out
	}
	const (
		recordsExceeded = "Number of records limit of 1000 exceeded"
		charsExceeded   = "Maximum characters in request limit of 32000 exceeded"
	)
	// zoneOf maps a zone's name to its ID, for the alias targets.
	zoneOf := map[string]string{}
	tests := []struct {
		name    string
		changes func(zone string) []types.Change
		// messages are fragments of the InvalidChangeBatch messages, in
		// order; none means the batch is accepted.
		messages []string
	}{
		{
			name: "1,000 CREATEs",
			changes: func(z string) []types.Change {
				return batch(types.ChangeActionCreate, z, 1000, 0)
			},
		},
		{
			name: "1,001 CREATEs",
			changes: func(z string) []types.Change {
				return batch(types.ChangeActionCreate, z, 1001, 0)
			},
			messages: []string{recordsExceeded},
		},
		{
			name: "500 UPSERTs count 1,000",
			changes: func(z string) []types.Change {
				return batch(types.ChangeActionUpsert, z, 500, 0)
			},
		},
		{
			name: "501 UPSERTs count 1,002",
			changes: func(z string) []types.Change {
				return batch(types.ChangeActionUpsert, z, 501, 0)
			},
			messages: []string{recordsExceeded},
		},
		{
			name: "999 CREATEs and an UPSERT count 1,001",
			changes: func(z string) []types.Change {
				return append(batch(types.ChangeActionCreate, z, 999, 0),
					r53Do(types.ChangeActionUpsert, r53Set("u."+z, types.RRTypeA, "10.9.9.9")))
			},
			messages: []string{recordsExceeded},
		},
		{
			name: "alias record sets count nothing",
			changes: func(z string) []types.Change {
				out := batch(types.ChangeActionCreate, z, 1000, 0)
				for i := range 5 {
					out = append(out, r53Do(types.ChangeActionUpsert, &types.ResourceRecordSet{
						Name: aws.String(fmt.Sprintf("alias%d.%s", i, z)), Type: types.RRTypeA,
						AliasTarget: &types.AliasTarget{
							HostedZoneId: aws.String(zoneOf[z]), DNSName: aws.String("h0000." + z),
						},
					}))
				}
				return out
			},
		},
		{
			name: "32,000 characters of CREATEs",
			changes: func(z string) []types.Change {
				return batch(types.ChangeActionCreate, z, 128, 250)
			},
		},
		{
			name: "32,250 characters of CREATEs",
			changes: func(z string) []types.Change {
				return batch(types.ChangeActionCreate, z, 129, 250)
			},
			messages: []string{charsExceeded},
		},
		{
			name: "16,000 characters of UPSERTs count 32,000",
			changes: func(z string) []types.Change {
				return batch(types.ChangeActionUpsert, z, 64, 250)
			},
		},
		{
			name: "16,250 characters of UPSERTs count 32,500",
			changes: func(z string) []types.Change {
				return batch(types.ChangeActionUpsert, z, 65, 250)
			},
			messages: []string{charsExceeded},
		},
		{
			name: "both limits",
			changes: func(z string) []types.Change {
				return batch(types.ChangeActionUpsert, z, 501, 100)
			},
			messages: []string{recordsExceeded, charsExceeded},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zone := fmt.Sprintf("z%d.example.com.", i)
			zoneID := r53NewZone(t, c, zone, zone)
			zoneOf[zone] = zoneID
			baseline := r53ListAll(t, c, zoneID)

			_, err := r53Change(c, zoneID, tc.changes(zone)...)
			if len(tc.messages) == 0 {
				require.NoError(t, err)
				return
			}
			var refused *types.InvalidChangeBatch
			require.ErrorAs(t, err, &refused)
			require.Len(t, refused.Messages, len(tc.messages), "messages %q", refused.Messages)
			for i, m := range tc.messages {
				require.Contains(t, refused.Messages[i], m)
			}
			var re *awshttp.ResponseError
			require.ErrorAs(t, err, &re)
			require.Equal(t, http.StatusBadRequest, re.HTTPStatusCode())
			require.Equal(t, baseline, r53ListAll(t, c, zoneID), "a refused batch changed the zone")
		})
	}
}

func TestRoute53ListResourceRecordSetsPagination(t *testing.T) {
	srv := startSim(t, fastProfile())
	c := r53Client(t, srv, 1)
	ctx := context.Background()
	zoneID := r53NewZone(t, c, "example.com", "zone")

	var changes []types.Change
	for i := range 12 {
		changes = append(changes, r53Do(types.ChangeActionCreate,
			r53Set(fmt.Sprintf("h%02d.example.com", 11-i), types.RRTypeA, "192.0.2.1")))
	}
	for _, id := range []string{"d", "b", "c", "a"} {
		changes = append(changes,
			r53Do(types.ChangeActionCreate, r53Weighted(r53Set("api.example.com", types.RRTypeA,
				"192.0.2.2"), id, 1)),
			r53Do(types.ChangeActionCreate, r53Weighted(r53Set("api.example.com", types.RRTypeAaaa,
				"2001:db8::1"), id, 1)))
	}
	changes = append(changes,
		r53Do(types.ChangeActionCreate, r53Set("x.h03.example.com", types.RRTypeTxt, `"sub"`)),
		r53Do(types.ChangeActionCreate, r53Set("example.com", types.RRTypeTxt, `"apex"`)),
		r53Do(types.ChangeActionCreate, r53Set("example.com", types.RRTypeMx, "10 mail.example.com")),
		r53Do(types.ChangeActionCreate, r53Set("*.example.com", types.RRTypeA, "192.0.2.3")),
		r53Do(types.ChangeActionCreate, r53Set("zz.example.com", types.RRTypeA, "192.0.2.4")),
	)
	_, err := r53Change(c, zoneID, changes...)
	require.NoError(t, err)

	all := r53ListAll(t, c, zoneID)
	require.Len(t, all, len(changes)+2)
	var want []string
	byKey := map[string]string{}
	for _, rs := range all {
		k := r53KeyOf(rs)
		want = append(want, k)
		byKey[r53SortKey(*rs.Name, string(rs.Type), aws.ToString(rs.SetIdentifier))] = k
	}
	sortKeys := slices.Sorted(func(yield func(string) bool) {
		for k := range byKey {
			if !yield(k) {
				return
			}
		}
	})
	var expected []string
	for _, k := range sortKeys {
		expected = append(expected, byKey[k])
	}
	require.Equal(t, expected, want, "record sets are not in Route 53's order")
	require.Contains(t, want, `\052.example.com. A `, "a wildcard is listed with its escape")

	t.Run("pages of three by hand", func(t *testing.T) {
		var got []string
		in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID),
			MaxItems: aws.Int32(3)}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 30, "pagination does not end")
			out, err := c.ListResourceRecordSets(ctx, in)
			require.NoError(t, err)
			require.LessOrEqual(t, len(out.ResourceRecordSets), 3)
			for _, rs := range out.ResourceRecordSets {
				got = append(got, r53KeyOf(rs))
			}
			if !out.IsTruncated {
				break
			}
			require.NotNil(t, out.NextRecordName)
			in.StartRecordName, in.StartRecordType = out.NextRecordName, out.NextRecordType
			in.StartRecordIdentifier = out.NextRecordIdentifier
		}
		require.Equal(t, want, got)
	})

	t.Run("the SDK's paginator", func(t *testing.T) {
		var got []string
		p := route53.NewListResourceRecordSetsPaginator(c, &route53.ListResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID), MaxItems: aws.Int32(4),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			require.NoError(t, err)
			for _, rs := range out.ResourceRecordSets {
				got = append(got, r53KeyOf(rs))
			}
		}
		require.Equal(t, want, got)
	})

	t.Run("start at a set identifier", func(t *testing.T) {
		out, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
			HostedZoneId: aws.String(zoneID), StartRecordName: aws.String("API.example.com"),
			StartRecordType: types.RRTypeA, StartRecordIdentifier: aws.String("c"),
			MaxItems: aws.Int32(2),
		})
		require.NoError(t, err)
		require.Equal(t, "api.example.com. A c", r53KeyOf(out.ResourceRecordSets[0]))
		require.Equal(t, "api.example.com. A d", r53KeyOf(out.ResourceRecordSets[1]))
		require.Equal(t, "api.example.com.", aws.ToString(out.NextRecordName))
		require.Equal(t, types.RRTypeAaaa, out.NextRecordType)
		require.Equal(t, "a", aws.ToString(out.NextRecordIdentifier))
	})
}

func TestRoute53ChangePropagation(t *testing.T) {
	p := awssim.DefaultProfile()
	p.TimeScale = 200 // 40 s of propagation become about 200 ms
	srv := startSim(t, &p)
	c := r53Client(t, srv, 1)
	ctx := context.Background()
	zoneID := r53NewZone(t, c, "example.com", "zone")

	out, err := r53Change(c, zoneID, r53Do(types.ChangeActionUpsert,
		r53Set("www.example.com", types.RRTypeA, "192.0.2.1")))
	require.NoError(t, err)
	id := *out.ChangeInfo.Id

	got, err := c.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
	require.NoError(t, err)
	require.Equal(t, types.ChangeStatusPending, got.ChangeInfo.Status)

	w := route53.NewResourceRecordSetsChangedWaiter(c,
		func(o *route53.ResourceRecordSetsChangedWaiterOptions) {
			o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
		})
	require.NoError(t, w.Wait(ctx, &route53.GetChangeInput{Id: aws.String(id)}, 10*time.Second))
	waited := time.Now()

	got, err = c.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
	require.NoError(t, err)
	require.Equal(t, types.ChangeStatusInsync, got.ChangeInfo.Status)

	var change awssim.Route53Change
	for _, ch := range srv.Sim.Snapshot().Route53.Changes {
		if ch.ID == id {
			change = ch
		}
	}
	require.Equal(t, "INSYNC", change.Status)
	require.True(t, change.SubmittedAt.Equal(*out.ChangeInfo.SubmittedAt),
		"state %v, API %v", change.SubmittedAt, *out.ChangeInfo.SubmittedAt)

	var events []awssim.Event
	for _, ev := range srv.Sim.Events(time.Time{}) {
		if ev.Resource == "change" && ev.ID == id {
			events = append(events, ev)
		}
	}
	require.Len(t, events, 1)
	require.Equal(t, "INSYNC", events[0].State)
	require.Equal(t, awssim.GlobalRegion, events[0].Region)
	require.True(t, events[0].At.Equal(change.InsyncAt))
	require.False(t, waited.Before(events[0].At), "the waiter finished before the change was INSYNC")

	scaled := p.Scaled(p.Route53Propagation)
	took := change.InsyncAt.Sub(change.SubmittedAt)
	slack := p.Jitter*float64(scaled) + float64(time.Millisecond)
	require.InDelta(t, float64(scaled), float64(took), slack,
		"propagation took %v, the profile says %v ± %.0f%%", took, scaled, 100*p.Jitter)

	_, err = c.GetChange(ctx, &route53.GetChangeInput{Id: aws.String("CNOSUCHCHANGE")})
	require.True(t, r53IsErr[*types.NoSuchChange](err), "%v", err)
}

// TestRoute53ChangesInOrder: Route 53 applies a zone's changes in order,
// so however the jitter falls, a change is INSYNC no earlier than the one
// submitted to its zone before it. drover leans on this to learn when a
// change whose id it lost is INSYNC.
func TestRoute53ChangesInOrder(t *testing.T) {
	p := awssim.DefaultProfile()
	p.TimeScale = 400
	p.Jitter = 0.9
	srv := startSim(t, &p)
	c := r53Client(t, srv, 1)
	zones := map[string]string{
		r53NewZone(t, c, "a.example.com", "a"): "www.a.example.com",
		r53NewZone(t, c, "b.example.com", "b"): "www.b.example.com",
	}
	// The changes to each zone, in the order they were submitted.
	submitted := map[string][]string{}
	for i := range 20 {
		for z, name := range zones {
			out, err := r53Change(c, z, r53Do(types.ChangeActionUpsert,
				r53Set(name, types.RRTypeA, fmt.Sprintf("192.0.2.%d", i+1))))
			require.NoError(t, err)
			submitted[z] = append(submitted[z], aws.ToString(out.ChangeInfo.Id))
		}
	}
	insync := map[string]time.Time{}
	for _, ch := range srv.Sim.Snapshot().Route53.Changes {
		insync[ch.ID] = ch.InsyncAt
	}
	for z, ids := range submitted {
		for i := 1; i < len(ids); i++ {
			require.False(t, insync[ids[i]].Before(insync[ids[i-1]]),
				"in zone %s, change %s is INSYNC at %s, before the earlier %s (%s)",
				z, ids[i], insync[ids[i]], ids[i-1], insync[ids[i-1]])
		}
	}
}

func TestRoute53HealthChecks(t *testing.T) {
	srv := startSim(t, fastProfile())
	c := r53Client(t, srv, 1)
	ctx := context.Background()

	config := func(path string) *types.HealthCheckConfig {
		return &types.HealthCheckConfig{
			Type: types.HealthCheckTypeHttp, IPAddress: aws.String("192.0.2.10"),
			ResourcePath: aws.String(path),
		}
	}
	created, err := c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
		CallerReference: aws.String("hc-1"), HealthCheckConfig: config("/health"),
	})
	require.NoError(t, err)
	id := *created.HealthCheck.Id
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, id)
	cfg := created.HealthCheck.HealthCheckConfig
	require.EqualValues(t, 80, aws.ToInt32(cfg.Port))
	require.EqualValues(t, 30, aws.ToInt32(cfg.RequestInterval))
	require.EqualValues(t, 3, aws.ToInt32(cfg.FailureThreshold))
	require.EqualValues(t, 1, aws.ToInt64(created.HealthCheck.HealthCheckVersion))
	require.NotEmpty(t, aws.ToString(created.Location))

	t.Run("idempotent create", func(t *testing.T) {
		again, err := c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
			CallerReference: aws.String("hc-1"), HealthCheckConfig: config("/health"),
		})
		require.NoError(t, err)
		require.Equal(t, id, *again.HealthCheck.Id)

		_, err = c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
			CallerReference: aws.String("hc-1"), HealthCheckConfig: config("/other"),
		})
		require.True(t, r53IsErr[*types.HealthCheckAlreadyExists](err), "%v", err)
		require.Len(t, srv.Sim.Snapshot().Route53.HealthChecks, 1)
	})

	t.Run("invalid settings", func(t *testing.T) {
		_, err := c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
			CallerReference: aws.String("tcp"),
			HealthCheckConfig: &types.HealthCheckConfig{
				Type: types.HealthCheckTypeTcp, IPAddress: aws.String("192.0.2.10"),
			},
		})
		require.True(t, r53IsErr[*types.InvalidInput](err), "a TCP check needs a port: %v", err)
	})

	update := func(in route53.UpdateHealthCheckInput) func(t *testing.T) {
		return func(t *testing.T) {
			in.HealthCheckId = aws.String(id)
			_, err := c.UpdateHealthCheck(ctx, &in)
			require.NoError(t, err)
		}
	}
	setHealthy := func(healthy bool) func(t *testing.T) {
		return func(t *testing.T) { require.NoError(t, srv.Sim.SetHealthCheckHealthy(id, healthy)) }
	}
	steps := []struct {
		name    string
		do      func(t *testing.T)
		status  string
		healthy bool
	}{
		{"healthy at first", func(*testing.T) {}, "Success: HTTP Status Code 200", true},
		{"endpoint down", setHealthy(false), "Failure: HTTP Status Code 503", false},
		{"inverted while down", update(route53.UpdateHealthCheckInput{Inverted: aws.Bool(true)}),
			"Success: HTTP Status Code 503", true},
		{"disabled and inverted", update(route53.UpdateHealthCheckInput{Disabled: aws.Bool(true)}),
			"Failure: Health checking is disabled", false},
		{"disabled", update(route53.UpdateHealthCheckInput{Inverted: aws.Bool(false)}),
			"Success: Health checking is disabled", true},
		{"enabled and down", update(route53.UpdateHealthCheckInput{Disabled: aws.Bool(false)}),
			"Failure: HTTP Status Code 503", false},
		{"endpoint up", setHealthy(true), "Success: HTTP Status Code 200", true},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.do(t)
			out, err := c.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{
				HealthCheckId: aws.String(id),
			})
			require.NoError(t, err)
			require.Len(t, out.HealthCheckObservations, 8)
			for _, o := range out.HealthCheckObservations {
				require.NotEmpty(t, o.Region)
				require.NotEmpty(t, aws.ToString(o.IPAddress))
				require.NotNil(t, o.StatusReport.CheckedTime)
				require.True(t, strings.HasPrefix(aws.ToString(o.StatusReport.Status), step.status),
					"status %q", aws.ToString(o.StatusReport.Status))
			}
			hcs := srv.Sim.Snapshot().Route53.HealthChecks
			require.Equal(t, step.healthy, hcs[0].Healthy)
		})
	}

	var states []string
	for _, ev := range srv.Sim.Events(time.Time{}) {
		if ev.Resource == "health-check" && ev.ID == id {
			states = append(states, ev.State)
		}
	}
	require.Equal(t, []string{"UNHEALTHY", "HEALTHY", "UNHEALTHY", "HEALTHY", "UNHEALTHY",
		"HEALTHY"}, states)

	t.Run("versions", func(t *testing.T) {
		got, err := c.GetHealthCheck(ctx, &route53.GetHealthCheckInput{HealthCheckId: aws.String(id)})
		require.NoError(t, err)
		require.EqualValues(t, 5, *got.HealthCheck.HealthCheckVersion)

		_, err = c.UpdateHealthCheck(ctx, &route53.UpdateHealthCheckInput{
			HealthCheckId: aws.String(id), HealthCheckVersion: aws.Int64(1),
			FailureThreshold: aws.Int32(5),
		})
		require.True(t, r53IsErr[*types.HealthCheckVersionMismatch](err), "%v", err)

		out, err := c.UpdateHealthCheck(ctx, &route53.UpdateHealthCheckInput{
			HealthCheckId: aws.String(id), HealthCheckVersion: aws.Int64(5),
			FailureThreshold: aws.Int32(5), ResourcePath: aws.String("/ready"),
		})
		require.NoError(t, err)
		require.EqualValues(t, 6, *out.HealthCheck.HealthCheckVersion)
		require.EqualValues(t, 5, *out.HealthCheck.HealthCheckConfig.FailureThreshold)
		require.Equal(t, "/ready", *out.HealthCheck.HealthCheckConfig.ResourcePath)
	})

	t.Run("unknown health check", func(t *testing.T) {
		_, err := c.GetHealthCheck(ctx, &route53.GetHealthCheckInput{
			HealthCheckId: aws.String("00000000-0000-0000-0000-000000000000"),
		})
		require.True(t, r53IsErr[*types.NoSuchHealthCheck](err), "%v", err)
		require.Error(t, srv.Sim.SetHealthCheckHealthy("00000000-0000-0000-0000-000000000000", false))
	})
}

func TestRoute53Deletes(t *testing.T) {
	srv := startSim(t, fastProfile())
	c := r53Client(t, srv, 1)
	ctx := context.Background()
	zoneID := r53NewZone(t, c, "example.com", "zone")
	hc, err := c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
		CallerReference: aws.String("hc"),
		HealthCheckConfig: &types.HealthCheckConfig{
			Type: types.HealthCheckTypeHttps, FullyQualifiedDomainName: aws.String("app.example.com"),
		},
	})
	require.NoError(t, err)
	checkID := *hc.HealthCheck.Id
	rs := r53Failover(r53Set("app.example.com", types.RRTypeA, "192.0.2.1"), "p",
		types.ResourceRecordSetFailoverPrimary, checkID)
	_, err = r53Change(c, zoneID, r53Do(types.ChangeActionCreate, rs))
	require.NoError(t, err)

	_, err = c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(zoneID)})
	require.True(t, r53IsErr[*types.HostedZoneNotEmpty](err), "%v", err)
	_, err = c.DeleteHealthCheck(ctx, &route53.DeleteHealthCheckInput{HealthCheckId: &checkID})
	require.True(t, r53IsErr[*types.HealthCheckInUse](err), "%v", err)

	_, err = r53Change(c, zoneID, r53Do(types.ChangeActionDelete, rs))
	require.NoError(t, err)
	_, err = c.DeleteHealthCheck(ctx, &route53.DeleteHealthCheckInput{HealthCheckId: &checkID})
	require.NoError(t, err)
	del, err := c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(zoneID)})
	require.NoError(t, err)
	require.Equal(t, types.ChangeStatusPending, del.ChangeInfo.Status)

	_, err = c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(zoneID)})
	require.True(t, r53IsErr[*types.NoSuchHostedZone](err), "%v", err)
	_, err = c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
		CallerReference: aws.String("hc"), HealthCheckConfig: hc.HealthCheck.HealthCheckConfig,
	})
	require.True(t, r53IsErr[*types.HealthCheckAlreadyExists](err),
		"a deleted check's caller reference stays taken: %v", err)
}

func TestRoute53ThrottlingIsRetried(t *testing.T) {
	srv := startSim(t, fastProfile())
	ctx := context.Background()
	_, err := srv.Sim.AddFault(awssim.Fault{
		Kind: awssim.FaultThrottle, Service: awssim.ServiceRoute53,
		Operation: "ListHostedZonesByName", PerSecond: 5, Burst: 1,
	})
	require.NoError(t, err)
	isThrottle := func(err error) bool {
		return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
	}

	strict := r53Client(t, srv, 1)
	_, err = strict.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{})
	require.NoError(t, err, "the burst lets the first call through")
	_, err = strict.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{})
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "Throttling", apiErr.ErrorCode())
	require.True(t, isThrottle(err), "the SDK does not take %v for a throttle", err)

	control := awssim.NewControl(srv.URL)
	require.NoError(t, control.ResetCalls(ctx))
	patient := r53Client(t, srv, 0, func(o *route53.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 30
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				return 20 * time.Millisecond, nil
			})
		})
	})
	const calls = 3
	for range calls {
		_, err := patient.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{})
		require.NoError(t, err)
	}
	counts, err := control.Calls(ctx)
	require.NoError(t, err)
	var attempts int64
	for _, cc := range counts {
		if cc.Region == awssim.GlobalRegion && cc.Service == awssim.ServiceRoute53 &&
			cc.Operation == "ListHostedZonesByName" {
			attempts = cc.Count
		}
	}
	require.Greater(t, attempts, int64(calls), "no call was throttled and retried")

}

func TestRoute53InjectedErrors(t *testing.T) {
	srv := startSim(t, fastProfile())
	c := r53Client(t, srv, 1)
	zoneID := r53NewZone(t, c, "example.com", "zone")
	tests := []struct {
		code   string
		status int
		check  func(t *testing.T, err error)
	}{
		{"PriorRequestNotComplete", 400, func(t *testing.T, err error) {
			require.True(t, r53IsErr[*types.PriorRequestNotComplete](err), "%v", err)
			require.True(t, retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) ==
				aws.TrueTernary, "the SDK does not retry %v", err)
		}},
		{"InvalidChangeBatch", 400, func(t *testing.T, err error) {
			var batch *types.InvalidChangeBatch
			require.ErrorAs(t, err, &batch)
			require.Equal(t, []string{"injected batch error"}, batch.Messages)
		}},
		{"InternalError", 500, func(t *testing.T, err error) {
			var apiErr smithy.APIError
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, "InternalError", apiErr.ErrorCode())
			require.Equal(t, "injected batch error", apiErr.ErrorMessage())
		}},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			f, err := srv.Sim.AddFault(awssim.Fault{
				Kind: awssim.FaultError, Service: awssim.ServiceRoute53,
				Operation: "ChangeResourceRecordSets", Rate: 1, Code: tc.code, Status: tc.status,
				Message: "injected batch error",
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = srv.Sim.RemoveFault(f.ID) })
			_, err = r53Change(c, zoneID, r53Do(types.ChangeActionUpsert,
				r53Set("www.example.com", types.RRTypeA, "192.0.2.1")))
			tc.check(t, err)
		})
	}
}

func TestRoute53RawHTTPErrors(t *testing.T) {
	srv := startSim(t, fastProfile())
	hc := &http.Client{Timeout: 5 * time.Second}
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"malformed XML", http.MethodPost, "/2013-04-01/hostedzone",
			"<CreateHostedZoneRequest><Name>x", http.StatusBadRequest, "InvalidInput"},
		{"empty body", http.MethodPost, "/2013-04-01/hostedzone", "",
			http.StatusBadRequest, "InvalidInput"},
		{"wrong document", http.MethodPost, "/2013-04-01/healthcheck", "<Nonsense/>",
			http.StatusBadRequest, "InvalidInput"},
		{"bad maxitems", http.MethodGet, "/2013-04-01/hostedzonesbyname?maxitems=many", "",
			http.StatusBadRequest, "InvalidInput"},
		{"unknown path", http.MethodGet, "/2013-04-01/nothing/here", "",
			http.StatusNotFound, "UnknownOperationException"},
		{"unknown method", http.MethodPut, "/2013-04-01/hostedzone", "",
			http.StatusNotFound, "UnknownOperationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Authorization", fakeAuth("us-east-1", "route53"))
			resp, err := hc.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			require.Equal(t, tc.status, resp.StatusCode, "%s", body)
			require.Equal(t, "text/xml", resp.Header.Get("Content-Type"))
			var doc struct {
				XMLName xml.Name `xml:"ErrorResponse"`
				Error   struct{ Type, Code, Message string }
				ID      string `xml:"RequestId"`
			}
			require.NoError(t, xml.Unmarshal(body, &doc), "%s", body)
			require.Equal(t, "Sender", doc.Error.Type)
			require.Equal(t, tc.code, doc.Error.Code)
			require.NotEmpty(t, doc.Error.Message)
			require.NotEmpty(t, doc.ID)
		})
	}
}

func TestRoute53ListInCreationOrder(t *testing.T) {
	srv := startSim(t, fastProfile())
	c := r53Client(t, srv, 1)
	ctx := context.Background()
	var zones, checks []string
	for i := range 5 {
		zones = append(zones, r53NewZone(t, c, fmt.Sprintf("z%d.example.com", 5-i),
			fmt.Sprintf("zone-%d", i)))
		out, err := c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
			CallerReference: aws.String(fmt.Sprintf("hc-%d", i)),
			HealthCheckConfig: &types.HealthCheckConfig{
				Type: types.HealthCheckTypeHttp, IPAddress: aws.String("192.0.2.1"),
			},
		})
		require.NoError(t, err)
		checks = append(checks, *out.HealthCheck.Id)
	}

	var gotZones []string
	zp := route53.NewListHostedZonesPaginator(c, &route53.ListHostedZonesInput{
		MaxItems: aws.Int32(2),
	})
	for pages := 0; zp.HasMorePages(); pages++ {
		require.Less(t, pages, 5, "pagination does not end")
		out, err := zp.NextPage(ctx)
		require.NoError(t, err)
		for _, z := range out.HostedZones {
			gotZones = append(gotZones, *z.Id)
		}
	}
	require.Equal(t, zones, gotZones)

	var gotChecks []string
	hp := route53.NewListHealthChecksPaginator(c, &route53.ListHealthChecksInput{
		MaxItems: aws.Int32(2),
	})
	for pages := 0; hp.HasMorePages(); pages++ {
		require.Less(t, pages, 5, "pagination does not end")
		out, err := hp.NextPage(ctx)
		require.NoError(t, err)
		for _, hc := range out.HealthChecks {
			gotChecks = append(gotChecks, *hc.Id)
		}
	}
	require.Equal(t, checks, gotChecks)
}
