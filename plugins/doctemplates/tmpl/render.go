package tmpl

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"

	"github.com/crmkit/crm/plugins/sdk/exprbudget"
)

// Limits are the budgets of one Render.
type Limits struct {
	// Time is how long all the document's expressions and loops may run.
	Time time.Duration
	// Memory is how many bytes all the document's expressions may make,
	// summed; each one may make at most Expr.Memory of them.
	Memory int64
	// Output is the largest rendered document (for a DOCX, its XML parts
	// before compression), in bytes.
	Output int64
	// Expr are the budgets of one expression.
	Expr exprbudget.Limits
}

// DefaultLimits are the budgets of Render.
var DefaultLimits = Limits{Time: 5 * time.Second, Memory: 64 << 20, Output: 64 << 20, Expr: exprbudget.Default}

// Render fills the template with data (the schema's variables, by name)
// using the helpers funcs, under DefaultLimits. It returns the filled
// DOCX or HTML. A failure (an expression's error, a helper's error, an
// exceeded budget, ctx done) is an *Error naming the placeholder.
func (t *Template) Render(ctx context.Context, data map[string]any, funcs Funcs) ([]byte, error) {
	return t.RenderWith(ctx, data, funcs, DefaultLimits)
}

// RenderWith is Render under the given budgets.
func (t *Template) RenderWith(ctx context.Context, data map[string]any, funcs Funcs, lim Limits) ([]byte, error) {
	p := t.checked
	if p == nil {
		var err error
		if p, err = t.compile(nil, funcs); err != nil {
			return nil, err
		}
	}
	r := &renderer{ctx: ctx, prog: p, funcs: funcs, lim: lim, start: time.Now()}
	r.deadline = r.start.Add(lim.Time)
	r.env = make(map[string]any, len(data)+2)
	for k, v := range data {
		r.env[k] = v
	}
	if p.schema != nil {
		for name, ty := range p.schema.Vars {
			budget := maxFill
			r.env[name] = normalize(data[name], ty, 0, &budget)
		}
	}
	r.env[funcsVar] = funcs
	if t.kind == KindHTML {
		var out bytes.Buffer
		r.out, r.esc = &out, escapeHTML
		if err := r.nodes(t.html); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
	return r.docx(t.docx)
}

// docx renders each template part and copies the other entries as they are.
func (r *renderer) docx(d *docxFile) ([]byte, error) {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	r.esc = escapeXML
	for _, f := range d.zip.File {
		nodes, ok := d.parts[f.Name]
		if !ok {
			if err := zw.Copy(f); err != nil {
				return nil, fmt.Errorf("copy %s: %w", f.Name, err)
			}
			continue
		}
		var part bytes.Buffer
		r.out = &part
		if err := r.nodes(nodes); err != nil {
			return nil, err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: f.Modified})
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", f.Name, err)
		}
		if _, err := w.Write(part.Bytes()); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.Name, err)
		}
		r.written += int64(part.Len())
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write the DOCX: %w", err)
	}
	return out.Bytes(), nil
}

// renderer is one Render.
type renderer struct {
	ctx      context.Context
	prog     *program
	funcs    Funcs
	lim      Limits
	start    time.Time
	deadline time.Time
	env      map[string]any
	out      *bytes.Buffer
	esc      func(*bytes.Buffer, string)
	written  int64 // bytes of the parts already done
	spent    int64 // bytes the expressions made
}

func (r *renderer) nodes(ns []node) error {
	for _, n := range ns {
		switch x := n.(type) {
		case textNode:
			r.out.Write(x)
			if err := r.room(nil); err != nil {
				return err
			}
		case *valueNode:
			v, err := r.eval(x.t)
			if err != nil {
				return err
			}
			s, err := text(v)
			if err != nil {
				return r.fail(x.t, err.Error(), nil)
			}
			r.esc(r.out, s)
			if err := r.room(x.t); err != nil {
				return err
			}
		case *ifNode:
			v, err := r.eval(x.t)
			if err != nil {
				return err
			}
			branch := x.els
			if truth(v) {
				branch = x.then
			}
			if err := r.nodes(branch); err != nil {
				return err
			}
		case *forNode:
			if err := r.loop(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// loop repeats a loop's body for each element of its list.
func (r *renderer) loop(n *forNode) error {
	v, err := r.eval(n.t)
	if err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return r.fail(n.t, fmt.Sprintf("a loop goes over a list; %s is %T", n.t.src, v), nil)
	}
	names := []string{n.t.item, n.t.index}
	saved := make([]any, 2)
	had := make([]bool, 2)
	for i, name := range names {
		if name != "" {
			saved[i], had[i] = r.env[name]
		}
	}
	defer func() {
		for i, name := range names {
			if name == "" {
				continue
			}
			if had[i] {
				r.env[name] = saved[i]
			} else {
				delete(r.env, name)
			}
		}
	}()
	for i := range rv.Len() {
		if err := r.alive(n.t); err != nil {
			return err
		}
		r.env[n.t.item] = rv.Index(i).Interface()
		if n.t.index != "" {
			r.env[n.t.index] = i + 1
		}
		if err := r.nodes(n.body); err != nil {
			return err
		}
	}
	return nil
}

// alive fails the document when its time is up or its context done.
func (r *renderer) alive(g *tag) error {
	if err := r.ctx.Err(); err != nil {
		return r.fail(g, "the document was not finished: "+err.Error(), err)
	}
	if time.Now().After(r.deadline) {
		be := &exprbudget.Error{Budget: "time", Limit: r.lim.Time.String()}
		return r.fail(g, fmt.Sprintf("time budget exceeded: the document's expressions and loops ran longer than %s", r.lim.Time), be)
	}
	return nil
}

// room fails the document when it has grown larger than its budget.
func (r *renderer) room(g *tag) error {
	if r.written+int64(r.out.Len()) <= r.lim.Output {
		return nil
	}
	be := &exprbudget.Error{Budget: "memory", Limit: strconv.FormatInt(r.lim.Output, 10)}
	msg := fmt.Sprintf("memory budget exceeded: the document would be larger than %d bytes", r.lim.Output)
	if g == nil {
		return &Error{Problems: []Problem{{Where: "document", Message: msg}}, cause: be}
	}
	return r.fail(g, msg, be)
}

// eval runs a tag's expression under the budgets.
func (r *renderer) eval(g *tag) (any, error) {
	if err := r.alive(g); err != nil {
		return nil, err
	}
	prog := r.prog.progs[g]
	if prog == nil {
		return nil, r.fail(g, "the expression was not compiled", nil)
	}
	lim := r.lim.Expr
	lim.Memory = max(min(lim.Memory, r.lim.Memory-r.spent), 1)
	m := exprbudget.NewMeter(lim).WithDeadline(r.deadline,
		fmt.Sprintf("the document's expressions and loops ran longer than %s", r.lim.Time))
	if d, ok := r.ctx.Deadline(); ok {
		m = m.WithDeadline(d, "the request's time ran out")
	}
	v, err := r.run(prog, m)
	r.spent += m.Bytes()
	if err != nil {
		var be *exprbudget.Error
		if errors.As(err, &be) {
			return nil, r.fail(g, be.Error(), err)
		}
		return nil, r.fail(g, exprMessage(err), err)
	}
	return v, nil
}

// run runs a program, turning a helper's panic into an error.
func (r *renderer) run(prog *vm.Program, m *exprbudget.Meter) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the expression failed: %v", p)
		}
	}()
	return exprbudget.Run(prog, r.env, m)
}

// fail is the *Error of a tag that stopped the document.
func (r *renderer) fail(g *tag, msg string, cause error) error {
	if g == nil {
		return &Error{Problems: []Problem{{Where: "document", Message: msg}}, cause: cause}
	}
	return &Error{Problems: []Problem{{Where: g.where, Placeholder: g.raw, Message: msg}}, cause: cause}
}

// callHelper is __helper(name, funcs, args...): it calls the helper name
// of the Render at hand, converting the arguments to its parameters.
func callHelper(args ...any) (out any, err error) {
	if len(args) < 2 {
		return nil, errors.New("helper called without its name")
	}
	name, _ := args[0].(string)
	funcs, _ := args[1].(Funcs)
	f, ok := funcs[name]
	if !ok || f == nil {
		return nil, fmt.Errorf("no helper %s in this document", name)
	}
	fv := reflect.ValueOf(f)
	ft := fv.Type()
	if ft.Kind() != reflect.Func {
		return nil, fmt.Errorf("helper %s is not a function", name)
	}
	args = args[2:]
	n := ft.NumIn()
	if (!ft.IsVariadic() && len(args) != n) || (ft.IsVariadic() && len(args) < n-1) {
		return nil, fmt.Errorf("%s takes %d arguments, not %d", name, n, len(args))
	}
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		pt := ft.In(min(i, n-1))
		if ft.IsVariadic() && i >= n-1 {
			pt = ft.In(n - 1).Elem()
		}
		v, err := convert(a, pt)
		if err != nil {
			return nil, fmt.Errorf("%s: argument %d: %v", name, i+1, err)
		}
		in[i] = v
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%s failed: %v", name, p)
		}
	}()
	res := fv.Call(in)
	if len(res) == 0 {
		return nil, nil
	}
	if last := res[len(res)-1]; last.Type().Implements(reflect.TypeFor[error]()) {
		if !last.IsNil() {
			return nil, last.Interface().(error)
		}
		if len(res) == 1 {
			return nil, nil
		}
	}
	return res[0].Interface(), nil
}

// convert makes a a value of type t where Go allows it.
func convert(a any, t reflect.Type) (reflect.Value, error) {
	if a == nil {
		return reflect.Zero(t), nil
	}
	v := reflect.ValueOf(a)
	if v.Type().AssignableTo(t) {
		return v, nil
	}
	if n, ok := a.(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			v = reflect.ValueOf(f)
		}
	}
	numeric := func(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Float64 }
	if numeric(v.Kind()) && numeric(t.Kind()) {
		if v.Kind() >= reflect.Float32 && t.Kind() < reflect.Float32 {
			f := v.Float()
			if f != math.Trunc(f) {
				return reflect.Value{}, fmt.Errorf("%v is not a whole number", a)
			}
		}
		return v.Convert(t), nil
	}
	if v.Kind() == reflect.String && t.Kind() == reflect.String {
		return v.Convert(t), nil
	}
	return reflect.Value{}, fmt.Errorf("got %T, want %s", a, t)
}

// truth is whether an if's value holds: false, nil, "", 0 and empty lists
// and objects do not.
func truth(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array, reflect.String:
		return rv.Len() > 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint() != 0
	case reflect.Float32, reflect.Float64:
		return rv.Float() != 0
	case reflect.Pointer, reflect.Interface:
		return !rv.IsNil()
	}
	return true
}

// text is a value as the document shows it.
func text(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), nil
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format(time.DateOnly), nil
		}
		return x.Format(time.RFC3339), nil
	case map[string]any:
		if a, ok := x["amount"]; ok {
			if c, ok := x["currency"].(string); ok {
				s, err := text(a)
				return strings.TrimSpace(s + " " + c), err
			}
		}
		return "", errors.New("the value is an object, not text: show one of its fields")
	case fmt.Stringer:
		return x.String(), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Slice, reflect.Array:
		return "", errors.New("the value is a list, not text: repeat what shows each element with {{ for item in list }} ... {{ end }}")
	case reflect.Map, reflect.Struct:
		return "", errors.New("the value is an object, not text: show one of its fields")
	}
	return fmt.Sprint(v), nil
}

// escapeHTML writes s as HTML text (also safe in a quoted attribute).
func escapeHTML(b *bytes.Buffer, s string) {
	b.WriteString(html.EscapeString(strings.ToValidUTF8(s, "\uFFFD")))
}

// Pieces of WordprocessingML that a value's line ends and tabs become,
// inside a <w:t xml:space="preserve">.
const (
	xmlBreak = `</w:t><w:br/><w:t xml:space="preserve">`
	xmlTab   = `</w:t><w:tab/><w:t xml:space="preserve">`
)

// escapeXML writes s as the text of a <w:t xml:space="preserve">: escaped,
// without the characters XML does not allow, line ends as breaks and tabs
// as tabs.
func escapeXML(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue
			}
			b.WriteString(xmlBreak)
		case r == '\n', r == '\v', r == '\u2028', r == '\u2029':
			b.WriteString(xmlBreak)
		case r == '\t':
			b.WriteString(xmlTab)
		case r == utf8.RuneError && size == 1:
			b.WriteRune('\uFFFD')
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			// Not allowed in XML 1.0: left out.
		default:
			b.WriteRune(r)
		}
	}
}

// maxFill is how many empty objects and lists normalize may make for
// missing ones, so that a schema that refers to itself stays small.
const maxFill = 10_000

// normalize gives a value of a schema's Type the shape the template was
// checked against: missing objects and lists are empty (so that
// deal.contact.name is nothing, not an error, when the deal has no
// contact), ints are int64, other numbers as they come.
func normalize(v any, t *Type, depth int, budget *int) any {
	if t == nil || depth > maxTypeDepth {
		return v
	}
	switch {
	case t.Fields != nil:
		m := asMap(v)
		if m == nil {
			if v != nil {
				return v // not an object: let the expression say so
			}
			if *budget <= 0 {
				return nil
			}
			*budget--
		}
		out := make(map[string]any, len(t.Fields)+len(m))
		for k, x := range m {
			out[k] = x
		}
		for k, ft := range t.Fields {
			if ft != nil && (ft.Fields != nil || ft.Elem != nil || ft.Kind == "int") {
				out[k] = normalize(m[k], ft, depth+1, budget)
			}
		}
		return out
	case t.Elem != nil:
		if v == nil {
			return []any{}
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return v
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = normalize(rv.Index(i).Interface(), t.Elem, depth+1, budget)
		}
		return out
	case t.Kind == "int":
		switch x := v.(type) {
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x)
			}
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n
			}
		case int:
			return int64(x)
		case int32:
			return int64(x)
		}
	}
	return v
}

// asMap is v as a map[string]any (also a named map type, as sdk.Record).
func asMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil
	}
	m := make(map[string]any, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		m[it.Key().String()] = it.Value().Interface()
	}
	return m
}
