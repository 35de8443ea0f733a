package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/drover-dev/drover/infra/awssim"
)

// simOptions are the flags of `drover sim`.
type simOptions struct {
	addr      string
	timeScale float64
	seed      int64
	jitter    float64
}

func newSimCommand(g *globals) *cobra.Command {
	def := awssim.DefaultProfile()
	o := &simOptions{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the simulated AWS regions (ECS, RDS, Route 53) alone",
		Long: `Run the simulated AWS regions on one loopback endpoint until interrupted.

The simulator speaks the real AWS APIs for ECS, RDS and Route 53, so the AWS
CLI and SDKs work against it unchanged: the region of each request comes from
its signature. Operations take as long as they would on AWS divided by the time
scale. The control API under /_sim/ shows the state, the calls and events, and
injects faults.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:4566", "loopback host:port to listen on")
	f.Float64Var(&o.timeScale, "time-scale", 60,
		"divide every AWS duration by this (60: a minute on AWS is a second here)")
	f.Int64Var(&o.seed, "seed", def.Seed, "seed of the duration jitter, so that runs repeat")
	f.Float64Var(&o.jitter, "jitter", def.Jitter,
		"vary each duration by up to this fraction either way (0.1 is ±10%)")
	return cmd
}

func (o *simOptions) run(ctx context.Context, stdout io.Writer, g *globals) error {
	if o.timeScale <= 0 {
		return fmt.Errorf("--time-scale %g: want a positive number", o.timeScale)
	}
	if o.jitter < 0 || o.jitter >= 1 {
		return fmt.Errorf("--jitter %g: want a fraction from 0 up to but excluding 1", o.jitter)
	}

	p := awssim.DefaultProfile()
	p.TimeScale = o.timeScale
	p.Seed = o.seed
	p.Jitter = o.jitter
	srv, err := awssim.Listen(o.addr, awssim.New(awssim.Options{Profile: &p}))
	if err != nil {
		return fmt.Errorf("start the simulator: %w", err)
	}

	if err := o.describe(stdout, g.output, srv.URL); err != nil {
		_ = srv.Close()
		return err
	}

	<-ctx.Done()
	if err := srv.Close(); err != nil {
		return fmt.Errorf("stop the simulator: %w", err)
	}
	if g.output == outputText {
		fmt.Fprintln(stdout, "Simulator stopped.")
	}
	return nil
}

// describe tells how to reach the simulator.
func (o *simOptions) describe(w io.Writer, output, url string) error {
	if output == outputJSON {
		return json.NewEncoder(w).Encode(map[string]any{
			"endpoint":  url,
			"control":   url + "/_sim/",
			"timeScale": o.timeScale,
			"seed":      o.seed,
			"jitter":    o.jitter,
		})
	}

	minute := time.Duration(float64(time.Minute) / o.timeScale).Round(time.Millisecond)
	_, err := fmt.Fprintf(w, `Simulated AWS regions (ECS, RDS, Route 53) at %[1]s
Time scale %[2]g: a minute on AWS takes %[3]s here (seed %[4]d, jitter ±%[5]g%%).

Point the AWS CLI or an SDK at it; any credentials will do, and the region
you sign for is the region you get:
  export AWS_ENDPOINT_URL=%[1]s
  export AWS_ACCESS_KEY_ID=SIMULATED AWS_SECRET_ACCESS_KEY=SIMULATED
  aws ecs list-clusters --region us-west-2
drover's own commands take --aws-endpoint %[1]s (or DROVER_AWS_ENDPOINT).

Control API: %[1]s/_sim/state, /_sim/calls, /_sim/events, /_sim/faults
Press Ctrl-C to stop.
`, url, o.timeScale, minute, o.seed, o.jitter*100)
	return err
}
