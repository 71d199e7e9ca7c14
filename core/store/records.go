package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	badger "github.com/dgraph-io/badger/v4"
)

// maxRefsShown is how many referencing records a refused delete names.
const maxRefsShown = 5

// MaxRefsShown is how many referencing records a refused delete names
// (ConflictError.Refs), for other backends.
const MaxRefsShown = maxRefsShown

// indexed reports whether a field keeps a secondary index.
func indexed(f *schema.Field) bool {
	return f.Index || f.Unique || f.Type == config.TypeRef || f.Type == config.TypeUser || f.Type == config.TypeFile
}

func (b *batch) nextSeq() uint64 {
	b.seq++
	return b.seq
}

func (s *Badger) entity(name string) (*schema.Entity, error) {
	ent := s.schema.Entity(name)
	if ent == nil {
		return nil, &InvalidError{Message: fmt.Sprintf("unknown entity %q", name)}
	}
	return ent, nil
}

func (s *Badger) planCreate(b *batch, req *CreateRequest) (*Record, []mutation, error) {
	ent, err := s.entity(req.Entity)
	if err != nil {
		return nil, nil, err
	}
	if done, rec, err := s.idempotent(b.txn, req.IdempotencyKey); done || err != nil {
		return rec, nil, err
	}
	if req.Unless != nil {
		found, err := s.firstMatch(b.txn, ent, req.Unless)
		if err != nil {
			return nil, nil, err
		}
		if found != nil {
			return nil, nil, &ExistsError{Record: found}
		}
	}
	owner := req.Owner
	if owner == "" && !strings.Contains(req.By, ":") {
		owner = req.By // a user; "rule:NAME" and other actors own nothing
	}
	rec := &Record{
		ID: NewID(), Entity: ent.Name, Version: 1, CreatedAt: b.now, UpdatedAt: b.now,
		CreatedBy: req.By, Owner: owner, Values: req.Values,
	}
	if rec.Values == nil {
		rec.Values = map[string]any{}
	}
	if err := s.checkOwner(b.txn, owner); err != nil {
		return nil, nil, err
	}
	if err := s.checkRefs(b.txn, ent, rec.Values, nil); err != nil {
		return nil, nil, err
	}
	muts, err := s.indexMutations(b.txn, ent, nil, rec)
	if err != nil {
		return nil, nil, err
	}
	muts = append(muts, s.searchMutations(ent, nil, rec)...)
	changes := map[string]Change{}
	for name, v := range rec.Values {
		if f := ent.Field(name); f != nil {
			changes[name] = Change{New: f.EncodeValue(v)}
		}
	}
	if owner != "" {
		changes["owner"] = Change{New: owner}
	}
	more, err := s.versionMutations(b, ent, rec, nil, OpCreated, req.By, req.Cause, changes)
	if err != nil {
		return nil, nil, err
	}
	b.counts[ent.Name]++
	muts = append(muts, more...)
	muts = append(muts, s.aggregateMutations(ent, nil, rec)...)
	if req.IdempotencyKey != "" {
		muts = append(muts, idemMutation(req.IdempotencyKey, rec))
	}
	return rec, muts, nil
}

func (s *Badger) planUpdate(b *batch, req *UpdateRequest) (*Record, []mutation, error) {
	ent, err := s.entity(req.Entity)
	if err != nil {
		return nil, nil, err
	}
	if done, rec, err := s.idempotent(b.txn, req.IdempotencyKey); done || err != nil {
		return rec, nil, err
	}
	cur, err := s.current(b.txn, req.Entity, req.ID, req.IfVersion, req.Check)
	if err != nil {
		return nil, nil, err
	}
	next := *cur
	next.Values = make(map[string]any, len(cur.Values)+len(req.Set))
	for k, v := range cur.Values {
		next.Values[k] = v
	}
	for k, v := range req.Set {
		next.Values[k] = v
	}
	for _, k := range req.Clear {
		delete(next.Values, k)
	}
	if req.Owner != "" {
		next.Owner = req.Owner
	}
	if err := ent.CheckRecord(next.Values); err != nil {
		return nil, nil, err
	}
	changes := diff(ent, cur, &next)
	if len(changes) == 0 {
		return cur, nil, nil
	}
	if _, ok := changes["owner"]; ok {
		if err := s.checkOwner(b.txn, next.Owner); err != nil {
			return nil, nil, err
		}
	}
	if err := s.checkRefs(b.txn, ent, next.Values, changes); err != nil {
		return nil, nil, err
	}
	muts, err := s.indexMutations(b.txn, ent, cur, &next)
	if err != nil {
		return nil, nil, err
	}
	muts = append(muts, s.searchMutations(ent, cur, &next)...)
	next.Version++
	next.UpdatedAt = b.now
	more, err := s.versionMutations(b, ent, &next, cur, OpUpdated, req.By, req.Cause, changes)
	if err != nil {
		return nil, nil, err
	}
	muts = append(muts, more...)
	muts = append(muts, s.aggregateMutations(ent, cur, &next)...)
	if req.IdempotencyKey != "" {
		muts = append(muts, idemMutation(req.IdempotencyKey, &next))
	}
	return &next, muts, nil
}

func (s *Badger) planDelete(b *batch, req *DeleteRequest) (*Record, []mutation, error) {
	ent, err := s.entity(req.Entity)
	if err != nil {
		return nil, nil, err
	}
	cur, err := s.current(b.txn, req.Entity, req.ID, req.IfVersion, req.Check)
	if err != nil {
		return nil, nil, err
	}
	refs, count, err := s.referencing(b.txn, ent.Name, cur.ID, req.Force)
	if err != nil {
		return nil, nil, err
	}
	var muts []mutation
	if count > 0 && !req.Force {
		return nil, nil, referencedError(ent.Name, cur.ID, refs, count)
	}
	fields := map[Ref][]string{} // referencing record (Field empty) -> its fields to clear
	var order []Ref
	for _, ref := range refs {
		rec := Ref{Entity: ref.Entity, ID: ref.ID}
		if _, seen := fields[rec]; !seen {
			order = append(order, rec)
		}
		fields[rec] = append(fields[rec], ref.Field)
	}
	for _, rec := range order {
		m, err := s.clearRefs(b, rec, fields[rec], req.By)
		if err != nil {
			return nil, nil, err
		}
		muts = append(muts, m...)
	}
	idx, err := s.indexMutations(b.txn, ent, cur, nil)
	if err != nil {
		return nil, nil, err
	}
	muts = append(muts, idx...)
	muts = append(muts, s.searchMutations(ent, cur, nil)...)
	changes := map[string]Change{}
	for name, v := range cur.Values {
		if f := ent.Field(name); f != nil {
			changes[name] = Change{Old: f.EncodeValue(v)}
		}
	}
	if cur.Owner != "" {
		changes["owner"] = Change{Old: cur.Owner}
	}
	gone := *cur
	gone.Version++
	gone.UpdatedAt = b.now
	more, err := s.versionMutations(b, ent, &gone, nil, OpDeleted, req.By, "", changes)
	if err != nil {
		return nil, nil, err
	}
	b.counts[ent.Name]--
	muts = append(muts, s.aggregateMutations(ent, cur, nil)...)
	return &gone, append(muts, more...), nil
}

// current reads the record a write applies to and runs its preconditions.
func (s *Badger) current(txn *badger.Txn, entity, id string, ifVersion int64, check Check) (*Record, error) {
	cur, err := s.getRecord(txn, entity, id)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(cur); err != nil {
			return nil, err
		}
	}
	if ifVersion > 0 && cur.Version != ifVersion {
		return nil, &ConflictError{Code: CodeVersion, Message: fmt.Sprintf("%s %s is at version %d, not %d: reload it and try again", entity, id, cur.Version, ifVersion)}
	}
	return cur, nil
}

// versionMutations writes the record (or removes it for a delete), its
// history entry and its outbox event; before is the version replaced, for
// updates.
func (s *Badger) versionMutations(b *batch, ent *schema.Entity, rec, before *Record, op, by, cause string, changes map[string]Change) ([]mutation, error) {
	seq := b.nextSeq()
	var muts []mutation
	val, err := encodeRecord(ent, rec)
	if err != nil {
		return nil, err
	}
	if op == OpDeleted {
		muts = append(muts, mutation{key: recordKey(ent.Name, rec.ID)})
	} else {
		muts = append(muts, mutation{key: recordKey(ent.Name, rec.ID), val: val})
	}
	var prev []byte
	if before != nil {
		if prev, err = encodeRecord(ent, before); err != nil {
			return nil, err
		}
	}
	h, err := json.Marshal(HistoryEntry{Seq: seq, At: b.now, By: by, Action: op, Version: rec.Version, Changes: changes})
	if err != nil {
		return nil, fmt.Errorf("encode history: %w", err)
	}
	e, err := json.Marshal(Event{Seq: seq, At: b.now, Entity: ent.Name, ID: rec.ID, Op: op, Version: rec.Version,
		By: by, Cause: cause, Changes: changes, After: val, Before: prev})
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return append(muts,
		mutation{key: historyKey(ent.Name, rec.ID, seq), val: h},
		mutation{key: outboxKey(seq), val: e},
	), nil
}

// indexMutations moves a record's index and unique entries from old to
// next (either may be nil), refusing a duplicate unique value.
func (s *Badger) indexMutations(txn *badger.Txn, ent *schema.Entity, old, next *Record) ([]mutation, error) {
	id := ""
	if old != nil {
		id = old.ID
	} else {
		id = next.ID
	}
	var muts []mutation
	move := func(field string, unique bool) error {
		var ov, nv any
		if old != nil {
			ov = fieldValue(old, field)
		}
		if next != nil {
			nv = fieldValue(next, field)
		}
		if isZero(ov) && isZero(nv) || equalValues(ov, nv) {
			return nil
		}
		if !isZero(ov) {
			enc := encodeValue(ov)
			muts = append(muts, mutation{key: indexKey(ent.Name, field, enc, id)})
			if unique {
				muts = append(muts, mutation{key: uniqueKey(ent.Name, field, enc)})
			}
		}
		if isZero(nv) {
			return nil
		}
		enc := encodeValue(nv)
		muts = append(muts, mutation{key: indexKey(ent.Name, field, enc, id), val: []byte{}})
		if !unique {
			return nil
		}
		uk := uniqueKey(ent.Name, field, enc)
		item, err := txn.Get(uk)
		if err == nil {
			other, _ := item.ValueCopy(nil)
			if string(other) != id {
				f := ent.Field(field)
				return &ConflictError{Code: CodeDuplicate, Field: field,
					Message: fmt.Sprintf("%s: another %s (%s) already has %v", field, ent.Name, other, f.EncodeValue(nv))}
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("check unique %s.%s: %w", ent.Name, field, err)
		}
		muts = append(muts, mutation{key: uk, val: []byte(id)})
		return nil
	}
	for _, f := range ent.Fields {
		if indexed(f) {
			if err := move(f.Name, f.Unique); err != nil {
				return nil, err
			}
		}
	}
	if err := move("owner", false); err != nil {
		return nil, err
	}
	return muts, nil
}

func isZero(v any) bool { return v == nil || v == "" }

func equalValues(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return reflect.DeepEqual(a, b)
}

// Diff lists the fields (and the owner) whose values differ between two
// versions of a record, in API JSON form, as history and events keep them.
func Diff(ent *schema.Entity, old, next *Record) map[string]Change { return diff(ent, old, next) }

// diff lists the fields whose values differ between two versions.
func diff(ent *schema.Entity, old, next *Record) map[string]Change {
	changes := map[string]Change{}
	for _, f := range ent.Fields {
		ov, nv := old.Values[f.Name], next.Values[f.Name]
		if ov == nil && nv == nil || equalValues(ov, nv) {
			continue
		}
		var c Change
		if ov != nil {
			c.Old = f.EncodeValue(ov)
		}
		if nv != nil {
			c.New = f.EncodeValue(nv)
		}
		changes[f.Name] = c
	}
	if old.Owner != next.Owner {
		changes["owner"] = Change{Old: old.Owner, New: next.Owner}
	}
	return changes
}

func (s *Badger) checkOwner(txn *badger.Txn, owner string) error {
	if owner == "" {
		return nil
	}
	if err := s.exists(txn, sysKey(KindUser, owner)); err != nil {
		if errors.Is(err, ErrNotFound) {
			return &InvalidError{Field: "owner", Message: fmt.Sprintf("owner: no user with id %q", owner)}
		}
		return err
	}
	return nil
}

// checkRefs checks that every ref, user and file value names something that
// exists; with changes, only the changed fields are checked.
func (s *Badger) checkRefs(txn *badger.Txn, ent *schema.Entity, values map[string]any, changes map[string]Change) error {
	for _, f := range ent.Fields {
		v, ok := values[f.Name].(string)
		if !ok || v == "" {
			continue
		}
		if changes != nil {
			if _, changed := changes[f.Name]; !changed {
				continue
			}
		}
		var key []byte
		var what string
		switch f.Type {
		case config.TypeRef:
			key, what = recordKey(f.To, v), "no "+f.To+" with id"
		case config.TypeUser:
			key, what = sysKey(KindUser, v), "no user with id"
		case config.TypeFile:
			key, what = sysKey(KindFile, v), "no file with id"
		default:
			continue
		}
		if err := s.exists(txn, key); err != nil {
			if errors.Is(err, ErrNotFound) {
				return &InvalidError{Field: f.Name, Message: fmt.Sprintf("%s: %s %q", f.Name, what, v)}
			}
			return err
		}
	}
	return nil
}

func (s *Badger) exists(txn *badger.Txn, key []byte) error {
	_, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	return nil
}

// referencing finds the records whose ref fields point at entity/id: all
// of them when all is set, else the first few; count is always the total.
func (s *Badger) referencing(txn *badger.Txn, entity, id string, all bool) ([]Ref, int, error) {
	var refs []Ref
	count := 0
	enc := encodeValue(id)
	for _, e := range s.schema.Entities() {
		for _, f := range e.Fields {
			if f.Type != config.TypeRef || f.To != entity {
				continue
			}
			prefix := append(indexPrefix(e.Name, f.Name), enc...)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			for it.Rewind(); it.Valid(); it.Next() {
				k := it.Item().Key()
				rid := string(k[len(k)-idLen:])
				if e.Name == entity && rid == id {
					continue // a record's reference to itself goes with it
				}
				count++
				if all || len(refs) < maxRefsShown {
					refs = append(refs, Ref{Entity: e.Name, ID: rid, Field: f.Name})
				}
			}
			it.Close()
		}
	}
	return refs, count, nil
}

// ReferencedError is the refusal of a delete of entity/id that count
// records reference, naming refs (the first MaxRefsShown of them): the
// same error every backend gives.
func ReferencedError(entity, id string, refs []Ref, count int) error {
	return referencedError(entity, id, refs, count)
}

func referencedError(entity, id string, refs []Ref, count int) error {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Entity + " " + r.ID + " (" + r.Field + ")"
	}
	more := ""
	if count > len(refs) {
		more = fmt.Sprintf(" and %d more", count-len(refs))
	}
	return &ConflictError{Code: CodeReferenced, Count: count, Refs: refs,
		Message: fmt.Sprintf("%s %s is referenced by %d record(s): %s%s; delete with force=true to clear those references",
			entity, id, count, strings.Join(names, ", "), more)}
}

// clearRefs removes the references of one record to a record being
// deleted, as an update of the referencing record with its own history
// entry and event.
func (s *Badger) clearRefs(b *batch, ref Ref, clear []string, by string) ([]mutation, error) {
	ent, err := s.entity(ref.Entity)
	if err != nil {
		return nil, err
	}
	cur, err := s.getRecord(b.txn, ref.Entity, ref.ID)
	if err != nil {
		return nil, fmt.Errorf("clear reference from %s %s: %w", ref.Entity, ref.ID, err)
	}
	next := *cur
	next.Values = make(map[string]any, len(cur.Values))
	for k, v := range cur.Values {
		next.Values[k] = v
	}
	for _, f := range clear {
		delete(next.Values, f)
	}
	muts, err := s.indexMutations(b.txn, ent, cur, &next)
	if err != nil {
		return nil, err
	}
	next.Version++
	next.UpdatedAt = b.now
	more, err := s.versionMutations(b, ent, &next, cur, OpUpdated, by, "", diff(ent, cur, &next))
	if err != nil {
		return nil, err
	}
	muts = append(muts, s.aggregateMutations(ent, cur, &next)...)
	return append(muts, more...), nil
}

// idempotent looks up an idempotency key: done is true when a write with
// that key was already made, and rec is the record as it left it.
func (s *Badger) idempotent(txn *badger.Txn, key string) (bool, *Record, error) {
	if key == "" {
		return false, nil, nil
	}
	item, err := txn.Get(sysKey(KindIdempotency, key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("read idempotency key %s: %w", key, err)
	}
	var ref Ref
	if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &ref) }); err != nil {
		return false, nil, fmt.Errorf("read idempotency key %s: %w", key, err)
	}
	rec, err := s.getRecord(txn, ref.Entity, ref.ID)
	if errors.Is(err, ErrNotFound) {
		return true, &Record{ID: ref.ID, Entity: ref.Entity}, nil // made, and deleted since
	}
	return true, rec, err
}

func idemMutation(key string, rec *Record) mutation {
	v, _ := json.Marshal(Ref{Entity: rec.Entity, ID: rec.ID})
	return mutation{key: sysKey(KindIdempotency, key), val: v}
}

// DecodeEvent reads the record versions an event carries: after (the
// record as the write left it) and before (the replaced version, updates
// only; else nil). For an emitted event, after holds its payload as values.
func DecodeEvent(sch *schema.Schema, e *Event) (after, before *Record, err error) {
	ent := e.RecordEntity(sch)
	if ent == nil {
		var payload map[string]any
		if len(e.After) > 0 {
			if err := json.Unmarshal(e.After, &payload); err != nil {
				return nil, nil, fmt.Errorf("event %d: payload: %w", e.Seq, err)
			}
		}
		return &Record{ID: e.ID, Entity: e.Entity, CreatedAt: e.At, UpdatedAt: e.At, Values: payload}, nil, nil
	}
	if len(e.After) > 0 {
		if after, err = decodeRecord(ent, e.ID, e.After); err != nil {
			return nil, nil, err
		}
	}
	if len(e.Before) > 0 {
		if before, err = decodeRecord(ent, e.ID, e.Before); err != nil {
			return nil, nil, err
		}
	}
	return after, before, nil
}

// Emit puts a non-record event into the change feed. Its prefix may be an
// entity (a plugin's event about its own records, "invoice.overdue"), but
// not with the name of a record event (created, updated, deleted,
// stage_changed): those come from writes.
func (s *Badger) Emit(ctx context.Context, req EmitRequest) (*Event, error) {
	if err := CheckEmitName(s.schema, req.Name); err != nil {
		return nil, err
	}
	name, event, _ := strings.Cut(req.Name, ".")
	rec, err := s.submit(ctx, &writeOp{emit: &req})
	if err != nil {
		return nil, err
	}
	return &Event{Seq: uint64(rec.Version), Entity: name, ID: rec.ID, Op: event, By: req.By, Cause: req.Cause}, nil
}

// CheckEmitName refuses, with an *InvalidError, an emitted event's name
// that is not "prefix.event" or that gives an entity's prefix the name of
// a record event (those come from writes).
func CheckEmitName(sch *schema.Schema, name string) error {
	prefix, event, ok := strings.Cut(name, ".")
	if !ok || prefix == "" || event == "" || (sch.Entity(prefix) != nil && slices.Contains(RecordEventNames, event)) {
		return &InvalidError{Field: "name", Message: fmt.Sprintf("event name %q: want prefix.event, and for an entity's prefix an event that is not a record event (%s come from writes)", name, strings.Join(RecordEventNames, ", "))}
	}
	return nil
}

func (s *Badger) planEmit(b *batch, req *EmitRequest) (*Record, []mutation, error) {
	if done, _, err := s.idempotent(b.txn, req.IdempotencyKey); done || err != nil {
		if err != nil {
			return nil, nil, err
		}
		return &Record{ID: req.ID}, nil, nil
	}
	id := req.ID
	if id == "" {
		id = NewID()
	}
	payload, err := json.Marshal(req.Payload)
	if err != nil {
		return nil, nil, &InvalidError{Field: "payload", Message: "payload: " + err.Error()}
	}
	name, event, _ := strings.Cut(req.Name, ".")
	seq := b.nextSeq()
	e, err := json.Marshal(Event{Seq: seq, At: b.now, Entity: name, ID: id, Op: event, By: req.By, Cause: req.Cause, After: payload})
	if err != nil {
		return nil, nil, fmt.Errorf("encode event: %w", err)
	}
	muts := []mutation{{key: outboxKey(seq), val: e}}
	if req.IdempotencyKey != "" {
		muts = append(muts, idemMutation(req.IdempotencyKey, &Record{Entity: name, ID: id}))
	}
	// The "record" of an emit is only its id and position, for Emit's answer.
	return &Record{ID: id, Entity: name, Version: int64(seq)}, muts, nil
}
