package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is drover's release version. Release builds set it with
// -ldflags "-X github.com/drover-dev/drover/cli.Version=v1.2.3"; otherwise
// it comes from the module version that `go install` records, or "dev".
var Version = ""

// versionInfo is what `drover version` reports.
type versionInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print drover's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.OutOrStdout(), g.output, currentVersion())
		},
	}
}

func runVersion(w io.Writer, output string, v versionInfo) error {
	if output == outputJSON {
		return json.NewEncoder(w).Encode(v)
	}
	line := "drover " + v.Version
	if v.Revision != "" {
		rev := v.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if v.Modified {
			rev += ", modified"
		}
		line += " (" + rev + ")"
	}
	_, err := fmt.Fprintf(w, "%s %s %s\n", line, v.Go, v.Platform)
	return err
}

func currentVersion() versionInfo {
	v := versionInfo{
		Version:  Version,
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	return v
}
