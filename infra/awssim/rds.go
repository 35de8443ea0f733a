package awssim

import (
	"net/http"
	"time"
)

// STUB: replaced by the RDS implementation.

type rdsRegion struct{}

func newRDSRegion() *rdsRegion { return &rdsRegion{} }

func rdsOperation(r *http.Request, body []byte) string { return "" }

func (s *Sim) serveRDS(w http.ResponseWriter, c *call) *APIError {
	return errorf(400, "InvalidAction", "not implemented")
}

func writeRDSError(w http.ResponseWriter, requestID string, e *APIError) {
	w.WriteHeader(e.Status)
}

// RDSState is one region's RDS resources.
type RDSState struct{}

func (r *rdsRegion) state(s *Sim, region string, now time.Time) RDSState { return RDSState{} }
