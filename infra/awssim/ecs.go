package awssim

import (
	"net/http"
	"time"
)

// STUB: replaced by the ECS implementation.

const ecsTargetPrefix = "AmazonEC2ContainerServiceV20141113."

type ecsRegion struct{}

func newECSRegion() *ecsRegion { return &ecsRegion{} }

func ecsOperation(r *http.Request, body []byte) string { return "" }

func (s *Sim) serveECS(w http.ResponseWriter, c *call) *APIError {
	return errorf(400, "UnknownOperationException", "not implemented")
}

func writeECSError(w http.ResponseWriter, requestID string, e *APIError) {
	w.WriteHeader(e.Status)
}

// ECSState is one region's ECS resources.
type ECSState struct{}

func (r *ecsRegion) state(s *Sim, region string, now time.Time) ECSState { return ECSState{} }
