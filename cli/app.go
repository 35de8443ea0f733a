package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/topology"
)

// Where topology files are looked for unless --topologies says otherwise.
const (
	defaultTopologyDir = "examples"
	topologiesEnv      = "DROVER_TOPOLOGIES"
)

// bindApp declares --app.
func bindApp(fs *pflag.FlagSet, app *string) {
	fs.StringVar(app, "app", "", "the application, as named by its topology file (required)")
}

// bindTopologies declares --topologies.
func bindTopologies(fs *pflag.FlagSet, dir *string) {
	fs.StringVar(dir, "topologies", defaultTopologyDir,
		"folder of topology files, one <app>.yaml per application (env "+topologiesEnv+")")
}

// topologyDir is the --topologies flag, else its environment variable.
func (g *globals) topologyDir(cmd *cobra.Command, flagValue string) string {
	if !cmd.Flags().Changed("topologies") {
		if v := g.getenv(topologiesEnv); v != "" {
			return v
		}
	}
	return flagValue
}

// checkApp rejects an application name that no topology could have.
func checkApp(app string) error {
	if app == "" {
		return errors.New("--app is required: name the application, such as --app shop")
	}
	if !topology.ValidName(app) {
		return fmt.Errorf("--app %q: an application's name is lowercase letters, digits "+
			"and dashes, starting with a letter, as in its topology file's app field", app)
	}
	return nil
}

// loadApp reads and checks <dir>/<app>.yaml, saying where it looked when
// there is no such file.
func loadApp(dir, app string) (*topology.Topology, error) {
	if err := checkApp(app); err != nil {
		return nil, err
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("topology folder %s does not exist; pass --topologies DIR or "+
			"set %s to the folder that holds %s.yaml", dir, topologiesEnv, app)
	}

	path := filepath.Join(dir, app+".yaml")
	t, err := topology.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		known := "none"
		if apps := listApps(dir); len(apps) > 0 {
			known = strings.Join(apps, ", ")
		}
		return nil, fmt.Errorf("no topology for app %q in %s (looked for %s; apps there: %s); "+
			"check --app, or pass --topologies DIR or set %s to the folder that holds it",
			app, dir, path, known, topologiesEnv)
	}
	if err != nil {
		return nil, fmt.Errorf("topology %s: %w", path, err)
	}
	if t.App != app {
		return nil, fmt.Errorf("topology %s describes app %q, not %q; rename the file or "+
			"fix its app field", path, t.App, app)
	}
	return t, nil
}

// listApps names the applications whose topology files are in dir.
func listApps(dir string) []string {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var apps []string
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".yaml")
		if topology.ValidName(name) {
			apps = append(apps, name)
		}
	}
	slices.Sort(apps)
	return apps
}
