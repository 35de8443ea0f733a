package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/infra/awssim"
)

// syncBuffer is a bytes.Buffer that a command may write while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startCommand runs the drover command with args in the background and
// returns its output and a channel that yields its result.
func startCommand(ctx context.Context, args ...string) (*syncBuffer, <-chan error) {
	root := newRootCommand(fakeEnv(nil))
	out := &syncBuffer{}
	root.SetOut(out)
	root.SetErr(out)
	root.SetArgs(args)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	return out, done
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func TestSimRunsUntilCancelled(t *testing.T) {
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			addr := freeAddr(t)
			url := "http://" + addr
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out, done := startCommand(ctx, "sim", "--addr", addr,
				"--time-scale", "600", "--seed", "7", "--jitter", "0", "--output", output)

			ctl := awssim.NewControl(url)
			require.Eventually(t, func() bool {
				hctx, hcancel := context.WithTimeout(ctx, time.Second)
				defer hcancel()
				return ctl.Health(hctx) == nil
			}, 10*time.Second, 20*time.Millisecond, "the simulator never answered on %s", addr)

			p, err := ctl.Profile(ctx)
			require.NoError(t, err)
			require.Equal(t, 600.0, p.TimeScale)
			require.Equal(t, int64(7), p.Seed)
			require.Equal(t, 0.0, p.Jitter)

			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Fatal("drover sim did not return after its context was cancelled")
			}
			_, err = net.DialTimeout("tcp", addr, time.Second)
			require.Error(t, err, "the simulator still listens after drover sim returned")

			if output == "json" {
				var got struct {
					Endpoint  string  `json:"endpoint"`
					TimeScale float64 `json:"timeScale"`
				}
				first, _, _ := strings.Cut(out.String(), "\n")
				require.NoError(t, json.Unmarshal([]byte(first), &got))
				require.Equal(t, url, got.Endpoint)
				require.Equal(t, 600.0, got.TimeScale)
				return
			}
			require.Contains(t, out.String(), "export AWS_ENDPOINT_URL="+url+"\n")
			require.Contains(t, out.String(), "AWS_ACCESS_KEY_ID=")
			require.Contains(t, out.String(), "a minute on AWS takes 100ms here")
			require.Contains(t, out.String(), "Simulator stopped.")
		})
	}
}

func TestSimRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"all interfaces", []string{"--addr", "0.0.0.0:4566"}, "not loopback"},
		{"zero time scale", []string{"--time-scale", "0"}, "--time-scale 0"},
		{"negative jitter", []string{"--jitter", "-0.1"}, "--jitter -0.1"},
		{"jitter of one", []string{"--jitter", "1"}, "--jitter 1"},
		{"stray argument", []string{"us-east-1"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The context is never cancelled: a bad flag must fail at
			// once rather than start serving.
			_, done := startCommand(context.Background(), append([]string{"sim"}, tt.args...)...)
			select {
			case err := <-done:
				require.ErrorContains(t, err, tt.wantErr)
			case <-time.After(10 * time.Second):
				t.Fatal("drover sim started despite a bad flag")
			}
		})
	}
}
