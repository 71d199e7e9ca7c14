// Package exprbudget runs expr programs that user input reaches (list
// filters, rule conditions and arguments, plugins' document templates)
// under a budget of steps, memory and time, so that no expression can take
// the server down. It depends on expr alone, so that the core and the
// plugins (which may not import the core) share it.
//
// expr v1.17 charges some allocations (array literals, ranges, sort) to
// vm.VM.MemoryBudget, but not strings (`+`, repeat before its check,
// replace, join, toJSON), not values shared many times over (a list of a
// thousand references to one large list), and it has no limit on steps or
// time and no way to interrupt a program. This package closes those gaps
// without forking the VM:
//
//   - Instrument rewrites a checked, optimised tree before it is compiled:
//     every node that can allocate or loop (binary operators, calls,
//     builtins, array and map literals) and every body of a closure (the
//     predicate of all, map, filter, reduce, ...) becomes a call of the
//     hidden function __charge(value, __budget). The call counts one step,
//     looks at the clock every few steps, and charges the deep size of the
//     value it passes on (strings by length, lists and maps by entries and
//     what they hold, nested at most MaxDepth deep). A value that is shared
//     is charged each time it passes, so anything a later operation (==,
//     toJSON, flatten, string) walks has been paid for. Loops run only in
//     closures, so the step count bounds iterations; the deadline bounds
//     the time of everything else, with at most one operation on values of
//     at most MaxMemory bytes between two looks at the clock.
//   - Options replaces the builtins whose result can be much larger than
//     their arguments (repeat, replace, join, split, splitAfter, toJSON,
//     fromJSON, string) with versions that refuse, before allocating, a
//     result larger than MaxMemory; `matches` with a pattern computed at
//     run time is limited to MaxPattern bytes. Ranges (`1..n`) are charged
//     by the VM itself before they are made: Run sets its MemoryBudget so
//     that no range holds more than MaxMemory bytes.
//
// So one evaluation allocates at most about twice MaxMemory (what was
// charged, plus the result of the one operation that exceeds it), runs at
// most MaxSteps closure iterations and calls, and stops within about
// MaxTime. Exceeding a budget is an *Error (wrapped by expr's *file.Error
// with the place), never a panic or a dead process.
package exprbudget

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// The budgets of one evaluation: one record for a list filter, one
// expression of a rule. No honest filter or rule comes near them: a
// filter over a record of the largest text field (100 kB) charges a few
// hundred kB and a handful of steps.
const (
	// MaxSteps is how many closure iterations, calls and operators one
	// evaluation may run.
	MaxSteps = 100_000
	// MaxMemory is how many bytes one evaluation may allocate, summed over
	// everything it makes: strings, lists and maps.
	MaxMemory = 8 << 20
	// MaxTime is how long one evaluation may run, including the store
	// reads of related and count_related in rules.
	MaxTime = time.Second
	// MaxDepth is how deeply lists and maps may nest in a value.
	MaxDepth = 64
	// MaxPattern is the longest regular expression, in bytes, that
	// `matches` compiles at run time.
	MaxPattern = 4096
)

// clockEvery is how many steps pass between two looks at the clock.
const clockEvery = 32

// Hidden names in the environment and the function table. User sources
// may not use names that start with "__".
const (
	Var        = "__budget"
	chargeFunc = "__charge"
	matchFunc  = "__matches"
)

// Limits are the budgets of one evaluation.
type Limits struct {
	Steps  int64
	Memory int64
	Time   time.Duration
}

// Default are the limits of the constants above.
var Default = Limits{Steps: MaxSteps, Memory: MaxMemory, Time: MaxTime}

// Error is a budget that an evaluation exceeded.
type Error struct {
	Budget string // "steps", "memory", "time" or "nesting"
	Limit  string // the limit, as the message says it, e.g. "8 MiB"
	detail string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s budget exceeded: %s", e.Budget, e.detail)
	return msg
}

// Meter is the budget of one evaluation. It is for one goroutine.
type Meter struct {
	limits   Limits
	deadline time.Time
	steps    int64
	bytes    int64
	timeMsg  string
}

// NewMeter starts the budget of one evaluation, with its clock.
func NewMeter(l Limits) *Meter {
	return &Meter{limits: l, deadline: time.Now().Add(l.Time)}
}

// WithDeadline makes the evaluation stop at d if that is before its own
// deadline, with msg saying which budget that is (e.g. "the filter ran
// longer than 2s over the records of one query").
func (m *Meter) WithDeadline(d time.Time, msg string) *Meter {
	if d.Before(m.deadline) {
		m.deadline, m.timeMsg = d, msg
	}
	return m
}

// Steps is how many steps the evaluation has used.
func (m *Meter) Steps() int64 { return m.steps }

// Bytes is how many bytes the evaluation has been charged.
func (m *Meter) Bytes() int64 { return m.bytes }

// Step charges n steps and checks the clock every few.
func (m *Meter) Step(n int64) error {
	before := m.steps
	m.steps += n
	if m.steps > m.limits.Steps {
		return &Error{Budget: "steps", Limit: fmt.Sprint(m.limits.Steps),
			detail: fmt.Sprintf("the expression took more than %d steps (loop iterations, calls and operators)", m.limits.Steps)}
	}
	if before/clockEvery != m.steps/clockEvery || n > 1 {
		return m.checkTime()
	}
	return nil
}

func (m *Meter) checkTime() error {
	if time.Now().Before(m.deadline) {
		return nil
	}
	if m.timeMsg != "" {
		return &Error{Budget: "time", Limit: m.limits.Time.String(), detail: m.timeMsg}
	}
	return &Error{Budget: "time", Limit: m.limits.Time.String(),
		detail: fmt.Sprintf("the expression ran longer than %s", m.limits.Time)}
}

// Alloc charges n bytes.
func (m *Meter) Alloc(n int64) error {
	m.bytes += n
	if m.bytes > m.limits.Memory || n < 0 {
		return m.memoryError()
	}
	return nil
}

func (m *Meter) memoryError() *Error {
	return &Error{Budget: "memory", Limit: mib(m.limits.Memory),
		detail: fmt.Sprintf("the expression made values of more than %s", mib(m.limits.Memory))}
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Sizes, in bytes, charged for the parts of a value.
const (
	headerSize = 16 // a string's or an interface's header
	sliceSize  = 24 // a slice's header
	entrySize  = 48 // a map entry, beside its key and value
)

// Charge charges the deep size of v: what it holds, every time it holds
// it, so that a value made of many references to one large value costs
// what walking it costs.
func (m *Meter) Charge(v any) error {
	return m.charge(v, 0)
}

func (m *Meter) charge(v any, depth int) error {
	switch x := v.(type) {
	case nil, bool, int, int64, float64, time.Time, time.Duration:
		return nil
	case string:
		return m.Alloc(int64(len(x)))
	case []any:
		if err := m.nest(depth, int64(sliceSize+headerSize*len(x))); err != nil {
			return err
		}
		for _, e := range x {
			if err := m.charge(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if err := m.nest(depth, int64(entrySize*len(x))); err != nil {
			return err
		}
		for k, e := range x {
			if err := m.Alloc(int64(len(k))); err != nil {
				return err
			}
			if err := m.charge(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case []int:
		return m.nest(depth, int64(sliceSize+8*len(x)))
	case []float64:
		return m.nest(depth, int64(sliceSize+8*len(x)))
	case []string:
		n := int64(sliceSize + headerSize*len(x))
		for _, s := range x {
			n += int64(len(s))
		}
		return m.nest(depth, n)
	}
	return m.chargeValue(reflect.ValueOf(v), depth)
}

// nest checks the depth and charges n bytes.
func (m *Meter) nest(depth int, n int64) error {
	if depth >= MaxDepth {
		return &Error{Budget: "nesting", Limit: fmt.Sprint(MaxDepth),
			detail: fmt.Sprintf("the expression made lists or maps nested more than %d deep", MaxDepth)}
	}
	return m.Alloc(n)
}

// chargeValue charges the values of other types: typed lists and maps
// that builtins make (groupBy, toPairs), and structs as a whole.
func (m *Meter) chargeValue(rv reflect.Value, depth int) error {
	switch rv.Kind() {
	case reflect.String:
		return m.Alloc(int64(rv.Len()))
	case reflect.Slice, reflect.Array:
		n := rv.Len()
		if err := m.nest(depth, int64(sliceSize)+int64(n)*int64(rv.Type().Elem().Size())); err != nil {
			return err
		}
		if !holdsReferences(rv.Type().Elem()) {
			return nil
		}
		for i := range n {
			if err := m.charge(rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if err := m.nest(depth, int64(entrySize*rv.Len())); err != nil {
			return err
		}
		it := rv.MapRange()
		for it.Next() {
			if err := m.charge(it.Key().Interface(), depth+1); err != nil {
				return err
			}
			if err := m.charge(it.Value().Interface(), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return m.charge(rv.Elem().Interface(), depth+1)
	}
	return m.Alloc(int64(rv.Type().Size()))
}

// holdsReferences reports whether values of t can hold other values.
func holdsReferences(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map, reflect.Interface, reflect.Pointer, reflect.Struct:
		return true
	}
	return false
}

// machines are reused virtual machines.
var machines = sync.Pool{New: func() any { return new(vm.VM) }}

// Run runs an instrumented program on env (which it adds the meter to)
// under the meter's budgets. An exceeded budget is an error that wraps an
// *Error, with the place in the source.
func Run(prog *vm.Program, env map[string]any, m *Meter) (any, error) {
	if prog == nil {
		return nil, errors.New("exprbudget: no program")
	}
	env[Var] = m
	machine := machines.Get().(*vm.VM)
	// The VM charges one unit per element of a range, array literal or
	// sort; eight bytes an element keeps a range within MaxMemory.
	machine.MemoryBudget = uint(max(m.limits.Memory/8, 1))
	out, err := machine.Run(prog, env)
	machines.Put(machine)
	if err != nil {
		return nil, m.explain(err)
	}
	if err := m.checkTime(); err != nil {
		return nil, err
	}
	return out, nil
}

// explain turns the VM's own "memory budget exceeded" into an *Error.
func (m *Meter) explain(err error) error {
	var fe *file.Error
	var be *Error
	if errors.As(err, &be) || !errors.As(err, &fe) || !strings.Contains(fe.Message, "memory budget exceeded") {
		return err
	}
	me := m.memoryError()
	out := *fe
	out.Message = me.Error()
	out.Wrap(me)
	return &out
}
