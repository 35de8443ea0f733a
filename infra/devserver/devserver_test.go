package devserver_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/drover-dev/drover/infra/devserver"
)

func greetWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
	})
	var greeting string
	err := workflow.ExecuteActivity(ctx, greetActivity, name).Get(ctx, &greeting)
	return greeting, err
}

func greetActivity(ctx context.Context, name string) (string, error) {
	return "hello " + name + " from " + activity.GetInfo(ctx).TaskQueue, nil
}

// runGreeting runs greetWorkflow on s with a worker of its own and returns
// the result.
func runGreeting(t *testing.T, s *devserver.Server, workflowID string) string {
	t.Helper()
	const queue = "devserver-test"

	w := worker.New(s.Client(), queue, worker.Options{})
	w.RegisterWorkflow(greetWorkflow)
	w.RegisterActivity(greetActivity)
	require.NoError(t, w.Start())
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := s.Client().ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        workflowID,
		TaskQueue: queue,
	}, greetWorkflow, "drover")
	require.NoError(t, err)

	var got string
	require.NoError(t, run.Get(ctx, &got))
	return got
}

func TestStartForTestRunsAWorkflow(t *testing.T) {
	s := devserver.StartForTest(t)
	require.Empty(t, s.UIURL(), "StartForTest should leave the UI off")
	require.Equal(t, "default", s.Namespace())

	require.Equal(t, "hello drover from devserver-test", runGreeting(t, s, "greet-1"))

	require.NoError(t, s.Stop())
	select {
	case <-s.Done():
	default:
		t.Fatal("Stop returned before the server process exited")
	}
	_, err := net.DialTimeout("tcp", s.Address(), time.Second)
	require.Error(t, err, "the frontend port still accepts connections after Stop")
	require.NoError(t, s.Stop(), "a second Stop should be harmless")
}

func TestStartServesTheUIAndKeepsHistoryInDBFile(t *testing.T) {
	bin, err := devserver.Binary()
	require.NoError(t, err)
	db := filepath.Join(t.TempDir(), "state", "temporal.db")
	uiPort := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	start := func() *devserver.Server {
		s, err := devserver.Start(ctx, devserver.Options{
			Address:   "127.0.0.1:0",
			UIPort:    uiPort,
			Namespace: "drover-test",
			DBFile:    db,
			Binary:    bin,
			LogLevel:  "error",
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Stop() })
		return s
	}

	s := start()
	require.Equal(t, "drover-test", s.Namespace())

	t.Run("UI answers", func(t *testing.T) {
		require.Equal(t, "http://127.0.0.1:"+strconv.Itoa(uiPort), s.UIURL())
		resp, err := http.Get(s.UIURL())
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})

	require.Equal(t, "hello drover from devserver-test", runGreeting(t, s, "kept"))
	require.NoError(t, s.Stop())

	t.Run("history survives a restart", func(t *testing.T) {
		s := start()
		// No worker runs now: the result can only come from the stored
		// history.
		var got string
		require.NoError(t, s.Client().GetWorkflow(ctx, "kept", "").Get(ctx, &got))
		require.Equal(t, "hello drover from devserver-test", got)
	})
}

func TestStartRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    devserver.Options
		wantErr string
	}{
		{"all interfaces", devserver.Options{Address: "0.0.0.0:7233"}, "not loopback"},
		{"private address", devserver.Options{Address: "10.0.0.7:7233"}, "not loopback"},
		{"host name", devserver.Options{Address: "temporal.example.com:7233"}, "not loopback"},
		{"no port", devserver.Options{Address: "127.0.0.1"}, "missing port"},
		{"bad port", devserver.Options{Address: "127.0.0.1:http"}, "bad port"},
		{"UI port range", devserver.Options{UIPort: 70000}, "out of range"},
		{"UI on frontend port", devserver.Options{UIPort: 7233}, "also the frontend port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A binary that cannot run proves validation comes first.
			tt.opts.Binary = "/nonexistent/temporal"
			_, err := devserver.Start(context.Background(), tt.opts)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestStartFailsFastWhenThePortIsTaken(t *testing.T) {
	bin, err := devserver.Binary()
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()

	// A generous deadline: the point is that Start returns on the
	// process's exit, well before it.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	began := time.Now()
	_, err = devserver.Start(ctx, devserver.Options{Address: ln.Addr().String(), Binary: bin})
	require.ErrorContains(t, err, "exited before it was ready")
	require.NoError(t, ctx.Err(), "Start waited for its deadline instead of the process exit")
	t.Logf("failed after %s: %v", time.Since(began).Round(time.Millisecond), err)
}

func TestBinary(t *testing.T) {
	t.Run("environment variable wins", func(t *testing.T) {
		exe := filepath.Join(t.TempDir(), "temporal")
		require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))
		t.Setenv(devserver.BinaryEnv, exe)
		got, err := devserver.Binary()
		require.NoError(t, err)
		require.Equal(t, exe, got)
	})

	t.Run("environment variable naming a missing file", func(t *testing.T) {
		t.Setenv(devserver.BinaryEnv, filepath.Join(t.TempDir(), "missing"))
		_, err := devserver.Binary()
		require.ErrorContains(t, err, "make temporal")
	})

	t.Run("module root .bin", func(t *testing.T) {
		root := fakeModule(t, "github.com/drover-dev/drover")
		exe := filepath.Join(root, ".bin", "temporal")
		require.NoError(t, os.MkdirAll(filepath.Dir(exe), 0o755))
		require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))
		t.Setenv(devserver.BinaryEnv, "")
		t.Chdir(filepath.Join(root, "a", "b"))

		got, err := devserver.Binary()
		require.NoError(t, err)
		require.Equal(t, exe, got)
	})

	t.Run("nothing to build from", func(t *testing.T) {
		root := fakeModule(t, "github.com/drover-dev/drover")
		t.Setenv(devserver.BinaryEnv, "")
		t.Chdir(filepath.Join(root, "a", "b"))

		_, err := devserver.Binary()
		require.ErrorContains(t, err, "make temporal")
		require.NoFileExists(t, filepath.Join(root, ".bin", "temporal"))
	})

	t.Run("another module is not ours", func(t *testing.T) {
		root := fakeModule(t, "example.com/other")
		t.Setenv(devserver.BinaryEnv, "")
		t.Chdir(filepath.Join(root, "a", "b"))

		_, err := devserver.Binary()
		require.ErrorContains(t, err, "no go.mod for module github.com/drover-dev/drover")
	})
}

// fakeModule makes a directory tree whose go.mod declares module, with an
// empty subdirectory a/b.
func fakeModule(t *testing.T, module string) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "a", "b"), 0o755))
	gomod := "module " + module + "\n\ngo 1.26\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte(gomod), 0o644))
	return root
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
