package awssim

import (
	"net/http"
	"time"
)

// STUB: replaced by the Route 53 implementation.

const route53PathPrefix = "/2013-04-01/"

type route53State struct{}

func newRoute53State() *route53State { return &route53State{} }

func route53Operation(r *http.Request, body []byte) string { return "" }

func (s *Sim) serveRoute53(w http.ResponseWriter, c *call) *APIError {
	return errorf(404, "UnknownOperation", "not implemented")
}

func writeRoute53Error(w http.ResponseWriter, requestID string, e *APIError) {
	w.WriteHeader(e.Status)
}

// Route53State is every hosted zone, health check and change.
type Route53State struct{}

func (r *route53State) state(s *Sim, now time.Time) Route53State { return Route53State{} }
