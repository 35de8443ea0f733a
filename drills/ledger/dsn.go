package ledger

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// DefaultPath is where the ledger lives, under the working directory, when
// Open is given no connection string.
const DefaultPath = ".drover/ledger.db"

// redactedPassword replaces a password wherever one would be shown.
const redactedPassword = "xxxxx"

type engine int

const (
	engineSQLite engine = iota
	enginePostgres
)

func (e engine) String() string {
	if e == enginePostgres {
		return "postgresql"
	}
	return "sqlite"
}

// target is a parsed connection string.
type target struct {
	engine engine
	// path is the SQLite file, absolute.
	path string
	// pg is the parsed PostgreSQL configuration.
	pg *pgx.ConnConfig
	// shown is the connection string as it may appear in messages.
	shown string
	// secrets are the spellings of the password that must never appear in
	// an error: a driver could echo the raw or the URL-escaped form.
	secrets []string
}

// libpqKeywords are the keys of the key=value connection string form; a
// value that starts with one of them is taken for PostgreSQL, anything else
// that is not a URL for a SQLite path.
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true,
	"user": true, "password": true, "passfile": true,
	"connect_timeout": true, "sslmode": true, "sslcert": true,
	"sslkey": true, "sslrootcert": true, "application_name": true,
	"options": true, "service": true, "target_session_attrs": true,
	"search_path": true,
}

var firstKeyword = regexp.MustCompile(`^\s*([a-z_]+)\s*=`)

// parseTarget tells the engine from the connection string and prepares
// what the driver needs. workDir anchors relative SQLite paths.
func parseTarget(dsn, workDir string) (target, error) {
	if isPostgres(dsn) {
		return parsePostgres(dsn)
	}
	return parseSQLite(dsn, workDir)
}

func isPostgres(dsn string) bool {
	lower := strings.ToLower(strings.TrimSpace(dsn))
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return true
	}
	m := firstKeyword.FindStringSubmatch(lower)
	return m != nil && libpqKeywords[m[1]]
}

func parsePostgres(dsn string) (target, error) {
	t := target{engine: enginePostgres, shown: redact(dsn)}

	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The parse failed, so the password is unknown: show the driver's
		// reason only after the generic redaction, never the raw text.
		return t, fmt.Errorf("parse the PostgreSQL connection string: %s; "+
			"use postgres://user:password@host:port/database or key=value pairs",
			redact(err.Error()))
	}
	t.pg = cfg
	if cfg.Password != "" {
		t.secrets = []string{
			cfg.Password,
			url.QueryEscape(cfg.Password),
			url.PathEscape(cfg.Password),
		}
	}
	return t, nil
}

func parseSQLite(dsn, workDir string) (target, error) {
	path := strings.TrimSpace(dsn)
	if rest, ok := strings.CutPrefix(path, "sqlite:"); ok {
		path = strings.TrimPrefix(rest, "//")
	}

	useDefault := path == ""
	if useDefault {
		path = DefaultPath
	}
	if strings.ContainsAny(path, "?#") {
		return target{}, fmt.Errorf("SQLite ledger path %q contains ? or #: "+
			"choose a file name without them", path)
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(workDir, path)
	}

	// Only the default directory is created: a missing directory in a
	// path someone typed is more likely a typo than a wish.
	dir := filepath.Dir(path)
	if useDefault {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return target{}, fmt.Errorf("create the ledger directory %s: %w", dir, err)
		}
	} else if _, err := os.Stat(dir); err != nil {
		return target{}, fmt.Errorf("SQLite ledger directory %s: %w; create it or "+
			"choose another path", dir, err)
	}
	return target{engine: engineSQLite, path: path, shown: path}, nil
}

var (
	// keywordPassword matches password=value in the key=value form and in
	// a URL's query, quoted or not.
	keywordPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)`)
	// userinfoPassword matches user:password@ in a URL; the greedy middle
	// reaches the last @ before the host, as url.Parse does.
	userinfoPassword = regexp.MustCompile(`(://[^:/@\s]*:)[^/\s]*@`)
)

// Redact returns s with anything that looks like a password replaced. It
// works on connection strings and on messages that quote one, so a DSN can
// be printed.
func Redact(s string) string { return redact(s) }

func redact(s string) string {
	s = userinfoPassword.ReplaceAllString(s, "${1}"+redactedPassword+"@")
	return keywordPassword.ReplaceAllString(s, "${1}"+redactedPassword)
}

// scrub hides the password in an error. The returned error keeps the cause
// for errors.Is and errors.As, but its message is the cleaned one.
func (t target) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := redact(err.Error())
	for _, s := range t.secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, redactedPassword)
		}
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, cause: err}
}

// redactedError carries a cleaned message in front of its cause.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
