package api

import (
	"net/http"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/schema"
)

// openAPI describes every route, with each entity's fields from the loaded
// schema, so a partner can generate a client for a customised instance.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	schemas := map[string]any{
		"Error": obj(map[string]any{"error": obj(map[string]any{
			"code": str(), "message": str(), "field": str(), "line": integer(), "column": integer(),
		})}),
		"Money": obj(map[string]any{"amount": map[string]any{"type": "string", "pattern": `^-?\d+(\.\d+)?$`}, "currency": map[string]any{"type": "string", "pattern": "^[A-Z]{3}$"}}),
		"File":  obj(map[string]any{"id": str(), "name": str(), "size": integer(), "content_type": str(), "sha256": str()}),
		"HistoryEntry": obj(map[string]any{"at": dateTime(), "by": str(), "action": str(), "version": integer(),
			"changes": map[string]any{"type": "object", "additionalProperties": obj(map[string]any{"old": map[string]any{}, "new": map[string]any{}})}}),
	}
	paths := map[string]any{
		"/healthz":             map[string]any{"get": op("Health", nil, "200", nil)},
		"/metrics":             map[string]any{"get": op("Prometheus metrics (admin)", nil, "200", nil)},
		"/api/v1/admin/backup": map[string]any{"get": op("A backup of the whole store, as crm backup writes it: gzip-compressed JSON lines (admin; docs/operations.md)", nil, "200", nil)},
		"/api/v1/auth/login":   map[string]any{"post": op("Log in", obj(map[string]any{"email": str(), "password": str()}), "200", obj(map[string]any{"token": str(), "user": map[string]any{"type": "object"}}))},
		"/api/v1/auth/logout":  map[string]any{"post": op("Log out (revokes the session or token used)", nil, "204", nil)},
		"/api/v1/auth/me":      map[string]any{"get": op("The caller and their permissions", nil, "200", nil)},
		"/api/v1/auth/tokens":  map[string]any{"get": op("List your tokens", nil, "200", nil), "post": op("Create an API token", obj(map[string]any{"name": str(), "ttl": str()}), "201", nil)},
		"/api/v1/users":        map[string]any{"get": op("List users (admin)", nil, "200", nil), "post": op("Create a user (admin)", obj(map[string]any{"email": str(), "name": str(), "role": str(), "password": str()}), "201", nil)},
		"/api/v1/schema":       map[string]any{"get": op("Entities and fields", nil, "200", nil)},
		"/api/v1/files":        map[string]any{"post": op("Upload a file (multipart, part \"file\")", nil, "201", ref("File"))},
		"/api/v1/files/{id}":   map[string]any{"get": op("Download a file", nil, "200", nil)},
		"/api/v1/openapi.json": map[string]any{"get": op("This document", nil, "200", nil)},
	}
	paths["/api/v1/auth/tokens/{id}"] = map[string]any{"delete": op("Revoke a token", nil, "204", nil)}
	paths["/api/v1/rules"] = map[string]any{"get": op("Rules with their run counts and last error (admin)", nil, "200", nil)}
	paths["/api/v1/rules/{name}/runs"] = map[string]any{"get": op("A rule's recorded runs, newest first (admin)", nil, "200", nil)}
	paths["/api/v1/rules/{name}/runs/{seq}/retry"] = map[string]any{"post": op("Run a failed rule run again (admin)", nil, "200", nil)}
	paths["/api/v1/config/status"] = map[string]any{"get": op("The configuration in force and the last reload's diagnostics (admin)", nil, "200", nil)}
	paths["/api/v1/search"] = map[string]any{"get": op("Find records by name, phone, e-mail (?q=...&entity=contact&limit=20), among the entities you may read", nil, "200", nil)}
	paths["/api/v1/notifications"] = map[string]any{"get": op("Your in-app notifications, newest first (?unread=true&limit=&cursor=); unread counts all unread", nil, "200",
		obj(map[string]any{"items": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}, "unread": integer(), "next_cursor": str()}))}
	paths["/api/v1/notifications/read"] = map[string]any{"post": op("Mark notifications read: those of ids, or all with no body", obj(map[string]any{"ids": map[string]any{"type": "array", "items": str()}}), "204", nil)}
	paths["/api/v1/notifications/{id}/read"] = map[string]any{"post": op("Mark one notification read", nil, "204", nil)}
	paths["/api/v1/ws"] = map[string]any{"get": op("Websocket of live views and notifications (see docs/websocket.md); an Origin must be this server's", nil, "101", nil)}
	paths["/api/v1/plugins"] = map[string]any{"get": op("Plugins with state, version, restarts and latencies", nil, "200", nil)}
	paths["/api/v1/plugins/{name}"] = map[string]any{"get": op("A plugin's status and manifest", nil, "200", nil)}
	paths["/api/v1/plugins/{name}/restart"] = map[string]any{"post": op("Restart a plugin (admin)", nil, "200", nil)}
	paths["/api/v1/plugins/{name}/actions/{action}"] = map[string]any{"post": op("Call a plugin action on a record as the calling user",
		obj(map[string]any{"entity": str(), "id": str(), "args": map[string]any{"type": "object"}}), "200", obj(map[string]any{"result": map[string]any{}}))}
	s.uiPaths(paths)
	for _, e := range s.opts.Schema.Entities() {
		name := "Record_" + e.Name
		props := map[string]any{
			"id": str(), "entity": str(), "version": integer(), "created_at": dateTime(),
			"updated_at": dateTime(), "created_by": str(), "owner": str(),
		}
		input := map[string]any{"owner": str()}
		var required []string
		for _, f := range e.Fields {
			props[f.Name] = fieldSchema(f)
			input[f.Name] = fieldSchema(f)
			if f.Required {
				required = append(required, f.Name)
			}
		}
		schemas[name] = map[string]any{"type": "object", "description": e.Label, "properties": props}
		in := map[string]any{"type": "object", "properties": input, "additionalProperties": false}
		if len(required) > 0 {
			in["required"] = required
		}
		schemas[name+"_input"] = in
		list := obj(map[string]any{"items": map[string]any{"type": "array", "items": ref(name)}, "next_cursor": str(),
			"total": integer(), "total_exact": map[string]any{"type": "boolean"},
			"totals": map[string]any{"type": "array", "items": obj(map[string]any{"group": map[string]any{}, "currency": str(), "sum": str(), "count": integer()})}})
		base := "/api/v1/records/" + e.Name
		listOp := op("List "+e.Name+" records", nil, "200", list)
		listOp["parameters"] = []any{
			param("filter", "an expr expression over the fields"), param("sort", "fields, - for descending: -created_at,name"),
			param("limit", "page size, at most 1000"), param("cursor", "next_cursor of the previous page"),
			param("count", "true adds total (and total_exact, false for an estimate) of the records that match"),
			param("totals", "a money field: adds totals, its count and exact sum per currency"),
			param("group", "a field (enum, bool, ref, user, owner, pipeline, stage): totals per value of it"),
		}
		paths[base] = map[string]any{"get": listOp, "post": op("Create a "+e.Name, ref(name+"_input"), "201", ref(name))}
		paths[base+"/{id}"] = map[string]any{
			"get":    op("Read a "+e.Name, nil, "200", ref(name)),
			"patch":  op("Change fields of a "+e.Name+" (If-Match: version)", ref(name+"_input"), "200", ref(name)),
			"delete": op("Delete a "+e.Name+" (?force=true clears references; admin)", nil, "204", nil),
		}
		paths[base+"/{id}/history"] = map[string]any{"get": op("History of a "+e.Name, nil, "200",
			obj(map[string]any{"items": map[string]any{"type": "array", "items": ref("HistoryEntry")}}))}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "crm", "version": s.opts.Version},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
			},
		},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}},
	})
}

func fieldSchema(f *schema.Field) map[string]any {
	var out map[string]any
	switch f.Type {
	case config.TypeInt:
		out = integer()
	case config.TypeDecimal:
		out = map[string]any{"type": "string", "pattern": `^-?\d+(\.\d+)?$`}
	case config.TypeMoney:
		out = ref("Money")
	case config.TypeBool:
		out = map[string]any{"type": "boolean"}
	case config.TypeDate:
		out = map[string]any{"type": "string", "format": "date"}
	case config.TypeDateTime:
		out = dateTime()
	case config.TypeEnum:
		out = map[string]any{"type": "string", "enum": f.Values}
	case config.TypeEmail:
		out = map[string]any{"type": "string", "format": "email"}
	case config.TypeURL:
		out = map[string]any{"type": "string", "format": "uri"}
	case config.TypeFile:
		out = map[string]any{"oneOf": []any{str(), ref("File")}}
	case config.TypeObject:
		out = map[string]any{"type": "object"}
	default:
		out = str()
	}
	if f.Label != "" {
		out["description"] = f.Label
	}
	return out
}

func str() map[string]any      { return map[string]any{"type": "string"} }
func integer() map[string]any  { return map[string]any{"type": "integer"} }
func dateTime() map[string]any { return map[string]any{"type": "string", "format": "date-time"} }
func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}
func obj(props map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": props}
}
func param(name, desc string) map[string]any {
	return map[string]any{"name": name, "in": "query", "description": desc, "schema": str()}
}

func op(summary string, body map[string]any, status string, resp map[string]any) map[string]any {
	o := map[string]any{"summary": summary}
	if body != nil {
		o["requestBody"] = map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": body}}}
	}
	r := map[string]any{"description": summary}
	if resp != nil {
		r["content"] = map[string]any{"application/json": map[string]any{"schema": resp}}
	}
	o["responses"] = map[string]any{status: r, "default": map[string]any{"description": "an error",
		"content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}}
	return o
}
