package seriestest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
	"github.com/crmkit/crm/plugins/sdk/series"
)

// numbering is a plugin that takes numbers of series T/2026 and uses
// them for "numbered" records. Its take action's mode says what happens
// after the take: "use" stores the record, "fail" gives the number back,
// "leave" returns without either (a crash that leaves the process
// running), "crash" kills the plugin's process (kill -9). grace is the
// allocator's Grace for the call.
type numbering struct{ sdk.Base }

const (
	seriesEntity = "number_series"
	usedEntity   = "numbered"
	year         = 2026
)

func (*numbering) Manifest() sdk.Manifest {
	grace := sdk.Arg{Name: "grace", Type: sdk.TypeString, Required: true}
	return sdk.Manifest{
		Name: "numbering", Version: "1.0.0",
		Actions: []sdk.Action{
			{Name: "take", Args: []sdk.Arg{{Name: "mode", Type: sdk.TypeEnum, Values: []string{"use", "fail", "leave", "crash"}, Required: true}, grace}},
			{Name: "recover", Args: []sdk.Arg{grace}},
		},
		Entities: []sdk.Entity{
			{Name: seriesEntity, Fields: series.Fields()},
			{Name: usedEntity, Fields: []sdk.Field{
				{Name: "number", Type: sdk.TypeString, Index: true}, // not unique: a duplicate shows
				{Name: "seq", Type: sdk.TypeInt},
			}},
		},
	}
}

func number(n int64) string { return fmt.Sprintf("T-%d-%04d", year, n) }

func allocator(grace time.Duration) series.Allocator {
	return series.Allocator{Entity: seriesEntity, Grace: grace,
		Exists: func(ctx context.Context, _ string, _ int, n int64) (bool, error) {
			page, err := sdk.HostFrom(ctx).List(ctx, sdk.Query{Entity: usedEntity, Filter: sdk.Eq("number", number(n)), Limit: 1})
			return err == nil && len(page.Items) > 0, err
		}}
}

func (*numbering) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	var a struct{ Mode, Grace string }
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, err.Error())
	}
	grace, err := time.ParseDuration(a.Grace)
	if err != nil {
		return nil, sdk.RefuseField("grace", sdk.CodeInvalidArgs, err.Error())
	}
	al := allocator(grace)
	if call.Action == "recover" {
		return nil, al.Recover(ctx)
	}
	n, err := al.Take(ctx, "T", year, call.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	switch a.Mode {
	case "crash":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "fail":
		if err := al.GiveBack(ctx, "T", year, n); err != nil {
			return nil, err
		}
		return nil, sdk.Refuse("failed", fmt.Sprintf("the work of number %d failed", n))
	case "leave":
		return map[string]any{"seq": n}, nil
	}
	return sdk.HostFrom(ctx).Create(ctx, usedEntity, map[string]any{"number": number(n), "seq": n})
}

func TestMain(m *testing.M) { sdktest.Main(m, func() sdk.Plugin { return &numbering{} }) }

func start(t *testing.T) *sdktest.Host {
	return sdktest.Start(t, &numbering{}, sdktest.Options{Write: []string{seriesEntity, usedEntity}, Process: true})
}

// take calls take and returns the number it took.
func take(h *sdktest.Host, mode, grace, key string) (int64, error) {
	var out struct{ Seq int64 }
	err := h.InvokeInto(sdk.Call{Action: "take", Args: map[string]any{"mode": mode, "grace": grace}, IdempotencyKey: key}, &out)
	return out.Seq, err
}

func mustTake(t *testing.T, h *sdktest.Host, mode, grace, key string, want int64) {
	t.Helper()
	n, err := take(h, mode, grace, key)
	if err != nil {
		t.Fatalf("take (%s, grace %s): %v", mode, grace, err)
	}
	if n != want {
		t.Fatalf("take (%s, grace %s): %d, want %d", mode, grace, n, want)
	}
}

// running waits until the plugin answers again after a crash (its
// supervisor restarts it), with a recover that hands nothing on.
func running(t *testing.T, h *sdktest.Host) {
	t.Helper()
	var err error
	for range 120 {
		if _, err = h.Invoke(sdk.Call{Action: "recover", Args: map[string]any{"grace": "1h"}}); err == nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("the plugin does not answer after its crash: %v", err)
}

// used are the numbers of the numbered records, sorted, duplicates kept.
func used(h *sdktest.Host) []int64 {
	var out []int64
	for _, r := range h.List(usedEntity, "") {
		out = append(out, series.Int(r, "seq"))
	}
	slices.Sort(out)
	return out
}

// gapless fails the test unless the used numbers are 1..len, each once.
func gapless(t *testing.T, h *sdktest.Host) {
	t.Helper()
	got := used(h)
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("numbers used: %v, want 1..%d each once", got, len(got))
		}
	}
}

// A kill -9 of the plugin between taking number 3 and using it: a take
// within the grace period leaves 3 pending (its work may still be under
// way); the first take after it finds that no record has 3 and takes it.
func TestCrashBetweenTakeAndUse(t *testing.T) {
	h := start(t)
	mustTake(t, h, "use", "1h", "", 1)
	mustTake(t, h, "use", "1h", "", 2)
	if _, err := take(h, "crash", "1h", ""); err == nil {
		t.Fatal("the crashing call answered")
	}
	running(t, h)
	mustTake(t, h, "use", "1h", "", 4)
	mustTake(t, h, "use", "1ns", "", 3)
	mustTake(t, h, "use", "1ns", "", 5)
	gapless(t, h)
	if h.Restarts() == 0 {
		t.Error("the plugin was not restarted after its crash")
	}
	rec := h.List(seriesEntity, "")[0]
	if p := rec.String("pending"); p == "" || strings.Contains(p, ",") {
		t.Errorf("pending after the sweep: %q, want the last take's only", p)
	}
}

// Recover sweeps a series no one takes from: the number left in the
// middle goes on the free list, and the next take has it.
func TestRecover(t *testing.T) {
	h := start(t)
	mustTake(t, h, "use", "1h", "", 1)
	mustTake(t, h, "leave", "1h", "", 2)
	mustTake(t, h, "use", "1h", "", 3)
	if _, err := h.Invoke(sdk.Call{Action: "recover", Args: map[string]any{"grace": "1h"}}); err != nil {
		t.Fatal(err)
	}
	if rec := h.List(seriesEntity, "")[0]; rec.String("free") != "" {
		t.Fatalf("a number taken within the grace period was handed on: free %q", rec.String("free"))
	}
	if _, err := h.Invoke(sdk.Call{Action: "recover", Args: map[string]any{"grace": "1ns"}}); err != nil {
		t.Fatal(err)
	}
	rec := h.List(seriesEntity, "")[0]
	if rec.String("free") != "2" || rec.String("pending") != "" {
		t.Fatalf("after Recover: free %q, pending %q; want free 2, none pending", rec.String("free"), rec.String("pending"))
	}
	mustTake(t, h, "use", "1h", "", 2)
	mustTake(t, h, "use", "1h", "", 4)
	gapless(t, h)
}

// A rule's call retried with its key long after its first attempt took a
// number and crashed does not use that number, which a sweep has handed
// on meanwhile: it takes a new one.
func TestKeyedRetryAfterSweep(t *testing.T) {
	h := start(t)
	mustTake(t, h, "leave", "1h", "rule:1", 1)
	mustTake(t, h, "use", "1ns", "", 1) // the sweep handed 1 on
	mustTake(t, h, "use", "1ns", "rule:1", 2)
	gapless(t, h)
	// Within half the grace period a keyed repeat takes the same number
	// (and not the number another take took meanwhile).
	mustTake(t, h, "leave", "1h", "rule:2", 3)
	mustTake(t, h, "use", "1h", "", 4)
	mustTake(t, h, "use", "1h", "rule:2", 3)
	gapless(t, h)
}

// A rule's call retried with its key after its first attempt failed and
// gave its number back, which another call then took, takes a new number.
func TestKeyedRetryAfterGiveBack(t *testing.T) {
	h := start(t)
	if _, err := take(h, "fail", "1h", "rule:1"); err == nil {
		t.Fatal("the failing take answered")
	}
	mustTake(t, h, "use", "1h", "", 1)
	mustTake(t, h, "use", "1h", "rule:1", 2)
	gapless(t, h)
}

// Twenty takers at once, some failing (they give their number back), some
// leaving theirs unused, and one killing the plugin's process (taking the
// calls under way with it): once their grace period is over, the next
// takes fill every hole, and the numbers used are 1..N, each once.
func TestConcurrentTakersFailuresAndCrashes(t *testing.T) {
	h := start(t)
	const takers = 20
	var wg sync.WaitGroup
	for i := range takers {
		mode := "use"
		switch {
		case i == 10:
			mode = "crash"
		case i%5 == 1:
			mode = "fail"
		case i%5 == 3:
			mode = "leave"
		}
		wg.Go(func() {
			_, err := take(h, mode, "1h", "")
			var r *sdk.Refusal
			if mode == "use" && err != nil && errors.As(err, &r) {
				t.Errorf("take: %v", err) // a refusal: not the crash's
			}
		})
	}
	wg.Wait()
	if len(used(h)) == takers {
		t.Fatalf("all %d takers used their number", takers)
	}
	running(t, h)
	// Every number taken so far is past its grace period now.
	if _, err := h.Invoke(sdk.Call{Action: "recover", Args: map[string]any{"grace": "1ns"}}); err != nil {
		t.Fatalf("recover: %v", err)
	}
	for range takers {
		if _, err := take(h, "use", "1ns", ""); err != nil {
			t.Fatal(err)
		}
	}
	gapless(t, h)
	if h.Restarts() == 0 {
		t.Error("the plugin was not restarted after its crash")
	}
	if got := len(used(h)); got < takers {
		t.Errorf("%d numbers used, want at least %d", got, takers)
	}
}
