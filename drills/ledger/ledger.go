// Package ledger stores drill records and captured definitions beyond
// Temporal's history retention, in SQLite by default or in PostgreSQL for
// teams. Both engines hold the same schema, kept current by numbered
// migrations applied when a ledger is opened.
//
// Components, approvals and cleanup items have their own tables, so a
// component's recovery times can be queried across drills with plain SQL:
//
//	SELECT d.started_at, c.seconds
//	FROM drill_components c JOIN drills d ON d.id = c.drill_id
//	WHERE d.app = 'shop' AND c.phase = 'failover' AND c.step = 'promote-database:orders'
//	ORDER BY d.started_at;
//
// Times are stored as fixed-width UTC text with nanoseconds, so they read
// back exactly and sort in time order.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"
)

// ErrNotFound is returned, wrapped, when a drill, baseline or capture
// does not exist.
var ErrNotFound = errors.New("not found")

// ErrInvalid is returned, wrapped, for input the ledger refuses before it
// writes anything; retrying the same input cannot succeed.
var ErrInvalid = errors.New("invalid")

// sqliteBusyTimeout is how long a SQLite writer waits for another
// process's write to finish before giving up.
const sqliteBusyTimeout = 10 * time.Second

// Ledger is an open drill ledger. It is safe for concurrent use.
type Ledger struct {
	db     *sql.DB
	target target
	// applied are the migration versions Open applied.
	applied []int
}

// Open opens the ledger that dsn names and brings its schema up to date.
//
// A dsn that starts with postgres:// or postgresql://, or a key=value
// string such as "host=db dbname=drover", is a PostgreSQL connection
// string. Anything else is a SQLite file path, optionally prefixed with
// sqlite:; an empty dsn means .drover/ledger.db under the working
// directory, created when missing. A password in dsn never appears in an
// error.
func Open(ctx context.Context, dsn string) (*Ledger, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("find the working directory for the ledger: %w", err)
	}
	t, err := parseTarget(dsn, wd)
	if err != nil {
		return nil, err
	}

	l := &Ledger{target: t}
	switch t.engine {
	case enginePostgres:
		l.db = stdlib.OpenDB(*t.pg)
	default:
		l.db, err = sql.Open("sqlite", sqliteDSN(t.path))
		if err != nil {
			return nil, fmt.Errorf("open the SQLite ledger %s: %w", t.path, err)
		}
	}

	if err := l.db.PingContext(ctx); err != nil {
		_ = l.db.Close()
		hint := "check that the file is a SQLite database that this user can write"
		if t.engine == enginePostgres {
			hint = "check the address, the credentials and that the server is up"
		}
		return nil, t.scrub(fmt.Errorf("connect to the %s ledger %s: %w; %s",
			t.engine, t.shown, err, hint))
	}
	l.applied, err = l.migrate(ctx)
	if err != nil {
		_ = l.db.Close()
		return nil, t.scrub(fmt.Errorf("migrate the ledger %s: %w", t.shown, err))
	}
	return l, nil
}

// sqliteDSN adds the settings every connection needs: a busy timeout so a
// second process waits instead of failing, foreign keys (off by default
// in SQLite), and IMMEDIATE write transactions so two writers never
// deadlock upgrading read locks. The journal stays in SQLite's default
// rollback mode: switching a fresh file to WAL fails with SQLITE_BUSY,
// without waiting, when two processes open it at once, and a ledger's few
// short writes gain nothing from WAL.
func sqliteDSN(path string) string {
	return fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_txlock=immediate",
		path, sqliteBusyTimeout.Milliseconds())
}

// Close closes the ledger's connections.
func (l *Ledger) Close() error {
	return l.db.Close()
}

// write runs fn in a transaction and commits it when fn succeeds.
func (l *Ledger) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin a transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// read runs fn in a read-only transaction, so a record and its nested rows
// come from one snapshot even while another process rewrites the record.
func (l *Ledger) read(ctx context.Context, fn func(*sql.Tx) error) error {
	// SQLite ignores the isolation level; its read transactions are
	// snapshots already.
	opts := &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	tx, err := l.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin a read transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	return fn(tx)
}

// fail wraps err for a caller and hides any password in it.
func (l *Ledger) fail(err error, format string, args ...any) error {
	return l.target.scrub(fmt.Errorf(format+": %w", append(args, err)...))
}

// timeLayout has a fixed width, so stored times sort as text in time order
// for the years 0000 to 9999.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// formatTime renders t in UTC for storage; the zero time is NULL.
func formatTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: t.UTC().Format(timeLayout), Valid: true}
}

// parseTime reads a stored time back, in UTC; NULL is the zero time.
func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q is not in the ledger's layout: %w",
			s.String, err)
	}
	return t.UTC(), nil
}
