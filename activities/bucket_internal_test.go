package activities

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestUrgentCallsGoFirst: with thirty calls queued for a bucket's tokens,
// an urgent call waits for about one token, not for thirty.
func TestUrgentCallsGoFirst(t *testing.T) {
	const queued = 30
	b := newBucket(20, 1) // a token every 50 ms
	ctx := context.Background()
	var done atomic.Int32
	var wg sync.WaitGroup
	for range queued {
		wg.Go(func() {
			if err := b.take(ctx); err != nil {
				t.Error(err)
			}
			done.Add(1)
		})
	}
	t.Cleanup(wg.Wait)
	// Three tokens in, every other call has long been queued.
	require.Eventually(t, func() bool { return done.Load() >= 3 }, 10*time.Second,
		5*time.Millisecond)

	before := done.Load()
	require.NoError(t, b.take(withUrgency(ctx, true)))
	passed := done.Load() - before
	t.Logf("the urgent call waited while %d of %d queued calls took a token", passed,
		queued-before)
	// One call may hold the next token's reservation, and one more may
	// slip in while the urgent call's goroutine waits to run.
	require.LessOrEqual(t, passed, int32(2), "the urgent call queued behind the others")
}

func TestBucketEndsWithContext(t *testing.T) {
	b := newBucket(1, 1)
	require.NoError(t, b.take(context.Background()))
	// The next token is a second away; a context that ends first ends
	// the wait, for the urgent and the others alike.
	for _, urgent := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(withUrgency(context.Background(), urgent),
			20*time.Millisecond)
		err := b.take(ctx)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, "urgent %v", urgent)
	}
}
