package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store"
	badger "github.com/dgraph-io/badger/v4"
)

const fileHCL = `
entity "vehicle" {
  field "vin"   {
    type = "string"
    required = true
  }
  field "photo" { type = "file" }
}
`

func openFileStore(t *testing.T, opts store.Options) *store.Badger {
	st, _ := openWith(t, t.TempDir(), fileHCL, opts, testUser)
	return st
}

func usage(t *testing.T, st *store.Badger) store.FileUsage {
	t.Helper()
	u, err := st.FileUsage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// cutReader gives n bytes, then fails as a connection cut mid-body does.
type cutReader struct{ n int }

func (r *cutReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

// cancelReader cancels its context after n bytes, as a client that goes
// away mid-upload does.
type cancelReader struct {
	n      int
	cancel context.CancelFunc
}

func (r *cancelReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		r.cancel()
	}
	k := min(len(p), max(r.n, 1))
	r.n -= k
	return k, nil
}

// TestFailedUploadsLeaveNothing: an upload refused as too large, cut off,
// or cancelled stores no chunk; a good one stores all of its chunks.
func TestFailedUploadsLeaveNothing(t *testing.T) {
	st := openFileStore(t, store.Options{})
	ctx := context.Background()
	// Larger than a Badger write batch (about 10 MB with the default
	// memtable), so that chunks reach the store before the upload fails.
	const max = 24 << 20
	var ie *store.InvalidError

	_, err := st.PutFile(ctx, "big.bin", "application/octet-stream", testUser, bytes.NewReader(make([]byte, max+1)), max)
	if !errors.As(err, &ie) || ie.Field != "file" || !strings.Contains(ie.Message, "larger than") {
		t.Fatalf("too large: %v", err)
	}
	_, err = st.PutFile(ctx, "cut.bin", "application/octet-stream", testUser, &cutReader{n: 20_000_000}, max)
	if !errors.As(err, &ie) || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(ie.Message, "cut off") {
		t.Fatalf("cut off: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	_, err = st.PutFile(cctx, "gone.bin", "application/octet-stream", testUser, &cancelReader{n: 20_000_000, cancel: cancel}, max)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if u := usage(t, st); u != (store.FileUsage{}) {
		t.Fatalf("after three failed uploads: %+v, want nothing", u)
	}
	f, err := st.PutFile(ctx, "ok.bin", "application/octet-stream", testUser, bytes.NewReader(make([]byte, 1_200_000)), max)
	if err != nil {
		t.Fatal(err)
	}
	if u := usage(t, st); u != (store.FileUsage{Files: 1, Chunks: 3, Bytes: 1_200_000}) || f.Size != 1_200_000 {
		t.Fatalf("after a good upload: %+v, size %d", u, f.Size)
	}
}

// TestCollectorRemovesUnheldFilesAfterGrace runs the store's own collector
// with a short grace: a file no record holds survives the grace period and
// is then removed with its chunks, as are chunks without metadata; a file a
// record holds stays until the record lets it go.
func TestCollectorRemovesUnheldFilesAfterGrace(t *testing.T) {
	const grace = 400 * time.Millisecond
	st := openFileStore(t, store.Options{FileGrace: grace, FileSweepEvery: 40 * time.Millisecond})
	ctx := context.Background()
	put := func(name string) *store.File {
		f, err := st.PutFile(ctx, name, "text/plain", testUser, strings.NewReader(strings.Repeat(name, 1000)), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	held, loose := put("held"), put("loose")
	rec := create(t, st, "vehicle", map[string]any{"vin": "V1", "photo": held.ID})
	// Chunks a crash left behind: no metadata.
	orphan := store.NewID()
	if err := st.DB().Update(func(txn *badger.Txn) error { return txn.Set([]byte("b/"+orphan+"/\x00\x00\x00\x00"), []byte("orphan")) }); err != nil {
		t.Fatal(err)
	}
	if u := usage(t, st); u.Files != 2 || u.Chunks != 3 {
		t.Fatalf("before: %+v", u)
	}
	time.Sleep(grace / 2)
	if _, err := st.FileInfo(ctx, loose.ID); err != nil {
		t.Fatalf("collected within the grace period: %v", err)
	}
	waitFor(t, 5*time.Second, func() bool { u := usage(t, st); return u.Files == 1 && u.Chunks == 1 })
	if _, err := st.FileInfo(ctx, loose.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("loose file: %v", err)
	}
	var buf bytes.Buffer
	if err := st.WriteFile(ctx, held.ID, &buf); err != nil || buf.String() != strings.Repeat("held", 1000) {
		t.Fatalf("held file: %v, %d bytes", err, buf.Len())
	}
	// A collected file cannot be taken by a record.
	_, err := st.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: map[string]any{"vin": "V2", "photo": loose.ID}, By: testUser})
	var ie *store.InvalidError
	if !errors.As(err, &ie) || ie.Field != "photo" {
		t.Fatalf("record with a collected file: %v", err)
	}
	// The record lets the held file go: it is collected too.
	if _, err := st.Update(ctx, store.UpdateRequest{Entity: "vehicle", ID: rec.ID, Clear: []string{"photo"}, By: testUser}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return usage(t, st) == store.FileUsage{} })
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
