package calltracking_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/calltracking"
	"github.com/crmkit/crm/plugins/sdk"
)

// genericEvent is a generic-format event of call id at at (minutes and
// seconds past 11:00 of the recorded day); duration < 0 leaves it out.
func genericEvent(id, event, at string, duration int) []byte {
	d := ""
	if duration >= 0 {
		d = fmt.Sprintf(`, "duration": %d`, duration)
	}
	return []byte(fmt.Sprintf(`{"call_id": %q, "event": %q, "from": "+37493555777", "to": "+37410555001", "extension": "101", "at": "2026-03-21T11:%sZ"%s}`,
		id, event, at, d))
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline (a wait for the sweep, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A generic "ended" without duration that comes before its "answered"
// is no missed call: the call waits as "ended" for the settle delay, and
// the late answer completes it; no call.missed, however the events are
// repeated and reordered, and across a restart of the plugin in the
// middle.
func TestEndedBeforeAnsweredIsNoMissedCall(t *testing.T) {
	cfg := baseConfig()
	cfg["settle"] = "1h"
	h := start(t, cfg)
	orders := [][]int{{2, 1}, {0, 2, 2, 1}, {2, 0, 1, 2}, {2, 2, 0}}
	for i, order := range orders {
		id := fmt.Sprintf("s-%d", i+1)
		bodies := [][]byte{genericEvent(id, "ringing", "00:00", -1), genericEvent(id, "answered", "00:08", -1),
			genericEvent(id, "ended", "01:30", -1)}
		if i == 3 {
			// The end twice, then a restart: the new process finds the
			// call waiting and the answer still completes it.
			postAll(t, h, calltracking.FormatGeneric, bodies, order...)
			if c := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", id)); c.String("status") != calltracking.StatusEnded || c.String("missed_due") == "" {
				t.Errorf("%s before the answer: %v", id, c)
			}
			h.Restart()
			order = []int{1, 2}
		}
		postAll(t, h, calltracking.FormatGeneric, bodies, order...)
		call := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", id))
		if call.String("status") != calltracking.StatusCompleted || call["unanswered"] != false || call["missed_due"] != nil ||
			call.String("answered_at") != "2026-03-21T11:00:08Z" || call["duration"] != float64(82) {
			t.Errorf("%s in order %v: %v", id, order, call)
		}
		if a := only(t, h, "activity", sdk.Eq("id", call.String("activity"))); a.String("status") != calltracking.StatusCompleted {
			t.Errorf("%s activity: %v", id, a)
		}
		if evs := missedEmits(h, id); len(evs) != 0 {
			t.Errorf("%s in order %v: call.missed for an answered call: %v", id, order, evs)
		}
	}
}

// An "ended" without duration and no answer is decided missed once the
// settle delay has passed, by the plugin itself (no further event comes):
// call.missed goes out once, and repeats of the events after the decision
// change nothing.
func TestEndedUnansweredIsMissedAfterTheSettleDelay(t *testing.T) {
	cfg := baseConfig()
	cfg["settle"] = "200ms"
	h := start(t, cfg)
	bodies := [][]byte{genericEvent("u-1", "ringing", "00:00", -1), genericEvent("u-1", "ended", "00:40", -1)}
	postAll(t, h, calltracking.FormatGeneric, bodies, 1, 0, 1)
	waitFor(t, "call.missed of u-1", func() bool { return len(missedEmits(h, "u-1")) > 0 })
	postAll(t, h, calltracking.FormatGeneric, bodies, 0, 1, 1)
	call := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "u-1"))
	if call.String("status") != calltracking.StatusMissed || call["unanswered"] != true || call["missed_due"] != nil {
		t.Errorf("call: %v", call)
	}
	if a := only(t, h, "activity", sdk.Eq("id", call.String("activity"))); a.String("status") != calltracking.StatusMissed ||
		a.String("subject") != "Missed call from +37493555777" {
		t.Errorf("activity: %v", a)
	}
	if evs := missedEmits(h, "u-1"); len(evs) != 1 {
		t.Errorf("call.missed %d times, want once", len(evs))
	}
}

// A restart of the plugin while a call waits to be decided: the new
// process decides it (the decision and its due time are in the call's
// record), and call.missed goes out exactly once.
func TestMissedDecisionSurvivesARestart(t *testing.T) {
	cfg := baseConfig()
	cfg["settle"] = "3s"
	h := start(t, cfg)
	bodies := [][]byte{genericEvent("r-1", "ringing", "00:00", -1), genericEvent("r-1", "ended", "00:40", -1)}
	postAll(t, h, calltracking.FormatGeneric, bodies, 0, 1)
	if c := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "r-1")); c.String("status") != calltracking.StatusEnded {
		t.Fatalf("before the restart: %v", c)
	}
	if evs := missedEmits(h, "r-1"); len(evs) != 0 {
		t.Fatalf("call.missed before the settle delay: %v", evs)
	}
	h.Restart()
	waitFor(t, "call.missed of r-1 from the new process", func() bool { return len(missedEmits(h, "r-1")) > 0 })
	postAll(t, h, calltracking.FormatGeneric, bodies, 1, 0)
	h.Restart()
	postAll(t, h, calltracking.FormatGeneric, bodies, 1)
	if evs := missedEmits(h, "r-1"); len(evs) != 1 {
		t.Errorf("call.missed %d times, want once", len(evs))
	}
	if c := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "r-1")); c.String("status") != calltracking.StatusMissed {
		t.Errorf("after: %v", c)
	}
}

// An explicit no-answer is missed at once, with no delay: the generic
// "missed", Twilio's no-answer, an ARI channel destroyed before it was Up.
func TestExplicitNoAnswerIsMissedAtOnce(t *testing.T) {
	cfg := baseConfig()
	cfg["settle"] = "1h"
	h := start(t, cfg)
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_missed.jsonl"), 1, 0)
	postAll(t, h, calltracking.FormatAsterisk, recording(t, "asterisk_missed.jsonl"), 1, 0)
	postAll(t, h, calltracking.FormatTwilio, recording(t, "twilio_missed.form"))
	for _, id := range []string{"g-2", "1711018800.43", "CA22222222222222222222222222222222"} {
		if c := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", id)); c.String("status") != calltracking.StatusMissed {
			t.Errorf("%s: %v", id, c)
		}
		if evs := missedEmits(h, id); len(evs) != 1 {
			t.Errorf("%s: call.missed %d times, want once", id, len(evs))
		}
	}
}

func TestSettleConfig(t *testing.T) {
	for _, bad := range []string{"soon", "0s", "-1m", "48h"} {
		cfg := baseConfig()
		cfg["settle"] = bad
		err := calltracking.New().Configure(t.Context(), sdk.Config{Values: cfg, Locale: sdk.Locale{Region: "AM"}})
		var r *sdk.Refusal
		if !errors.As(err, &r) || r.Field != "settle" {
			t.Errorf("settle %q: %v, want a refusal of settle", bad, err)
		}
	}
}
