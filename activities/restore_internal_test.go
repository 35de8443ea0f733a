package activities

import (
	"context"
	"net"
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
