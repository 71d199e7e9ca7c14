package exprbudget

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
)

// Options declares the hidden functions that instrumented programs call
// and replaces the builtins whose result can be much larger than their
// arguments with versions that refuse a result larger than MaxMemory
// before making it. Compile every program that Instrument rewrites with
// them.
func Options() []expr.Option {
	opts := []expr.Option{
		expr.Function(chargeFunc, charge),
		expr.Function(matchFunc, matches),
	}
	for name, guard := range guards {
		opts = append(opts, guarded(name, guard))
	}
	return opts
}

// charge is __charge(value, meter[, cost]): it counts the steps, charges
// the value's size and gives the value back.
func charge(args ...any) (any, error) {
	if len(args) < 2 {
		return nil, errors.New("expression run without a budget")
	}
	m, ok := args[1].(*Meter)
	if !ok || m == nil {
		return nil, errors.New("expression run without a budget")
	}
	cost := int64(1)
	if len(args) == 3 {
		if c, ok := args[2].(int); ok && c > 1 {
			cost = int64(c)
		}
	}
	if err := m.Step(cost); err != nil {
		return nil, err
	}
	if err := m.Charge(args[0]); err != nil {
		return nil, err
	}
	return args[0], nil
}

// matches is `s matches pattern` for a pattern computed at run time.
func matches(args ...any) (any, error) {
	if len(args) != 2 || args[0] == nil || args[1] == nil {
		return false, nil
	}
	s, ok1 := args[0].(string)
	p, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("matches: expected strings, got %T and %T", args[0], args[1])
	}
	if len(p) > MaxPattern {
		return nil, &Error{Budget: "memory", Limit: fmt.Sprint(MaxPattern),
			detail: fmt.Sprintf("matches: the pattern is %d bytes long; at most %d", len(p), MaxPattern)}
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("matches: %w", err)
	}
	return re.MatchString(s), nil
}

// guards are the builtins that are called only after a check of the
// size of what they would make.
var guards = map[string]func(args []any) error{
	"repeat":     guardRepeat,
	"replace":    guardReplace,
	"join":       guardJoin,
	"split":      guardSplit,
	"splitAfter": guardSplit,
	"toJSON":     guardDeep("toJSON"),
	"string":     guardDeep("string"),
	"fromJSON":   guardFromJSON,
}

// guarded replaces builtin name by a function of the same types that
// runs guard first.
func guarded(name string, guard func([]any) error) expr.Option {
	orig := builtin.Builtins[builtin.Index[name]]
	call := func(args ...any) (any, error) {
		if err := guard(args); err != nil {
			return nil, err
		}
		switch {
		case name == "repeat":
			// The builtin refuses more than a million repetitions of
			// anything, even of "": the guard has checked the size.
			s, ok := args[0].(string)
			n, isInt := toInt(args[1])
			if !ok || !isInt || n < 0 {
				return nil, fmt.Errorf("invalid arguments for repeat (expected a string and an integer >= 0, got %v and %v)", args[0], args[1])
			}
			return strings.Repeat(s, int(n)), nil
		case orig.Func != nil:
			return orig.Func(args...)
		case orig.Safe != nil:
			out, _, err := orig.Safe(args...)
			return out, err
		case orig.Fast != nil && len(args) == 1:
			return orig.Fast(args[0]), nil
		}
		return nil, fmt.Errorf("%s: bad call", name)
	}
	return func(c *conf.Config) {
		c.Functions[name] = &builtin.Function{Name: name, Func: call, Types: orig.Types, Validate: orig.Validate, Deref: orig.Deref}
	}
}

// tooLarge is the error of a builtin that would make more than MaxMemory.
func tooLarge(name string, n int64) error {
	return &Error{Budget: "memory", Limit: mib(MaxMemory),
		detail: fmt.Sprintf("%s would make %d bytes, more than %s", name, n, mib(MaxMemory))}
}

// mul is a*b, or MaxInt64 when that overflows.
func mul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// toInt is an integer argument.
func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case float64:
		return int64(x), true
	}
	return 0, false
}

func guardRepeat(args []any) error {
	if len(args) != 2 {
		return nil
	}
	s, _ := args[0].(string)
	n, ok := toInt(args[1])
	if !ok || n < 0 {
		return nil // the builtin says what is wrong
	}
	if size := mul(int64(len(s)), n); size > MaxMemory {
		return tooLarge("repeat", size)
	}
	return nil
}

// pieces is how many times sep occurs in s, as strings.Count counts it,
// at most limit when limit >= 0.
func pieces(s, sep string, limit int64) int64 {
	n := int64(strings.Count(s, sep))
	if sep == "" {
		n = int64(utf8.RuneCountInString(s)) + 1
	}
	if limit >= 0 && n > limit {
		n = limit
	}
	return n
}

func guardReplace(args []any) error {
	if len(args) < 3 {
		return nil
	}
	s, _ := args[0].(string)
	old, _ := args[1].(string)
	nw, _ := args[2].(string)
	limit := int64(-1)
	if len(args) == 4 {
		limit, _ = toInt(args[3])
	}
	grow := int64(len(nw) - len(old))
	if grow <= 0 {
		return nil
	}
	if size := int64(len(s)) + mul(pieces(s, old, limit), grow); size > MaxMemory {
		return tooLarge("replace", size)
	}
	return nil
}

func guardJoin(args []any) error {
	if len(args) == 0 {
		return nil
	}
	glue := ""
	if len(args) == 2 {
		glue, _ = args[1].(string)
	}
	var size int64
	add := func(s string) error {
		size += int64(len(s)) + int64(len(glue))
		if size > MaxMemory {
			return tooLarge("join", size)
		}
		return nil
	}
	switch list := args[0].(type) {
	case []string:
		for _, s := range list {
			if err := add(s); err != nil {
				return err
			}
		}
	case []any:
		for _, v := range list {
			s, _ := v.(string)
			if err := add(s); err != nil {
				return err
			}
		}
	}
	return nil
}

func guardSplit(args []any) error {
	if len(args) < 2 {
		return nil
	}
	s, _ := args[0].(string)
	sep, _ := args[1].(string)
	limit := int64(-1)
	if len(args) == 3 {
		if n, ok := toInt(args[2]); ok && n > 0 {
			limit = n
		}
	}
	if size := mul(pieces(s, sep, limit)+1, headerSize); size > MaxMemory {
		return tooLarge("split", size)
	}
	return nil
}

// guardDeep refuses to write out a value whose deep size exceeds a tenth
// of MaxMemory: JSON with its indentation, or fmt's form, is at most
// about ten times that.
func guardDeep(name string) func([]any) error {
	return func(args []any) error {
		if len(args) != 1 {
			return nil
		}
		m := &Meter{limits: Limits{Memory: MaxMemory / 10}}
		if err := m.Charge(args[0]); err != nil {
			var be *Error
			if errors.As(err, &be) && be.Budget == "memory" {
				return &Error{Budget: "memory", Limit: mib(MaxMemory),
					detail: fmt.Sprintf("%s of a value of more than %d bytes could make more than %s", name, MaxMemory/10, mib(MaxMemory))}
			}
			return err
		}
		return nil
	}
}

// guardFromJSON refuses JSON longer than a sixteenth of MaxMemory: the
// values it decodes to take up to about sixteen times their text.
func guardFromJSON(args []any) error {
	if len(args) != 1 {
		return nil
	}
	if s, _ := args[0].(string); len(s) > MaxMemory/16 {
		return tooLarge("fromJSON", mul(int64(len(s)), 16))
	}
	return nil
}
