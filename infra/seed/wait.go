package seed

import (
	"context"
	"fmt"
	"time"
)

// Polls start fast, so that a sandbox whose operations take a second is
// seen ready within a fraction of one, and slow down to a pace that real
// AWS accounts tolerate for resources that take minutes.
const (
	firstPoll = 50 * time.Millisecond
	maxPoll   = 2 * time.Second
)

// poll calls check until it reports done or fails, or until ctx ends. check
// returns a short description of the state it saw; a change of it is
// printed as a progress line prefixed with what.
func (s *seeder) poll(ctx context.Context, what string,
	check func(context.Context) (state string, done bool, err error)) error {
	delay := firstPoll
	last := ""
	for {
		state, done, err := check(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if state != last && state != "" {
			s.printf("%s: %s", what, state)
			last = state
		}
		if done {
			return nil
		}

		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			if last == "" {
				return fmt.Errorf("%s: gave up waiting: %w", what, ctx.Err())
			}
			return fmt.Errorf("%s: gave up waiting while %s: %w", what, last, ctx.Err())
		case <-timer.C:
		}
		delay = min(delay*3/2, maxPoll)
	}
}
