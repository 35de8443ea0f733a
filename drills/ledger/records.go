package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/drover-dev/drover/drills"
)

// knownKinds are the record kinds the ledger accepts.
var knownKinds = []string{drills.KindDrill, drills.KindIncident}

// Put writes rec, replacing any record with the same ID together with all
// of its components, approvals and cleanup items, in one transaction.
// Writing the same record twice leaves one; a retried or completed write
// of a partial record leaves the complete one. A record's app cannot
// change once written.
func (l *Ledger) Put(ctx context.Context, rec drills.Record) error {
	if err := validateRecord(rec); err != nil {
		return err
	}

	err := l.write(ctx, func(tx *sql.Tx) error {
		if err := upsertDrill(ctx, tx, rec); err != nil {
			return err
		}
		for _, table := range []string{"drill_components", "drill_approvals", "drill_cleanup"} {
			_, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE drill_id = $1`, rec.ID)
			if err != nil {
				return fmt.Errorf("clear %s: %w", table, err)
			}
		}
		return insertNested(ctx, tx, rec)
	})
	if err != nil {
		return l.fail(err, "put drill record %q", rec.ID)
	}
	return nil
}

func validateRecord(rec drills.Record) error {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}

	if rec.ID == "" {
		add("id is required (the workflow id and run id joined by a slash)")
	}
	if rec.App == "" {
		add("app is required")
	}
	if err := checkKind(rec.Kind); err != nil {
		add("%v", err)
	}
	if rec.Started.IsZero() {
		add("started is required")
	}
	if !rec.Ended.IsZero() && rec.Ended.Before(rec.Started) {
		add("ended (%s) is before started (%s)", rec.Ended.UTC().Format(time.RFC3339Nano),
			rec.Started.UTC().Format(time.RFC3339Nano))
	}
	checkTimes(add, "record", rec.Started, rec.Ended)

	for i, c := range rec.Components {
		where := fmt.Sprintf("component %d (%s)", i, c.Key())
		if c.Phase == "" || c.Step == "" {
			add("%s: phase and step are required, they identify it across drills", where)
		}
		// SQLite would store a NaN as NULL, so the value would not read back.
		if math.IsNaN(c.Seconds) || math.IsInf(c.Seconds, 0) {
			add("%s: seconds is %v, not a finite number", where, c.Seconds)
		}
		checkTimes(add, where, c.ActionStarted, c.HealthyAt)
	}
	for i, a := range rec.Approvals {
		checkTimes(add, fmt.Sprintf("approval %d", i), a.At)
	}
	for i, c := range rec.Cleanup {
		checkTimes(add, fmt.Sprintf("cleanup item %d", i), c.At)
	}

	if len(problems) > 0 {
		return fmt.Errorf("%w drill record %q: %s", ErrInvalid, rec.ID,
			strings.Join(problems, "; "))
	}
	return nil
}

// checkKind accepts the known kinds only; "" is not one.
func checkKind(kind string) error {
	if slices.Contains(knownKinds, kind) {
		return nil
	}
	if kind == "" {
		return fmt.Errorf("kind is required: one of %s", strings.Join(knownKinds, ", "))
	}
	return fmt.Errorf("kind %q is unknown: use one of %s", kind, strings.Join(knownKinds, ", "))
}

// checkTimes reports times outside the years the storage layout can hold.
func checkTimes(add func(string, ...any), where string, times ...time.Time) {
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		if y := t.UTC().Year(); y < 1 || y > 9999 {
			add("%s: time %s is outside the years 1 to 9999", where, t.UTC())
		}
	}
}

func upsertDrill(ctx context.Context, tx *sql.Tx, rec drills.Record) error {
	// The WHERE clause turns a write that would move the record to
	// another app into a no-op, which the row count then reveals; a
	// baseline chosen for one app must not end up naming another's drill.
	res, err := tx.ExecContext(ctx, `
INSERT INTO drills (id, app, kind, started_by, reason, purpose, mode, from_region,
	to_region, workflow_id, run_id, schedule_id, started_at, ended_at, outcome, message)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (id) DO UPDATE SET
	kind = excluded.kind, started_by = excluded.started_by, reason = excluded.reason,
	purpose = excluded.purpose, mode = excluded.mode, from_region = excluded.from_region,
	to_region = excluded.to_region, workflow_id = excluded.workflow_id,
	run_id = excluded.run_id, schedule_id = excluded.schedule_id,
	started_at = excluded.started_at, ended_at = excluded.ended_at,
	outcome = excluded.outcome, message = excluded.message
WHERE drills.app = excluded.app`,
		rec.ID, rec.App, rec.Kind, rec.StartedBy, rec.Reason, rec.Purpose, rec.Mode,
		rec.From, rec.To, rec.WorkflowID, rec.RunID, rec.ScheduleID,
		formatTime(rec.Started), formatTime(rec.Ended), rec.Outcome, rec.Message)
	if err != nil {
		return fmt.Errorf("write the drill row: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("count the written drill rows: %w", err)
	}
	if n == 0 {
		var app string
		err := tx.QueryRowContext(ctx, `SELECT app FROM drills WHERE id = $1`, rec.ID).Scan(&app)
		if err != nil {
			return fmt.Errorf("read the existing drill row: %w", err)
		}
		return fmt.Errorf("%w: the record is already stored for app %q, not %q; "+
			"a record's app cannot change", ErrInvalid, app, rec.App)
	}
	return nil
}

func insertNested(ctx context.Context, tx *sql.Tx, rec drills.Record) error {
	for i, c := range rec.Components {
		_, err := tx.ExecContext(ctx, `
INSERT INTO drill_components (drill_id, seq, phase, step, component, kind, region,
	action_started_at, healthy_at, seconds, outcome, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			rec.ID, i, c.Phase, c.Step, c.Component, c.Kind, c.Region,
			formatTime(c.ActionStarted), formatTime(c.HealthyAt), c.Seconds, c.Outcome, c.Detail)
		if err != nil {
			return fmt.Errorf("write component %s: %w", c.Key(), err)
		}
	}
	for i, a := range rec.Approvals {
		_, err := tx.ExecContext(ctx, `
INSERT INTO drill_approvals (drill_id, seq, phase, step, approved_by, approved_at)
VALUES ($1, $2, $3, $4, $5, $6)`,
			rec.ID, i, a.Phase, a.Step, a.By, formatTime(a.At))
		if err != nil {
			return fmt.Errorf("write approval %d: %w", i, err)
		}
	}
	for i, c := range rec.Cleanup {
		_, err := tx.ExecContext(ctx, `
INSERT INTO drill_cleanup (drill_id, seq, region, resource, action, outcome, done_at, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			rec.ID, i, c.Region, c.Resource, c.Action, c.Outcome, formatTime(c.At), c.Detail)
		if err != nil {
			return fmt.Errorf("write cleanup item %d: %w", i, err)
		}
	}
	return nil
}

// Get returns the record with the given ID, or an error wrapping
// ErrNotFound.
func (l *Ledger) Get(ctx context.Context, id string) (drills.Record, error) {
	var recs []drills.Record
	err := l.read(ctx, func(tx *sql.Tx) error {
		var err error
		recs, err = loadRecords(ctx, tx, `d.id = $1`, id)
		return err
	})
	if err != nil {
		return drills.Record{}, l.fail(err, "get drill record %q", id)
	}
	if len(recs) == 0 {
		return drills.Record{}, fmt.Errorf("drill record %q: %w", id, ErrNotFound)
	}
	return recs[0], nil
}

// List returns the records of app, oldest first; kind "" means every kind
// and app "" every app.
func (l *Ledger) List(ctx context.Context, app, kind string) ([]drills.Record, error) {
	where, args, err := recordFilter(app, kind)
	if err != nil {
		return nil, err
	}

	var recs []drills.Record
	err = l.read(ctx, func(tx *sql.Tx) error {
		var err error
		recs, err = loadRecords(ctx, tx, where, args...)
		return err
	})
	if err != nil {
		return nil, l.fail(err, "list drill records of app %q", app)
	}
	return recs, nil
}

// Latest returns the newest record of app by start time; kind "" means
// every kind. With none, the error wraps ErrNotFound.
func (l *Ledger) Latest(ctx context.Context, app, kind string) (drills.Record, error) {
	where, args, err := recordFilter(app, kind)
	if err != nil {
		return drills.Record{}, err
	}

	var recs []drills.Record
	err = l.read(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT d.id FROM drills d WHERE `+where+
			` ORDER BY d.started_at DESC, d.id DESC LIMIT 1`, args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		recs, err = loadRecords(ctx, tx, `d.id = $1`, id)
		return err
	})
	if err != nil {
		return drills.Record{}, l.fail(err, "find the latest record of app %q", app)
	}
	if len(recs) == 0 {
		return drills.Record{}, fmt.Errorf("latest %s record of app %q: %w",
			kindOrAny(kind), app, ErrNotFound)
	}
	return recs[0], nil
}

func kindOrAny(kind string) string {
	if kind == "" {
		return "any"
	}
	return kind
}

// recordFilter builds the WHERE clause over drills d for List and Latest.
func recordFilter(app, kind string) (string, []any, error) {
	conds := []string{"1 = 1"}
	var args []any
	if app != "" {
		args = append(args, app)
		conds = append(conds, fmt.Sprintf("d.app = $%d", len(args)))
	}
	if kind != "" {
		// A mistyped kind would otherwise read as "no drills yet".
		if err := checkKind(kind); err != nil {
			return "", nil, fmt.Errorf("%w filter: %v", ErrInvalid, err)
		}
		args = append(args, kind)
		conds = append(conds, fmt.Sprintf("d.kind = $%d", len(args)))
	}
	return strings.Join(conds, " AND "), args, nil
}

// loadRecords reads the records that match where (over drills d), oldest
// first, with their nested rows: four queries however many records match.
func loadRecords(ctx context.Context, tx *sql.Tx, where string,
	args ...any) ([]drills.Record, error) {
	recs, byID, err := loadDrills(ctx, tx, where, args)
	if err != nil || len(recs) == 0 {
		return recs, err
	}

	join := ` JOIN drills d ON d.id = x.drill_id WHERE ` + where + ` ORDER BY x.drill_id, x.seq`
	err = each(ctx, tx, `SELECT x.drill_id, x.phase, x.step, x.component, x.kind, x.region,
	x.action_started_at, x.healthy_at, x.seconds, x.outcome, x.detail
FROM drill_components x`+join, args, func(rows *sql.Rows) error {
		var id string
		var c drills.Component
		var started, healthy sql.NullString
		err := rows.Scan(&id, &c.Phase, &c.Step, &c.Component, &c.Kind, &c.Region,
			&started, &healthy, &c.Seconds, &c.Outcome, &c.Detail)
		if err != nil {
			return err
		}
		if c.ActionStarted, err = parseTime(started); err != nil {
			return err
		}
		if c.HealthyAt, err = parseTime(healthy); err != nil {
			return err
		}
		r := &recs[byID[id]]
		r.Components = append(r.Components, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read components: %w", err)
	}

	err = each(ctx, tx, `SELECT x.drill_id, x.phase, x.step, x.approved_by, x.approved_at
FROM drill_approvals x`+join, args, func(rows *sql.Rows) error {
		var id string
		var a drills.Approval
		var at sql.NullString
		if err := rows.Scan(&id, &a.Phase, &a.Step, &a.By, &at); err != nil {
			return err
		}
		var err error
		if a.At, err = parseTime(at); err != nil {
			return err
		}
		r := &recs[byID[id]]
		r.Approvals = append(r.Approvals, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read approvals: %w", err)
	}

	err = each(ctx, tx, `SELECT x.drill_id, x.region, x.resource, x.action, x.outcome,
	x.done_at, x.detail
FROM drill_cleanup x`+join, args, func(rows *sql.Rows) error {
		var id string
		var c drills.Cleanup
		var at sql.NullString
		err := rows.Scan(&id, &c.Region, &c.Resource, &c.Action, &c.Outcome, &at, &c.Detail)
		if err != nil {
			return err
		}
		if c.At, err = parseTime(at); err != nil {
			return err
		}
		r := &recs[byID[id]]
		r.Cleanup = append(r.Cleanup, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read cleanup: %w", err)
	}
	return recs, nil
}

func loadDrills(ctx context.Context, tx *sql.Tx, where string,
	args []any) ([]drills.Record, map[string]int, error) {
	var recs []drills.Record
	byID := map[string]int{}
	err := each(ctx, tx, `SELECT d.id, d.app, d.kind, d.started_by, d.reason, d.purpose,
	d.mode, d.from_region, d.to_region, d.workflow_id, d.run_id, d.schedule_id,
	d.started_at, d.ended_at, d.outcome, d.message
FROM drills d WHERE `+where+` ORDER BY d.started_at, d.id`, args, func(rows *sql.Rows) error {
		var r drills.Record
		var started, ended sql.NullString
		err := rows.Scan(&r.ID, &r.App, &r.Kind, &r.StartedBy, &r.Reason, &r.Purpose,
			&r.Mode, &r.From, &r.To, &r.WorkflowID, &r.RunID, &r.ScheduleID,
			&started, &ended, &r.Outcome, &r.Message)
		if err != nil {
			return err
		}
		if r.Started, err = parseTime(started); err != nil {
			return err
		}
		if r.Ended, err = parseTime(ended); err != nil {
			return err
		}
		byID[r.ID] = len(recs)
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read drills: %w", err)
	}
	return recs, byID, nil
}

// each runs query and calls fn for every row.
func each(ctx context.Context, tx *sql.Tx, query string, args []any,
	fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()

	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SetBaseline chooses the drill that app's later drills are compared with.
// The drill must be stored and belong to app.
func (l *Ledger) SetBaseline(ctx context.Context, app, id string) error {
	if app == "" || id == "" {
		return fmt.Errorf("%w baseline: app and drill id are both required", ErrInvalid)
	}

	err := l.write(ctx, func(tx *sql.Tx) error {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT app FROM drills WHERE id = $1`, id).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("drill record %q: %w; store it before choosing it as the baseline",
				id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read drill record: %w", err)
		}
		if owner != app {
			return fmt.Errorf("%w: drill record %q belongs to app %q, not %q; choose one of "+
				"%q's drills", ErrInvalid, id, owner, app, app)
		}

		_, err = tx.ExecContext(ctx, `
INSERT INTO baselines (app, drill_id, set_at) VALUES ($1, $2, $3)
ON CONFLICT (app) DO UPDATE SET drill_id = excluded.drill_id, set_at = excluded.set_at`,
			app, id, formatTime(time.Now()))
		if err != nil {
			return fmt.Errorf("write baseline: %w", err)
		}
		return nil
	})
	if err != nil {
		return l.fail(err, "set the baseline of app %q", app)
	}
	return nil
}

// Baseline returns app's baseline drill, and false when none was chosen.
func (l *Ledger) Baseline(ctx context.Context, app string) (drills.Record, bool, error) {
	var recs []drills.Record
	err := l.read(ctx, func(tx *sql.Tx) error {
		var err error
		recs, err = loadRecords(ctx, tx,
			`d.id = (SELECT b.drill_id FROM baselines b WHERE b.app = $1)`, app)
		return err
	})
	if err != nil {
		return drills.Record{}, false, l.fail(err, "get the baseline of app %q", app)
	}
	if len(recs) == 0 {
		return drills.Record{}, false, nil
	}
	return recs[0], true, nil
}
