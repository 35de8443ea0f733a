// Package devserver runs a Temporal development server (the Temporal CLI's
// `server start-dev`) as a child process, for the sandbox and for tests.
//
// The CLI binary is the one tools/go.mod pins, found or built by Binary;
// nothing is downloaded. The server listens on loopback only.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// Defaults for Options.
const (
	DefaultAddress   = "127.0.0.1:7233"
	DefaultUIPort    = 8233
	DefaultNamespace = "default"
	DefaultLogLevel  = "warn"
)

// stopGrace is how long Stop lets the server shut down before killing it.
const stopGrace = 15 * time.Second

// Options configure a dev server. The zero value is usable: the default
// address and namespace, no web UI, history in memory.
type Options struct {
	// Address is the frontend's host:port, DefaultAddress if empty. The
	// host must be a loopback address; port 0 picks a free port.
	Address string
	// UIPort is the web UI's port on the same host; 0 disables the UI.
	// DefaultUIPort is the port the Temporal documentation assumes.
	UIPort int
	// Namespace is created at start ("default" always exists).
	Namespace string
	// DBFile keeps the server's state in this SQLite file across restarts;
	// empty keeps it in memory and loses it when the server stops.
	DBFile string
	// LogLevel of the server: debug, info, warn, error or never.
	LogLevel string
	// ExtraArgs are appended to `temporal server start-dev`, for settings
	// this package has no field for (search attributes, dynamic config).
	ExtraArgs []string
	// Binary is the Temporal CLI to run; empty means Binary().
	Binary string
	// Stdout and Stderr receive the server's output; nil discards it.
	// The end of it is kept either way, to explain a failed start.
	Stdout io.Writer
	Stderr io.Writer
	// Logger is the client's logger. Nil logs warnings and errors to
	// Stderr, or to os.Stderr when Stderr is nil.
	Logger log.Logger
}

// Server is a running dev server with a client connected to it.
type Server struct {
	address   string
	uiURL     string
	namespace string
	client    client.Client

	cmd     *exec.Cmd
	output  *tailBuffer
	exited  chan struct{}
	waitErr error // set before exited is closed

	stopOnce sync.Once
	stopErr  error
}

// errExited marks a server that ended before it answered, such as one
// whose port was taken.
var errExited = errors.New("temporal dev server exited before it was ready")

// Start runs a dev server and returns once it answers on its address (and
// its web UI, when enabled) with the namespace created. ctx bounds the
// start only: if it ends first the server is killed, but once Start has
// returned the server runs until Stop.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Address == "" {
		opts.Address = DefaultAddress
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.LogLevel == "" {
		opts.LogLevel = DefaultLogLevel
	}
	host, port, err := loopbackHostPort(opts.Address)
	if err != nil {
		return nil, err
	}
	if opts.UIPort < 0 || opts.UIPort > 65535 {
		return nil, fmt.Errorf("temporal dev server: UI port %d is out of range", opts.UIPort)
	}
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return nil, err
		}
	}
	if opts.UIPort == port {
		return nil, fmt.Errorf("temporal dev server: UI port %d is also the frontend port", port)
	}

	bin := opts.Binary
	if bin == "" {
		if bin, err = Binary(); err != nil {
			return nil, err
		}
	}
	if opts.DBFile != "" {
		if err := os.MkdirAll(filepath.Dir(opts.DBFile), 0o755); err != nil {
			return nil, fmt.Errorf("temporal dev server: state file: %w", err)
		}
	}

	s := &Server{
		address:   net.JoinHostPort(host, strconv.Itoa(port)),
		namespace: opts.Namespace,
		output:    &tailBuffer{max: 8 << 10},
		exited:    make(chan struct{}),
	}
	if opts.UIPort != 0 {
		s.uiURL = "http://" + net.JoinHostPort(host, strconv.Itoa(opts.UIPort))
	}

	s.cmd = exec.Command(bin, startArgs(opts, host, port)...)
	s.cmd.Stdout = io.MultiWriter(orDiscard(opts.Stdout), s.output)
	s.cmd.Stderr = io.MultiWriter(orDiscard(opts.Stderr), s.output)
	s.cmd.SysProcAttr = sysProcAttr()
	// Output pipes are copied by goroutines that Wait joins; this bounds
	// the wait should something inherit them and keep them open.
	s.cmd.WaitDelay = 5 * time.Second
	if err := s.spawn(); err != nil {
		return nil, fmt.Errorf("start temporal dev server %s: %w", bin, err)
	}

	logger := opts.Logger
	if logger == nil {
		w := opts.Stderr
		if w == nil {
			w = os.Stderr
		}
		logger = log.NewStructuredLogger(slog.New(
			slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	c, err := s.waitReady(ctx, client.Options{
		HostPort:  s.address,
		Namespace: s.namespace,
		Logger:    logger,
	})
	if err != nil {
		s.kill()
		return nil, err
	}
	s.client = c
	return s, nil
}

func startArgs(opts Options, host string, port int) []string {
	args := []string{
		"server", "start-dev",
		"--ip", host,
		"--port", strconv.Itoa(port),
		"--namespace", opts.Namespace,
		"--log-level", opts.LogLevel,
		// The version check calls out to temporal.io: pointless for a
		// sandbox and slow where there is no network.
		"--dynamic-config-value", "frontend.enableServerVersionCheck=false",
		// The matcher that honours task priorities, so that the steps
		// on a failover's critical path are dispatched first (server
		// 1.29 leaves it off by default).
		"--dynamic-config-value", "matching.useNewMatcher=true",
	}
	if opts.UIPort == 0 {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(opts.UIPort))
	}
	if opts.DBFile != "" {
		args = append(args, "--db-filename", opts.DBFile)
	}
	return append(args, opts.ExtraArgs...)
}

// spawn starts the process from a goroutine that stays on its OS thread
// until the process exits: Linux sends the parent-death signal when the
// thread that forked the child ends, not the process, and the Go runtime
// may retire idle threads.
func (s *Server) spawn() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			close(s.exited)
			return
		}
		started <- nil
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	return <-started
}

// waitReady polls until the frontend answers with the namespace in place
// and the UI serves, failing at once if the process exits.
func (s *Server) waitReady(ctx context.Context, copts client.Options) (client.Client, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()

	// The namespace client is separate because the SDK offers none that
	// shares a connection with an existing client.
	nc, err := client.NewNamespaceClient(copts)
	if err != nil {
		return nil, fmt.Errorf("temporal dev server: %w", err)
	}
	defer nc.Close()

	var (
		c       client.Client
		lastErr error
	)
	for {
		select {
		case <-s.exited:
			if c != nil {
				c.Close()
			}
			return nil, fmt.Errorf("%w (%v):\n%s", errExited, s.waitErr, s.output.String())
		case <-ctx.Done():
			if c != nil {
				c.Close()
			}
			return nil, fmt.Errorf("temporal dev server on %s not ready: %w (last error: %v)",
				s.address, ctx.Err(), lastErr)
		case <-tick.C:
		}

		if c == nil {
			c, lastErr = dialOnce(ctx, copts)
			if lastErr != nil {
				continue
			}
		}
		if lastErr = s.ready(ctx, nc); lastErr == nil {
			return c, nil
		}
	}
}

func dialOnce(ctx context.Context, copts client.Options) (client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return client.DialContext(ctx, copts)
}

func (s *Server) ready(ctx context.Context, nc client.NamespaceClient) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()

	if _, err := nc.Describe(ctx, s.namespace); err != nil {
		return fmt.Errorf("namespace %s: %w", s.namespace, err)
	}
	if s.uiURL == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.uiURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("web UI: %w", err)
	}
	resp.Body.Close()
	return nil
}

// Address is the frontend's host:port, for client.Options.HostPort.
func (s *Server) Address() string { return s.address }

// Namespace is the namespace the server created and Client uses.
func (s *Server) Namespace() string { return s.namespace }

// UIURL is the web UI's address, or "" when the UI is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// Client is connected to the server in its namespace. Stop closes it.
func (s *Server) Client() client.Client { return s.client }

// Done is closed when the server process has exited, whether stopped or
// crashed.
func (s *Server) Done() <-chan struct{} { return s.exited }

// Stop closes the client, interrupts the server and waits for it to exit,
// killing it if it takes longer than a few seconds. It is safe to call
// more than once; later calls return the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.client != nil {
			s.client.Close()
		}
		select {
		case <-s.exited:
			// It ended on its own; report why.
			if s.waitErr != nil {
				s.stopErr = fmt.Errorf("temporal dev server had already exited: %w", s.waitErr)
			}
			return
		default:
		}

		if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
			s.kill()
			return
		}
		select {
		case <-s.exited:
			// Exiting on our interrupt is a clean stop whatever the
			// status says.
		case <-time.After(stopGrace):
			s.kill()
			s.stopErr = fmt.Errorf("temporal dev server on %s ignored the interrupt "+
				"for %s and was killed", s.address, stopGrace)
		}
	})
	return s.stopErr
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// loopbackHostPort splits addr and insists on a loopback host: the dev
// server has no authentication.
func loopbackHostPort(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("temporal dev server address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", 0, fmt.Errorf("temporal dev server address %q is not loopback; "+
			"use 127.0.0.1 (the dev server has no authentication)", addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("temporal dev server address %q: bad port %q", addr, portStr)
	}
	return host, port, nil
}

// freePort asks the kernel for a port that is free now. Another process
// may take it before the server binds; Start then fails with errExited.
func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", host, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
