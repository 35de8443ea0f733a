// Package cli holds the commands of the drover binary, one file per
// command. Each command's work is a run method that writes to the
// command's own output streams, so tests run commands in-process.
package cli

import (
	"os"

	"github.com/spf13/cobra"
)

// NewRootCommand returns the drover command with every subcommand. Shared
// settings fall back to the process environment.
func NewRootCommand() *cobra.Command {
	return newRootCommand(os.LookupEnv)
}

func newRootCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	g := &globals{env: lookupEnv}
	root := &cobra.Command{
		Use:   "drover",
		Short: "Disaster recovery for applications that run in several AWS regions",
		Long: `drover moves an application from an impaired AWS region to its standby,
restores components from backups, and rehearses both in timed drills whose
per-component recovery times are kept from year to year. Every sequence is a
Temporal workflow of retryable, idempotent steps against ECS, RDS and Route 53.

To try it on one machine with no AWS account, run

  drover dev

which starts a Temporal dev server and simulated AWS regions with an example
application. 'drover sim' starts the simulated regions alone.`,
		// Errors are printed once, by main; usage only on request.
		SilenceErrors: true,
		SilenceUsage:  true,
		// Subcommands must not set their own PersistentPreRunE: cobra
		// runs only the nearest one, and this one resolves the globals.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			g.noteConnFlags(cmd.Flags())
			return g.resolve(cmd.Flags(), lookupEnv)
		},
	}
	g.bind(root.PersistentFlags())

	root.AddCommand(
		newDevCommand(g),
		newFailoverCommand(g),
		newFailbackCommand(g),
		newPlanCommand(g),
		newDrillCommand(g),
		newCaptureCommand(g),
		newRestoreCommand(g),
		newStatusCommand(g),
		newApproveCommand(g),
		newPauseCommand(g),
		newResumeCommand(g),
		newSkipCommand(g),
		newRetryCommand(g),
		newAbortCommand(g),
		newUngracefulCommand(g),
		newWorkerCommand(g),
		newSimCommand(g),
		newVersionCommand(g),
	)
	return root
}
