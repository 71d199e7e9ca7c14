package tmpl_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates/tmpl"
	"github.com/crmkit/crm/plugins/sdk/exprbudget"
)

// A template that tries to exhaust memory or time fails its document with
// an *Error naming the placeholder and wrapping the exceeded budget; it
// does not panic or take the process down.
func TestRenderBudgets(t *testing.T) {
	small := tmpl.DefaultLimits
	small.Time = 200 * time.Millisecond
	// The output case must meet its 1 MiB output budget before any time
	// budget, however loaded the machine: a minute is far past it.
	output := tmpl.DefaultLimits
	output.Time = time.Minute
	output.Output = 1 << 20
	cases := []struct {
		name, src, placeholder, budget string
		lim                            tmpl.Limits
	}{
		{"repeat", `a {{ repeat("a", 100000000) }}`, `{{ repeat("a", 100000000) }}`, "memory", tmpl.DefaultLimits},
		{"doubling", `{{ reduce(1..40, #acc + #acc, "ab") }}`, `{{ reduce(1..40, #acc + #acc, "ab") }}`, "memory", tmpl.DefaultLimits},
		{"range", `{{ len(1..1000000000) }}`, `{{ len(1..1000000000) }}`, "memory", tmpl.DefaultLimits},
		{"steps", `{{ len(filter(1..1000000, # > 0)) }}`, `{{ len(filter(1..1000000, # > 0)) }}`, "steps", tmpl.DefaultLimits},
		{"nested loops", `{{ for a in 1..1000 }}{{ for b in 1..1000 }}{{ for c in 1..1000 }}{{ end }}{{ end }}{{ end }}`, "", "time", small},
		{"output", `{{ for a in 1..100000 }}{{ repeat("x", 1000) }}{{ end }}`, `{{ repeat("x", 1000) }}`, "memory", output},
	}
	for _, c := range cases {
		for _, kind := range []string{"html", "docx"} {
			src := []byte(c.src)
			if kind == "docx" {
				src = makeDOCX(t, p(c.src), p(""))
			}
			tp, err := tmpl.Parse(kind, src)
			if err != nil {
				t.Fatalf("%s %s: Parse: %v", c.name, kind, err)
			}
			if err := tp.Check(schema, funcs); err != nil {
				t.Fatalf("%s %s: Check: %v", c.name, kind, err)
			}
			out, err := tp.RenderWith(context.Background(), data(), funcs, c.lim)
			if err == nil {
				t.Fatalf("%s %s: Render succeeded: %.200s", c.name, kind, out)
			}
			ps := problems(t, err)
			if c.placeholder != "" && ps[0].Placeholder != c.placeholder {
				t.Errorf("%s %s: the problem names %q, want %q: %v", c.name, kind, ps[0].Placeholder, c.placeholder, err)
			}
			if ps[0].Placeholder == "" || ps[0].Where == "" {
				t.Errorf("%s %s: the problem names no placeholder or place: %+v", c.name, kind, ps[0])
			}
			var be *exprbudget.Error
			if !errors.As(err, &be) || be.Budget != c.budget {
				t.Errorf("%s %s: %v does not wrap a %s budget's *exprbudget.Error", c.name, kind, err, c.budget)
			}
		}
	}
}

// A cancelled context stops a render.
func TestRenderCancelled(t *testing.T) {
	tp, err := tmpl.Parse("html", []byte(`{{ for a in 1..100000 }}{{ a }}{{ end }}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tp.Render(ctx, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Render with a cancelled context = %v", err)
	}
}

// A helper's error or panic fails the document naming the placeholder.
func TestRenderHelperErrors(t *testing.T) {
	fs := tmpl.Funcs{
		"money": funcs["money"],
		"boom":  func(s string) string { panic("boom") },
	}
	for src, want := range map[string]string{
		`{{ deal.company | money }}`: "money: no amount",
		`{{ boom("x") }}`:            "boom failed: boom",
	} {
		tp, err := tmpl.Parse("html", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		_, err = tp.Render(context.Background(), data(), fs)
		ps := problems(t, err)
		if ps[0].Placeholder != src || ps[0].Message != want {
			t.Errorf("%s: %+v, want %q", src, ps[0], want)
		}
	}
}
