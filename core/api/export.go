package api

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// exportPage is how many records an export reads at a time: its memory is
// that of one page, however long the list.
const exportPage = 500

// exportPageTimeout is how long the client has to take one page of an
// export.
const exportPageTimeout = time.Minute

// exportRecords: GET /api/v1/records/{entity}/export?filter=&sort=&columns=a,b
// streams the list as text/csv (UTF-8 with a byte order mark), a header row of field names then a row per
// record: money as two columns (FIELD.amount, FIELD.currency), refs, users
// and files as ids, dates ISO 8601, datetimes RFC 3339 in UTC. Authorised as
// the list is; problems with the parameters are answered before the first
// byte.
func (s *Server) exportRecords(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	a := records.UserActor(p)
	ent, err := s.records.Entity(a, r.PathValue("entity"), false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cols, err := exportColumns(ent, q.Get("columns"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req := records.ListRequest{Entity: ent.Name, Filter: q.Get("filter"), Sort: q.Get("sort"), Limit: exportPage}
	page, err := s.records.List(r.Context(), a, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, ent.Name, time.Now().UTC().Format("20060102-150405")))
	// A byte order mark first: without it Excel reads UTF-8 as the
	// system's code page, and Armenian, Persian or Russian text as noise.
	_, _ = io.WriteString(w, "\ufeff")
	cw := csv.NewWriter(w)
	_ = cw.Write(exportHeader(cols))
	// A long export outlasts the server's write timeout: each page gets
	// its own deadline, and goes out as soon as it is written.
	rc := http.NewResponseController(w)
	for {
		_ = rc.SetWriteDeadline(time.Now().Add(exportPageTimeout))
		for _, rec := range page.Items {
			if err := cw.Write(exportRow(cols, rec)); err != nil {
				return // the client went away
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return // the client went away
		}
		_ = rc.Flush()
		if page.NextCursor == "" || r.Context().Err() != nil {
			return
		}
		req.Cursor = page.NextCursor
		if page, err = s.records.List(r.Context(), a, req); err != nil {
			// The status is sent; all that is left is to say so in the log
			// and cut the file short.
			s.log.WarnContext(r.Context(), "export cut short", "entity", ent.Name, "err", err)
			return
		}
	}
}

// exportColumns resolves the columns parameter ("" for id, every declared
// field, owner, created_at and updated_at).
func exportColumns(ent *schema.Entity, param string) ([]*schema.Field, error) {
	if strings.TrimSpace(param) == "" {
		cols := []*schema.Field{ent.Lookup(schema.FieldID)}
		cols = append(cols, ent.Fields...)
		for _, n := range []string{schema.FieldOwner, schema.FieldCreatedAt, schema.FieldUpdatedAt} {
			cols = append(cols, ent.Lookup(n))
		}
		return cols, nil
	}
	var cols []*schema.Field
	seen := map[string]bool{}
	for _, name := range strings.Split(param, ",") {
		name = strings.TrimSpace(name)
		f := ent.Lookup(name)
		if f == nil {
			names := ent.FieldNames()
			for _, sf := range ent.SystemFields() {
				names = append(names, sf.Name)
			}
			return nil, &store.QueryError{Param: "columns", Message: fmt.Sprintf("%s has no field %q%s", ent.Name, name, config.DidYouMean(name, names))}
		}
		if !seen[name] {
			seen[name] = true
			cols = append(cols, f)
		}
	}
	return cols, nil
}

func exportHeader(cols []*schema.Field) []string {
	out := make([]string, 0, len(cols))
	for _, f := range cols {
		if f.Type == config.TypeMoney {
			out = append(out, f.Name+".amount", f.Name+".currency")
			continue
		}
		out = append(out, f.Name)
	}
	return out
}

func exportRow(cols []*schema.Field, rec *store.Record) []string {
	out := make([]string, 0, len(cols))
	for _, f := range cols {
		v := systemValue(rec, f.Name)
		if !f.System {
			v = rec.Values[f.Name]
		}
		if f.Type == config.TypeMoney {
			if m, ok := v.(schema.Money); ok {
				out = append(out, schema.FormatMoney(m), m.Currency)
			} else {
				out = append(out, "", "")
			}
			continue
		}
		out = append(out, cell(f, v))
	}
	return out
}

// systemValue is a record's value of a system field.
func systemValue(rec *store.Record, name string) any {
	switch name {
	case schema.FieldID:
		return rec.ID
	case schema.FieldEntity:
		return rec.Entity
	case schema.FieldVersion:
		return rec.Version
	case schema.FieldCreatedAt:
		return rec.CreatedAt
	case schema.FieldUpdatedAt:
		return rec.UpdatedAt
	case schema.FieldCreatedBy:
		return rec.CreatedBy
	case schema.FieldOwner:
		return rec.Owner
	}
	return nil
}

// cell is one value as CSV text. Free text that a spreadsheet would take
// for a formula (it starts with = + - @ or a tab or carriage return) gets a
// leading apostrophe, the usual guard against CSV injection.
func cell(f *schema.Field, v any) string {
	if v == nil {
		return ""
	}
	switch x := f.EncodeValue(v).(type) {
	case string:
		if (f.Type == config.TypeString || f.Type == config.TypeText) && x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return ""
		}
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}
