package series

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// The series record's fields read back what was written, and records
// written before "pending" existed read as none pending.
func TestStateRoundTrip(t *testing.T) {
	st := state{last: 9, free: []int64{3, 7}, pending: []pendingNumber{{8, 1767225600000, ""}, {9, 1767225601234, "9f86d081884c7d65"}}}
	v := st.values()
	if v["free"] != "3,7" || v["pending"] != "8@1767225600000,9@1767225601234@9f86d081884c7d65" {
		t.Fatalf("values: %v", v)
	}
	back := readState(map[string]any{"last": float64(9), "free": v["free"], "pending": v["pending"]})
	if back.last != 9 || !slices.Equal(back.free, st.free) || !slices.Equal(back.pending, st.pending) {
		t.Fatalf("read back: %+v", back)
	}
	old := readState(map[string]any{"last": float64(4), "free": "2"})
	if old.pending != nil || old.last != 4 || !slices.Equal(old.free, []int64{2}) {
		t.Fatalf("a record without pending: %+v", old)
	}
	if v := (state{}).values(); v["free"] != nil || v["pending"] != nil {
		t.Fatalf("empty lists are written as no value: %v", v)
	}
}

// Releasing the last number lowers last past the free numbers at the
// end; another joins the free list; one not out is refused.
func TestRelease(t *testing.T) {
	st := state{last: 6, free: []int64{2, 5}}
	if !st.release(3) || !slices.Equal(st.free, []int64{2, 3, 5}) || st.last != 6 {
		t.Fatalf("release 3: %+v", st)
	}
	if !st.release(6) || st.last != 4 || !slices.Equal(st.free, []int64{2, 3}) {
		t.Fatalf("release 6: %+v", st)
	}
	for _, n := range []int64{0, 3, 5, 9} {
		if st.release(n) {
			t.Errorf("release %d, not out: accepted (%+v)", n, st)
		}
	}
}

// A sweep leaves numbers within the grace period alone, drops those whose
// work exists, releases those whose work does not, and keeps those Exists
// cannot answer for.
func TestSweep(t *testing.T) {
	now := time.UnixMilli(1767225600000)
	old, young := now.Add(-3*time.Minute).UnixMilli(), now.Add(-time.Minute).UnixMilli()
	exists := map[int64]bool{1: true, 4: true}
	var asked []int64
	a := Allocator{Entity: "s", Exists: func(_ context.Context, series string, year int, n int64) (bool, error) {
		if series != "Q" || year != 2026 {
			t.Errorf("Exists(%s, %d)", series, year)
		}
		asked = append(asked, n)
		if n == 3 {
			return false, errors.New("the host is busy")
		}
		return exists[n], nil
	}}
	st := state{last: 5, pending: []pendingNumber{{n: 1, at: old}, {n: 2, at: old}, {n: 3, at: old}, {n: 4, at: old}, {n: 5, at: young}}}
	known := map[int64]bool{}
	if !a.sweep(context.Background(), "Q", 2026, &st, now, known) {
		t.Fatal("the sweep changed nothing")
	}
	if st.last != 5 || !slices.Equal(st.free, []int64{2}) || !slices.Equal(st.pending, []pendingNumber{{n: 3, at: old}, {n: 5, at: young}}) {
		t.Fatalf("after the sweep: %+v", st)
	}
	if !slices.Equal(asked, []int64{1, 2, 3, 4}) {
		t.Errorf("asked Exists about %v", asked)
	}
	// Another attempt of the same write asks again only about 3.
	asked = nil
	st = state{last: 5, pending: []pendingNumber{{n: 1, at: old}, {n: 2, at: old}, {n: 3, at: old}}}
	a.sweep(context.Background(), "Q", 2026, &st, now, known)
	if !slices.Equal(asked, []int64{3}) {
		t.Errorf("the second attempt asked about %v", asked)
	}
	// Without Exists nothing is swept.
	st = state{last: 2, pending: []pendingNumber{{n: 2, at: old}}}
	if (Allocator{Entity: "s"}).sweep(context.Background(), "Q", 2026, &st, now, known) || st.last != 2 {
		t.Errorf("a sweep without Exists: %+v", st)
	}
}

// Grace is DefaultGrace unless set.
func TestGrace(t *testing.T) {
	if g := (Allocator{}).grace(); g != DefaultGrace {
		t.Errorf("grace %v", g)
	}
	if g := (Allocator{Grace: time.Second}).grace(); g != time.Second {
		t.Errorf("grace %v", g)
	}
}
