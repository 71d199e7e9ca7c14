package tmpl_test

import (
	"context"
	"testing"

	"github.com/crmkit/crm/plugins/doctemplates/tmpl"
)

const letter = `<!doctype html>
<html><body dir="auto">
<p>Dear {{ contact.name }},</p>
<p title="{{ contact.name }}">Your deal {{ deal.title }} of {{ deal.amount | money }}.</p>
<ul>
  {{ for i, line in deal.lines }}
  <li>{{ i }}. {{ line.name }}: {{ line.price | money }}</li>
  {{ end }}
</ul>
{{ if deal.won }}<p>Won</p>{{ else }}<p>Open</p>{{ end }}
</body></html>
`

func TestHTMLRender(t *testing.T) {
	tp, err := tmpl.Parse("html", []byte(letter))
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Check(schema, funcs); err != nil {
		t.Fatal(err)
	}
	out, err := tp.Render(context.Background(), data(), funcs)
	if err != nil {
		t.Fatal(err)
	}
	want := `<!doctype html>
<html><body dir="auto">
<p>Dear Anna &amp; Co &lt;VIP&gt;,</p>
<p title="Anna &amp; Co &lt;VIP&gt;">Your deal Fleet renewal of 1500.50 AMD.</p>
<ul>
  <li>1. Sedan: 700.00 AMD</li>
  <li>2. Van: 100.50 AMD</li>
  <li>3. Service «gold»: 0.00 AMD</li>
</ul>
<p>Won</p>
</body></html>
`
	if string(out) != want {
		t.Errorf("Render:\n%s\nwant:\n%s", out, want)
	}
	ph := tp.Placeholders()
	if ph[0] != (tmpl.Placeholder{Expr: "contact.name", Where: "line 3 column 9"}) {
		t.Errorf("first placeholder = %+v", ph[0])
	}
}

// An unchecked template renders too, without types.
func TestHTMLRenderUnchecked(t *testing.T) {
	tp, err := tmpl.Parse("html", []byte(`{{ deal.title | upper }} {{ deal.amount | money }} {{ len(deal.lines) * 2 }}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := tp.Render(context.Background(), data(), funcs)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "FLEET RENEWAL 1500.50 AMD 6" {
		t.Errorf("Render = %q", out)
	}
}
