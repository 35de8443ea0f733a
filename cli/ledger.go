package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drover-dev/drover/drills"
	"github.com/drover-dev/drover/drills/ledger"
)

// ledgerEnv stands in for --ledger.
const ledgerEnv = "DROVER_LEDGER"

// bindLedger declares --ledger. Its default is a constant, never the
// environment's value, so that --help cannot show a password.
func bindLedger(fs *pflag.FlagSet, dsn *string) {
	fs.StringVar(dsn, "ledger", ledger.DefaultPath,
		"the drill ledger: a SQLite file, or a PostgreSQL URL such as "+
			"postgres://drover@db.internal/drover (env "+ledgerEnv+")")
}

// ledgerDSN is the --ledger flag, else its environment variable.
func (g *globals) ledgerDSN(cmd *cobra.Command, flagValue string) string {
	if !cmd.Flags().Changed("ledger") {
		if v := g.getenv(ledgerEnv); v != "" {
			return v
		}
	}
	return flagValue
}

// sqliteFile returns the file a SQLite ledger DSN names, and false for a
// PostgreSQL connection string, which is a URL or key=value pairs.
func sqliteFile(dsn string) (string, bool) {
	dsn = strings.TrimSpace(dsn)
	if rest, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		return strings.TrimPrefix(rest, "//"), true
	}
	if strings.Contains(dsn, "://") || strings.Contains(dsn, "=") {
		return "", false
	}
	if dsn == "" {
		return ledger.DefaultPath, true
	}
	return dsn, true
}

// openLedgerToRead opens a ledger that must exist already: a reading
// command that created an empty one would only report that there are no
// drills, hiding a wrong path.
func openLedgerToRead(ctx context.Context, dsn string) (*ledger.Ledger, error) {
	if path, ok := sqliteFile(dsn); ok {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no ledger at %s: the workers record drills in the ledger "+
				"they hold (`drover worker --ledger`, or `drover dev`). Point --ledger (or %s) "+
				"at the same one", path, ledgerEnv)
		}
	}
	l, err := ledger.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open the ledger: %w", err)
	}
	return l, nil
}

// shownDSN is a ledger DSN as it may be printed: without its password.
func shownDSN(dsn string) string {
	if path, ok := sqliteFile(dsn); ok {
		return path
	}
	return ledger.Redact(dsn)
}

// findRecord resolves --drill: a record's full ID, its run ID, or a part
// of its run ID such as `drover drill history` shows. Empty means the
// application's latest drill.
func findRecord(ctx context.Context, l *ledger.Ledger, app, ref string) (drills.Record,
	error) {
	hint := fmt.Sprintf("`drover drill history --app %s` lists them", app)
	if ref == "" {
		rec, err := l.Latest(ctx, app, drills.KindDrill)
		if errors.Is(err, ledger.ErrNotFound) {
			return rec, fmt.Errorf("the ledger holds no drill of %s yet; run one with "+
				"`drover drill run --app %s`, or name a record with --drill (%s)",
				app, app, hint)
		}
		return rec, err
	}

	if rec, err := l.Get(ctx, ref); err == nil {
		if rec.App != app {
			return rec, fmt.Errorf("record %s is of app %s, not %s", ref, rec.App, app)
		}
		return rec, nil
	} else if !errors.Is(err, ledger.ErrNotFound) {
		return rec, err
	}

	all, err := l.List(ctx, app, "")
	if err != nil {
		return drills.Record{}, err
	}
	var found []drills.Record
	for _, rec := range all {
		// Any part will do, so that the start of what history shows
		// works as a short id does in git.
		if rec.RunID == ref || (len(ref) >= minIDPart && strings.Contains(rec.RunID, ref)) {
			found = append(found, rec)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if len(ref) < minIDPart {
			return drills.Record{}, fmt.Errorf("--drill %q: give at least %d characters of "+
				"the ID; %s", ref, minIDPart, hint)
		}
		return drills.Record{}, fmt.Errorf("--drill %q: no record of %s has that ID; %s",
			ref, app, hint)
	}
	var ids []string
	for _, rec := range found {
		ids = append(ids, rec.ID)
	}
	return drills.Record{}, fmt.Errorf("--drill %q fits %d records (%s); give more of the ID",
		ref, len(found), strings.Join(ids, ", "))
}

// minIDPart is the shortest part of a run ID that --drill accepts, and
// shortIDLen the length history shows.
const (
	minIDPart  = 4
	shortIDLen = 8
)

// shortID is the end of a record's run ID, which --drill accepts. Run ids
// start with their time (UUID version 7), so runs of the same minute share
// their first digits; the last ones are random.
func shortID(rec drills.Record) string {
	id := rec.RunID
	if id == "" {
		id = rec.ID
	}
	if len(id) > shortIDLen {
		return id[len(id)-shortIDLen:]
	}
	return id
}
