package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/crmkit/crm/core/schema"
)

// envelope is the stored form of a record version.
type envelope struct {
	Version   int64           `json:"v"`
	CreatedAt time.Time       `json:"c"`
	UpdatedAt time.Time       `json:"u"`
	CreatedBy string          `json:"cb,omitempty"`
	Owner     string          `json:"o,omitempty"`
	Values    json.RawMessage `json:"f"`
}

// EncodeRecord is a record version in the store's own encoding, the form
// Event.After and Event.Before carry and DecodeRecord reads; other
// backends store it so that DecodeEvent reads their events unchanged.
func EncodeRecord(ent *schema.Entity, r *Record) ([]byte, error) { return encodeRecord(ent, r) }

func encodeRecord(ent *schema.Entity, r *Record) ([]byte, error) {
	vals, err := ent.MarshalValues(r.Values)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", r.Entity, r.ID, err)
	}
	return json.Marshal(envelope{
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		CreatedBy: r.CreatedBy, Owner: r.Owner, Values: vals,
	})
}

// systemValue returns a system field of a record as a canonical value, and
// whether name is a system field.
func systemValue(r *Record, name string) (any, bool) {
	switch name {
	case "id":
		return r.ID, true
	case "version":
		return r.Version, true
	case "created_at":
		return r.CreatedAt, true
	case "updated_at":
		return r.UpdatedAt, true
	case "created_by":
		return r.CreatedBy, true
	case "owner":
		return r.Owner, true
	case "entity":
		return r.Entity, true
	}
	return nil, false
}

// FieldValue returns a field's canonical value, system fields included;
// nil when the record has none.
func FieldValue(r *Record, name string) any { return fieldValue(r, name) }

// fieldValue returns a field's canonical value, system fields included;
// nil when the record has none.
func fieldValue(r *Record, name string) any {
	if v, ok := systemValue(r, name); ok {
		return v
	}
	return r.Values[name]
}

// Value encoding for index keys and sort keys. The encoding preserves order:
// for two values a < b of one field, encodeValue(a) < encodeValue(b) as
// bytes. A missing value encodes as the single byte 0x00, which sorts before
// every present value (tag 0x01). Strings are escaped (0x00 -> 0x00 0xFF) and
// terminated by 0x00 0x01 so that no encoded string is a prefix of another
// one's encoding, except when the first is a prefix of the second's text.
func encodeValue(v any) []byte {
	if v == nil {
		return []byte{0x00}
	}
	switch x := v.(type) {
	case string:
		// One allocation: the tag, the bytes (0x00 escaped as two) and
		// the terminator.
		return appendString(append(make([]byte, 0, len(x)+3+strings.Count(x, "\x00")), 0x01), x, true)
	}
	out := make([]byte, 1, 9)
	out[0] = 0x01
	switch x := v.(type) {
	case int64:
		return binary.BigEndian.AppendUint64(out, uint64(x)^(1<<63))
	case int:
		return binary.BigEndian.AppendUint64(out, uint64(int64(x))^(1<<63))
	case float64:
		return appendFloat(out, x)
	case schema.Decimal:
		return appendFloat(out, x.Float64())
	case schema.Money:
		return binary.BigEndian.AppendUint64(out, uint64(x.Minor)^(1<<63))
	case bool:
		if x {
			return append(out, 1)
		}
		return append(out, 0)
	case time.Time:
		return binary.BigEndian.AppendUint64(out, uint64(x.UnixNano())^(1<<63))
	}
	return appendString(out, fmt.Sprint(v), true)
}

// encodePrefix encodes a string for a prefix match: like encodeValue without
// the terminator.
func encodePrefix(s string) []byte {
	return appendString([]byte{0x01}, s, false)
}

func appendString(out []byte, s string, terminate bool) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0x00 {
			out = append(out, 0x00, 0xFF)
			continue
		}
		out = append(out, s[i])
	}
	if terminate {
		out = append(out, 0x00, 0x01)
	}
	return out
}

func appendFloat(out []byte, f float64) []byte {
	bits := math.Float64bits(f)
	if f >= 0 {
		bits ^= 1 << 63
	} else {
		bits = ^bits
	}
	return binary.BigEndian.AppendUint64(out, bits)
}
