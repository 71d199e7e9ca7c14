package store

import (
	"context"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
)

// APIForm is a file's metadata as the API shows it.
func (f *File) APIForm() map[string]any {
	return map[string]any{"id": f.ID, "name": f.Name, "size": f.Size, "content_type": f.ContentType, "sha256": f.SHA256}
}

// APIForm is a record as the API shows it, and as webhooks and plugins get
// it: system fields and field values side by side, flat, each value in its
// JSON form; a file field shows the file's metadata, read from st (only
// its id when st is nil or the file is gone).
func APIForm(ctx context.Context, st Store, ent *schema.Entity, r *Record) map[string]any {
	out := ent.EncodeValues(r.Values)
	for _, f := range ent.Fields {
		id, ok := r.Values[f.Name].(string)
		if f.Type != config.TypeFile || !ok {
			continue
		}
		out[f.Name] = map[string]any{"id": id}
		if st == nil {
			continue
		}
		if meta, err := st.FileInfo(ctx, id); err == nil {
			out[f.Name] = meta.APIForm()
		}
	}
	out[schema.FieldID], out[schema.FieldEntity], out[schema.FieldVersion] = r.ID, r.Entity, r.Version
	out[schema.FieldCreatedAt], out[schema.FieldUpdatedAt] = r.CreatedAt, r.UpdatedAt
	out[schema.FieldCreatedBy], out[schema.FieldOwner] = r.CreatedBy, r.Owner
	return out
}
