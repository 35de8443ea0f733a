package ledger

import "database/sql"

// Accessors for the tests in package ledger_test.

// DB returns the ledger's database handle.
func DB(l *Ledger) *sql.DB { return l.db }

// Applied returns the migration versions that Open applied.
func Applied(l *Ledger) []int { return l.applied }

// LatestVersion is the schema version the code writes.
func LatestVersion() int { return latestVersion() }

// Engine names the engine a connection string selects.
func Engine(dsn, workDir string) (string, error) {
	t, err := parseTarget(dsn, workDir)
	return t.engine.String(), err
}
