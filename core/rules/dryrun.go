package rules

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// dryRunPage is how many records a dry run reads at a time.
const dryRunPage = 200

// DryRun evaluates every rule of set against the records in st and prints
// to w what the rules would do, without doing it: it only reads (List and
// Get), so the store is left as it was.
//
// A rule with on runs for every record of its entity as if the record had
// just triggered the rule's first event, with no previous version (old is
// nil); a scheduled rule runs as at a tick, for the records its filter
// picks, with event "schedule". Records are read a page at a time. Per
// rule, a header says how many records match out of how many were read,
// then up to limit lines (none when limit <= 0) show a record that
// matched, or whose evaluation failed, and its actions:
//
//	rule stale_deal (every 1h over deal): 1 of 3 records match
//	  deal 01J... "Fleet": notify to="01J..." message="Deal Fleet is idle"
//
// A rule triggered only by plugin events has no records to run on and is
// listed as skipped. The error is about reading the store (or writing to
// w); a failed evaluation is a line of the report.
func DryRun(ctx context.Context, st store.Store, sch *schema.Schema, set *Set, w io.Writer, limit int) error {
	if st == nil || sch == nil || set == nil {
		return fmt.Errorf("rules: dry run: no store, schema or rules")
	}
	now := time.Now()
	ew := &errWriter{w: w}
	if len(set.Rules) == 0 {
		ew.printf("no rules\n")
	}
	for _, r := range set.Rules {
		if err := dryRunRule(ctx, st, sch, r, now, ew, limit); err != nil {
			return err
		}
		if ew.err != nil {
			return fmt.Errorf("rules: dry run: %w", ew.err)
		}
	}
	return ew.err
}

// dryRunRule runs one rule over its records and prints its section.
func dryRunRule(ctx context.Context, st store.Store, sch *schema.Schema, r *Rule, now time.Time, w *errWriter, limit int) error {
	entity, event, about := dryRunTrigger(sch, r)
	if entity == "" {
		w.printf("rule %s (%s): skipped: its records come from plugin events, not from the store\n", r.Name, about)
		return nil
	}
	ent := sch.Entity(entity)
	q := store.Query{Entity: entity, Limit: dryRunPage}
	if r.Filter != nil {
		q.Filter = r.Filter.StoreFilter()
	}
	pr := printer{loc: ruleLocation(r)}
	lookup := StoreLookup{Store: st, Schema: sch}
	var lines []string
	total, matched, failed := 0, 0, 0
	for {
		page, err := st.List(ctx, q)
		if err != nil {
			return fmt.Errorf("rules: dry run of %s: list %s: %w", r.Name, entity, err)
		}
		for _, rec := range page.Items {
			total++
			in := &Input{Ctx: ctx, Record: rec, Event: event, Now: now, Lookup: lookup}
			out, err := r.Evaluate(in)
			switch {
			case err != nil:
				failed++
			case out.Matched:
				matched++
			default:
				continue
			}
			if len(lines) < limit {
				lines = append(lines, "  "+recordLabel(ent, rec)+": "+describe(r, out, err, pr))
			}
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	header := fmt.Sprintf("rule %s (%s): %d of %d %s match", r.Name, about, matched, total, plural(total, "record"))
	if failed > 0 {
		header += fmt.Sprintf(", %d failed", failed)
	}
	w.printf("%s\n", header)
	for _, l := range lines {
		w.printf("%s\n", l)
	}
	if more := matched + failed - len(lines); more > 0 && limit > 0 {
		w.printf("  ... and %d more\n", more)
	}
	return nil
}

// dryRunTrigger is the entity whose records a rule runs for in a dry run
// ("" when there is none in the store), the event it sees, and how the
// header names its trigger.
func dryRunTrigger(sch *schema.Schema, r *Rule) (entity, event, about string) {
	if r.Scheduled() {
		about = "every " + shortDuration(r.Every)
		if r.Cron != nil && r.Config != nil {
			about = fmt.Sprintf("cron %q", r.Config.Cron)
		}
		about += " over " + r.ForEach
		if r.Filter != nil {
			about += fmt.Sprintf(" where %s", r.Filter.Source)
		}
		return r.ForEach, "schedule", about
	}
	if len(r.On) == 0 || r.Event != nil || sch.Entity(r.On[0].Entity) == nil {
		names := make([]string, len(r.On))
		for i, t := range r.On {
			names[i] = t.String()
		}
		return "", "", strings.Join(names, ", ")
	}
	t := r.On[0]
	about = "as " + t.String()
	if isUpdate(t.Event) {
		about += " with old = nil"
	}
	return t.Entity, t.Event, about
}

// shortDuration writes 1h0m0s as 1h and 90m as 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// ruleLocation is the time zone the rule's expressions were compiled in.
func ruleLocation(r *Rule) *time.Location {
	progs := []*Program{r.When}
	for _, a := range r.Actions {
		for _, p := range a.Args {
			progs = append(progs, p)
		}
	}
	for _, p := range progs {
		if p != nil && p.scope != nil && p.scope.loc != nil {
			return p.scope.loc
		}
	}
	return time.UTC
}

// recordLabel names a record in a report: its entity, its id and, when it
// has one, its title: the first required string field with a value, else
// the first string field with one.
func recordLabel(ent *schema.Entity, rec *store.Record) string {
	label := rec.Entity + " " + rec.ID
	if ent == nil {
		return label
	}
	title := ""
	for _, required := range []bool{true, false} {
		for _, f := range ent.Fields {
			if f.Type != config.TypeString || (required && !f.Required) {
				continue
			}
			if s, ok := rec.Values[f.Name].(string); ok && s != "" {
				title = s
				break
			}
		}
		if title != "" {
			break
		}
	}
	if title == "" {
		return label
	}
	return fmt.Sprintf("%s %q", label, title)
}

// describe is what a rule would do with one record: its actions, each
// with its arguments in the order the configuration writes them, or the
// error of its evaluation.
func describe(r *Rule, out *Outcome, err error, pr printer) string {
	if err != nil {
		return "error: " + err.Error()
	}
	parts := make([]string, 0, len(out.Actions))
	for _, ea := range out.Actions {
		s := ea.Kind
		for _, name := range argOrder(r, ea) {
			s += " " + name + "=" + pr.show(ea.Args[name])
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// argOrder lists the arguments of an evaluated action in the order the
// configuration writes them.
func argOrder(r *Rule, ea EvaluatedAction) []string {
	names := make([]string, 0, len(ea.Args))
	for name := range ea.Args {
		names = append(names, name)
	}
	var a *Action
	if ea.Index >= 0 && ea.Index < len(r.Actions) {
		a = r.Actions[ea.Index]
	}
	pos := func(name string) int {
		if a == nil || a.Args[name] == nil {
			return 0
		}
		return a.Args[name].Range.Start.Byte
	}
	sort.Slice(names, func(i, j int) bool {
		if pi, pj := pos(names[i]), pos(names[j]); pi != pj {
			return pi < pj
		}
		return names[i] < names[j]
	})
	return names
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
