package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/plan"
	"github.com/drover-dev/drover/topology"
)

// planOptions are the flags of `drover plan`.
type planOptions struct {
	app        string
	topologies string
	to         string
	from       string
	mode       string
	ungraceful bool
	failback   bool
	scaleDown  bool
}

func newPlanCommand(g *globals) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan --app APP [--to REGION] [--ungraceful] [--failback]",
		Short: "Show the steps of a failover or failback without running anything",
		Long: `Show the plan of a failover or failback: its steps in order, the region each
runs in, what each waits for, and the estimated critical path at AWS speed.

It reads the topology file only; it needs neither Temporal nor AWS.`,
		Example: `  drover plan --app shop
  drover plan --app shop --to us-west-2 --ungraceful
  drover plan --app shop --failback --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.topologies = g.topologyDir(cmd, o.topologies)
			return o.run(cmd, cmd.OutOrStdout(), g.output)
		},
	}
	f := cmd.Flags()
	bindApp(f, &o.app)
	bindTopologies(f, &o.topologies)
	f.StringVar(&o.to, "to", "", "region to move to; needed only when there are several standbys")
	f.StringVar(&o.from, "from", "", "region the application serves from now, if not the usual one")
	bindMode(f, &o.mode, &o.ungraceful)
	f.BoolVar(&o.failback, "failback", false, "plan a failback to the primary region instead")
	f.BoolVar(&o.scaleDown, "scale-down-source", false,
		"end by scaling the old region's services to zero")
	return cmd
}

func (o *planOptions) run(cmd *cobra.Command, stdout io.Writer, output string) error {
	t, err := loadApp(o.topologies, o.app)
	if err != nil {
		return err
	}
	kind := plan.Failover
	if o.failback {
		kind = plan.Failback
	}
	mode, err := resolveMode(cmd, o.mode, o.ungraceful)
	if err != nil {
		return err
	}
	p, err := buildPlan(t, plan.Request{
		Kind: kind, To: o.to, From: o.from, Mode: mode, ScaleDownSource: o.scaleDown,
	})
	if err != nil {
		return err
	}

	if output == outputJSON {
		return json.NewEncoder(stdout).Encode(p)
	}
	return writePlan(stdout, p)
}

// bindMode declares --mode and its shorthand --ungraceful.
func bindMode(fs *pflag.FlagSet, mode *string, ungraceful *bool) {
	fs.StringVar(mode, "mode", string(plan.Graceful), "graceful or ungraceful")
	fs.BoolVar(ungraceful, "ungraceful", false,
		"the source region is impaired: allow data loss and never wait on it (--mode ungraceful)")
}

// resolveMode reads --mode and --ungraceful together.
func resolveMode(cmd *cobra.Command, mode string, ungraceful bool) (plan.Mode, error) {
	m := plan.Mode(mode)
	if m != plan.Graceful && m != plan.Ungraceful {
		return "", fmt.Errorf("--mode %q: want graceful or ungraceful", mode)
	}
	if ungraceful {
		if cmd.Flags().Changed("mode") && m != plan.Ungraceful {
			return "", fmt.Errorf("--ungraceful contradicts --mode %s; give one of them", mode)
		}
		m = plan.Ungraceful
	}
	return m, nil
}

// buildPlan checks the request against the topology before anything is
// sent, naming the regions there are when one is wrong.
func buildPlan(t *topology.Topology, req plan.Request) (*plan.Plan, error) {
	for _, r := range []struct{ flag, name string }{{"--to", req.To}, {"--from", req.From}} {
		if r.name == "" {
			continue
		}
		if _, ok := t.Region(r.name); !ok {
			return nil, fmt.Errorf("%s %s: not a region of %s (regions: %s)",
				r.flag, r.name, t.App, strings.Join(t.RegionNames(), ", "))
		}
	}
	p, err := plan.Build(t, req, plan.DefaultEstimates())
	if err != nil {
		return nil, fmt.Errorf("cannot plan the %s of %s: %w", req.Kind, t.App, err)
	}
	return p, nil
}

// writePlan prints the steps in order, marking the critical path.
func writePlan(w io.Writer, p *plan.Plan) error {
	onPath := map[string]bool{}
	for _, id := range p.CriticalPath {
		onPath[id] = true
	}
	fmt.Fprintf(w, "%s of %s: %s → %s, %s\n", capitalize(string(p.Kind)), p.App, p.From, p.To,
		p.Mode)
	fmt.Fprintf(w, "%d steps; * marks the critical path. Estimates are at AWS speed.\n\n",
		len(p.Steps))

	tw := newTable(w)
	fmt.Fprintln(tw, "   STEP\tREGION\tESTIMATE\tNOTE\tWAITS FOR")
	waits := waitsFor(p)
	for _, s := range p.Steps {
		mark := " "
		if onPath[s.ID] {
			mark = "*"
		}
		est := fmtDuration(s.Estimate)
		if s.Kind == plan.StepApproval {
			est = "an operator"
		}
		fmt.Fprintf(tw, " %s %s\t%s\t%s\t%s\t%s\n", mark, s.ID, orDash(s.Region), est,
			stepNote(s), orDash(waits[s.ID]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nCritical path (%s): %s\n", fmtDuration(p.Estimate),
		strings.Join(p.CriticalPath, " → "))
	return err
}

func stepNote(s *plan.Step) string {
	var notes []string
	if s.ReadOnly {
		notes = append(notes, "read-only")
	}
	if s.BestEffort {
		notes = append(notes, "best effort")
	}
	return strings.Join(notes, ", ")
}

// waitsFor describes each step's dependencies as briefly as they can be
// read: a dependency implied by another is left out, and a step that waits
// for every step of one kind says so instead of naming them all.
func waitsFor(p *plan.Plan) map[string]string {
	ancestors := map[string]map[string]bool{}
	byKind := map[plan.StepKind]int{}
	for _, s := range p.Steps {
		byKind[s.Kind]++
		a := map[string]bool{}
		for _, d := range s.DependsOn {
			a[d] = true
			for x := range ancestors[d] {
				a[x] = true
			}
		}
		ancestors[s.ID] = a
	}

	out := map[string]string{}
	for _, s := range p.Steps {
		var direct []*plan.Step
		for _, d := range s.DependsOn {
			implied := false
			for _, e := range s.DependsOn {
				if e != d && ancestors[e][d] {
					implied = true
					break
				}
			}
			if !implied {
				direct = append(direct, p.Step(d))
			}
		}

		count := map[plan.StepKind]int{}
		for _, d := range direct {
			count[d.Kind]++
		}
		var parts []string
		shown := map[plan.StepKind]bool{}
		for _, d := range direct {
			n := count[d.Kind]
			if n >= 3 && n == byKind[d.Kind] {
				if !shown[d.Kind] {
					parts = append(parts, fmt.Sprintf("%s:* (%d)", d.Kind, n))
					shown[d.Kind] = true
				}
				continue
			}
			parts = append(parts, d.ID)
		}
		out[s.ID] = strings.Join(parts, ", ")
	}
	return out
}

// fmtDuration rounds for people: tenths of a second under a minute,
// whole seconds above.
func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// table aligns tab-separated columns like tabwriter, without the
// trailing blanks tabwriter leaves after an empty last cell.
type table struct {
	out io.Writer
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func newTable(w io.Writer) *table {
	t := &table{out: w}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

func (t *table) Write(p []byte) (int, error) { return t.tw.Write(p) }

// Flush writes the aligned table.
func (t *table) Flush() error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for line := range strings.Lines(t.buf.String()) {
		b.WriteString(strings.TrimRight(line, " \n"))
		b.WriteByte('\n')
	}
	t.buf.Reset()
	_, err := io.WriteString(t.out, b.String())
	return err
}
