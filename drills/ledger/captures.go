package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/drover-dev/drover/drills"
)

// knownCaptureKinds are the capture kinds the ledger accepts.
var knownCaptureKinds = []string{drills.CaptureECSService, drills.CaptureRoute53Zone,
	drills.CaptureRDSInstance, drills.CaptureRDSCluster}

// PutCapture stores c. Storing a capture with the same app, region, kind,
// name and capture time again replaces it, so a retried capture leaves
// one row.
func (l *Ledger) PutCapture(ctx context.Context, c drills.Capture) error {
	if err := validateCapture(c); err != nil {
		return err
	}

	err := l.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
INSERT INTO captures (app, region, kind, name, captured_at, definition)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (app, region, kind, name, captured_at)
DO UPDATE SET definition = excluded.definition`,
			c.App, c.Region, c.Kind, c.Name, formatTime(c.CapturedAt), string(c.Definition))
		return err
	})
	if err != nil {
		return l.fail(err, "put capture of %s %q in %s", c.Kind, c.Name, c.Region)
	}
	return nil
}

func validateCapture(c drills.Capture) error {
	var problems []string
	for _, f := range []struct{ name, value string }{
		{"app", c.App}, {"region", c.Region}, {"name", c.Name},
	} {
		if f.value == "" {
			problems = append(problems, f.name+" is required")
		}
	}
	if !slices.Contains(knownCaptureKinds, c.Kind) {
		problems = append(problems, fmt.Sprintf("kind %q is unknown: use one of %s",
			c.Kind, strings.Join(knownCaptureKinds, ", ")))
	}
	if c.CapturedAt.IsZero() {
		problems = append(problems, "capturedAt is required")
	}
	checkTimes(func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}, "capturedAt", c.CapturedAt)
	// The definition is stored as text without being interpreted; a
	// restore will need to parse it, so refuse what it could not.
	if len(c.Definition) == 0 {
		problems = append(problems, "definition is required")
	} else if !utf8.Valid(c.Definition) || !json.Valid(c.Definition) {
		problems = append(problems, "definition is not valid UTF-8 JSON")
	}

	if len(problems) > 0 {
		return fmt.Errorf("%w capture of %s %q in %s: %s", ErrInvalid, c.Kind, c.Name,
			c.Region, strings.Join(problems, "; "))
	}
	return nil
}

// LatestCapture returns the newest capture of one component, or an error
// wrapping ErrNotFound when there is none.
func (l *Ledger) LatestCapture(ctx context.Context, app, region, kind,
	name string) (drills.Capture, error) {
	var caps []drills.Capture
	err := l.read(ctx, func(tx *sql.Tx) error {
		var err error
		caps, err = loadCaptures(ctx, tx, `
SELECT app, region, kind, name, captured_at, definition FROM captures
WHERE app = $1 AND region = $2 AND kind = $3 AND name = $4
ORDER BY captured_at DESC LIMIT 1`, app, region, kind, name)
		return err
	})
	if err != nil {
		return drills.Capture{}, l.fail(err, "get the latest capture of %s %q in %s",
			kind, name, region)
	}
	if len(caps) == 0 {
		return drills.Capture{}, fmt.Errorf("capture of %s %q in %s for app %q: %w; "+
			"run a capture while it is healthy", kind, name, region, app, ErrNotFound)
	}
	return caps[0], nil
}

// Captures returns the newest capture of each of app's components, ordered
// by region, kind and name.
func (l *Ledger) Captures(ctx context.Context, app string) ([]drills.Capture, error) {
	var caps []drills.Capture
	err := l.read(ctx, func(tx *sql.Tx) error {
		var err error
		caps, err = loadCaptures(ctx, tx, `
SELECT c.app, c.region, c.kind, c.name, c.captured_at, c.definition FROM captures c
WHERE c.app = $1 AND c.captured_at = (
	SELECT MAX(m.captured_at) FROM captures m
	WHERE m.app = c.app AND m.region = c.region AND m.kind = c.kind AND m.name = c.name)
ORDER BY c.region, c.kind, c.name`, app)
		return err
	})
	if err != nil {
		return nil, l.fail(err, "list the captures of app %q", app)
	}
	return caps, nil
}

func loadCaptures(ctx context.Context, tx *sql.Tx, query string,
	args ...any) ([]drills.Capture, error) {
	var caps []drills.Capture
	err := each(ctx, tx, query, args, func(rows *sql.Rows) error {
		var c drills.Capture
		var at sql.NullString
		var def string
		if err := rows.Scan(&c.App, &c.Region, &c.Kind, &c.Name, &at, &def); err != nil {
			return err
		}
		var err error
		if c.CapturedAt, err = parseTime(at); err != nil {
			return err
		}
		c.Definition = json.RawMessage(def)
		caps = append(caps, c)
		return nil
	})
	return caps, err
}
