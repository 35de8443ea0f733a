package cli

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// exampleTopologies is the repository's examples folder, seen from the
// package's directory, where tests run.
const exampleTopologies = "../examples"

// invocation is one in-process run of the drover command.
type invocation struct {
	env   map[string]string
	stdin io.Reader
}

// result is what a finished command printed and returned.
type result struct {
	stdout, stderr *syncBuffer
	err            error
}

// start runs drover with args in the background.
func (inv invocation) start(ctx context.Context, args ...string) (*syncBuffer, *syncBuffer,
	<-chan error) {
	env := map[string]string{"USER": "tester"}
	for k, v := range inv.env {
		env[k] = v
	}
	root := newRootCommand(fakeEnv(env))
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	root.SetOut(stdout)
	root.SetErr(stderr)
	stdin := inv.stdin
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	root.SetIn(stdin)
	root.SetArgs(args)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	return stdout, stderr, done
}

// run runs drover with args to its end, failing the test if it takes
// longer than limit.
func (inv invocation) run(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	stdout, stderr, done := inv.start(ctx, args...)
	select {
	case err := <-done:
		return result{stdout, stderr, err}
	case <-time.After(limit + 5*time.Second):
		t.Fatalf("drover %s did not return within %s; stdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), limit, stdout, stderr)
		return result{}
	}
}

// drover runs a command that needs no stdin or environment.
func drover(t *testing.T, args ...string) result {
	t.Helper()
	return invocation{}.run(t, time.Minute, args...)
}
