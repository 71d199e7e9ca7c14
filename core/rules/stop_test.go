package rules_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/crmkit/crm/core/rules"
)

// TestEngineStoppedWhileStartingReturnsNil: an engine whose context ends
// before or while it reads its feed position stops cleanly (a test's
// cleanup that comes right after a quick test did this at random and got
// "read rules feed position: context canceled").
func TestEngineStoppedWhileStartingReturnsNil(t *testing.T) {
	st, eng := engineFor(t, `
rule "touch" {
  on = ["contact.created"]
  action "set" {
    notes = "'seen'"
  }
}`)
	create(t, st, "contact", map[string]any{"name": "Ani"})
	for i := range 50 {
		e := rules.NewEngine(st, st.Schema(), eng.Rules(), rules.Options{Workers: 2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		if i%5 == 0 {
			cancel()
		} else {
			time.AfterFunc(time.Duration(rand.IntN(200))*time.Microsecond, cancel)
		}
		if err := e.Run(ctx); err != nil {
			t.Fatalf("stop %d: Run = %v, want nil", i, err)
		}
		cancel()
	}
}
