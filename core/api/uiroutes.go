package api

// uiRoutes registers the routes the web UI needs beyond the records API:
// the caller's profile and password, user and role administration, saved
// views, CSV export, bulk edit and the record timeline.
func (s *Server) uiRoutes(authed func(string, authedHandler)) {
	authed("PATCH /api/v1/auth/me", s.updateMe)
	authed("POST /api/v1/auth/password", s.changePassword)
	authed("GET /api/v1/users/directory", s.userDirectory)
	authed("PATCH /api/v1/users/{id}", s.adminOnly(s.updateUser))
	authed("GET /api/v1/roles", s.adminOnly(s.listRoles))
	authed("GET /api/v1/views", s.listViews)
	authed("POST /api/v1/views", s.createView)
	authed("GET /api/v1/views/{id}", s.getView)
	authed("PATCH /api/v1/views/{id}", s.updateView)
	authed("DELETE /api/v1/views/{id}", s.deleteView)
	authed("GET /api/v1/records/{entity}/export", s.exportRecords)
	authed("POST /api/v1/records/{entity}/bulk", s.bulkUpdate)
	authed("GET /api/v1/records/{entity}/{id}/timeline", s.timeline)
}

// uiPaths adds the routes of uiRoutes to the OpenAPI document.
func (s *Server) uiPaths(paths map[string]any) {
	me := paths["/api/v1/auth/me"].(map[string]any)
	me["patch"] = op("Change your name, language, calendar (\"\" for the locale's default) and phone extension (1-10 digits, \"\" for none)",
		obj(map[string]any{"name": str(), "language": str(), "calendar": map[string]any{"type": "string", "enum": []string{"gregorian", "jalali", ""}}, "extension": str()}), "200", nil)
	paths["/api/v1/auth/password"] = map[string]any{"post": op("Change your password; your other sessions end",
		obj(map[string]any{"current": str(), "new": str()}), "204", nil)}
	paths["/api/v1/users/{id}"] = map[string]any{"patch": op("Change a user (admin); disabling revokes its sessions and tokens",
		obj(map[string]any{"name": str(), "role": str(), "disabled": map[string]any{"type": "boolean"}, "password": str(), "extension": str()}), "200", nil)}
	paths["/api/v1/users/directory"] = map[string]any{"get": op("Every active user's id and name, for any signed-in user (user fields, assignees)", nil, "200",
		obj(map[string]any{"items": map[string]any{"type": "array", "items": obj(map[string]any{"id": str(), "name": str()})}}))}
	paths["/api/v1/roles"] = map[string]any{"get": op("Roles with what each may read and write (admin)", nil, "200",
		obj(map[string]any{"items": map[string]any{"type": "array", "items": obj(map[string]any{
			"name": str(), "read": map[string]any{"type": "array", "items": str()}, "write": map[string]any{"type": "array", "items": str()},
			"own_only": map[string]any{"type": "boolean"}, "admin": map[string]any{"type": "boolean"}})}}))}
	view := obj(map[string]any{"id": str(), "name": str(), "entity": str(), "filter": str(), "sort": str(),
		"columns": map[string]any{"type": "array", "items": str()}, "shared": map[string]any{"type": "boolean"},
		"owner": str(), "created_at": dateTime(), "updated_at": dateTime()})
	viewIn := obj(map[string]any{"name": str(), "entity": str(), "filter": str(), "sort": str(),
		"columns": map[string]any{"type": "array", "items": str()}, "shared": map[string]any{"type": "boolean"}})
	paths["/api/v1/views"] = map[string]any{
		"get":  op("Saved views you may see (?entity=): your own and the shared ones", nil, "200", obj(map[string]any{"items": map[string]any{"type": "array", "items": view}})),
		"post": op("Save a view (filter, sort and columns are checked)", viewIn, "201", view),
	}
	paths["/api/v1/views/{id}"] = map[string]any{
		"get":    op("A saved view you may see", nil, "200", view),
		"patch":  op("Change a saved view (its owner or an admin)", viewIn, "200", view),
		"delete": op("Delete a saved view (its owner or an admin)", nil, "204", nil),
	}
	paths["/api/v1/records/{entity}/export"] = map[string]any{"get": op("The list as CSV (?filter=&sort=&columns=a,b); money as FIELD.amount and FIELD.currency", nil, "200", nil)}
	paths["/api/v1/records/{entity}/{id}/timeline"] = map[string]any{"get": op("A record's changes and the records that reference it, newest first (?limit=&cursor=)", nil, "200",
		obj(map[string]any{"next_cursor": str(), "items": map[string]any{"type": "array", "items": obj(map[string]any{
			"kind": map[string]any{"type": "string", "enum": []string{"change", "record"}}, "at": dateTime(), "by": str(), "action": str(),
			"version": integer(), "changes": map[string]any{"type": "object"}, "entity": str(), "field": str(), "record": map[string]any{"type": "object"}})}}))}
	paths["/api/v1/records/{entity}/bulk"] = map[string]any{"post": op("Set fields on up to 500 records, each written with its own history entry",
		obj(map[string]any{"ids": map[string]any{"type": "array", "items": str(), "maxItems": MaxBulkIDs}, "set": map[string]any{"type": "object"}}), "200",
		obj(map[string]any{"updated": integer(), "errors": map[string]any{"type": "array", "items": obj(map[string]any{"id": str(), "error": obj(map[string]any{"code": str(), "message": str(), "field": str()})})}}))}
}
