package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/plugins/sdk/exprbudget"
	badger "github.com/dgraph-io/badger/v4"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// A scan evaluates a filter on stored records without decoding them: the
// filter's compiler notes the fields it reads (scanPlan), the scanner reads
// just those from the stored JSON (scanFields) into one environment that it
// reuses for every record, and runs the program on one VM. Only a record
// that matches is decoded in full.
//
// A filter whose every operation gives a bool or a number and that has no
// call, closure, list, map, range or `let` cannot exceed a budget of package
// exprbudget: at most one step per operator of a source of at most
// MaxFilterLen bytes, nothing charged to memory. Such a filter also
// compiles without the instrumentation (Filter.fast), and the scan runs that
// program: the same bytecode without the calls of __charge, so the same
// answers. Every other filter runs instrumented, with a meter per record.
// The query's total time (MaxFilterTime) is enforced either way.

// scanPlan is what a scan of a filter reads.
type scanPlan struct {
	all    bool        // the filter reads $env: decode every record in full
	fields []scanField // the fields it names, system fields included

	declared     int    // how many of fields are declared fields
	lastDeclared string // the one of them whose name sorts last
	sysKeys      uint8  // the envelope members of the system fields it names, in the order of scanner.load's top
}

// scanField is one field a filter reads.
type scanField struct {
	name  string
	field *schema.Field // nil for a system field
	wrap  []byte        // `{"name":` to decode one stored value alone
	fast  uint8         // how to read its stored value without encoding/json
}

// Ways of reading a stored value.
const (
	readGeneric uint8 = iota // schema.Entity.UnmarshalValues of the value alone
	readString               // a JSON string
	readInt                  // a JSON integer
	readBool                 // true or false
)

// envelopeOrder are the system fields stored in the envelope (as "v",
// "c", "u", "cb" and "o"), in the order of scanner.load's top.
var envelopeOrder = []string{"version", "created_at", "updated_at", "created_by", "owner"}

// newScanPlan collects the names a checked, optimised tree reads.
func newScanPlan(ent *schema.Entity, root ast.Node) *scanPlan {
	p := &scanPlan{}
	seen := map[string]bool{}
	ast.Find(root, func(n ast.Node) bool {
		id, ok := n.(*ast.IdentifierNode)
		if !ok || seen[id.Value] {
			return false
		}
		seen[id.Value] = true
		if id.Value == "$env" {
			p.all = true
			return false
		}
		if _, sys := systemTypes[id.Value]; sys {
			p.fields = append(p.fields, scanField{name: id.Value})
			if k := slices.Index(envelopeOrder, id.Value); k >= 0 {
				p.sysKeys |= 1 << k
			}
			return false
		}
		fd := ent.Field(id.Value)
		if fd == nil {
			return false // a variable of let, a function's name
		}
		key, _ := json.Marshal(fd.Name)
		sf := scanField{name: fd.Name, field: fd, wrap: append(append([]byte{'{'}, key...), ':')}
		switch fd.ExprZero().(type) {
		case string:
			sf.fast = readString
		case int64:
			sf.fast = readInt
		case bool:
			sf.fast = readBool
		}
		p.fields = append(p.fields, sf)
		p.declared++
		p.lastDeclared = max(p.lastDeclared, sf.name)
		return false
	})
	return p
}

// budgetFree reports whether a checked, optimised tree cannot exceed a
// budget of package exprbudget (see the comment at the top of this file).
func budgetFree(root ast.Node) bool {
	bad := ast.Find(root, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.IdentifierNode:
			return x.Value == "$env"
		case *ast.NilNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.StringNode, *ast.ConstantNode,
			*ast.UnaryNode, *ast.MemberNode, *ast.ChainNode, *ast.ConditionalNode:
			return false
		case *ast.BinaryNode:
			if x.Operator == ".." {
				return true
			}
			if _, lit := x.Right.(*ast.StringNode); x.Operator == "matches" && !lit {
				return true
			}
			return !scalarResult(x.Type())
		}
		return true
	})
	return bad == nil
}

// scalarResult reports whether a value of type t is charged nothing.
func scalarResult(t reflect.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// scanner evaluates one filter on the stored form of records, one record
// at a time, reusing its environment and VM. It is for one goroutine.
type scanner struct {
	f   *Filter
	env map[string]any
	vm  vm.VM
}

// scanners are reused scanners of Filter.MatchRaw, per filter.
func (f *Filter) newScanner() *scanner {
	return &scanner{f: f, env: make(map[string]any, len(f.scan.fields)+8)}
}

// load fills the environment with the fields the filter reads from the
// stored form of record id.
func (sc *scanner) load(id string, raw []byte) error {
	f := sc.f
	if f.scan.all || len(f.scan.fields) > 64 {
		// Else every name the filter reads is set or deleted below.
		clear(sc.env)
	}
	if f.scan.all {
		rec, err := decodeRecord(f.entity, id, raw)
		if err != nil {
			return err
		}
		fillEnv(sc.env, f.entity, rec)
		return nil
	}
	if f.scan.sysKeys == 0 {
		// No envelope member but the values: jump to them when what comes
		// before holds no object or list, so that the first `"f":` is the
		// top-level key (inside a JSON string a quote is escaped).
		if k := bytes.Index(raw, valuesKey); k > 0 && bytes.IndexAny(raw[1:k], "{[") < 0 {
			if _, err := sc.loadValues(raw, k+len(valuesKey)); err != nil && err != errStop {
				return fmt.Errorf("decode %s %s: %w", f.entity.Name, id, err)
			}
			return sc.loadSystem(id, [5][]byte{})
		}
	}
	var top [5][]byte // v, c, u, cb, o
	err := walkEnvelope(raw, &top, func(i int) (int, error) {
		end, err := sc.loadValues(raw, i)
		if err == errStop {
			if f.scan.sysKeys&^seenKeys(top) == 0 {
				return 0, errStop // nothing more to read
			}
			return skipValue(raw, i)
		}
		return end, err
	})
	if err != nil && err != errStop {
		return fmt.Errorf("decode %s %s: %w", f.entity.Name, id, err)
	}
	return sc.loadSystem(id, top)
}

// walkEnvelope walks the top-level members of a stored record: it hands
// the offset of the field values ("f") to values and keeps the raw bytes of
// the system members in top (v, c, u, cb, o), as far as the walk goes. A
// record without field values is an error; an error from values (errStop
// included) ends the walk and is returned.
func walkEnvelope(raw []byte, top *[5][]byte, values func(i int) (int, error)) error {
	sawValues := false
	_, err := scanObject(raw, 0, func(key []byte, i int) (int, error) {
		slot := -1
		switch string(key) {
		case "f":
			sawValues = true
			return values(i)
		case "v":
			slot = 0
		case "c":
			slot = 1
		case "u":
			slot = 2
		case "cb":
			slot = 3
		case "o":
			slot = 4
		}
		end, err := skipValue(raw, i)
		if slot >= 0 && err == nil {
			top[slot] = raw[i:end]
		}
		return end, err
	})
	if err == nil && !sawValues {
		err = errors.New("no field values")
	}
	return err
}

// loadSystem puts the system fields the filter names in the environment,
// from the id and the raw envelope members (v, c, u, cb, o).
func (sc *scanner) loadSystem(id string, top [5][]byte) error {
	f := sc.f
	for i := range f.scan.fields {
		sf := &f.scan.fields[i]
		if sf.field != nil {
			continue
		}
		v, err := systemFromEnvelope(sf.name, id, top)
		if err != nil {
			return fmt.Errorf("decode %s %s: %w", f.entity.Name, id, err)
		}
		sc.env[sf.name] = v
	}
	return nil
}

// valuesKey is the envelope's key of the field values.
var valuesKey = []byte(`"f":`)

// seenKeys is the set of envelope members read, as a bit set in the
// order of top.
func seenKeys(top [5][]byte) uint8 {
	var out uint8
	for i, v := range top {
		if v != nil {
			out |= 1 << i
		}
	}
	return out
}

// loadValues reads the wanted declared fields from the values object that
// starts at b[i] into the environment, and returns the end of the object,
// or errStop when it has read them all before the end.
func (sc *scanner) loadValues(b []byte, i int) (int, error) {
	f := sc.f
	want := f.scan.declared
	if want == 0 {
		return skipValue(b, i)
	}
	found := 0
	var seen uint64 // the indexes in fields of the fields read
	defer func() {
		for j := range f.scan.fields {
			if sf := &f.scan.fields[j]; sf.field != nil && seen&(1<<(j%64)) == 0 {
				delete(sc.env, sf.name)
			}
		}
	}()
	return scanObject(b, i, func(key []byte, i int) (int, error) {
		end, err := skipValue(b, i)
		if err != nil {
			return 0, err
		}
		for j := range f.scan.fields {
			sf := &f.scan.fields[j]
			if sf.field == nil || string(key) != sf.name {
				continue
			}
			v, err := sf.value(f.entity, b[i:end])
			if err != nil {
				return 0, err
			}
			seen |= 1 << (j % 64)
			if v == nil {
				delete(sc.env, sf.name)
			} else {
				sc.env[sf.name] = sf.field.ExprValue(v)
			}
			// The last of duplicate keys wins, as in encoding/json: stop
			// early only where a duplicate cannot follow (stored objects
			// are written by encoding/json, with sorted unique keys).
			if found++; found == want && sf.name == f.scan.lastDeclared {
				return 0, errStop
			}
		}
		return end, nil
	})
}

// systemFromEnvelope reads a system field from the raw envelope members
// (v, c, u, cb, o), as decodeRecord would.
func systemFromEnvelope(name, id string, top [5][]byte) (any, error) {
	var raw []byte
	switch name {
	case "id":
		return id, nil
	case "version":
		raw = top[0]
	case "created_at":
		raw = top[1]
	case "updated_at":
		raw = top[2]
	case "created_by":
		raw = top[3]
	case "owner":
		raw = top[4]
	}
	switch name {
	case "version":
		var v int64
		if raw != nil {
			if n, ok := jsonInt(raw); ok {
				return n, nil
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, err
			}
		}
		return v, nil
	case "created_at", "updated_at":
		var t time.Time
		if raw != nil {
			if err := json.Unmarshal(raw, &t); err != nil {
				return nil, err
			}
		}
		return t, nil
	}
	var s string
	if raw != nil {
		if v, ok := jsonString(raw); ok {
			return v, nil
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// value reads the canonical value of a declared field from its stored
// JSON, as schema.Entity.UnmarshalValues would: nil for null or a value
// that no longer fits the field.
func (sf *scanField) value(ent *schema.Entity, raw []byte) (any, error) {
	return sf.valueOf(ent, raw, false)
}

// valueOf is value; with own, raw's bytes never change and a string value
// shares them.
func (sf *scanField) valueOf(ent *schema.Entity, raw []byte, own bool) (any, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	switch sf.fast {
	case readString:
		if s, ok := jsonStringOf(raw, own); ok {
			return s, nil
		}
	case readInt:
		if n, ok := jsonInt(raw); ok {
			return n, nil
		}
	case readBool:
		switch string(raw) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	one := make([]byte, 0, len(sf.wrap)+len(raw)+1)
	one = append(append(append(one, sf.wrap...), raw...), '}')
	vals, err := ent.UnmarshalValues(one)
	if err != nil {
		return nil, err
	}
	return vals[sf.name], nil
}

// jsonString is the value of a JSON string without escapes, control
// characters or invalid UTF-8; ok is false for anything else.
func jsonString(raw []byte) (string, bool) {
	return jsonStringOf(raw, false)
}

// jsonStringOf is jsonString; with own, raw's bytes never change and the
// string shares them instead of being a copy.
func jsonStringOf(raw []byte, own bool) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	ascii := true
	for _, c := range body {
		if c < 0x20 || c == '\\' || c == '"' {
			return "", false
		}
		ascii = ascii && c < 0x80
	}
	if !ascii && !utf8.Valid(body) {
		return "", false // encoding/json replaces what is not UTF-8
	}
	if own {
		return unsafe.String(unsafe.SliceData(body), len(body)), true
	}
	return string(body), true
}

// jsonInt is the value of a JSON integer that fits an int64.
func jsonInt(raw []byte) (int64, bool) {
	i, neg := 0, false
	if len(raw) > 0 && raw[0] == '-' {
		i, neg = 1, true
	}
	digits := raw[i:]
	if len(digits) == 0 || len(digits) > 19 || digits[0] == '0' && len(digits) > 1 {
		return 0, false
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && n <= 1<<63:
		return int64(-n), true
	case !neg && n < 1<<63:
		return int64(n), true
	}
	return 0, false
}

// errSyntax is stored JSON that a scan could not read.
var errSyntax = errors.New("malformed stored JSON")

// errStop ends a scan early.
var errStop = errors.New("stop")

// scanObject calls fn with the raw key (without its quotes) of every
// member of the JSON object that starts at b[i], in order, and the offset
// of the member's value; fn returns the end of the value. scanObject
// returns the end of the object. It checks the structure it walks (quotes,
// brackets, separators), not every literal.
func scanObject(b []byte, i int, fn func(key []byte, i int) (int, error)) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '{' {
		return 0, errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		end, err := skipValue(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : end-1]
		if hasByte(key, '\\') {
			var s string
			if err := json.Unmarshal(b[i:end], &s); err != nil {
				return 0, errSyntax
			}
			key = []byte(s)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		i = skipSpace(b, i+1)
		if end, err = fn(key, i); err != nil {
			return 0, err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, errSyntax
		}
	}
}

func hasByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return 0, errSyntax
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipValue(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	}
	j := i
	for j < len(b) && !strings.ContainsRune(" \t\r\n,}]:", rune(b[j])) {
		j++
	}
	if j == i {
		return 0, errSyntax
	}
	return j, nil
}

// match runs the filter on the environment loaded last.
func (sc *scanner) match(m *exprbudget.Meter) (bool, error) {
	f := sc.f
	if f.fast != nil {
		out, err := sc.vm.Run(f.fast, sc.env)
		if err != nil {
			return false, nil
		}
		ok, _ := out.(bool)
		return ok, nil
	}
	if m == nil {
		m = exprbudget.NewMeter(exprbudget.Default)
	}
	return f.run(sc.env, m)
}

// MatchRaw reports whether the record stored as raw under id (the value of
// its record key) satisfies the filter, with the answer and the errors of
// Eval on the decoded record, without decoding more of it than the filter
// reads. A stored form it cannot read is an error where it reads it: it
// stops after the last field the filter names, so the caller's decoding
// of a record that matches is what finds damage past that point.
func (f *Filter) MatchRaw(id string, raw []byte) (bool, error) {
	if f == nil {
		return true, nil
	}
	if !mayContain(f.needles, raw) {
		return false, nil
	}
	sc := f.scanners.Get().(*scanner)
	defer f.scanners.Put(sc)
	if err := sc.load(id, raw); err != nil {
		return false, err
	}
	return sc.match(nil)
}

// scannerPool makes the pool of a filter's scanners.
func scannerPool(f *Filter) *sync.Pool {
	return &sync.Pool{New: func() any { return f.newScanner() }}
}

// matchRaw is MatchRaw within the query's budget.
func (q *matcher) matchRaw(id string, raw []byte) (bool, error) {
	if q.f == nil {
		return true, nil
	}
	if !mayContain(q.f.needles, raw) {
		return false, nil
	}
	if q.sc == nil {
		q.sc = q.f.newScanner()
	}
	start := time.Now()
	if err := q.sc.load(id, raw); err != nil {
		return false, err
	}
	var m *exprbudget.Meter
	if q.f.fast == nil {
		m = q.meter(start)
	}
	ok, err := q.sc.match(m)
	return q.account(start, ok, err)
}

// item reads the record of a Badger item (its key is the record key, id
// after strip bytes) if it matches the filter, and gives the record for
// match to pass without evaluating it again; a record that does not match
// is nil, and match fails it.
func (q *matcher) item(s *Badger, item *badger.Item, entity string, strip int) (*Record, error) {
	if q.f == nil {
		return s.itemRecord(item, entity, strip)
	}
	var rec *Record
	err := item.Value(func(v []byte) error {
		if !mayContain(q.f.needles, v) {
			return nil
		}
		id := string(item.Key()[strip:])
		ok, err := q.matchRaw(id, v)
		if err != nil || !ok {
			return err
		}
		rec, err = decodeStored(s.schema.Entity(entity), id, v)
		return err
	})
	q.passed = rec
	return rec, err
}

// needlesOf returns the texts of the top-level conjuncts `F contains 'text'`
// of a budget-free filter (one that cannot fail on a budget) where F is a
// declared field of a string type other than file. A record whose stored
// JSON holds no backslash holds every string verbatim (encoding/json
// escapes quotes, control characters and <, > and & with one), and the
// value of such a field is that verbatim string, or a string encoding/json
// decoded from invalid UTF-8 (with U+FFFD in place of the bad bytes), or
// none; so when a needle is not in the stored bytes, the conjunct is false
// and the record does not match, and the filter need not run (see
// mayContain). A text with U+FFFD, or not valid UTF-8, is no needle.
func needlesOf(ent *schema.Entity, root ast.Node) [][]byte {
	var out [][]byte
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		b, ok := n.(*ast.BinaryNode)
		if !ok {
			return
		}
		switch b.Operator {
		case "&&", "and":
			walk(b.Left)
			walk(b.Right)
			return
		case "contains":
		default:
			return
		}
		id, ok1 := b.Left.(*ast.IdentifierNode)
		lit, ok2 := b.Right.(*ast.StringNode)
		if !ok1 || !ok2 || lit.Value == "" || !utf8.ValidString(lit.Value) || strings.ContainsRune(lit.Value, utf8.RuneError) {
			return
		}
		fd := ent.Field(id.Value)
		if fd == nil || fd.Type == config.TypeFile {
			return
		}
		if _, isString := fd.ExprZero().(string); !isString {
			return
		}
		out = append(out, []byte(lit.Value))
	}
	walk(root)
	return out
}

// mayContain reports whether a stored record may match a filter with
// these needles: false only when the record holds no backslash and misses
// a needle.
func mayContain(needles [][]byte, raw []byte) bool {
	if len(needles) == 0 || bytes.IndexByte(raw, '\\') >= 0 {
		return true
	}
	for _, n := range needles {
		if !bytes.Contains(raw, n) {
			return false
		}
	}
	return true
}
