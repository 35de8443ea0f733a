package activities

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/drover-dev/drover/topology"
)

// LoadTopology reads and checks <TopologyDir>/<app>.yaml. A missing or
// invalid file fails at once: retrying would read the same file.
func (r *Region) LoadTopology(_ context.Context, app string) (*topology.Topology, error) {
	if !topology.ValidName(app) {
		return nil, nonRetryable(ErrInvalid,
			"application name %q is not lowercase letters, digits and dashes", app)
	}
	if r.cfg.TopologyDir == "" {
		return nil, nonRetryable(ErrInvalid,
			"the worker for %s has no topology directory; start it with one", r.cfg.Region)
	}
	path := filepath.Join(r.cfg.TopologyDir, app+".yaml")
	t, err := topology.Load(path)
	if err != nil {
		var bad *topology.Error
		switch {
		case errors.As(err, &bad):
			return nil, nonRetryable(ErrInvalid, "topology %s is invalid:\n%v", path, bad)
		case errors.Is(err, fs.ErrNotExist):
			return nil, nonRetryable(ErrNotFound,
				"no topology for %q: %s does not exist on the worker for %s",
				app, path, r.cfg.Region)
		default:
			return nil, nonRetryable(ErrInvalid, "topology %s: %v", path, err)
		}
	}
	if t.App != app {
		return nil, nonRetryable(ErrInvalid,
			"topology %s describes app %q, not %q; rename the file or fix its app field",
			path, t.App, app)
	}
	return t, nil
}
