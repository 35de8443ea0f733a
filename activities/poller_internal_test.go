package activities

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The poller's batching, on a clock the test moves. The end-to-end test
// in ecs_test.go shows the batching through real activities; these show
// exactly which calls it makes, which real goroutines cannot repeat.

const batchInterval = 100 * time.Millisecond

// batchClock is a poller whose services are added by hand and whose
// reads answer at once, with no goroutine of its own.
type batchClock struct {
	t          *testing.T
	p          *servicePoller
	start, now time.Time
}

func newBatchClock(t *testing.T) *batchClock {
	start := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	c := &batchClock{t: t, start: start, now: start}
	c.p = newServicePoller(&Region{cfg: Config{PollInterval: batchInterval,
		Now: func() time.Time { return c.now }}})
	return c
}

// add starts waiting on services cluster/<prefix>00... at the clock's time.
func (c *batchClock) add(cluster, prefix string, n int) {
	for i := range n {
		key := svcKey{cluster: cluster, service: fmt.Sprintf("%s%02d", prefix, i)}
		c.p.services[key] = &polledService{key: key, since: c.now,
			watches: map[*serviceWatch]struct{}{}}
	}
}

// addUrgent starts waiting on one service for a step on the critical path.
func (c *batchClock) addUrgent(cluster, service string) {
	key := svcKey{cluster: cluster, service: service}
	c.p.services[key] = &polledService{key: key, since: c.now, urgent: true,
		watches: map[*serviceWatch]struct{}{}}
}

// remove stops waiting on a service, as when its activity finishes.
func (c *batchClock) remove(cluster, service string) {
	delete(c.p.services, svcKey{cluster: cluster, service: service})
}

// call is one DescribeServices the poller made: when, and how many
// services it read.
type call struct {
	at   time.Duration // since the clock's start
	size int
}

// run moves the clock on a millisecond at a time for d, and at each step
// takes every batch that is due, each read at once. It checks that no
// batch mixes clusters or exceeds ten services.
func (c *batchClock) run(d time.Duration) []call {
	c.t.Helper()
	var calls []call
	for end := c.now.Add(d); c.now.Before(end); c.now = c.now.Add(time.Millisecond) {
		for {
			batch, _ := c.p.nextBatch(c.now)
			if batch == nil {
				break
			}
			require.LessOrEqual(c.t, len(batch), describeBatch)
			for _, s := range batch {
				require.Equal(c.t, batch[0].key.cluster, s.key.cluster, "one call reads one cluster")
				s.polled = c.now
				s.inFlight = false
			}
			calls = append(calls, call{at: c.now.Sub(c.start), size: len(batch)})
		}
	}
	return calls
}

// sizes are the calls' sizes, in order.
func sizes(calls []call) []int {
	out := make([]int, len(calls))
	for i, c := range calls {
		out[i] = c.size
	}
	return out
}

// TestBatchesGatherABurst: services that arrive within the gather delay
// are read in full calls, and every one of them once an interval.
func TestBatchesGatherABurst(t *testing.T) {
	c := newBatchClock(t)
	c.add("bulk", "a", 7)
	calls := c.run(time.Millisecond)
	c.add("bulk", "b", 13)
	calls = append(calls, c.run(2*time.Millisecond)...)
	c.add("bulk", "c", 30)
	calls = append(calls, c.run(gatherDelay(batchInterval)-3*time.Millisecond)...)
	require.Empty(t, calls, "no service is read before its gather delay")

	calls = c.run(5 * batchInterval)
	require.Len(t, calls, 25, "five calls an interval for fifty services: %v", calls)
	for _, call := range calls {
		require.Equal(t, describeBatch, call.size, "every call is full: %v", calls)
	}
}

// TestBatchesRejoin: a second wave of services, out of step with the
// first, fills the first's partial call, so that after one interval the
// two are read in as few calls as one wave would be.
func TestBatchesRejoin(t *testing.T) {
	c := newBatchClock(t)
	c.add("bulk", "a", 25)
	calls := c.run(2 * batchInterval / 5)
	require.Equal(t, []int{10, 10, 5}, sizes(calls), "the first wave alone: %v", calls)
	c.add("bulk", "b", 25)
	calls = c.run(batchInterval * 3 / 5)
	require.Equal(t, []int{10, 10, 5}, sizes(calls), "the second wave alone: %v", calls)

	calls = c.run(batchInterval)
	require.Equal(t, []int{10, 10, 10, 10, 10}, sizes(calls),
		"the first wave's third call takes five of the second: %v", calls)
	for range 3 {
		calls = c.run(batchInterval)
		require.Equal(t, []int{10, 10, 10, 10, 10}, sizes(calls), "%v", calls)
	}
}

// TestBatchesShrink: as services finish, the calls left part full fill
// with the services due next, until a sweep takes one call for each ten
// services left, rounded up.
func TestBatchesShrink(t *testing.T) {
	c := newBatchClock(t)
	for i, prefix := range []string{"a", "b", "c", "d", "e"} {
		c.add("bulk", prefix, 10)
		c.run(time.Duration(i+1) * time.Millisecond)
	}
	c.run(batchInterval)
	// Finish three of each ten: five calls of seven.
	for _, prefix := range []string{"a", "b", "c", "d", "e"} {
		for i := range 3 {
			c.remove("bulk", fmt.Sprintf("%s%02d", prefix, i))
		}
	}
	calls := c.run(batchInterval)
	require.LessOrEqual(t, len(calls), 5, "%v", calls)
	calls = c.run(batchInterval)
	require.Len(t, calls, 4, "35 services in four calls: %v", calls)
	total := 0
	for _, call := range calls {
		total += call.size
	}
	require.Equal(t, 35, total, "each service is read once an interval: %v", calls)
}

// TestBatchesKeepClustersApart: DescribeServices reads one cluster, so
// services of two clusters take their own calls, and the cluster waited
// on longest goes first.
func TestBatchesKeepClustersApart(t *testing.T) {
	c := newBatchClock(t)
	c.add("web", "w", 12)
	c.run(time.Millisecond)
	c.add("jobs", "j", 5)
	calls := c.run(gatherDelay(batchInterval) + time.Millisecond)
	require.Equal(t, []int{10, 2, 5}, sizes(calls), "%v", calls)
}

// TestBatchesReadUrgentFirst: a service a critical step waits on is read
// at once, ahead of services waited on longer, and first whenever it is
// due again.
func TestBatchesReadUrgentFirst(t *testing.T) {
	c := newBatchClock(t)
	c.add("bulk", "s", 30)
	c.run(time.Millisecond)
	c.addUrgent("bulk", "critical")
	batch, _ := c.p.nextBatch(c.now)
	require.NotNil(t, batch, "an urgent service does not wait for company")
	require.Equal(t, "critical", batch[0].key.service)
	require.Len(t, batch, describeBatch, "the others fill its call")
	for _, s := range batch {
		s.polled, s.inFlight = c.now, false
	}

	// Ten of the others were read with it; once all are due again, the
	// urgent one still goes first.
	c.run(batchInterval + gatherDelay(batchInterval))
	c.now = c.now.Add(batchInterval)
	batch, _ = c.p.nextBatch(c.now)
	require.Equal(t, "critical", batch[0].key.service)
}
