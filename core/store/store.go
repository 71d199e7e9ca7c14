// Package store keeps records, their history, the outbox (the change feed)
// and the system documents (users, sessions, tokens) of a crm instance.
//
// Store is the interface the rest of the core uses; OpenBadger gives the
// embedded Badger implementation. Nothing above this package knows about
// Badger or about keys. This package validates what only a transaction can
// see (references, uniqueness, versions); field values arrive already
// normalised by package schema, and authorisation is the caller's, given to
// the store as a check that runs inside the write. The key layout, with
// every prefix and system-document kind, is the table in keys.go.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/crmkit/crm/core/schema"
)

// ErrNotFound is returned when a record or a system document does not exist.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("store closed")

// Record is one version of a record: its system fields and its field values
// in the canonical Go types of package schema.
type Record struct {
	ID        string
	Entity    string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	CreatedBy string
	Owner     string
	Values    map[string]any

	stored []byte // the stored form a list read it from (see AppendAPIForm)
}

// Change is one field's old and new value, in API JSON form (nil when absent).
type Change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// Operations recorded in history and in the outbox.
const (
	OpCreated = "created"
	OpUpdated = "updated"
	OpDeleted = "deleted"
)

// RecordEventNames are the events of a record's writes as rules and
// plugins name them (stage_changed is an update that changes the stage).
// An event a plugin emits about its own entity ("invoice.overdue") never
// has one of these names.
var RecordEventNames = []string{OpCreated, OpUpdated, OpDeleted, "stage_changed"}

// RecordEntity is the entity of an event that is a record write (created,
// updated, deleted) of an entity of sch; nil for an event a plugin
// emitted, whose prefix may be an entity too ("invoice.overdue"). Every
// reader of the change feed tells the two apart with it.
func (e *Event) RecordEntity(sch *schema.Schema) *schema.Entity {
	if e.Op != OpCreated && e.Op != OpUpdated && e.Op != OpDeleted {
		return nil
	}
	return sch.Entity(e.Entity)
}

// HistoryEntry is one write to a record as history keeps it.
type HistoryEntry struct {
	Seq     uint64            `json:"seq"`
	At      time.Time         `json:"at"`
	By      string            `json:"by"`
	Action  string            `json:"action"`
	Version int64             `json:"version"`
	Changes map[string]Change `json:"changes"`
}

// Event is one committed write in the outbox. Seq is its position in the
// change feed: positions grow in commit order and are never reused. After
// is the record as this write left it (for a delete, its last version) and
// Before the version it replaced (updates only), both in the store's own
// encoding: DecodeEvent reads them.
type Event struct {
	Seq     uint64            `json:"seq"`
	At      time.Time         `json:"at"`
	Entity  string            `json:"entity"`
	ID      string            `json:"id"`
	Op      string            `json:"op"`
	Version int64             `json:"version"`
	By      string            `json:"by"`
	Cause   string            `json:"cause,omitempty"`
	Changes map[string]Change `json:"changes"`
	After   json.RawMessage   `json:"after,omitempty"`
	Before  json.RawMessage   `json:"before,omitempty"`
}

// Check is an authorisation or precondition check that a write runs against
// the current version of the record inside its transaction; an error from it
// aborts the write and is returned as is.
type Check func(current *Record) error

// CreateRequest creates one record.
type CreateRequest struct {
	Entity string
	Values map[string]any // normalised, validated values (schema.Entity.CheckRecord already applied)
	Owner  string         // user id; defaults to By when By is a user
	By     string         // user id of the writer, or "rule:NAME" for a rule; "" for the system
	// Cause names the rule chain that made this write ("rule_a>rule_b"),
	// carried into the event so loops can be cut.
	Cause string
	// IdempotencyKey, when set, makes the write happen at most once: a
	// second write with the same key returns the record of the first.
	IdempotencyKey string
	// Unless, when set, makes the create conditional: when a record of the
	// entity matches it, decided inside the write transaction, nothing is
	// written and the error is an *ExistsError with that record. Give it an
	// indexed predicate: without one it scans the entity in the writer.
	Unless *Filter
}

// UpdateRequest changes fields of one record.
type UpdateRequest struct {
	Entity    string
	ID        string
	Set       map[string]any // normalised values to set
	Clear     []string       // fields to remove
	Owner     string         // new owner, "" to keep
	IfVersion int64          // when > 0, the write fails with a version conflict unless the current version matches
	By        string
	Check     Check
	// Cause and IdempotencyKey are as in CreateRequest.
	Cause          string
	IdempotencyKey string
}

// DeleteRequest deletes one record.
type DeleteRequest struct {
	Entity    string
	ID        string
	Force     bool // clear references to the record instead of refusing
	IfVersion int64
	By        string
	Check     Check
}

// EmitRequest puts an event that is not a record write (a plugin's
// "call.missed") into the change feed, so that rules and subscribers see it
// like any other event.
type EmitRequest struct {
	Name    string         // "prefix.event", e.g. "call.missed"
	ID      string         // what the event is about (a call id); a new id when empty
	Payload map[string]any // the event's data, JSON-encodable; rules see it as `record`
	By      string         // "plugin:NAME" or a user id
	Cause   string
	// IdempotencyKey makes the emit happen at most once.
	IdempotencyKey string
}

// Ref names a record that references another.
type Ref struct {
	Entity string `json:"entity"`
	ID     string `json:"id"`
	Field  string `json:"field"`
}

// Conflict codes.
const (
	CodeVersion    = "version_conflict"
	CodeDuplicate  = "duplicate"
	CodeReferenced = "referenced"
)

// ConflictError is a write refused because of the state of the store: a stale
// version, a duplicate unique value, or a record still referenced by others.
type ConflictError struct {
	Code    string
	Field   string
	Message string
	Count   int   // for CodeReferenced: how many records reference it
	Refs    []Ref // for CodeReferenced: the first few of them
}

func (e *ConflictError) Error() string { return e.Message }

// InvalidError is a write refused because a value is wrong in a way only the
// store can see (a ref to a record that does not exist).
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return e.Message }

// SortKey is one key of a list's order.
type SortKey struct {
	Field string // a field name or a system field (id, created_at, updated_at, version, owner, created_by)
	Desc  bool
}

// Query lists records of one entity.
type Query struct {
	Entity string
	Filter *Filter // nil for all
	Sort   []SortKey
	Limit  int    // default 50, at most 1000
	Cursor string // from a previous Page.NextCursor
	// Stored says the caller writes the page with AppendAPIForm: records
	// that a walk in the requested order reads may then come back
	// undecoded, only their ID and Entity set (Values nil), and
	// DecodeStored decodes one when AppendAPIForm cannot write it.
	Stored bool
}

// Page is one page of a list; NextCursor is "" on the last page.
type Page struct {
	Items      []*Record
	NextCursor string
	Plan       string // how the query ran, e.g. "index deal.stage =" or "scan"
	// Seq is the change-feed position the page was read at: it holds every
	// write up to Seq and none after (a live view resumes the feed there).
	Seq uint64
}

// SysTx reads and writes system documents (users, sessions, tokens, files)
// inside one transaction. Documents are JSON-encoded values addressed by a
// kind and a key.
type SysTx interface {
	Get(kind, key string, v any) error // ErrNotFound when absent
	Put(kind, key string, v any) error
	Delete(kind, key string) error
}

// FeedHead is an optional capability of a Store shared by several
// processes: Head reads the position of the last committed write from the
// shared storage itself, where LastSeq is what this process has seen so
// far (on PostgreSQL it moves when another node's notification arrives).
// A caller that must not act on a stale view (the credential cache,
// before it trusts what it cached) compares its own position with Head.
type FeedHead interface {
	Head(ctx context.Context) (uint64, error)
}

// Store is what the core needs of a storage backend.
type Store interface {
	Create(ctx context.Context, req CreateRequest) (*Record, error)
	Update(ctx context.Context, req UpdateRequest) (*Record, error)
	Delete(ctx context.Context, req DeleteRequest) (*Record, error)
	Get(ctx context.Context, entity, id string) (*Record, error)
	List(ctx context.Context, q Query) (*Page, error)
	History(ctx context.Context, entity, id string) ([]HistoryEntry, error)
	// HistoryBefore is a page of a record's history, newest first, below
	// a feed position (0: from the newest).
	HistoryBefore(ctx context.Context, entity, id string, before uint64, limit int) ([]HistoryEntry, error)
	// Search finds records of the entities (nil: all with searched fields)
	// by their searched fields, ranked exact > prefix > infix, then newest;
	// an entity may be bound to one owner's records.
	Search(ctx context.Context, q SearchQuery) ([]SearchHit, error)
	// Events returns up to limit outbox events with Seq > after, in order.
	Events(ctx context.Context, after uint64, limit int) ([]Event, error)
	// Emit puts a non-record event into the change feed.
	Emit(ctx context.Context, req EmitRequest) (*Event, error)
	// LastSeq is the position of the last committed write.
	LastSeq() uint64
	// Committed returns a channel that is closed at the next commit.
	Committed() <-chan struct{}
	// Counts is the number of live records per entity.
	Counts() map[string]int64
	// Count is the number of records of an entity that match a filter (nil
	// for all); exact is false for an estimate (see Badger.Count).
	Count(ctx context.Context, entity string, f *Filter) (n int64, exact bool, err error)
	// Totals is the count and exact sum of a money field per group and
	// currency over the records that match a filter (see Badger.Totals).
	Totals(ctx context.Context, entity, groupBy, sumField string, f *Filter) ([]Total, error)
	// Size is the on-disk size in bytes.
	Size() int64

	SysView(ctx context.Context, fn func(SysTx) error) error
	SysUpdate(ctx context.Context, fn func(SysTx) error) error
	// SysList calls fn for every document of a kind whose key starts with prefix.
	SysList(ctx context.Context, kind, prefix string, fn func(key string, data []byte) error) error

	// PutFile stores a blob of at most max bytes; FileInfo and WriteFile
	// read it back; FileHolders finds the records of the given entities
	// whose file fields hold it.
	PutFile(ctx context.Context, name, contentType, by string, r io.Reader, max int64) (*File, error)
	FileInfo(ctx context.Context, id string) (*File, error)
	WriteFile(ctx context.Context, id string, w io.Writer) error
	FileHolders(ctx context.Context, id string, entities []string) ([]Ref, error)

	Close() error
}

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
