package feed_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

const testUser = "01JTESTUSER000000000000000X"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testSchema(t testing.TB) *schema.Schema {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"test.hcl": []byte(`locale { currency = "AMD" }`)})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// openStore opens a real Badger store in dir, closed when the test ends
// unless the test closes it first.
func openStore(t testing.TB, dir string) (*store.Badger, *schema.Schema) {
	t.Helper()
	sch := testSchema(t)
	st, err := store.OpenBadger(dir, sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.SysUpdate(context.Background(), func(tx store.SysTx) error {
		return tx.Put("user", testUser, map[string]string{"id": testUser})
	}); err != nil {
		t.Fatal(err)
	}
	return st, sch
}

func createContacts(t testing.TB, st store.Store, n int) {
	t.Helper()
	for i := range n {
		if _, err := st.Create(context.Background(), store.CreateRequest{Entity: "contact",
			Values: map[string]any{"name": fmt.Sprintf("c%d", i)}, By: testUser}); err != nil {
			t.Error(err) // not Fatal: writers run on goroutines of their own
			return
		}
	}
}

// recorder is a handler that keeps every batch it was handed.
type recorder struct {
	mu      sync.Mutex
	batches [][]feed.Event
}

func (r *recorder) handle(_ context.Context, batch []feed.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, batch)
	return nil
}

func (r *recorder) seqs() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []uint64
	for _, b := range r.batches {
		for _, ev := range b {
			out = append(out, ev.Seq)
		}
	}
	return out
}

// run starts c and returns a stop function that cancels it and returns
// Run's result.
func run(c *feed.Consumer) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("Run did not return 10 s after its context ended")
		}
	}
}

// caughtUp waits until c has handled the feed up to seq.
func caughtUp(t *testing.T, c *feed.Consumer, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Position() < seq {
		if time.Now().After(deadline) {
			t.Fatalf("consumer at %d, want %d", c.Position(), seq)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestStopWhileStartingIsClean stops consumers at random moments of their
// start (before Run, while it reads its stored position, while it reads
// and handles its first batches): each returns nil and leaves no
// goroutine behind. Before the feed package, the rules engine returned
// "read rules feed position: context canceled" here.
func TestStopWhileStartingIsClean(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	createContacts(t, st, 30)
	base, _ := goroutinesBesideStore()
	for i := range 300 {
		name := "stop-test"
		if i%3 == 0 {
			name = "" // in memory
		}
		c := feed.New(st, sch, func(ctx context.Context, batch []feed.Event) error {
			return ctx.Err()
		}, feed.Options{Name: name, Batch: 7, Logger: quiet})
		ctx, cancel := context.WithCancel(context.Background())
		delay := time.Duration(rand.IntN(300)) * time.Microsecond
		if i%10 == 0 {
			cancel() // done before Run starts
		} else {
			time.AfterFunc(delay, cancel)
		}
		if err := c.Run(ctx); err != nil {
			t.Fatalf("stop %d after %v: Run = %v, want nil", i, delay, err)
		}
		cancel()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, stacks := goroutinesBesideStore()
		if n <= base {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the stops, %d before:\n%s", n, base, stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// goroutinesBesideStore counts the goroutines, and returns their stacks,
// leaving out the store's own: the store and Badger start theirs when the
// store opens (some a moment later, from a goroutine of their own) and
// stop them when it closes, so counting them would make the count before
// the stops depend on how far they had got.
func goroutinesBesideStore() (int, string) {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var kept []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		_, creator, _ := strings.Cut(g, "\ncreated by ")
		if strings.HasPrefix(creator, "github.com/dgraph-io/") || strings.HasPrefix(creator, "github.com/crmkit/crm/core/store.") {
			continue
		}
		kept = append(kept, g)
	}
	return len(kept), strings.Join(kept, "\n\n")
}

// A stored position that cannot be read (the store is closed) is the one
// error Run returns.
func TestUnreadablePositionIsAnError(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	st.Close()
	c := feed.New(st, sch, (&recorder{}).handle, feed.Options{Name: "closed", Logger: quiet})
	if err := c.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "read feed position of closed") {
		t.Fatalf("Run over a closed store = %v", err)
	}
}

// TestRestartResumesFromStoredPosition: a consumer that stops and starts
// again gets only the events after its stored position.
func TestRestartResumesFromStoredPosition(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	createContacts(t, st, 5)
	first := &recorder{}
	c := feed.New(st, sch, first.handle, feed.Options{Name: "resume", Logger: quiet})
	stop := run(c)
	caughtUp(t, c, st.LastSeq())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got, err := feed.Stored(context.Background(), st, "resume"); err != nil || got != st.LastSeq() {
		t.Fatalf("stored position %d, %v; want %d", got, err, st.LastSeq())
	}
	before := st.LastSeq()
	createContacts(t, st, 3)
	second := &recorder{}
	c = feed.New(st, sch, second.handle, feed.Options{Name: "resume", Logger: quiet})
	stop = run(c)
	caughtUp(t, c, st.LastSeq())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := second.seqs(); len(got) != 3 || got[0] <= before {
		t.Fatalf("after a restart at %d the consumer got %v, want the 3 new events", before, got)
	}
	if got := first.seqs(); len(got) != 5 {
		t.Fatalf("first run got %v, want 5 events", got)
	}
}

// TestKilledBetweenHandlingAndSavingSeesBatchAgain kills (os.Exit, no
// cleanup) a consumer process right after its handler accepted a batch,
// before the position is saved: the next start hands the same batch again.
func TestKilledBetweenHandlingAndSavingSeesBatchAgain(t *testing.T) {
	if dir := os.Getenv("FEED_TEST_CHILD_DIR"); dir != "" {
		childHandleThenDie(t, dir)
		return
	}
	dir := t.TempDir()
	st, sch := openStore(t, dir)
	createContacts(t, st, 6)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out := dir + ".seen"
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledBetweenHandlingAndSavingSeesBatchAgain$")
	cmd.Env = append(os.Environ(), "FEED_TEST_CHILD_DIR="+dir, "FEED_TEST_CHILD_OUT="+out)
	res, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child: %v, want exit 3 from its handler\n%s", err, res)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	killed := strings.Fields(string(data))

	st, sch = openStore(t, dir)
	if got, err := feed.Stored(context.Background(), st, "killed"); err != nil || got != 0 {
		t.Fatalf("stored position after the kill: %d, %v; want none", got, err)
	}
	again := &recorder{}
	c := feed.New(st, sch, again.handle, feed.Options{Name: "killed", Batch: 4, Logger: quiet})
	stop := run(c)
	caughtUp(t, c, st.LastSeq())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var first []string
	for _, ev := range again.batches[0] {
		first = append(first, strconv.FormatUint(ev.Seq, 10))
	}
	if len(killed) != 4 || !slices.Equal(first, killed) {
		t.Fatalf("the killed consumer handled %v; after the restart the first batch is %v, want the same", killed, first)
	}
	if got := again.seqs(); len(got) != 6 {
		t.Fatalf("after the restart: %v, want all 6 events", got)
	}
}

// childHandleThenDie runs in the child process of the kill test: it
// records the first batch, durably, and dies before Run saves it.
func childHandleThenDie(t *testing.T, dir string) {
	sch := testSchema(t)
	st, err := store.OpenBadger(dir, sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	c := feed.New(st, sch, func(_ context.Context, batch []feed.Event) error {
		var seqs []string
		for _, ev := range batch {
			seqs = append(seqs, strconv.FormatUint(ev.Seq, 10))
		}
		f, err := os.Create(os.Getenv("FEED_TEST_CHILD_OUT"))
		if err == nil {
			_, err = f.WriteString(strings.Join(seqs, " "))
			err = errors.Join(err, f.Sync(), f.Close())
		}
		if err != nil {
			os.Exit(4)
		}
		os.Exit(3) // killed: handled, not saved
		return nil
	}, feed.Options{Name: "killed", Batch: 4, Logger: quiet})
	err = c.Run(context.Background())
	t.Fatalf("Run returned %v without handing a batch", err)
}

// TestFailedBatchIsHandedAgain: a handler error keeps the position where
// it was (nothing saved) and the same batch comes again after a wait.
func TestFailedBatchIsHandedAgain(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	createContacts(t, st, 3)
	var mu sync.Mutex
	var tries [][]uint64
	c := feed.New(st, sch, func(ctx context.Context, batch []feed.Event) error {
		mu.Lock()
		defer mu.Unlock()
		var seqs []uint64
		for _, ev := range batch {
			seqs = append(seqs, ev.Seq)
		}
		tries = append(tries, seqs)
		if len(tries) <= 2 {
			stored, err := feed.Stored(ctx, st, "retry")
			if err != nil || stored != 0 {
				return fmt.Errorf("stored %d, %v before the batch succeeded", stored, err)
			}
			return errors.New("plugin down")
		}
		return nil
	}, feed.Options{Name: "retry", RetryBase: time.Millisecond, RetryMax: 4 * time.Millisecond, Logger: quiet})
	stop := run(c)
	caughtUp(t, c, st.LastSeq())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(tries) != 3 || !slices.Equal(tries[0], tries[1]) || !slices.Equal(tries[1], tries[2]) || len(tries[0]) != 3 {
		t.Fatalf("batches handed: %v, want the same 3 events 3 times", tries)
	}
	if got, err := feed.Stored(context.Background(), st, "retry"); err != nil || got != st.LastSeq() {
		t.Fatalf("stored %d, %v; want %d", got, err, st.LastSeq())
	}
}

// TestStageChangedExpansion: every event is decoded once, and an update
// that changes the stage answers stage_changed and updated, in that order.
func TestStageChangedExpansion(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	ctx := context.Background()
	d, err := st.Create(ctx, store.CreateRequest{Entity: "deal", Values: map[string]any{"title": "Van", "stage": "lead"}, By: testUser})
	if err != nil {
		t.Fatal(err)
	}
	up := func(set map[string]any) {
		if _, err := st.Update(ctx, store.UpdateRequest{Entity: "deal", ID: d.ID, Set: set, By: testUser}); err != nil {
			t.Fatal(err)
		}
	}
	up(map[string]any{"stage": "qualified"})
	up(map[string]any{"title": "Van 2"})
	up(map[string]any{"stage": "won", "title": "Van 3"})
	if _, err := st.Delete(ctx, store.DeleteRequest{Entity: "deal", ID: d.ID, By: testUser}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Emit(ctx, store.EmitRequest{Name: "call.missed", Payload: map[string]any{"from": "+374"}, By: testUser}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	c := feed.New(st, sch, rec.handle, feed.Options{Logger: quiet})
	stop := run(c)
	caughtUp(t, c, st.LastSeq())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var evs []feed.Event
	for _, b := range rec.batches {
		evs = append(evs, b...)
	}
	if len(evs) != 6 {
		t.Fatalf("%d events, want 6", len(evs))
	}
	want := [][]string{{"created"}, {"stage_changed", "updated"}, {"updated"}, {"stage_changed", "updated"}, {"deleted"}, {"missed"}}
	for i, ev := range evs {
		if ev.DecodeErr != nil || ev.After == nil {
			t.Fatalf("event %d: after %v, %v", i, ev.After, ev.DecodeErr)
		}
		if !slices.Equal(ev.Names, want[i]) {
			t.Errorf("event %d (%s %s): names %v, want %v", i, ev.Entity, ev.Op, ev.Names, want[i])
		}
	}
	if evs[1].Before == nil || evs[1].Before.Values["stage"] != "lead" || evs[1].After.Values["stage"] != "qualified" {
		t.Errorf("stage change: before %+v after %+v", evs[1].Before, evs[1].After.Values)
	}
	if evs[3].After.Values["title"] != "Van 3" || evs[3].Before.Values["stage"] != "qualified" {
		t.Errorf("stage and title change: before %+v after %+v", evs[3].Before.Values, evs[3].After.Values)
	}
	if evs[5].Entity != "call" || evs[5].After.Values["from"] != "+374" {
		t.Errorf("emitted event: %s %+v", evs[5].Entity, evs[5].After)
	}
}

// TestConcurrentWritesSeenOnceInOrder: while writers commit concurrently,
// a stored and an in-memory consumer each see every position exactly
// once, in feed order, in small batches.
func TestConcurrentWritesSeenOnceInOrder(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	stored, mem := &recorder{}, &recorder{}
	cs := feed.New(st, sch, stored.handle, feed.Options{Name: "concurrent", Batch: 7, Logger: quiet})
	cm := feed.New(st, sch, mem.handle, feed.Options{Batch: 5, Logger: quiet})
	stopS, stopM := run(cs), run(cm)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { createContacts(t, st, 60) })
	}
	wg.Wait()
	last := st.LastSeq()
	caughtUp(t, cs, last)
	caughtUp(t, cm, last)
	if err := errors.Join(stopS(), stopM()); err != nil {
		t.Fatal(err)
	}
	all, err := st.Events(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var want []uint64
	for _, ev := range all {
		want = append(want, ev.Seq)
	}
	if len(want) != 240 {
		t.Fatalf("%d events in the feed, want 240", len(want))
	}
	for name, r := range map[string]*recorder{"stored": stored, "in memory": mem} {
		if got := r.seqs(); !slices.Equal(got, want) {
			t.Errorf("%s consumer saw %d positions, not the feed's %d in order: %v", name, len(got), len(want), got)
		}
	}
}

// TestInMemoryConsumerStartsWhereToldAndStoresNothing: a consumer without
// a name (a websocket client) starts after From and keeps no position.
func TestInMemoryConsumerStartsWhereToldAndStoresNothing(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	createContacts(t, st, 4)
	now := st.LastSeq()
	rec := &recorder{}
	c := feed.New(st, sch, rec.handle, feed.Options{From: now, Logger: quiet})
	if c.Position() != now {
		t.Fatalf("position before Run = %d, want %d", c.Position(), now)
	}
	stop := run(c)
	createContacts(t, st, 2)
	caughtUp(t, c, st.LastSeq())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := rec.seqs(); len(got) != 2 || got[0] <= now {
		t.Fatalf("a consumer started at %d got %v, want the 2 later events", now, got)
	}
	var kept []string
	if err := st.SysList(context.Background(), "consumer", "", func(key string, _ []byte) error {
		kept = append(kept, key)
		return nil
	}); err != nil || len(kept) != 0 {
		t.Fatalf("stored positions %v, %v; want none", kept, err)
	}
}

// TestDrainHandlesWhatIsCommittedThenReturns: Drain hands over everything
// committed so far, once; a failing handler's batch stays unhandled and
// comes again at the next Drain.
func TestDrainHandlesWhatIsCommittedThenReturns(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	createContacts(t, st, 5)
	fail := true
	var got []uint64
	c := feed.New(st, sch, func(_ context.Context, batch []feed.Event) error {
		if fail {
			return errors.New("not now")
		}
		for _, ev := range batch {
			got = append(got, ev.Seq)
		}
		return nil
	}, feed.Options{Name: "drain", Batch: 2})
	if err := c.Drain(context.Background()); err == nil || err.Error() != "not now" {
		t.Fatalf("drain with a failing handler: %v", err)
	}
	if p, _ := feed.Stored(context.Background(), st, "drain"); p != 0 {
		t.Fatalf("position %d saved after a failed batch", p)
	}
	fail = false
	if err := c.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	createContacts(t, st, 1)
	if err := c.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1 2 3 4 5 6]" {
		t.Errorf("drained %v; want [1 2 3 4 5 6], each once", got)
	}
}

// TestPluginEventOfAnEntity: a plugin's event named after an entity
// ("deal.overdue", as accounting's invoice.overdue) is a plugin event in
// the feed, its payload decoded as values, not a record write; a record
// event's name is refused for an entity's prefix.
func TestPluginEventOfAnEntity(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	ctx := context.Background()
	if _, err := st.Emit(ctx, store.EmitRequest{Name: "deal.updated", Payload: map[string]any{"x": 1}, By: testUser}); err == nil {
		t.Fatal("emitting deal.updated: no error")
	}
	if _, err := st.Emit(ctx, store.EmitRequest{Name: "deal.overdue", Payload: map[string]any{"days": 3}, By: testUser}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	c := feed.New(st, sch, rec.handle, feed.Options{Logger: quiet})
	stop := run(c)
	caughtUp(t, c, st.LastSeq())
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(rec.batches) != 1 || len(rec.batches[0]) != 1 {
		t.Fatalf("batches %v", rec.batches)
	}
	ev := rec.batches[0][0]
	if ev.RecordEntity(sch) != nil || ev.DecodeErr != nil || ev.After.Values["days"] != float64(3) || !slices.Equal(ev.Names, []string{"overdue"}) {
		t.Fatalf("event %+v, record entity %v", ev, ev.RecordEntity(sch))
	}
}
