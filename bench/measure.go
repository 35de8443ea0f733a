package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/drover-dev/drover/infra/awssim"
	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/workflows"
)

// Temporal's limits on one workflow's history: past them a run is
// terminated, so a failover must stay well under both.
const (
	HistoryEventLimit = 50_000
	HistoryByteLimit  = 50 << 20
)

// MemPeak is the highest memory the process held while a sampler ran.
type MemPeak struct {
	// HeapInuse and Sys are runtime.MemStats' fields, in bytes.
	HeapInuse, Sys uint64
}

// MemSampler reads the process's memory statistics at a fixed interval
// and keeps the peaks. The workers, the simulator and the benchmark share
// the process, so the figures cover all three.
type MemSampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	peak MemPeak
}

// SampleMemory starts sampling every interval until Stop.
func SampleMemory(interval time.Duration) *MemSampler {
	s := &MemSampler{stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *MemSampler) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak.HeapInuse = max(s.peak.HeapInuse, m.HeapInuse)
	s.peak.Sys = max(s.peak.Sys, m.Sys)
}

// Stop ends the sampling, takes a last sample and returns the peaks.
func (s *MemSampler) Stop() MemPeak {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// CallDelta returns the calls made between two readings of the
// simulator's counters, by region, service and operation.
func CallDelta(before, after []awssim.CallCount) map[awssim.CallKey]int64 {
	out := map[awssim.CallKey]int64{}
	for _, c := range after {
		out[c.CallKey] += c.Count
	}
	for _, c := range before {
		out[c.CallKey] -= c.Count
	}
	for k, n := range out {
		if n == 0 {
			delete(out, k)
		}
	}
	return out
}

// TotalCalls adds up a CallDelta.
func TotalCalls(calls map[awssim.CallKey]int64) int64 {
	var n int64
	for _, c := range calls {
		n += c
	}
	return n
}

// FormatCalls lists calls by count, the most frequent first.
func FormatCalls(calls map[awssim.CallKey]int64) string {
	keys := make([]awssim.CallKey, 0, len(calls))
	for k := range calls {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if calls[keys[i]] != calls[keys[j]] {
			return calls[keys[i]] > calls[keys[j]]
		}
		return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j])
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %s:%s %d", k.Region, k.Service, k.Operation,
			calls[k]))
	}
	return strings.Join(parts, ", ")
}

// History sums up a workflow's history.
type History struct {
	Events int
	// Bytes adds up the encoded size of every event.
	Bytes int
	// ServerBytes is the size the server counts against its limit.
	ServerBytes int64
	// ByType counts events by type, such as ActivityTaskScheduled.
	ByType map[string]int
	// ScheduleToStart lists, for every activity that started at its first
	// attempt, the time from its scheduling to a worker picking it up, in
	// the server's clock. A retried activity's wait includes its backoff,
	// so it is left out.
	ScheduleToStart []time.Duration
	// CriticalScheduleToStart is the same for the activities scheduled
	// with a priority key, the critical path's.
	CriticalScheduleToStart []time.Duration
}

// ReadHistory reads a closed workflow's history.
func ReadHistory(ctx context.Context, c client.Client, id, runID string) (History, error) {
	h := History{ByType: map[string]int{}}
	scheduled := map[int64]time.Time{}
	prioritized := map[int64]bool{}
	it := c.GetWorkflowHistory(ctx, id, runID, false,
		enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return h, fmt.Errorf("read the history of %s: %w", id, err)
		}
		h.Events++
		h.Bytes += proto.Size(ev)
		name := strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_")
		h.ByType[name]++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			scheduled[ev.GetEventId()] = ev.GetEventTime().AsTime()
			prioritized[ev.GetEventId()] = ev.GetActivityTaskScheduledEventAttributes().
				GetPriority().GetPriorityKey() > 0
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			attrs := ev.GetActivityTaskStartedEventAttributes()
			if at, ok := scheduled[attrs.GetScheduledEventId()]; ok && attrs.GetAttempt() == 1 {
				d := ev.GetEventTime().AsTime().Sub(at)
				h.ScheduleToStart = append(h.ScheduleToStart, d)
				if prioritized[attrs.GetScheduledEventId()] {
					h.CriticalScheduleToStart = append(h.CriticalScheduleToStart, d)
				}
			}
		}
	}
	desc, err := c.DescribeWorkflow(ctx, id, runID)
	if err != nil {
		return h, fmt.Errorf("describe %s: %w", id, err)
	}
	h.ServerBytes = desc.RawResponse.GetWorkflowExecutionInfo().GetHistorySizeBytes()
	return h, nil
}

// Size is the history's size as the server counts it against its limit,
// or, from a server that does not say, the sum of the events' sizes.
func (h History) Size() int64 {
	if h.ServerBytes > 0 {
		return h.ServerBytes
	}
	return int64(h.Bytes)
}

// Percentile returns the p-th percentile (0 to 100) of ds, or 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := append([]time.Duration(nil), ds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// FormatByType lists event counts, the most frequent first.
func (h History) FormatByType() string {
	names := make([]string, 0, len(h.ByType))
	for n := range h.ByType {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if h.ByType[names[i]] != h.ByType[names[j]] {
			return h.ByType[names[i]] > h.ByType[names[j]]
		}
		return names[i] < names[j]
	})
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d", n, h.ByType[n]))
	}
	return strings.Join(parts, ", ")
}

// ChainStep is one step of the chain that decided when a run ended, with
// where its time went.
type ChainStep struct {
	ID string
	// Wait runs from the end of the dependency it waited for longest (or
	// the run's start) to the step's start: the workflow's scheduling.
	Wait time.Duration
	// Dispatch runs from the step's start to its first action: the
	// activity task's way to a worker, rate limits and first reads.
	Dispatch time.Duration
	// Cloud runs from the first action to the healthy state seen, and
	// Estimate is what the profile says it takes; the difference is the
	// polls' lag.
	Cloud, Estimate time.Duration
	// Report runs from the healthy state seen to the step's end in the
	// workflow: the activity's completion on its way back.
	Report time.Duration
}

// Chain walks back from the step that ended last, each time to the
// dependency that ended last: the chain of steps that, in this run, set
// the time the run took. Steps the run did not wait for (best-effort
// steps in the source region of an ungraceful run) are not followed.
func Chain(p *workflows.Progress) []ChainStep {
	var last *workflows.StepProgress
	for i := range p.Steps {
		st := &p.Steps[i]
		if st.Ended != nil && (last == nil || st.Ended.After(*last.Ended)) {
			last = st
		}
	}
	var chain []ChainStep
	for st := last; st != nil; {
		var dep *workflows.StepProgress
		for _, id := range st.DependsOn {
			d := p.Step(id)
			if d == nil || d.Ended == nil || p.Mode == plan.Ungraceful && d.Region == p.From {
				continue
			}
			if dep == nil || d.Ended.After(*dep.Ended) {
				dep = d
			}
		}
		c := ChainStep{ID: st.ID, Estimate: st.Estimate}
		ready := p.Started
		if dep != nil {
			ready = *dep.Ended
		}
		if st.Started != nil {
			c.Wait = st.Started.Sub(ready)
			switch {
			case st.ActionStarted != nil && st.HealthyAt != nil:
				c.Dispatch = st.ActionStarted.Sub(*st.Started)
				c.Cloud = st.HealthyAt.Sub(*st.ActionStarted)
				c.Report = st.Ended.Sub(*st.HealthyAt)
			case st.Ended != nil:
				c.Cloud = st.Ended.Sub(*st.Started)
			}
		}
		chain = append([]ChainStep{c}, chain...)
		st = dep
	}
	return chain
}

// WriteChain prints a chain as a table, with its totals.
func WriteChain(w io.Writer, chain []ChainStep) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%8.0f", d.Seconds()*1000) }
	fmt.Fprintf(w, "  %-28s %8s %8s %8s %8s %8s  (ms)\n",
		"step", "wait", "dispatch", "cloud", "estimate", "report")
	var wait, dispatch, cloud, est, report time.Duration
	for _, c := range chain {
		fmt.Fprintf(w, "  %-28s %s %s %s %s %s\n", c.ID, ms(c.Wait), ms(c.Dispatch),
			ms(c.Cloud), ms(c.Estimate), ms(c.Report))
		wait += c.Wait
		dispatch += c.Dispatch
		cloud += c.Cloud
		est += c.Estimate
		report += c.Report
	}
	fmt.Fprintf(w, "  %-28s %s %s %s %s %s\n", "total", ms(wait), ms(dispatch), ms(cloud),
		ms(est), ms(report))
}
