package plugins

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
)

// The host enforces each plugin's manifest before the plugin is called:
// an action call must name a declared action, give its required arguments
// with values of their declared types and no other argument, and be made
// on a record of an entity the action declares (when it declares any); a
// webhook request must match a declared route and its method. A call that
// does not is refused with an *InvalidCall and never reaches the plugin.
// Every caller (the API, the rules, the SDK's test kit) goes through
// Host.Invoke and Host.HandleWebhook, so every caller gets the same check.

// Codes of InvalidCall.
const (
	// CodeInvalidArgument: an argument is missing, of the wrong type,
	// unknown, or the call is on a record of an entity the action does not
	// work on (Field "entity").
	CodeInvalidArgument = "invalid_argument"
	// CodeUnknownAction: the plugin's manifest declares no such action.
	CodeUnknownAction = "unknown_action"
	// CodeNoRoute: no webhook route of the manifest matches the path.
	CodeNoRoute = "no_route"
	// CodeMethodNotAllowed: a webhook route matches the path, but not with
	// the request's method; Allow lists the declared methods.
	CodeMethodNotAllowed = "method_not_allowed"
)

// InvalidCall is a call the host refused before it reached the plugin,
// because it does not match what the plugin's manifest declares. It is the
// caller's mistake: the API answers it with a 4xx, a rule's run fails
// without retries.
type InvalidCall struct {
	Plugin string
	// Action is the action called; "" for a webhook request.
	Action  string
	Code    string
	Message string
	// Field names what is wrong: "args.NAME" for an argument, "entity"
	// for the record's entity; "" for the call as a whole.
	Field string
	// Allow are the methods of the matched webhook route, for
	// CodeMethodNotAllowed.
	Allow []string
}

// Error says which plugin's manifest the call broke, and how.
func (e *InvalidCall) Error() string {
	what := fmt.Sprintf("plugin %q", e.Plugin)
	if e.Action != "" {
		what = fmt.Sprintf("%s.%s", e.Plugin, e.Action)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", what, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", what, e.Message)
}

// checkCall checks an action call against the manifest and returns its
// arguments in their API JSON form (a date as "2026-03-21", money as
// {"amount", "currency"}, a phone number in E.164), as a record's values
// are normalised; an "object" argument is passed on as it is.
func checkCall(plugin string, man *Manifest, sch *schema.Schema, c Call) (map[string]any, error) {
	refuse := func(code, field, format string, args ...any) error {
		return &InvalidCall{Plugin: plugin, Action: c.Action, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	spec := man.Action(c.Action)
	if spec == nil {
		names := make([]string, 0, len(man.Actions))
		for _, a := range man.Actions {
			names = append(names, a.Name)
		}
		return nil, refuse(CodeUnknownAction, "", "the plugin has no action %q%s", c.Action, config.DidYouMean(c.Action, names))
	}
	if len(spec.Entities) > 0 {
		on := strings.Join(spec.Entities, ", ")
		switch {
		case c.Record == nil:
			return nil, refuse(CodeInvalidArgument, "entity", "the action works on a record of %s; name one (entity and id)", on)
		case !slices.Contains(spec.Entities, c.Record.Entity):
			return nil, refuse(CodeInvalidArgument, "entity", "the action works on a record of %s, not of %s", on, c.Record.Entity)
		}
	}
	declared := make([]string, 0, len(spec.Args))
	for _, a := range spec.Args {
		declared = append(declared, a.Name)
	}
	given := make([]string, 0, len(c.Args))
	for name := range c.Args {
		given = append(given, name)
	}
	sort.Strings(given)
	for _, name := range given {
		if !slices.Contains(declared, name) {
			hint := config.DidYouMean(name, declared)
			if hint == "" {
				hint = "; it takes " + takes(declared)
			}
			return nil, refuse(CodeInvalidArgument, "args."+name, "the action has no argument %q%s", name, hint)
		}
	}
	out := make(map[string]any, len(c.Args))
	for _, a := range spec.Args {
		v, ok := c.Args[a.Name]
		if !ok || v == nil {
			if a.Required {
				return nil, refuse(CodeInvalidArgument, "args."+a.Name, "the argument %q is required (%s)", a.Name, a.Type)
			}
			if ok {
				out[a.Name] = nil
			}
			continue
		}
		norm, err := checkArg(sch, a, v)
		if err != nil {
			return nil, refuse(CodeInvalidArgument, "args."+a.Name, "%s", err.Error())
		}
		out[a.Name] = norm
	}
	return out, nil
}

// checkArg checks one argument's value against its declared type and
// returns it in its API JSON form.
func checkArg(sch *schema.Schema, a Arg, v any) (any, error) {
	if a.Type == "object" {
		if _, ok := v.(map[string]any); !ok {
			return nil, fmt.Errorf("expected a JSON object, got %s", kindOf(v))
		}
		return v, nil
	}
	cf := &config.Field{Name: a.Name, Type: a.Type, Values: a.Values, To: a.To}
	var f *schema.Field
	if sch != nil {
		var err error
		if f, err = sch.ArgField(cf); err != nil {
			return nil, fmt.Errorf("the manifest declares it wrongly: %w", err)
		}
	} else {
		f = &schema.Field{Name: a.Name, Type: a.Type, Values: a.Values, To: a.To}
	}
	norm, err := f.NormalizeValue(v)
	if err != nil {
		var fe *schema.FieldError
		if errors.As(err, &fe) {
			return nil, errors.New(fe.Message)
		}
		return nil, err
	}
	return f.EncodeValue(norm), nil
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case nil:
		return "null"
	}
	return "a number"
}

func takes(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// routes are a manifest's webhook routes, matched as net/http's ServeMux
// matches its patterns.
type routes struct {
	mux *http.ServeMux
}

// route is the handler a path's pattern maps to: the declared methods of
// that path ("" for any).
type route struct {
	path    string
	methods []string
}

func (route) ServeHTTP(http.ResponseWriter, *http.Request) {}

// newRoutes builds the matcher of a manifest's webhook routes; an error
// names a path that is not a valid pattern, or two paths that overlap.
func newRoutes(hooks []Webhook) (rs *routes, err error) {
	byPath := map[string]*route{}
	var order []string
	for _, w := range hooks {
		r := byPath[w.Path]
		if r == nil {
			r = &route{path: w.Path}
			byPath[w.Path] = r
			order = append(order, w.Path)
		}
		r.methods = append(r.methods, strings.ToUpper(w.Method))
	}
	rs = &routes{mux: http.NewServeMux()}
	for _, p := range order {
		if err := handle(rs.mux, p, byPath[p]); err != nil {
			return nil, fmt.Errorf("%w: webhook route %q: %v", ErrManifest, p, err)
		}
	}
	return rs, nil
}

// handle registers a pattern, turning ServeMux's panic on a bad or
// conflicting pattern into an error.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// check matches a webhook request against the routes.
func (rs *routes) check(plugin string, r WebhookRequest) error {
	req := &http.Request{Method: r.Method, URL: &url.URL{Path: r.Path}, Host: "hooks"}
	h, _ := rs.mux.Handler(req)
	rt, ok := h.(*route)
	if !ok {
		return &InvalidCall{Plugin: plugin, Code: CodeNoRoute,
			Message: fmt.Sprintf("no webhook route of the plugin matches %s", r.Path)}
	}
	if slices.Contains(rt.methods, "") || slices.Contains(rt.methods, r.Method) ||
		(r.Method == http.MethodHead && slices.Contains(rt.methods, http.MethodGet)) {
		return nil
	}
	allow := slices.Sorted(slices.Values(rt.methods))
	return &InvalidCall{Plugin: plugin, Code: CodeMethodNotAllowed, Allow: allow,
		Message: fmt.Sprintf("the webhook route %s takes %s, not %s", rt.path, strings.Join(allow, ", "), r.Method)}
}
