// Package pgtest starts a real PostgreSQL server for tests: Debian's
// initdb and pg_ctl make a cluster in a temporary directory, listening
// only on a Unix socket in that directory and on a free loopback port, and
// stop it when the test binary ends. Each test gets a database of its own
// on the one server of its package, so tests stay independent at the cost
// of a CREATE DATABASE, not a cluster.
//
// Without the PostgreSQL binaries a test skips, saying why; with
// CRM_REQUIRE_POSTGRES=1 (as .ci/run sets) it fails instead, so CI cannot
// pass by skipping. It is imported only by tests.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL cluster.
type Server struct {
	Dir  string // the cluster's data directory
	Host string // the directory of its Unix socket
	Port int    // its loopback TCP port
	User string

	bin string
	dbs atomic.Int64
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Binaries returns the directory of the newest installed PostgreSQL's
// initdb and pg_ctl (PATH first, then /usr/lib/postgresql/N/bin).
func Binaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL's initdb and pg_ctl were not found (Debian: apt-get install postgresql)")
}

func version(dir string) int {
	var n int
	fmt.Sscanf(filepath.Base(filepath.Dir(dir)), "%d", &n)
	return n
}

// Shared starts the package's one server on first use and returns it; it
// is stopped by Stop, which TestMain calls (see Main).
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		if os.Getenv("CRM_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL: %v", sharedErr)
		}
		t.Skipf("PostgreSQL not available (CRM_REQUIRE_POSTGRES=1 makes this a failure): %v", sharedErr)
	}
	return shared
}

// Main runs a package's tests and stops the shared server after them:
// call it from TestMain as os.Exit(pgtest.Main(m)).
func Main(m interface{ Run() int }) int {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// Start makes a cluster in a new temporary directory and starts it. The
// caller stops it with Stop, which also removes the directory.
func Start() (*Server, error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "crm-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: temp dir: %w", err)
	}
	s := &Server{Dir: filepath.Join(dir, "data"), Host: dir, bin: bin, User: "crm"}
	// initdb refuses to run as root; the cluster then belongs to the
	// postgres user, who must own the directory.
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{"runuser", "-u", "postgres", "--"}
		if err := exec.Command("chown", "-R", "postgres", dir).Run(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: chown %s to postgres: %w", dir, err)
		}
	}
	run := func(name string, args ...string) error {
		cmd := append(append([]string{}, asUser...), filepath.Join(bin, name))
		c := exec.Command(cmd[0], append(cmd[1:], args...)...)
		c.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "LANG=C.UTF-8")
		out, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("pgtest: %s: %w\n%s", name, err, out)
		}
		return nil
	}
	if err := run("initdb", "-D", s.Dir, "-U", s.User, "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.Port = port
	opts := fmt.Sprintf("-k %s -p %d -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB", dir, port)
	if err := run("pg_ctl", "-D", s.Dir, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Stop stops the server fast and removes its directory.
func (s *Server) Stop() error {
	cmd := []string{filepath.Join(s.bin, "pg_ctl"), "-D", s.Dir, "-m", "immediate", "-w", "stop"}
	if os.Geteuid() == 0 {
		cmd = append([]string{"runuser", "-u", "postgres", "--"}, cmd...)
	}
	out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
	os.RemoveAll(s.Host)
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// URL is the connection string of a database on the server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", s.User, s.Port, db)
}

// NewDB creates an empty database for one test and returns its URL; it is
// dropped when the test ends.
func (s *Server) NewDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return s.URL(name)
}

// DB is Shared(t).NewDB(t): a fresh database on the package's server.
func DB(t testing.TB) string {
	t.Helper()
	return Shared(t).NewDB(t)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
