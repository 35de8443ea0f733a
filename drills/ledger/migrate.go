package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// migration is one numbered change to the schema. Its SQL must run
// unchanged on SQLite and PostgreSQL, so both engines hold the same
// logical schema: TEXT, INTEGER and DOUBLE PRECISION columns only.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are applied in order; a released migration is never edited,
// a change to the schema is a new one at the end.
var migrations = []migration{
	{
		version: 1,
		name:    "drills with components, approvals and cleanup; baselines; captures",
		// Times are TEXT in one fixed-width UTC layout (see timeLayout):
		// it keeps nanoseconds, which PostgreSQL's timestamp types would
		// cut to microseconds, and it sorts in time order on both engines.
		sql: `
CREATE TABLE drills (
	id          TEXT PRIMARY KEY,
	app         TEXT NOT NULL,
	kind        TEXT NOT NULL,
	started_by  TEXT NOT NULL,
	reason      TEXT NOT NULL,
	purpose     TEXT NOT NULL,
	mode        TEXT NOT NULL,
	from_region TEXT NOT NULL,
	to_region   TEXT NOT NULL,
	workflow_id TEXT NOT NULL,
	run_id      TEXT NOT NULL,
	schedule_id TEXT NOT NULL,
	started_at  TEXT NOT NULL,
	ended_at    TEXT,
	outcome     TEXT NOT NULL,
	message     TEXT NOT NULL
);
CREATE INDEX drills_by_app ON drills (app, kind, started_at);

CREATE TABLE drill_components (
	drill_id          TEXT NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
	seq               INTEGER NOT NULL,
	phase             TEXT NOT NULL,
	step              TEXT NOT NULL,
	component         TEXT NOT NULL,
	kind              TEXT NOT NULL,
	region            TEXT NOT NULL,
	action_started_at TEXT,
	healthy_at        TEXT,
	seconds           DOUBLE PRECISION NOT NULL,
	outcome           TEXT NOT NULL,
	detail            TEXT NOT NULL,
	PRIMARY KEY (drill_id, seq)
);
CREATE INDEX drill_components_by_step ON drill_components (phase, step);

CREATE TABLE drill_approvals (
	drill_id    TEXT NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,
	phase       TEXT NOT NULL,
	step        TEXT NOT NULL,
	approved_by TEXT NOT NULL,
	approved_at TEXT,
	PRIMARY KEY (drill_id, seq)
);

CREATE TABLE drill_cleanup (
	drill_id TEXT NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
	seq      INTEGER NOT NULL,
	region   TEXT NOT NULL,
	resource TEXT NOT NULL,
	action   TEXT NOT NULL,
	outcome  TEXT NOT NULL,
	done_at  TEXT,
	detail   TEXT NOT NULL,
	PRIMARY KEY (drill_id, seq)
);

CREATE TABLE baselines (
	app      TEXT PRIMARY KEY,
	drill_id TEXT NOT NULL REFERENCES drills (id),
	set_at   TEXT NOT NULL
);

CREATE TABLE captures (
	app         TEXT NOT NULL,
	region      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	name        TEXT NOT NULL,
	captured_at TEXT NOT NULL,
	definition  TEXT NOT NULL,
	PRIMARY KEY (app, region, kind, name, captured_at)
);
`,
	},
}

// latestVersion is the schema version this code writes.
func latestVersion() int { return migrations[len(migrations)-1].version }

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL
)`

// migrationLock is the PostgreSQL advisory lock key that serialises
// migrations of one database across processes.
const migrationLock int64 = 0x64726f7665726c67 // "droverlg"

// errUpToDate ends the migration loop.
var errUpToDate = errors.New("schema up to date")

// migrate applies the pending migrations, each in its own transaction, and
// returns the versions it applied.
func (l *Ledger) migrate(ctx context.Context) ([]int, error) {
	var applied []int
	for {
		v, err := l.migrateOne(ctx)
		if errors.Is(err, errUpToDate) {
			return applied, nil
		}
		if err != nil {
			return applied, err
		}
		applied = append(applied, v)
	}
}

// migrateOne applies the first pending migration. It reads the version
// inside the transaction, after taking the lock, so two processes opening
// a fresh ledger at once apply each migration exactly once: on SQLite the
// transaction begins IMMEDIATE (the connection's _txlock) and the other
// waits out its busy timeout; on PostgreSQL the advisory lock serialises.
func (l *Ledger) migrateOne(ctx context.Context) (int, error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin schema migration: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	if l.target.engine == enginePostgres {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock)
		if err != nil {
			return 0, fmt.Errorf("lock the schema for migration: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}

	var current sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&current)
	if err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	if int(current.Int64) > latestVersion() {
		return 0, fmt.Errorf("the ledger's schema is at version %d, newer than version %d "+
			"that this drover knows: upgrade drover to use this ledger", current.Int64,
			latestVersion())
	}

	var next *migration
	for i := range migrations {
		if migrations[i].version > int(current.Int64) {
			next = &migrations[i]
			break
		}
	}
	if next == nil {
		return 0, errUpToDate
	}

	if _, err := tx.ExecContext(ctx, next.sql); err != nil {
		return 0, fmt.Errorf("apply schema migration %d (%s): %w", next.version, next.name, err)
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		next.version, next.name, formatTime(time.Now()))
	if err != nil {
		return 0, fmt.Errorf("record schema migration %d: %w", next.version, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit schema migration %d: %w", next.version, err)
	}
	return next.version, nil
}
