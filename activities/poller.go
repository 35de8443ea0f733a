package activities

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// pollerInFlight bounds the DescribeServices calls the poller has open at
// once, so that one slow answer does not hold the others up. The rate
// limit, not this, sets how many calls a second it makes.
const pollerInFlight = 4

// pollerCallTimeout bounds one DescribeServices call of the poller. A
// region that stops answering must not keep its services' reads
// outstanding for ever.
const pollerCallTimeout = 30 * time.Second

// svcKey names a service in the Region's account.
type svcKey struct{ cluster, service string }

// serviceObservation is one read of a service. err is set instead when
// the read failed: retryable errors are reported for the heartbeat and the
// service is read again later; others end the wait.
type serviceObservation struct {
	svc ecstypes.Service
	at  time.Time
	err error
}

// servicePoller reads the services that ScaleService activities wait on,
// ten per DescribeServices call, and hands each waiter every read of its
// service. It runs while anybody waits and stops when nobody does.
//
// Every service is read once each PollInterval when the rate limit allows.
// When it does not (a thousand services at 20 calls a second take five
// seconds a sweep), the services read longest ago go first, and among
// those never read, the ones waited on longest.
type servicePoller struct {
	r *Region

	mu       sync.Mutex
	services map[svcKey]*polledService
	running  bool
	// kick wakes the loop when a service is added or a read finishes.
	kick chan struct{}
}

// polledService is one service being waited on, by one or more watches.
type polledService struct {
	key   svcKey
	since time.Time // when its first watch began
	// polled is when its last read was sent; zero until the first.
	polled   time.Time
	inFlight bool
	// urgent: a critical step (one without slack) waits on it, so it is
	// read before the others, with the bucket's urgent tokens.
	urgent  bool
	watches map[*serviceWatch]struct{}
}

// serviceWatch is one waiter's subscription to a service's reads. Its
// channel holds only the latest read: a waiter that falls behind skips
// reads it no longer needs.
type serviceWatch struct {
	p   *servicePoller
	key svcKey
	ch  chan serviceObservation
}

func newServicePoller(r *Region) *servicePoller {
	return &servicePoller{
		r:        r,
		services: map[svcKey]*polledService{},
		kick:     make(chan struct{}, 1),
	}
}

// watch starts receiving reads of a service; the first comes as soon as
// the rate limit allows, and before the others' when ctx is urgent. close
// must be called when done.
func (p *servicePoller) watch(ctx context.Context, key svcKey) *serviceWatch {
	w := &serviceWatch{p: p, key: key, ch: make(chan serviceObservation, 1)}
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.services[key]
	if !ok {
		s = &polledService{key: key, since: p.r.now(), watches: map[*serviceWatch]struct{}{}}
		p.services[key] = s
	}
	s.watches[w] = struct{}{}
	s.urgent = s.urgent || isUrgent(ctx)
	if !p.running {
		p.running = true
		go p.run()
	}
	p.wake()
	return w
}

// close ends the watch; the service is no longer read once nobody
// watches it.
func (w *serviceWatch) close() {
	p := w.p
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.services[w.key]
	if !ok {
		return
	}
	delete(s.watches, w)
	if len(s.watches) == 0 {
		delete(p.services, w.key)
		p.wake()
	}
}

// next waits for the next successful read of the watched service,
// heartbeating prog every PollInterval meanwhile. A retryable read error
// goes into prog's detail and the wait goes on; another ends it.
func (w *serviceWatch) next(ctx context.Context, prog *Progress) (serviceObservation, error) {
	t := time.NewTicker(w.p.r.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case o := <-w.ch:
			if o.err == nil {
				return o, nil
			}
			if !isRetryable(o.err) {
				return serviceObservation{}, o.err
			}
			prog.Detail = "reading the service failed, will retry: " + o.err.Error()
		case <-t.C:
			activity.RecordHeartbeat(ctx, *prog)
		case <-ctx.Done():
			return serviceObservation{}, fmt.Errorf("service %s/%s in %s: gave up waiting (%s): %w",
				w.key.cluster, w.key.service, w.p.r.cfg.Region, prog.Detail, ctx.Err())
		}
	}
}

// wake nudges the loop without blocking.
func (p *servicePoller) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// run is the poller's loop. It exits when nobody waits, cancelling the
// reads still open; the next watch starts it again.
func (p *servicePoller) run() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	slots := make(chan struct{}, pollerInFlight)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	for {
		p.mu.Lock()
		if len(p.services) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		batch, wait := p.nextBatch(p.r.now())
		p.mu.Unlock()

		if batch == nil {
			if wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-p.kick:
					// Since Go 1.23 a stopped timer's channel holds no
					// stale value, so there is nothing to drain.
					timer.Stop()
				}
			} else {
				<-p.kick // everything is being read; a finished read kicks
			}
			continue
		}

		// The read bucket is shared with the activities' own reads
		// (ObserveServices, Preflight), which get their turn between
		// batches of a long sweep.
		slots <- struct{}{}
		if err := p.r.waitECS(withUrgency(ctx, batch[0].urgent)); err != nil {
			<-slots
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			p.read(ctx, batch)
		}()
	}
}

// nextBatch picks the next services to read: the most overdue service,
// an urgent one before any other, with as many other services of its
// cluster as fit in one call, and marks them in flight. With nothing due
// it returns how long until the next service is, or 0 when every service
// is being read. The caller holds p.mu.
//
// A batch also takes services that will be due within half an interval:
// reading them a little early keeps services that were read together in
// one call, instead of splitting them into calls a few milliseconds apart.
func (p *servicePoller) nextBatch(now time.Time) ([]*polledService, time.Duration) {
	interval := p.r.cfg.PollInterval
	var due, soon []*polledService
	next := time.Duration(0)
	for _, s := range p.services {
		if s.inFlight {
			continue
		}
		if s.polled.IsZero() {
			// A new service waits a moment for others that arrive
			// with it, so that a burst of activities starts with
			// full batches rather than one call each; an urgent one
			// does not wait.
			if w := gatherDelay(interval) - now.Sub(s.since); w > 0 && !s.urgent {
				soon = append(soon, s)
				if next == 0 || w < next {
					next = w
				}
			} else {
				due = append(due, s)
			}
			continue
		}
		age := now.Sub(s.polled)
		if age >= interval {
			due = append(due, s)
			continue
		}
		if age >= interval/2 {
			soon = append(soon, s)
		}
		if w := interval - age; next == 0 || w < next {
			next = w
		}
	}
	if len(due) == 0 {
		return nil, next
	}
	byAge := func(list []*polledService) {
		sort.Slice(list, func(i, j int) bool {
			a, b := list[i], list[j]
			if a.urgent != b.urgent {
				return a.urgent
			}
			if !a.polled.Equal(b.polled) {
				return a.polled.Before(b.polled)
			}
			if !a.since.Equal(b.since) {
				return a.since.Before(b.since)
			}
			if a.key.cluster != b.key.cluster {
				return a.key.cluster < b.key.cluster
			}
			return a.key.service < b.key.service
		})
	}
	byAge(due)
	byAge(soon)
	cluster := due[0].key.cluster
	batch := make([]*polledService, 0, describeBatch)
	for _, s := range append(due, soon...) {
		if s.key.cluster == cluster {
			batch = append(batch, s)
			s.inFlight = true
			if len(batch) == describeBatch {
				break
			}
		}
	}
	return batch, 0
}

// gatherDelay is how long a new service may wait for company before its
// first read: long enough for a burst of activities to arrive, short
// against anything ECS does.
func gatherDelay(interval time.Duration) time.Duration {
	return min(interval/4, 20*time.Millisecond)
}

// read describes one batch and hands the result to its watches.
func (p *servicePoller) read(ctx context.Context, batch []*polledService) {
	names := make([]string, len(batch))
	for i, s := range batch {
		names[i] = s.key.service
	}
	sent := p.r.now()
	p.mu.Lock()
	for _, s := range batch {
		s.polled = sent
	}
	p.mu.Unlock()

	callCtx, cancel := context.WithTimeout(ctx, pollerCallTimeout)
	defer cancel()
	// The limiter token was taken by the loop, so call the client
	// directly rather than through describeServices' own wait.
	found, missing, err := p.r.describeServicesNoWait(callCtx, batch[0].key.cluster, names)
	// The read is taken as of its answer: a service seen stable was
	// stable by then, and possibly not yet when the call was sent.
	at := p.r.now()
	if err != nil && ctx.Err() == nil && callCtx.Err() != nil {
		// The call's own timeout, not the poller's end: a region that
		// does not answer, which a later read may get past.
		err = temporal.NewApplicationErrorWithCause(fmt.Sprintf(
			"describe services of cluster %s in %s: no answer within %s",
			batch[0].key.cluster, p.r.cfg.Region, pollerCallTimeout), ErrUnavailable, err)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.wake()
	isMissing := map[string]bool{}
	for _, n := range missing {
		isMissing[n] = true
	}
	for _, s := range batch {
		s.inFlight = false
		if p.services[s.key] != s {
			continue // nobody waits on it any more
		}
		var o serviceObservation
		switch {
		case err != nil:
			o = serviceObservation{err: err, at: at}
		case isMissing[s.key.service]:
			o = serviceObservation{at: at, err: nonRetryable(ErrNotFound,
				"service %s does not exist in cluster %s in %s; check the topology's "+
					"cluster and service names", s.key.service, s.key.cluster, p.r.cfg.Region)}
		default:
			o = serviceObservation{svc: found[s.key.service], at: at}
		}
		for w := range s.watches {
			// Replace an unread older observation with this one.
			select {
			case <-w.ch:
			default:
			}
			w.ch <- o
		}
	}
}
