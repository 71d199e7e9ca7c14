package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/crmkit/crm/core/schema"
)

// DecodeRecord reads a record version of entity ent with the given id
// from the store's own encoding (EncodeRecord).
func DecodeRecord(ent *schema.Entity, id string, b []byte) (*Record, error) {
	return decodeRecord(ent, id, b)
}

// DecodeListed is DecodeRecord for a record another backend's List read:
// the record keeps b as its stored form, so that AppendAPIForm can write
// its API form straight from b, and its strings may share b's memory. b
// must not be changed afterwards.
func DecodeListed(ent *schema.Entity, id string, b []byte) (*Record, error) {
	return decodeOwned(ent, id, b)
}

// decodeRecord reads a stored record. Most stored records are read by a
// walk of their JSON that takes strings, integers and booleans as they are
// (the readers of the filter scan, scan.go) and hands every other value to
// schema.Entity.UnmarshalValues alone; anything unexpected (an unknown or
// differently cased envelope member, a member that is not of the shape
// encodeRecord writes) is left to decodeRecordJSON. On well-formed JSON the
// result is decodeRecordJSON's; malformed JSON inside a value the walk
// skips (a field the entity no longer has) may be read where encoding/json
// would refuse the whole record.
func decodeRecord(ent *schema.Entity, id string, b []byte) (*Record, error) {
	if rec, ok := decodeRecordFast(ent, id, b, false); ok {
		return rec, nil
	}
	return decodeRecordJSON(ent, id, b)
}

// decodeStored is decodeRecord for a list's reads, from a value Badger
// lends (valid only inside Item.Value): it copies the value once, lets the
// record's strings share that copy instead of allocating one each, and
// keeps the copy as the record's stored form (Page.Stored), from which
// AppendAPIForm writes the API JSON without the intermediate maps.
func decodeStored(ent *schema.Entity, id string, lent []byte) (*Record, error) {
	return decodeOwned(ent, id, bytes.Clone(lent))
}

// decodeOwned is decodeStored of a copy that is never written again: the
// record's strings point into it.
func decodeOwned(ent *schema.Entity, id string, b []byte) (*Record, error) {
	rec, ok := decodeRecordFast(ent, id, b, true)
	if !ok {
		var err error
		if rec, err = decodeRecordJSON(ent, id, b); err != nil {
			return nil, err
		}
	}
	rec.stored = b
	return rec, nil
}

// readers are the scanFields of an entity's declared fields, by name.
var readers sync.Map // *schema.Entity -> map[string]*scanField

func fieldReaders(ent *schema.Entity) map[string]*scanField {
	if m, ok := readers.Load(ent); ok {
		return m.(map[string]*scanField)
	}
	m := map[string]*scanField{}
	for _, fd := range ent.Fields {
		key, _ := json.Marshal(fd.Name)
		sf := &scanField{name: fd.Name, field: fd, wrap: append(append([]byte{'{'}, key...), ':')}
		switch fd.ExprZero().(type) {
		case string:
			sf.fast = readString
		case int64:
			sf.fast = readInt
		case bool:
			sf.fast = readBool
		}
		m[fd.Name] = sf
	}
	readers.Store(ent, m)
	return m
}

// DecodeStored decodes, in place, a record that List left undecoded
// (Query.Stored); it does nothing to any other record.
func DecodeStored(ent *schema.Entity, r *Record) error {
	if r.Values != nil || r.stored == nil {
		return nil
	}
	full, ok := decodeRecordFast(ent, r.ID, r.stored, true)
	if !ok {
		var err error
		if full, err = decodeRecordJSON(ent, r.ID, r.stored); err != nil {
			return err
		}
	}
	full.stored = r.stored
	*r = *full
	return nil
}

// decodeRecordFast is decodeRecord's walk; ok is false when it leaves the
// record to decodeRecordJSON.
//
// With own, b is never written again and the strings of the record share
// its bytes.
func decodeRecordFast(ent *schema.Entity, id string, b []byte, own bool) (*Record, bool) {
	rd := fieldReaders(ent)
	rec := &Record{ID: id, Entity: ent.Name}
	sawValues := false
	end, err := scanObject(b, 0, func(key []byte, i int) (int, error) {
		end, err := skipValue(b, i)
		if err != nil {
			return 0, err
		}
		raw := b[i:end]
		switch string(key) {
		case "v":
			n, ok := jsonInt(raw)
			if !ok {
				return 0, errSyntax
			}
			rec.Version = n
		case "c", "u":
			s, ok := jsonString(raw)
			if !ok {
				return 0, errSyntax
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil || len(s) < len("2006-01-02T15:04:05Z") {
				return 0, errSyntax
			}
			if key[0] == 'c' {
				rec.CreatedAt = t
			} else {
				rec.UpdatedAt = t
			}
		case "cb", "o":
			s, ok := jsonStringOf(raw, own)
			if !ok {
				return 0, errSyntax
			}
			if key[0] == 'c' {
				rec.CreatedBy = s
			} else {
				rec.Owner = s
			}
		case "f":
			vals, ok := decodeValuesFast(ent, rd, raw, own)
			if !ok {
				return 0, errSyntax
			}
			rec.Values, sawValues = vals, true
		default:
			return 0, errSyntax
		}
		return end, nil
	})
	if err != nil || !sawValues || skipSpace(b, end) != len(b) {
		return nil, false
	}
	return rec, true
}

// decodeValuesFast reads a stored values object as
// schema.Entity.UnmarshalValues does; ok is false when it cannot. With
// own, its strings share b's bytes (see decodeRecordFast).
func decodeValuesFast(ent *schema.Entity, rd map[string]*scanField, b []byte, own bool) (map[string]any, bool) {
	out := make(map[string]any, len(rd))
	_, err := scanObject(b, 0, func(key []byte, i int) (int, error) {
		end, err := skipValue(b, i)
		if err != nil {
			return 0, err
		}
		raw := b[i:end]
		sf := rd[string(key)]
		if sf == nil {
			if ent.Lookup(string(key)) == nil {
				return end, nil // a field the entity no longer has
			}
			return 0, errSyntax // a system field's name: UnmarshalValues decides
		}
		v, err := sf.valueOf(ent, raw, own) // nil for null or a value that no longer fits
		if err != nil {
			return 0, err
		}
		if v == nil {
			delete(out, sf.name) // the last of duplicate keys wins
		} else {
			out[sf.name] = v
		}
		return end, nil
	})
	return out, err == nil
}

// decodeRecordJSON reads a stored record with encoding/json.
func decodeRecordJSON(ent *schema.Entity, id string, b []byte) (*Record, error) {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", ent.Name, id, err)
	}
	vals, err := ent.UnmarshalValues(env.Values)
	if err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", ent.Name, id, err)
	}
	return &Record{
		ID: id, Entity: ent.Name, Version: env.Version,
		CreatedAt: env.CreatedAt, UpdatedAt: env.UpdatedAt,
		CreatedBy: env.CreatedBy, Owner: env.Owner, Values: vals,
	}, nil
}
