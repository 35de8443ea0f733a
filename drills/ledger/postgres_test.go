package ledger_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	// Registers the "pgx" database/sql driver for the admin connection.
	_ "github.com/jackc/pgx/v5/stdlib"
)

// pgUser is the superuser of the test server; it logs in with a password
// over TCP, as a team's ledger would.
const pgUser = "drover"

// pgServer is a throwaway PostgreSQL server that the package's tests share;
// each test gets its own database on it.
type pgServer struct {
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
	port     int
	password string
	admin    *sql.DB
	dbs      atomic.Int64
}

var (
	pgOnce   sync.Once
	pgShared *pgServer
	pgErr    error
)

// TestMain stops the shared PostgreSQL server, if a test started one.
func TestMain(m *testing.M) {
	code := m.Run()
	if pgShared != nil {
		pgShared.stop()
	}
	os.Exit(code)
}

// postgresServer starts the shared server on first use.
func postgresServer(t *testing.T) *pgServer {
	t.Helper()
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pgShared, pgErr = startPostgres(ctx)
	})
	if pgErr != nil {
		t.Fatalf("start PostgreSQL for the ledger tests: %v", pgErr)
	}
	return pgShared
}

// dsn returns the URL connection string of database db.
func (s *pgServer) dsn(db string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable",
		pgUser, s.password, s.port, db)
}

// keywordDSN returns the key=value connection string of database db.
func (s *pgServer) keywordDSN(db string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=%s sslmode=disable",
		s.port, pgUser, s.password, db)
}

// createDB creates an empty database and returns its name.
func (s *pgServer) createDB(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("ledger_%d", s.dbs.Add(1))
	_, err := s.admin.ExecContext(t.Context(), "CREATE DATABASE "+name)
	if err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return name
}

func startPostgres(ctx context.Context) (*pgServer, error) {
	initdb, err := findPGBinary("initdb")
	if err != nil {
		return nil, err
	}
	postgres, err := findPGBinary("postgres")
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	dir, err := serverDir(cred)
	if err != nil {
		return nil, err
	}

	s := &pgServer{dir: dir, password: "pw-" + randomHex(8)}
	if err := s.initdb(ctx, initdb, cred); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}

	// The free port is only free until someone else takes it: try again
	// on a fresh one if the server could not bind.
	for attempt := 0; ; attempt++ {
		err = s.start(ctx, postgres, cred)
		if err == nil {
			return s, nil
		}
		if attempt == 2 || ctx.Err() != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
}

func (s *pgServer) initdb(ctx context.Context, initdb string, cred *syscall.Credential) error {
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
		return err
	}
	if err := chown(pwfile, cred); err != nil {
		return err
	}
	defer func() { _ = os.Remove(pwfile) }()

	cmd := exec.CommandContext(ctx, initdb, "-D", filepath.Join(s.dir, "data"),
		"-U", pgUser, "--pwfile", pwfile, "--auth-local=trust",
		"--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
		"--no-instructions")
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

func (s *pgServer) start(ctx context.Context, postgres string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }()

	// Durability is pointless for a throwaway server, and turning it off
	// keeps CREATE DATABASE and commits fast. The empty socket directory
	// setting leaves TCP on loopback as the only way in.
	cmd := exec.Command(postgres, "-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=", "-c", "fsync=off",
		"-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig stops the server if the test binary dies without
	// reaching TestMain's cleanup, such as on a test timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited, s.port = cmd, exited, port

	admin, err := sql.Open("pgx", s.dsn("postgres"))
	if err != nil {
		s.stop()
		return err
	}
	if err := s.awaitReady(ctx, admin); err != nil {
		_ = admin.Close()
		s.stop()
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w\npostgres log:\n%s", err, log)
	}
	s.admin = admin
	return nil
}

// awaitReady polls until the server accepts a login, exits or ctx ends.
func (s *pgServer) awaitReady(ctx context.Context, admin *sql.DB) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := admin.PingContext(pingCtx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited before accepting connections: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections in time: %w", err)
		case <-tick.C:
		}
	}
}

// stop shuts the server down fast and removes its files.
func (s *pgServer) stop() {
	if s.admin != nil {
		_ = s.admin.Close()
		s.admin = nil
	}
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		s.cmd = nil
	}
	_ = os.RemoveAll(s.dir)
}

// findPGBinary looks on PATH, then where Debian and the CI image put the
// PostgreSQL server binaries.
func findPGBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	candidates := []string{filepath.Join("/usr/local/bin", name)}
	globbed, _ := filepath.Glob(filepath.Join("/usr/lib/postgresql/*/bin", name))
	candidates = append(candidates, globbed...)
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s not found: install the PostgreSQL server binaries "+
		"(initdb, postgres) on PATH or in /usr/local/bin", name)
}

// serverCredential returns the user the server runs as: nil (the current
// user) unless that is root, which PostgreSQL refuses; then nobody.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL refuses to run as root and user nobody is "+
			"missing: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// serverDir makes the server's directory, owned by the server's user, in
// a place that user can reach.
func serverDir(cred *syscall.Credential) (string, error) {
	base := os.TempDir()
	if cred != nil && !othersCanEnter(base) {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "ledger-pg-")
	if err != nil {
		return "", err
	}
	if err := chown(dir, cred); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// othersCanEnter reports whether every directory on the way to dir lets
// other users through.
func othersCanEnter(dir string) bool {
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if p == filepath.Dir(p) {
			return true
		}
	}
}

func chown(path string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	return os.Chown(path, int(cred.Uid), int(cred.Gid))
}

// freePort returns a loopback TCP port that nothing listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("listener address is not TCP")
	}
	return addr.Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
