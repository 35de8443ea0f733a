package devserver

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// StartForTest starts a headless dev server on a free loopback port for the
// test and stops it when the test ends. The server's own log goes to the
// test's log. A missing Temporal CLI fails the test rather than skipping
// it: integration tests that silently skip prove nothing.
func StartForTest(t testing.TB) *Server {
	t.Helper()

	bin, err := Binary()
	if err != nil {
		t.Fatalf("no Temporal CLI for the dev server: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	out := &testLog{t: t}
	var s *Server
	// The free port can be taken between choosing and binding it; a
	// fresh one almost always works.
	for attempt := 1; ; attempt++ {
		s, err = Start(ctx, Options{
			Address:  "127.0.0.1:0",
			LogLevel: "error",
			Binary:   bin,
			Stdout:   out,
			Stderr:   out,
		})
		if err == nil || !errors.Is(err, errExited) || attempt == 3 {
			break
		}
	}
	if err != nil {
		t.Fatalf("start the Temporal dev server: %v", err)
	}

	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop the Temporal dev server: %v", err)
		}
		out.close()
	})
	return s
}

// testLog writes whole lines to a test's log until the test is over;
// testing panics on a log call after that.
type testLog struct {
	t      testing.TB
	mu     sync.Mutex
	buf    []byte
	closed bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return len(p), nil
	}
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.t.Logf("temporal: %s", l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *testLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
}
