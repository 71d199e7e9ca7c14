package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// recordJSON is the API form of a record.
func (s *Server) recordJSON(ctx context.Context, r *store.Record) map[string]any {
	return s.records.APIForm(ctx, r)
}

// listItems encodes the records of a page in their API form, each
// straight from its stored form where it can be (store.AppendAPIForm, the
// same bytes without the maps of recordJSON), all into one buffer.
func (s *Server) listItems(ctx context.Context, recs []*store.Record) ([]rawJSON, error) {
	items := make([]rawJSON, len(recs))
	buf := make([]byte, 0, 384*len(recs))
	for i, rec := range recs {
		start := len(buf)
		var ok bool
		if buf, ok = s.records.AppendAPIForm(buf, rec); !ok {
			if err := s.records.DecodeStored(rec); err != nil {
				return nil, err
			}
			var err error
			if buf, err = appendJSON(buf, s.recordJSON(ctx, rec)); err != nil {
				return nil, fmt.Errorf("encode %s %s: %w", rec.Entity, rec.ID, err)
			}
		}
		items[i] = buf[start:len(buf):len(buf)] // earlier items keep their bytes when buf grows
	}
	return items, nil
}

// readBody reads a JSON request body of at most MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, &schema.FieldError{Code: "invalid_json", Message: fmt.Sprintf("Content-Type must be application/json, not %q", ct)}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, &schema.FieldError{Code: "invalid_json", Message: "could not read the request body: " + err.Error()}
	}
	return body, nil
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	req := records.ListRequest{Entity: r.PathValue("entity"), Filter: q.Get("filter"), Sort: q.Get("sort"), Cursor: q.Get("cursor"), Stored: true}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("limit: %q is not a positive whole number", l), "limit")
			return
		}
		req.Limit = n
	}
	count, err := boolParam(q, "count")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := records.UserActor(p)
	page, err := s.records.List(r.Context(), a, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items, err := s.listItems(r.Context(), page.Items)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := map[string]any{"items": items, "next_cursor": page.NextCursor}
	if count {
		n, exact, err := s.records.Count(r.Context(), a, req.Entity, req.Filter)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out["total"], out["total_exact"] = n, exact
	}
	// totals=amount sums a money field per currency; group=stage per value
	// of a field too (group alone: the count per value).
	if q.Has("totals") || q.Has("group") {
		ts, err := s.records.Totals(r.Context(), a, records.TotalsRequest{Entity: req.Entity, Filter: req.Filter, Group: q.Get("group"), Sum: q.Get("totals")})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rows := make([]map[string]any, len(ts))
		for i, t := range ts {
			row := map[string]any{"count": t.Count}
			if q.Get("group") != "" {
				row["group"] = t.Group
			}
			if t.Currency != "" {
				row["currency"], row["sum"] = t.Currency, t.Sum
			}
			rows[i] = row
		}
		out["totals"] = rows
	}
	writeJSON(w, http.StatusOK, out)
}

// boolParam reads a true/false query parameter; absent is false.
func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &store.QueryError{Param: name, Message: fmt.Sprintf("%q is not true or false", v)}
	}
	return b, nil
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rec, err := s.records.Get(r.Context(), records.UserActor(p), r.PathValue("entity"), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(rec.Version, 10)))
	writeJSON(w, http.StatusOK, s.recordJSON(r.Context(), rec))
}

// decodeValues reads a POST or PATCH body into the values of a write, for
// an entity the caller may write.
func (s *Server) decodeValues(w http.ResponseWriter, r *http.Request, a records.Actor) (records.Values, error) {
	ent, err := s.records.Entity(a, r.PathValue("entity"), true)
	if err != nil {
		return records.Values{}, err
	}
	body, err := readBody(w, r)
	if err != nil {
		return records.Values{}, err
	}
	return records.Decode(ent, body)
}

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a := records.UserActor(p)
	values, err := s.decodeValues(w, r, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.records.Create(r.Context(), a, records.CreateRequest{Entity: r.PathValue("entity"), Values: values})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec := out.Record
	w.Header().Set("Location", "/api/v1/records/"+rec.Entity+"/"+rec.ID)
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(rec.Version, 10)))
	writeJSON(w, http.StatusCreated, s.recordJSON(r.Context(), rec))
}

// ifMatch reads an If-Match header: a version number, quoted or not.
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 1 {
		return 0, &store.QueryError{Param: "If-Match", Message: fmt.Sprintf("%q is not a record version", h)}
	}
	return v, nil
}

func (s *Server) updateRecord(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a := records.UserActor(p)
	version, err := ifMatch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	values, err := s.decodeValues(w, r, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.records.Update(r.Context(), a, records.UpdateRequest{
		Entity: r.PathValue("entity"), ID: r.PathValue("id"), Values: values, IfVersion: version,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(rec.Version, 10)))
	writeJSON(w, http.StatusOK, s.recordJSON(r.Context(), rec))
}

func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	version, err := ifMatch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	force := false
	if f := r.URL.Query().Get("force"); f != "" {
		force, err = strconv.ParseBool(f)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("force: %q is not true or false", f), "force")
			return
		}
	}
	_, err = s.records.Delete(r.Context(), records.UserActor(p), records.DeleteRequest{
		Entity: r.PathValue("entity"), ID: r.PathValue("id"), Force: force, IfVersion: version,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) history(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	entries, err := s.records.History(r.Context(), records.UserActor(p), r.PathValue("entity"), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]map[string]any, len(entries))
	for i, h := range entries {
		out[i] = map[string]any{"at": h.At, "by": h.By, "action": h.Action, "version": h.Version, "changes": h.Changes}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) getSchema(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var entities []map[string]any
	for _, e := range s.opts.Schema.Entities() {
		if !p.CanRead(e.Name) {
			continue
		}
		fields := make([]map[string]any, 0, len(e.Fields))
		for _, f := range e.Fields {
			fd := map[string]any{"name": f.Name, "label": f.Label, "type": f.Type,
				"required": f.Required, "unique": f.Unique, "index": f.Index}
			fd["labels"] = labelsJSON(f.Labels)
			if len(f.Values) > 0 {
				fd["values"] = f.Values
				fd["value_labels"] = valueLabelsJSON(f.Values, f.ValueLabels)
			}
			if f.To != "" {
				fd["to"] = f.To
			}
			fields = append(fields, fd)
		}
		var pipelines []map[string]any
		for _, pl := range s.opts.Schema.Pipelines(e.Name) {
			pipelines = append(pipelines, pipelineJSON(pl))
		}
		entities = append(entities, map[string]any{
			"name": e.Name, "label": e.Label, "labels": labelsJSON(e.Labels), "builtin": e.Builtin, "fields": fields,
			"pipelines": pipelines, "can_write": p.CanWrite(e.Name),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": entities, "locale": s.localeJSON()})
}
