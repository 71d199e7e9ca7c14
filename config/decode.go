package config

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Decoding turns each block into its typed struct, one block at a time, and
// remembers in a src where each value came from. Checks that need more than
// one block (references, duplicates, merging) belong to the validation pass.

var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "server"},
	{Type: "locale"},
	{Type: "entity", LabelNames: []string{"name"}},
	{Type: "pipeline", LabelNames: []string{"name"}},
	{Type: "role", LabelNames: []string{"name"}},
	{Type: "plugin", LabelNames: []string{"name"}},
	{Type: "rule", LabelNames: []string{"name"}},
	{Type: "test", LabelNames: []string{"name"}},
	{Type: "smtp"},
	{Type: "workflow"},
}}

var serverSchema = attrSchema("listen", "data_dir", "public_url", "store", "postgres_url", "postgres_url_env", "node_id", "lease")

var localeSchema = attrSchema("languages", "default", "calendar", "currency", "timezone", "region")

var entitySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "label"}, {Name: "labels"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "field", LabelNames: []string{"name"}}},
}

var fieldSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type", Required: true},
	{Name: "label"}, {Name: "labels"}, {Name: "required"}, {Name: "unique"}, {Name: "index"}, {Name: "search"},
	{Name: "values"}, {Name: "to"},
}}

var pipelineSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "entity", Required: true},
	{Name: "stages", Required: true},
	{Name: "label"}, {Name: "labels"}, {Name: "stage_labels"},
}}

var roleSchema = attrSchema("read", "write", "own_only")

var pluginSchema = attrSchema("path", "sha256", "read", "write", "entities", "config")

var ruleSchema = &hcl.BodySchema{
	Attributes: attrSchema("on", "every", "cron", "for_each", "filter", "when").Attributes,
	Blocks:     []hcl.BlockHeaderSchema{{Type: "action", LabelNames: []string{"kind"}}},
}

// attrSchema is a schema of optional attributes and no blocks.
func attrSchema(names ...string) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, n := range names {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: n})
	}
	return s
}

// src remembers where a decoded block and its values are, for the
// validation pass and its diagnostics.
type src struct {
	def    hcl.Range              // the block header
	name   hcl.Range              // the first label, or def for an unlabelled block
	attrs  map[string]hcl.Range   // value range of each attribute present
	failed map[string]bool        // attributes present whose value did not decode
	elems  map[string][]hcl.Range // element ranges of decoded list attributes
	keys   map[string]hcl.Range   // key ranges of the decoded labels attribute
}

// has reports whether the attribute is present, decoded or not.
func (s *src) has(attr string) bool {
	_, ok := s.attrs[attr]
	return ok
}

// ok reports whether the attribute is present and its value decoded.
func (s *src) ok(attr string) bool {
	return s.has(attr) && !s.failed[attr]
}

// at is the range of the attribute's value, or the block header when absent.
func (s *src) at(attr string) hcl.Range {
	if r, ok := s.attrs[attr]; ok {
		return r
	}
	return s.def
}

// elem is the range of the i-th element of a list attribute.
func (s *src) elem(attr string, i int) hcl.Range {
	if rs := s.elems[attr]; i < len(rs) {
		return rs[i]
	}
	return s.at(attr)
}

// block is one block being decoded.
type block struct {
	l     *loader
	attrs hcl.Attributes
	src   *src
}

// open reads a block's content against schema and starts its src.
func (l *loader) open(hb *hcl.Block, schema *hcl.BodySchema) (*block, hcl.Blocks) {
	content, diags := hb.Body.Content(schema)
	l.diags = append(l.diags, diags...)
	s := &src{
		def:    hb.DefRange,
		name:   hb.DefRange,
		attrs:  map[string]hcl.Range{},
		failed: map[string]bool{},
		elems:  map[string][]hcl.Range{},
		keys:   map[string]hcl.Range{},
	}
	if len(hb.LabelRanges) > 0 {
		s.name = hb.LabelRanges[0]
	}
	b := &block{l: l, attrs: hcl.Attributes{}, src: s}
	if content == nil {
		return b, nil
	}
	b.attrs = content.Attributes
	for name, a := range content.Attributes {
		s.attrs[name] = a.Expr.Range()
	}
	return b, content.Blocks
}

// fail reports a value that cannot be used and marks its attribute failed.
func (b *block) fail(attr, summary, detail string) {
	b.src.failed[attr] = true
	b.l.report(b.src.at(attr), summary, detail)
}

// value evaluates an attribute without variables or functions; ok is false
// when it is absent or did not evaluate to a known, non-null value.
func (b *block) value(attr string) (v cty.Value, ok bool) {
	a, present := b.attrs[attr]
	if !present {
		return cty.NilVal, false
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		b.l.diags = append(b.l.diags, diags...)
		b.src.failed[attr] = true
		return cty.NilVal, false
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		b.fail(attr, fmt.Sprintf("%s must not be null", attr), "")
		return cty.NilVal, false
	}
	return v, true
}

// str decodes a string attribute into dst.
func (b *block) str(attr string, dst *string) {
	v, ok := b.value(attr)
	if !ok {
		return
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		b.fail(attr, fmt.Sprintf("%s must be a string", attr), "")
		return
	}
	*dst = s.AsString()
}

// boolean decodes a bool attribute into dst.
func (b *block) boolean(attr string, dst *bool) {
	v, ok := b.value(attr)
	if !ok {
		return
	}
	t, err := convert.Convert(v, cty.Bool)
	if err != nil {
		b.fail(attr, fmt.Sprintf("%s must be true or false", attr), "")
		return
	}
	*dst = t.True()
}

// list decodes a list-of-strings attribute into dst and remembers the range
// of each element.
func (b *block) list(attr string, dst *[]string) {
	a, present := b.attrs[attr]
	if !present {
		return
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		b.fail(attr, fmt.Sprintf("%s must be a list of strings", attr), fmt.Sprintf(`write it in brackets, e.g. %s = ["a", "b"]`, attr))
		return
	}
	out := make([]string, 0, len(exprs))
	ranges := make([]hcl.Range, 0, len(exprs))
	for _, e := range exprs {
		s, ok := b.l.literal(e, attr)
		if !ok {
			b.src.failed[attr] = true
			return
		}
		out = append(out, s)
		ranges = append(ranges, e.Range())
	}
	*dst = out
	b.src.elems[attr] = ranges
}

// labels decodes a map of language code to label, `labels = { hy = "..." }`,
// into dst and remembers the range of each key.
func (b *block) labels(attr string, dst *map[string]string) {
	a, present := b.attrs[attr]
	if !present {
		return
	}
	if out, ok := b.labelsExpr(attr, a.Expr, "", ""); ok {
		*dst = out
	}
}

// labelsExpr decodes expr, an object of language = label, for the attribute
// attr. what names the object in messages ("" for the attribute itself) and
// prefix is put before each language in src.keys. It reports what does not
// decode, marks attr failed, and returns the labels that did; ok is false
// when expr is not an object at all.
func (b *block) labelsExpr(attr string, expr hcl.Expression, what, prefix string) (map[string]string, bool) {
	if what == "" {
		what = attr
	}
	pairs, diags := hcl.ExprMap(expr)
	if diags.HasErrors() {
		b.src.failed[attr] = true
		b.l.report(expr.Range(), fmt.Sprintf("%s must be an object of language = label", what), fmt.Sprintf(`write it in braces, e.g. %s = { hy = "Մեքենա", ru = "Автомобиль" }`, attr))
		return nil, false
	}
	out := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		k, kd := kv.Key.Value(nil)
		b.l.diags = append(b.l.diags, kd...)
		if kd.HasErrors() || k.IsNull() || !k.IsWhollyKnown() || k.Type() != cty.String {
			b.src.failed[attr] = true
			b.l.report(kv.Key.Range(), fmt.Sprintf("%s: a key must be a language code", what), `e.g. hy = "Մեքենա"`)
			continue
		}
		val, vd := kv.Value.Value(nil)
		b.l.diags = append(b.l.diags, vd...)
		if vd.HasErrors() || val.IsNull() || !val.IsWhollyKnown() || val.Type() != cty.String {
			b.src.failed[attr] = true
			if !vd.HasErrors() {
				b.l.report(kv.Value.Range(), fmt.Sprintf("%s: the label for %q must be a string", what, k.AsString()), "")
			}
			continue
		}
		v := val.AsString()
		if strings.TrimSpace(v) == "" {
			b.src.failed[attr] = true
			b.l.report(kv.Value.Range(), fmt.Sprintf("%s: the label for %q is empty", what, k.AsString()), "")
			continue
		}
		out[k.AsString()] = v
		b.src.keys[prefix+k.AsString()] = kv.Key.Range()
	}
	return out, true
}

// stageLabels decodes an object of stage = { language = label }, e.g.
// stage_labels = { test_drive = { en = "Test drive", ru = "Тест-драйв" } }.
// The range of each stage key is kept in src.keys under "stage:" + stage,
// and of each language key under "stage:" + stage + ":" + language.
func (b *block) stageLabels(attr string, dst *map[string]map[string]string) {
	a, present := b.attrs[attr]
	if !present {
		return
	}
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		b.fail(attr, fmt.Sprintf("%s must be an object of stage = { language = label }", attr),
			fmt.Sprintf(`e.g. %s = { test_drive = { en = "Test drive", ru = "Тест-драйв" } }`, attr))
		return
	}
	out := make(map[string]map[string]string, len(pairs))
	for _, kv := range pairs {
		stage := hcl.ExprAsKeyword(kv.Key)
		if stage == "" {
			k, kd := kv.Key.Value(nil)
			if kd.HasErrors() || k.IsNull() || !k.IsWhollyKnown() || k.Type() != cty.String {
				b.src.failed[attr] = true
				b.l.report(kv.Key.Range(), fmt.Sprintf("%s: a key must be a stage name", attr), `e.g. test_drive = { en = "Test drive" }`)
				continue
			}
			stage = k.AsString()
		}
		b.src.keys["stage:"+stage] = kv.Key.Range()
		m, ok := b.labelsExpr(attr, kv.Value, fmt.Sprintf("%s of stage %q", attr, stage), "stage:"+stage+":")
		if ok {
			out[stage] = m
		}
	}
	*dst = out
}

// literal evaluates an element of a list attribute as a string.
func (l *loader) literal(e hcl.Expression, attr string) (string, bool) {
	v, diags := e.Value(nil)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return "", false
	}
	if !v.IsNull() && v.IsWhollyKnown() {
		if s, err := convert.Convert(v, cty.String); err == nil {
			return s.AsString(), true
		}
	}
	l.report(e.Range(), fmt.Sprintf("%s must be a list of strings", attr), "")
	return "", false
}

// expr decodes an attribute holding an expr source string.
func (b *block) expr(attr string) *Expr {
	a, present := b.attrs[attr]
	if !present {
		return nil
	}
	x := b.l.exprOf(a.Expr, attr)
	if x == nil {
		b.src.failed[attr] = true
	}
	return x
}

// exprOf decodes an expr source string. It must be a string in the HCL
// source, not a number or bool that HCL would convert, because the expr
// compiler reads it as code.
func (l *loader) exprOf(e hcl.Expression, what string) *Expr {
	v, diags := e.Value(nil)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return nil
	}
	if v.IsNull() || !v.IsWhollyKnown() || v.Type() != cty.String {
		l.report(e.Range(), fmt.Sprintf("%s must be a string", what),
			`it is an expr expression in quotes, e.g. "record.amount > 100"`)
		return nil
	}
	return &Expr{Source: v.AsString(), Range: contentRange(e)}
}

// contentRange is the range of a string's contents: a quoted template's
// range without its quotes, or a heredoc's body. A quoted string is on one
// line; a heredoc never is.
func contentRange(e hcl.Expression) hcl.Range {
	t, ok := e.(*hclsyntax.TemplateExpr)
	if !ok {
		return e.Range()
	}
	r := t.SrcRange
	if r.Start.Line == r.End.Line && r.End.Byte-r.Start.Byte >= 2 {
		r.Start.Byte++
		r.Start.Column++
		r.End.Byte--
		r.End.Column--
		return r
	}
	if len(t.Parts) > 0 {
		return hcl.RangeBetween(t.Parts[0].Range(), t.Parts[len(t.Parts)-1].Range())
	}
	return r
}

// object decodes an object attribute into plain Go values.
func (b *block) object(attr string) map[string]any {
	v, ok := b.value(attr)
	if !ok {
		return nil
	}
	if !v.Type().IsObjectType() && !v.Type().IsMapType() {
		b.fail(attr, fmt.Sprintf("%s must be an object", attr), fmt.Sprintf("write it in braces, e.g. %s = { key = \"value\" }", attr))
		return nil
	}
	m, _ := goValue(v).(map[string]any)
	return m
}

// goValue converts a known cty value to plain Go: string, int64 for whole
// numbers that fit, float64 for other numbers, bool, []any, map[string]any.
func goValue(v cty.Value) any {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Bool:
		return v.True()
	case t == cty.Number:
		return goNumber(v.AsBigFloat())
	case t.IsObjectType() || t.IsMapType():
		m := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			m[k.AsString()] = goValue(e)
		}
		return m
	case t.IsTupleType() || t.IsListType() || t.IsSetType():
		s := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			s = append(s, goValue(e))
		}
		return s
	}
	return nil
}

// goNumber is int64 for a whole number that fits, else float64.
func goNumber(f *big.Float) any {
	if f.IsInt() {
		if i, acc := f.Int64(); acc == big.Exact {
			return i
		}
	}
	x, _ := f.Float64()
	return x
}

// decodeFile decodes the top-level blocks of one file.
func (l *loader) decodeFile(f *hcl.File) {
	content, diags := f.Body.Content(rootSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return
	}
	for _, hb := range content.Blocks {
		switch hb.Type {
		case "server":
			l.decodeServer(hb)
		case "locale":
			l.decodeLocale(hb)
		case "entity":
			l.decodeEntity(hb)
		case "pipeline":
			l.decodePipeline(hb)
		case "role":
			l.decodeRole(hb)
		case "plugin":
			l.decodePlugin(hb)
		case "rule":
			l.decodeRule(hb)
		case "test":
			l.decodeTest(hb)
		case "smtp":
			l.decodeSMTP(hb)
		case "workflow":
			l.decodeWorkflow(hb)
		}
	}
}

// once reports a second block of a kind that may appear only once.
func (l *loader) once(hb *hcl.Block, first **src) bool {
	if *first == nil {
		return false
	}
	l.report(hb.DefRange, fmt.Sprintf("duplicate %s block", hb.Type), "first defined at "+where((*first).def))
	return true
}

func (l *loader) decodeServer(hb *hcl.Block) {
	if l.once(hb, &l.serverSrc) {
		return
	}
	b, _ := l.open(hb, serverSchema)
	l.serverSrc = b.src
	s := &l.cfg.Server
	b.str("listen", &s.Listen)
	b.str("data_dir", &s.DataDir)
	b.str("public_url", &s.PublicURL)
	b.str("store", &s.Store)
	b.str("postgres_url_env", &s.PostgresURLEnv)
	if b.src.has("postgres_url") {
		b.fail("postgres_url", "the PostgreSQL URL must not be in the configuration",
			`it carries the password: put it in an environment variable and name that, e.g. postgres_url_env = "CRM_POSTGRES_URL"`)
	}
	b.str("node_id", &s.NodeID)
	var ttl string
	b.str("lease", &ttl)
	if ttl != "" {
		d, err := time.ParseDuration(ttl)
		if err != nil || d < 3*time.Second || d > 10*time.Minute {
			b.fail("lease", fmt.Sprintf("lease %q is not a duration from 3s to 10m", ttl), `e.g. lease = "15s": another node takes over a dead node's work this long after it died`)
		} else {
			s.Lease = d
		}
	}
}

func (l *loader) decodeLocale(hb *hcl.Block) {
	if l.once(hb, &l.localeSrc) {
		return
	}
	b, _ := l.open(hb, localeSchema)
	l.localeSrc = b.src
	lc := &l.cfg.Locale
	b.list("languages", &lc.Languages)
	b.str("default", &lc.Default)
	b.str("calendar", &lc.Calendar)
	b.str("currency", &lc.Currency)
	b.str("timezone", &lc.Timezone)
	b.str("region", &lc.Region)
	if !b.src.has("default") && len(lc.Languages) > 0 {
		lc.Default = lc.Languages[0]
	}
}

func (l *loader) decodeEntity(hb *hcl.Block) {
	b, blocks := l.open(hb, entitySchema)
	e := &Entity{Name: hb.Labels[0], Range: hb.DefRange}
	b.str("label", &e.Label)
	b.labels("labels", &e.Labels)
	for _, fb := range blocks {
		e.Fields = append(e.Fields, l.decodeField(fb))
	}
	l.src[e] = b.src
	l.entities = append(l.entities, e)
}

func (l *loader) decodeField(hb *hcl.Block) *Field {
	b, _ := l.open(hb, fieldSchema)
	f := &Field{Name: hb.Labels[0], Range: hb.DefRange}
	b.str("type", &f.Type)
	b.str("label", &f.Label)
	b.labels("labels", &f.Labels)
	b.boolean("required", &f.Required)
	b.boolean("unique", &f.Unique)
	b.boolean("index", &f.Index)
	b.boolean("search", &f.Search)
	b.list("values", &f.Values)
	b.str("to", &f.To)
	f.Index = f.Index || f.Unique
	l.src[f] = b.src
	return f
}

func (l *loader) decodePipeline(hb *hcl.Block) {
	b, _ := l.open(hb, pipelineSchema)
	p := &Pipeline{Name: hb.Labels[0], Range: hb.DefRange}
	b.str("entity", &p.Entity)
	b.list("stages", &p.Stages)
	b.str("label", &p.Label)
	b.labels("labels", &p.Labels)
	b.stageLabels("stage_labels", &p.StageLabels)
	l.src[p] = b.src
	l.cfg.Pipelines = append(l.cfg.Pipelines, p)
}

func (l *loader) decodeRole(hb *hcl.Block) {
	b, _ := l.open(hb, roleSchema)
	r := &Role{Name: hb.Labels[0], Range: hb.DefRange}
	b.list("read", &r.Read)
	b.list("write", &r.Write)
	b.boolean("own_only", &r.OwnOnly)
	l.src[r] = b.src
	l.cfg.Roles = append(l.cfg.Roles, r)
}

func (l *loader) decodePlugin(hb *hcl.Block) {
	b, _ := l.open(hb, pluginSchema)
	p := &Plugin{Name: hb.Labels[0], Range: hb.DefRange}
	b.str("path", &p.Path)
	b.str("sha256", &p.SHA256)
	p.SHA256 = strings.ToLower(p.SHA256)
	b.list("read", &p.Read)
	b.list("write", &p.Write)
	b.list("entities", &p.Entities)
	p.Config = b.object("config")
	l.src[p] = b.src
	l.cfg.Plugins = append(l.cfg.Plugins, p)
}

func (l *loader) decodeRule(hb *hcl.Block) {
	b, blocks := l.open(hb, ruleSchema)
	r := &Rule{Name: hb.Labels[0], Range: hb.DefRange}
	b.list("on", &r.On)
	b.str("every", &r.Every)
	b.str("cron", &r.Cron)
	b.str("for_each", &r.ForEach)
	r.Filter = b.expr("filter")
	r.When = b.expr("when")
	for _, ab := range blocks {
		r.Actions = append(r.Actions, l.decodeAction(ab))
	}
	l.src[r] = b.src
	l.cfg.Rules = append(l.cfg.Rules, r)
}

// decodeAction decodes an action block: every attribute is an argument
// holding an expr source.
func (l *loader) decodeAction(hb *hcl.Block) *Action {
	a := &Action{Kind: hb.Labels[0], Args: map[string]*Expr{}, Range: hb.DefRange}
	attrs, diags := hb.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	for name, attr := range attrs {
		if x := l.exprOf(attr.Expr, fmt.Sprintf("argument %s", name)); x != nil {
			a.Args[name] = x
		}
	}
	l.src[a] = &src{def: hb.DefRange, name: hb.LabelRanges[0]}
	return a
}
