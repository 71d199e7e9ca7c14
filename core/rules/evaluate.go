package rules

import (
	"fmt"
	"sort"
	"time"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/plugins/sdk/exprbudget"
)

// Outcome is what a rule would do with one input: whether its when holds
// and, if it does, each action with its arguments evaluated. Nothing has
// been done.
type Outcome struct {
	Matched bool
	Actions []EvaluatedAction // in the rule's order; empty when not Matched
}

// EvaluatedAction is one action of a rule with its arguments evaluated.
type EvaluatedAction struct {
	Kind  string // "set", "create_record", "create_task", "notify", "webhook", or "PLUGIN.ACTION"
	Index int    // the action's index in the rule, as in its idempotency key
	// Args holds every argument the action gives, by name. An argument
	// that sets a field (those of set and create_record but the latter's
	// entity, and those of create_task, which are fields of a task) holds
	// the field's canonical value as the store takes it (package schema:
	// schema.Money, schema.Decimal, int64, time.Time, ...; nil clears the
	// field); any other holds the expression's value as Program.Eval gives
	// it.
	Args map[string]any
}

// Evaluate evaluates the rule on one input the way the engine does before
// it acts: its when, then, when that holds, the arguments of every action
// in order. It does nothing else: it writes nothing, sends nothing and
// resolves no notify target. A nil Lookup in the input is enough for
// rules that use neither related nor count_related. On an error the
// Outcome holds what was evaluated before it.
func (r *Rule) Evaluate(in *Input) (*Outcome, error) {
	out := &Outcome{}
	if r == nil {
		return out, fmt.Errorf("rules: evaluate: no rule")
	}
	if in == nil {
		in = &Input{}
	}
	if in.Now.IsZero() {
		// One clock for every expression of the evaluation.
		fixed := *in
		fixed.Now = time.Now()
		in = &fixed
	}
	if r.When != nil {
		ok, err := r.When.EvalBool(in)
		if err != nil {
			return out, fmt.Errorf("rule %s: when: %w", r.Name, err)
		}
		if !ok {
			return out, nil
		}
	}
	out.Matched = true
	for _, a := range r.Actions {
		args, err := a.evaluate(in)
		if err != nil {
			return out, fmt.Errorf("rule %s: action %d (%s): %w", r.Name, a.Index+1, a.Name(), err)
		}
		out.Actions = append(out.Actions, EvaluatedAction{Kind: a.Name(), Index: a.Index, Args: args})
	}
	return out, nil
}

// Name is the action's kind as the configuration writes it: "create_task",
// or "PLUGIN.ACTION" for a plugin's action.
func (a *Action) Name() string {
	if a.Kind == KindPlugin {
		return a.Plugin + "." + a.PluginAction
	}
	return a.Kind
}

// evaluate evaluates every argument of the action, in name order so that
// the first error is always the same one.
func (a *Action) evaluate(in *Input) (map[string]any, error) {
	ent := a.fieldEntity()
	names := make([]string, 0, len(a.Args))
	for name := range a.Args {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make(map[string]any, len(names))
	for _, name := range names {
		p := a.Args[name]
		v, err := p.Eval(in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if f := fieldOf(ent, a.Kind, name); f != nil {
			loc := p.scope.loc
			if in.Location != nil {
				loc = in.Location
			}
			if v, err = canonical(f, v, loc); err != nil {
				return nil, err
			}
		}
		out[name] = v
	}
	return out, nil
}

// fieldEntity is the entity whose fields the action's arguments set: the
// target of set and create_record, task for create_task; nil otherwise.
func (a *Action) fieldEntity() *schema.Entity {
	switch a.Kind {
	case KindSet, KindCreateRecord:
		return a.target
	case KindCreateTask:
		for _, p := range a.Args {
			if p != nil && p.scope != nil && p.scope.sch != nil {
				return p.scope.sch.Entity("task")
			}
		}
	}
	return nil
}

// fieldOf is the field of ent that argument name sets, or nil.
func fieldOf(ent *schema.Entity, kind, name string) *schema.Field {
	if ent == nil || (kind == KindCreateRecord && name == "entity") {
		return nil
	}
	return ent.Lookup(name)
}

// run runs a compiled expression on its environment under the budgets of
// package exprbudget (steps, memory, time); Compile instrumented it for
// them. An expression over a budget is an error that names the budget, so
// the engine records a failed run, a rule test fails and a dry run reports
// it; the process lives on.
func (p *Program) run(env map[string]any) (any, error) {
	return exprbudget.Run(p.prog, env, exprbudget.NewMeter(exprbudget.Default))
}
