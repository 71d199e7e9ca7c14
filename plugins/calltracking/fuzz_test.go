package calltracking

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// seed adds the recorded events of the testdata files matching pattern.
func seed(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
	}
}

// checkParsed fails unless err is nil or a refusal, and a parsed event
// passes the checks every format shares.
func checkParsed(t *testing.T, ev Event, ok bool, err error) {
	var r *sdk.Refusal
	if err != nil {
		if !errors.As(err, &r) || r.Code != CodeBadEvent {
			t.Fatalf("error %v is not a bad_event refusal", err)
		}
		return
	}
	if !ok {
		return
	}
	if ev.check() != nil || ev.Kind == "" {
		t.Fatalf("parsed an event that does not check: %+v", ev)
	}
	var s callState
	now := time.Now()
	s.merge(ev, settings{region: "AM"})
	s.settle(now, DefaultSettle)
	s.merge(ev, settings{region: "AM"})
	s.settle(now, DefaultSettle)
	if s.Status == "" || s.StartedAt == nil {
		t.Fatalf("merged state %+v", s)
	}
}

func FuzzParseGeneric(f *testing.F) {
	seed(f, "generic_*.jsonl")
	f.Add([]byte(`{"call_id":"x","event":"ended","from":"+37493555777","at":"2026-03-21T11:00:00Z","duration":1e308}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseGeneric(body)
		checkParsed(t, ev, err == nil, err)
	})
}

func FuzzParseAsterisk(f *testing.F) {
	seed(f, "asterisk_*.jsonl")
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, ok, err := ParseAsterisk(body)
		checkParsed(t, ev, ok, err)
	})
}

func FuzzParseTwilio(f *testing.F) {
	seed(f, "twilio_*.form")
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, ok, err := ParseTwilio(body)
		checkParsed(t, ev, ok, err)
	})
}
