package store

import "github.com/crmkit/crm/core/schema"

// EncodeRecord is the stored form of a record, for tests of MatchRaw.
func EncodeRecord(ent *schema.Entity, r *Record) ([]byte, error) { return encodeRecord(ent, r) }

// DecodeRecord reads a stored form as the store does.
func DecodeRecord(ent *schema.Entity, id string, b []byte) (*Record, error) {
	return decodeRecord(ent, id, b)
}

// Budgeted reports whether a filter runs instrumented on scans (false for
// a filter that cannot exceed a budget).
func (f *Filter) Budgeted() bool { return f.fast == nil }
