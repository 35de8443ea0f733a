package awssim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Control is a Go client for the simulator's control API.
type Control struct {
	base string
	http *http.Client
}

// NewControl returns a client for the simulator at baseURL (the same URL
// the AWS clients use as their endpoint).
func NewControl(baseURL string) *Control {
	return &Control{
		base: strings.TrimRight(baseURL, "/"),
		http: &http.Client{Timeout: 30 * time.Second},
	}
}

func (c *Control) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+controlPrefix+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("simulator control %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("simulator control %s %s: %s: %s", method, path, resp.Status, e.Error)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Health returns nil once the simulator answers.
func (c *Control) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "health", nil, nil)
}

// State returns a snapshot of every resource.
func (c *Control) State(ctx context.Context) (State, error) {
	var st State
	err := c.do(ctx, http.MethodGet, "state", nil, &st)
	return st, err
}

// Profile returns the simulator's durations and time scale.
func (c *Control) Profile(ctx context.Context) (Profile, error) {
	var p Profile
	err := c.do(ctx, http.MethodGet, "profile", nil, &p)
	return p, err
}

// Calls returns the count of calls per region, service and operation.
func (c *Control) Calls(ctx context.Context) ([]CallCount, error) {
	var out []CallCount
	err := c.do(ctx, http.MethodGet, "calls", nil, &out)
	return out, err
}

// ResetCalls sets every call count to zero.
func (c *Control) ResetCalls(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "calls", nil, nil)
}

// Events returns the state changes recorded at or after since.
func (c *Control) Events(ctx context.Context, since time.Time) ([]Event, error) {
	path := "events"
	if !since.IsZero() {
		path += "?since=" + url.QueryEscape(since.Format(time.RFC3339Nano))
	}
	var out []Event
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// AddFault sets a fault and returns it with its ID.
func (c *Control) AddFault(ctx context.Context, f Fault) (Fault, error) {
	var out Fault
	err := c.do(ctx, http.MethodPost, "faults", f, &out)
	return out, err
}

// Blackout makes a region unreachable for ECS, RDS and CloudWatch in the
// given mode.
func (c *Control) Blackout(ctx context.Context, region string, mode BlackoutMode) (Fault, error) {
	return c.AddFault(ctx, Fault{Kind: FaultBlackout, Region: region, Mode: mode})
}

// Faults lists the active faults.
func (c *Control) Faults(ctx context.Context) ([]Fault, error) {
	var out []Fault
	err := c.do(ctx, http.MethodGet, "faults", nil, &out)
	return out, err
}

// RemoveFault lifts one fault.
func (c *Control) RemoveFault(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "faults/"+url.PathEscape(id), nil, nil)
}

// ClearFaults lifts every fault.
func (c *Control) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "faults", nil, nil)
}

// SetReplicaLag sets the lag CloudWatch reports for a read replica
// ("db-instance") or an Aurora global secondary ("db-cluster") in region,
// as Sim.SetReplicaLag does.
func (c *Control) SetReplicaLag(ctx context.Context, region, resource, id string,
	lag time.Duration) error {
	return c.do(ctx, http.MethodPut, "replica-lag", ReplicaLag{
		Region: region, Resource: resource, ID: id, Lag: Duration(lag),
	}, nil)
}
