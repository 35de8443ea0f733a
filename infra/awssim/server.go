package awssim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is a simulator listening on a loopback address.
type Server struct {
	Sim *Sim
	// URL is the base endpoint for AWS clients and for Control, such as
	// http://127.0.0.1:4566.
	URL string

	srv *http.Server
	ln  net.Listener
}

// Listen starts serving sim on addr, which must be a loopback address
// ("127.0.0.1:0" picks a free port). The simulator is for one machine; it
// refuses to listen where others could reach it.
func Listen(addr string, sim *Sim) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("simulator address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("simulator address %q is not loopback; use 127.0.0.1", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s := &Server{
		Sim: sim,
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second},
		ln:  ln,
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// Serve only fails here if the listener breaks; callers see
			// it as refused connections.
			_ = err
		}
	}()
	return s, nil
}

// Close stops the server, releasing calls that hang on a fault.
func (s *Server) Close() error {
	s.Sim.Close()
	// A client may leave a connection open that never carried a request;
	// Shutdown would wait on it, so give it a moment, then close.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}
