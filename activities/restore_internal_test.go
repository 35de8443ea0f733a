package activities

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/drills"
)

func TestCheckEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	open := int32(ln.Addr().(*net.TCPAddr).Port)

	// A port that was free a moment ago refuses connections.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := int32(closed.Addr().(*net.TCPAddr).Port)
	require.NoError(t, closed.Close())

	for _, tc := range []struct {
		name    string
		host    string
		port    int32
		reached bool
		why     string
	}{
		{"accepts", "localhost", open, true, ""},
		{"refuses", "127.0.0.1", refused, false, "does not accept a TCP connection"},
		// .invalid never resolves (RFC 2606): not checkable, not failed.
		{"does not resolve", "db.example.invalid", open, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reached, why := checkEndpoint(context.Background(), tc.host, tc.port)
			require.Equal(t, tc.reached, reached)
			if tc.why == "" {
				require.Empty(t, why)
			} else {
				require.Contains(t, why, tc.why)
			}
		})
	}
}

func TestRestorePointToken(t *testing.T) {
	at := time.Date(2026, 12, 3, 16, 19, 8, 123000000, time.UTC)
	for _, p := range []restorePoint{
		{snapshot: "rds:shop-orders-2026-12-03-16-19"},
		{time: at},
		{latest: true, time: at},
		{latest: true},
	} {
		got, ok := parseRestorePoint(p.token())
		require.True(t, ok, p.token())
		require.Equal(t, p.snapshot, got.snapshot)
		require.Equal(t, p.latest, got.latest)
		require.True(t, p.time.Equal(got.time), "%s: %s", p.token(), got.time)
	}
	for _, bad := range []string{"", "snapshot:", "time:yesterday", "other:x", "nocolon"} {
		_, ok := parseRestorePoint(bad)
		require.False(t, ok, bad)
	}
}

func TestPickSnapshot(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	snaps := []snapshotInfo{
		{id: "old", status: "available", created: t0},
		{id: "newest-but-creating", status: "creating", created: t0.Add(2 * time.Hour)},
		{id: "new", status: "available", created: t0.Add(time.Hour)},
	}
	for _, tc := range []struct {
		name, asked, want, errType string
	}{
		{"latest available", "", "new", ""},
		{"the one asked for", "old", "old", ""},
		{"asked for one not ready", "newest-but-creating", "", ErrInvalidState},
		{"asked for one missing", "gone", "", ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pickSnapshot(snaps, "DB instance x", tc.asked, "us-east-1")
			if tc.errType != "" {
				require.Equal(t, tc.errType, errorTypeOf(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, p.snapshot)
		})
	}
	_, err := pickSnapshot(snaps[1:2], "DB instance x", "", "us-east-1")
	require.Equal(t, ErrNotFound, errorTypeOf(err))
	require.ErrorContains(t, err, "DB instance x in us-east-1 has no available snapshot")
	require.ErrorContains(t, err, "1 still being taken")
}

func TestSameRecordSet(t *testing.T) {
	a := r53types.ResourceRecordSet{Name: aws.String("API.shop.example.com"),
		Type: r53types.RRTypeA, TTL: aws.Int64(60),
		ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.10")}}}
	b := a
	b.Name = aws.String("api.shop.example.com.")
	b.GeoLocation = &r53types.GeoLocation{} // empty, as some answers write it
	same, err := sameRecordSet(a, b)
	require.NoError(t, err)
	require.True(t, same)

	b.TTL = aws.Int64(300)
	same, err = sameRecordSet(a, b)
	require.NoError(t, err)
	require.False(t, same)
}

func TestServiceToken(t *testing.T) {
	in := RestoreServiceInput{App: "shop", Region: "us-east-1",
		Service: ServiceRef{Cluster: "shop", Service: "web"},
		Capture: drills.Capture{CapturedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	tok := serviceToken(in)
	require.LessOrEqual(t, len(tok), 36, "ECS takes client tokens of up to 36 characters")
	require.Equal(t, tok, serviceToken(in), "every attempt must send the same token")
	later := in
	later.Capture.CapturedAt = later.Capture.CapturedAt.Add(time.Second)
	require.NotEqual(t, tok, serviceToken(later), "another capture is another restore")
}

// TestSplitChanges checks that the batches of a zone restore each fit
// Route 53's quotas on one request, in order, as full as they can be.
func TestSplitChanges(t *testing.T) {
	// sets makes n changes of record sets of `values` values, each value of
	// `length` characters, or an address when length is 0.
	sets := func(action r53types.ChangeAction, prefix string,
		n, values, length int) []r53types.Change {
		var out []r53types.Change
		for i := range n {
			rs := &r53types.ResourceRecordSet{Name: aws.String(fmt.Sprintf("%s%d.example.com.",
				prefix, i)), Type: r53types.RRTypeA, TTL: aws.Int64(60)}
			for j := range values {
				v := fmt.Sprintf("10.%d.%d.%d", j, i/256, i%256)
				if length > 0 {
					rs.Type, v = r53types.RRTypeTxt, `"`+strings.Repeat("x", length-2)+`"`
				}
				rs.ResourceRecords = append(rs.ResourceRecords, r53types.ResourceRecord{Value: &v})
			}
			out = append(out, r53types.Change{Action: action, ResourceRecordSet: rs})
		}
		return out
	}
	alias := func(name string) r53types.Change {
		return r53types.Change{Action: r53types.ChangeActionUpsert,
			ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String(name),
				Type: r53types.RRTypeA, AliasTarget: &r53types.AliasTarget{
					HostedZoneId: aws.String("Z1"), DNSName: aws.String("a0.example.com.")}}}
	}
	const (
		create = r53types.ChangeActionCreate
		upsert = r53types.ChangeActionUpsert
	)

	for _, tc := range []struct {
		name    string
		changes []r53types.Change
		// sizes are the number of changes in each batch.
		sizes []int
	}{
		{"nothing", nil, nil},
		{"1,200 UPSERTs count twice", sets(upsert, "a", 1200, 1, 0), []int{500, 500, 200}},
		{"1,200 CREATEs count once", sets(create, "a", 1200, 1, 0), []int{1000, 200}},
		{"an UPSERT after 999 CREATEs", slices.Concat(sets(create, "a", 999, 1, 0),
			sets(upsert, "b", 1, 1, 0)), []int{999, 1}},
		{"an UPSERT of 500 values fills a batch", slices.Concat(sets(upsert, "a", 1, 500, 0),
			sets(create, "b", 1, 1, 0)), []int{1, 1}},
		{"characters of UPSERTs count twice", sets(upsert, "a", 40, 1, 1000), []int{16, 16, 8}},
		{"32,000 characters fit", sets(create, "a", 32, 1, 1000), []int{32}},
		{"33,000 characters do not", sets(create, "a", 33, 1, 1000), []int{32, 1}},
		{"aliases count nothing", slices.Concat(sets(create, "a", 1000, 1, 0),
			[]r53types.Change{alias("x.example.com."), alias("y.example.com.")}), []int{1002}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			batches, err := splitChanges(tc.changes)
			require.NoError(t, err)
			var sizes []int
			var joined []r53types.Change
			for _, b := range batches {
				sizes = append(sizes, len(b))
				joined = append(joined, b...)
				// Counted here apart from batchWeight, so each checks the other.
				records, chars := 0, 0
				for _, c := range b {
					times := 1
					if c.Action == upsert {
						times = 2
					}
					for _, rr := range c.ResourceRecordSet.ResourceRecords {
						records += times
						chars += times * len(*rr.Value)
					}
				}
				require.LessOrEqual(t, records, 1000, "records of a batch")
				require.LessOrEqual(t, chars, 32000, "characters of a batch")
			}
			require.Equal(t, tc.sizes, sizes)
			require.Equal(t, tc.changes, joined, "the batches must keep the changes' order")
		})
	}

	t.Run("a record set too large for any batch", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			change r53types.Change
			counts string
		}{
			{"records", sets(upsert, "big", 1, 501, 0)[0], "counts 1002 records"},
			{"characters", sets(upsert, "big", 1, 5, 4000)[0], "40000 characters"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.change.ResourceRecordSet.SetIdentifier = aws.String("blue")
				changes := slices.Concat(sets(upsert, "a", 3, 1, 0),
					[]r53types.Change{tc.change})
				batches, err := splitChanges(changes)
				require.Nil(t, batches)
				require.Equal(t, ErrInvalid, errorTypeOf(err))
				require.False(t, isRetryable(err))
				require.ErrorContains(t, err, "record set big0.example.com. "+
					string(tc.change.ResourceRecordSet.Type)+` (set identifier "blue")`)
				require.ErrorContains(t, err, tc.counts)
			})
		}
		// As a CREATE, which counts each once, the same set fits.
		set := sets(create, "big", 1, 5, 4000)
		batches, err := splitChanges(set)
		require.NoError(t, err)
		require.Len(t, batches, 1)
	})
}
