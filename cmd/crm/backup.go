package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/store"
)

// backupCmd writes a dump of the store to a file (docs/operations.md).
func backupCmd(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("backup", "write everything the store holds to a file (gzip-compressed JSON lines); the store must not be open in crm serve: back up a running server with GET /api/v1/admin/backup", stderr, true)
	out := fs.String("out", "", `the backup file to write ("-" for standard output)`)
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "crm backup: --out FILE is required")
		return 2
	}
	ck, ok := loadConfig(c.config, stderr)
	if !ok {
		return 1
	}
	dir := dataDir(ck, c.data)
	if ck.cfg.Server.Store == config.StoreBadger {
		if _, err := os.Stat(dir); err != nil {
			fmt.Fprintf(stderr, "crm backup: no store in %s: %v\n", dir, err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := openStore(ctx, ck, ck.cfg.Server.Store, dir, newLogger(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "crm backup:", err)
		return 1
	}
	defer st.Close()
	if err := unfinishedCopy(st); err != nil {
		fmt.Fprintf(stderr, "crm backup: the store in %s: %v\n", dir, err)
		return 1
	}
	src, ok := st.(store.Dumper)
	if !ok {
		fmt.Fprintf(stderr, "crm backup: the %s store cannot be dumped\n", ck.cfg.Server.Store)
		return 1
	}
	var w io.Writer = stdout
	var f *os.File
	if *out != "-" {
		// Written beside the target and renamed at the end, so FILE is
		// either a whole backup or absent.
		if f, err = os.CreateTemp(filepath.Dir(*out), filepath.Base(*out)+".partial-*"); err != nil {
			fmt.Fprintln(stderr, "crm backup:", err)
			return 1
		}
		defer os.Remove(f.Name())
		defer f.Close()
		w = f
	}
	var last store.Progress
	if err := store.Copy(ctx, src, store.NewDumpWriter(w), progressTo(stderr, "backup", &last)); err != nil {
		fmt.Fprintln(stderr, "crm backup:", err)
		return 1
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			fmt.Fprintln(stderr, "crm backup:", err)
			return 1
		}
		if err := f.Close(); err != nil {
			fmt.Fprintln(stderr, "crm backup:", err)
			return 1
		}
		if err := os.Rename(f.Name(), *out); err != nil {
			fmt.Fprintln(stderr, "crm backup:", err)
			return 1
		}
		fmt.Fprintf(stdout, "backup %s: %s\n", *out, summary(last.Done))
	}
	return 0
}

// restoreCmd loads a backup file into an empty store.
func restoreCmd(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("restore", "load a backup file (crm backup) into an empty store; run it again to resume one that was cut short", stderr, true)
	in := fs.String("in", "", "the backup file to read")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *in == "" {
		fmt.Fprintln(stderr, "crm restore: --in FILE is required")
		return 2
	}
	ck, ok := loadConfig(c.config, stderr)
	if !ok {
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The whole file is checked before the store is touched: a corrupt or
	// truncated backup leaves the destination as it was.
	src := store.OpenDumpFile(*in)
	h, counts, err := store.VerifyDump(ctx, src)
	if err != nil {
		fmt.Fprintln(stderr, "crm restore:", err)
		return 1
	}
	fmt.Fprintf(stderr, "crm restore: %s is a whole backup of %s taken %s: %s\n", *in, h.Source, h.CreatedAt.Format(time.RFC3339), summary(counts))
	dir := dataDir(ck, c.data)
	st, err := openStore(ctx, ck, ck.cfg.Server.Store, dir, newLogger(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "crm restore:", err)
		return 1
	}
	defer st.Close()
	dst, ok := st.(store.Loader)
	if !ok {
		fmt.Fprintf(stderr, "crm restore: the %s store cannot be loaded\n", ck.cfg.Server.Store)
		return 1
	}
	var last store.Progress
	if err := store.Copy(ctx, src, dst, progressTo(stderr, "restore", &last)); err != nil {
		fmt.Fprintln(stderr, "crm restore:", err)
		if errors.Is(err, store.ErrNotEmpty) {
			fmt.Fprintf(stderr, "crm restore: restore into an empty data directory (--data DIR)\n")
		}
		return 1
	}
	fmt.Fprintf(stdout, "restored %s into %s: %s\n", *in, storeName(ck.cfg.Server.Store, dir), summary(last.Done))
	return 0
}

// migrateCmd copies one store into another, of the same or another backend.
func migrateCmd(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("migrate", "copy everything from one store to another, e.g. --from badger --to postgres; run it again to resume one that was cut short", stderr, false)
	from := fs.String("from", "", `the source store: "badger" or "postgres" (default: the config's server.store)`)
	to := fs.String("to", "", `the destination store: "badger" or "postgres"`)
	fromData := fs.String("from-data", "", "the source's data directory, for badger (default: the config's server.data_dir)")
	toData := fs.String("to-data", "", "the destination's data directory, for badger (an empty directory)")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	ck, ok := loadConfig(c.config, stderr)
	if !ok {
		return 1
	}
	if *from == "" {
		*from = ck.cfg.Server.Store
	}
	if *to == "" {
		fmt.Fprintln(stderr, "crm migrate: --to badger|postgres is required")
		return 2
	}
	for _, k := range []string{*from, *to} {
		if k != config.StoreBadger && k != config.StorePostgres {
			fmt.Fprintf(stderr, "crm migrate: unknown store %q: want %q or %q\n", k, config.StoreBadger, config.StorePostgres)
			return 2
		}
	}
	srcDir := dataDir(ck, *fromData)
	dstDir := *toData
	if *to == config.StoreBadger && dstDir == "" {
		fmt.Fprintln(stderr, "crm migrate: --to badger needs --to-data DIR, an empty directory")
		return 2
	}
	if *from == *to && (*to == config.StorePostgres || filepath.Clean(srcDir) == filepath.Clean(dstDir)) {
		fmt.Fprintln(stderr, "crm migrate: the source and the destination are the same store")
		return 2
	}
	if *from == config.StoreBadger {
		if _, err := os.Stat(srcDir); err != nil {
			fmt.Fprintf(stderr, "crm migrate: no store in %s: %v\n", srcDir, err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := newLogger(stderr)
	a, err := openStore(ctx, ck, *from, srcDir, log)
	if err != nil {
		fmt.Fprintln(stderr, "crm migrate: source:", err)
		return 1
	}
	defer a.Close()
	if err := unfinishedCopy(a); err != nil {
		fmt.Fprintln(stderr, "crm migrate: source:", err)
		return 1
	}
	b, err := openStore(ctx, ck, *to, dstDir, log)
	if err != nil {
		fmt.Fprintln(stderr, "crm migrate: destination:", err)
		return 1
	}
	defer b.Close()
	src, ok := a.(store.Dumper)
	if !ok {
		fmt.Fprintf(stderr, "crm migrate: the %s store cannot be dumped\n", *from)
		return 1
	}
	dst, ok := b.(store.Loader)
	if !ok {
		fmt.Fprintf(stderr, "crm migrate: the %s store cannot be loaded\n", *to)
		return 1
	}
	var last store.Progress
	if err := store.Copy(ctx, src, dst, progressTo(stderr, "migrate", &last)); err != nil {
		fmt.Fprintln(stderr, "crm migrate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "copied %s to %s: %s\n", storeName(*from, srcDir), storeName(*to, dstDir), summary(last.Done))
	return 0
}

func dataDir(ck *checked, flagDir string) string {
	if flagDir != "" {
		return flagDir
	}
	return ck.cfg.Server.DataDir
}

func storeName(kind, dir string) string {
	if kind == config.StoreBadger {
		return "badger " + dir
	}
	return kind
}

// openStore opens a store of the given backend: Badger in dir, PostgreSQL
// from the URL in the environment variable the config names.
func openStore(ctx context.Context, ck *checked, kind, dir string, log *slog.Logger) (store.Store, error) {
	switch kind {
	case config.StoreBadger:
		st, err := store.OpenBadger(dir, ck.sch, store.Options{Logger: log})
		if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("the store in %s is in use by another crm process (a running crm serve?): Badger lets one process open it. "+
				"Stop it first, or back up a running server through its API: "+
				"curl -H 'Authorization: Bearer ADMIN_TOKEN' -o FILE http://HOST/api/v1/admin/backup", dir)
		}
		return st, err
	case config.StorePostgres:
		return openPostgres(ctx, ck, log)
	}
	return nil, fmt.Errorf("unknown store %q", kind)
}

// progressTo reports a copy's progress on w, at most once a second and at
// its end, and keeps the last report in last.
func progressTo(w io.Writer, what string, last *store.Progress) func(store.Progress) {
	var shown time.Time
	return func(p store.Progress) {
		*last = p
		if !p.Finished && time.Since(shown) < time.Second {
			return
		}
		shown = time.Now()
		state := "copying"
		if p.Resumed {
			state = "resuming"
		}
		if p.Finished {
			state = "done"
		}
		var parts []string
		for _, t := range store.DumpTypes {
			parts = append(parts, fmt.Sprintf("%d/%d %s", p.Done[t], p.Total[t], typeNames[t]))
		}
		fmt.Fprintf(w, "crm %s: %s: %s\n", what, state, strings.Join(parts, ", "))
	}
}

var typeNames = map[string]string{
	store.DumpRecord: "records", store.DumpHistory: "history entries", store.DumpEvent: "events",
	store.DumpChunk: "file chunks", store.DumpSys: "system documents",
}

func summary(counts map[string]int64) string {
	var parts []string
	for _, t := range store.DumpTypes {
		parts = append(parts, fmt.Sprintf("%d %s", counts[t], typeNames[t]))
	}
	return strings.Join(parts, ", ")
}

// unfinishedCopy refuses a store that a crm restore or crm migrate began
// filling and did not finish: it holds only part of its source.
func unfinishedCopy(st store.Store) error {
	l, ok := st.(store.Loader)
	if !ok {
		return nil
	}
	c, err := l.LoadState(context.Background())
	if err != nil || c == nil || c.Done {
		return err
	}
	return fmt.Errorf("it holds an unfinished copy of %s (%d items of it so far): a crm restore or crm migrate into it was cut short; run the same command again to finish it", c.Source, c.Cursor.Items)
}
