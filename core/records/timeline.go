package records

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/store"
)

// Timeline page sizes.
const (
	DefaultTimelineLimit = 50
	MaxTimelineLimit     = 200
)

// TimelineRequest asks for a page of a record's timeline.
type TimelineRequest struct {
	Entity string
	ID     string
	Limit  int
	Cursor string
}

// TimelineItem is one item of a timeline: a change to the record (Change
// set) or a record of another entity that references it through a ref
// field (Record set, with Entity and Field naming the reference).
type TimelineItem struct {
	At     time.Time
	Change *store.HistoryEntry
	Record *store.Record
	Entity string
	Field  string
}

// TimelinePage is a page of a timeline, newest first.
type TimelinePage struct {
	Items      []TimelineItem
	NextCursor string
}

// timelineCursor is where each source of a timeline stopped: the feed
// position of the last history entry given (0: none yet) and, per
// referencing ref field ("entity.field"), the id of the last record given
// ("" none yet, "-" all given).
type timelineCursor struct {
	History uint64            `json:"h,omitempty"`
	Refs    map[string]string `json:"r,omitempty"`
}

const (
	refsDone    = "-"
	historyDone = 1 // feed positions start at 1: nothing is before 1
)

func decodeTimelineCursor(s string) (*timelineCursor, error) {
	c := &timelineCursor{}
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, c)
	}
	if err != nil {
		return nil, &store.QueryError{Param: "cursor", Message: "not a cursor this server gave out"}
	}
	return c, nil
}

func (c *timelineCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// refSource is a ref field of some entity that points at the timeline's
// entity.
type refSource struct{ entity, field string }

func (r refSource) key() string { return r.entity + "." + r.field }

// Timeline is a record's whole story, newest first: its history entries
// merged with the records of every entity the actor may read that
// reference it through a ref field (activities, tasks, documents, a
// partner's entities), those by when they were created. Each source is
// read a page at a time through the ref field's index (ref fields are
// always indexed) in id order, that is creation order, so a page costs
// about a page per source, however long the story.
func (s *Service) Timeline(ctx context.Context, a Actor, req TimelineRequest) (*TimelinePage, error) {
	ent, err := s.Entity(a, req.Entity, false)
	if err != nil {
		return nil, err
	}
	limit := req.Limit
	switch {
	case limit == 0:
		limit = DefaultTimelineLimit
	case limit < 0 || limit > MaxTimelineLimit:
		return nil, &store.QueryError{Param: "limit", Message: fmt.Sprintf("a whole number from 1 to %d", MaxTimelineLimit)}
	}
	cur, err := decodeTimelineCursor(req.Cursor)
	if err != nil {
		return nil, err
	}
	if _, err := s.visible(ctx, a, ent.Name, req.ID); err != nil {
		return nil, err
	}

	type candidate struct {
		item TimelineItem
		src  string    // "" for history, else the ref source's key
		key  time.Time // the order: a record's by its id's time, so that each source is taken in its own (id) order
	}
	var cands []candidate
	more := map[string]bool{} // sources with records after those fetched

	if cur.History != historyDone {
		hist, err := s.st.HistoryBefore(ctx, ent.Name, req.ID, cur.History, limit+1)
		if err != nil {
			return nil, fmt.Errorf("timeline of %s %s: %w", ent.Name, req.ID, err)
		}
		if len(hist) > limit {
			hist, more[""] = hist[:limit], true
		}
		for i := range hist {
			cands = append(cands, candidate{key: hist[i].At, item: TimelineItem{At: hist[i].At, Change: &hist[i]}})
		}
	}

	sources := s.refSources(a, ent.Name)
	for _, src := range sources {
		last := cur.Refs[src.key()]
		if last == refsDone {
			continue
		}
		lreq := ListRequest{Entity: src.entity, Filter: fmt.Sprintf("%s == %q", src.field, req.ID), Sort: "-id", Limit: limit}
		if last != "" {
			lreq.Cursor = store.CursorAfter("-id", &store.Record{ID: last})
		}
		page, err := s.List(ctx, a, lreq)
		if err != nil {
			return nil, fmt.Errorf("timeline of %s %s: %s: %w", ent.Name, req.ID, src.key(), err)
		}
		more[src.key()] = page.NextCursor != ""
		for _, rec := range page.Items {
			cands = append(cands, candidate{src: src.key(), key: idTime(rec), item: TimelineItem{At: rec.CreatedAt, Record: rec, Entity: src.entity, Field: src.field}})
		}
	}

	// Newest first. Within one millisecond, records by id (ids made in one
	// millisecond increase: the newer is the greater, whatever its
	// source), and a change before a record, so that the order is the
	// creation order and the same on every call.
	slices.SortStableFunc(cands, func(x, y candidate) int {
		if c := y.key.Compare(x.key); c != 0 {
			return c
		}
		if x.item.Record != nil && y.item.Record != nil {
			return strings.Compare(y.item.Record.ID, x.item.Record.ID)
		}
		return strings.Compare(x.src, y.src)
	})

	next := &timelineCursor{History: cur.History, Refs: map[string]string{}}
	for k, v := range cur.Refs {
		next.Refs[k] = v
	}
	out := &TimelinePage{Items: make([]TimelineItem, 0, min(limit, len(cands)))}
	for i, c := range cands {
		if i == limit {
			more[c.src] = true // fetched but not given: that source goes on
			for _, rest := range cands[i+1:] {
				more[rest.src] = true
			}
			break
		}
		out.Items = append(out.Items, c.item)
		if c.src == "" {
			next.History = c.item.Change.Seq
		} else {
			next.Refs[c.src] = c.item.Record.ID
		}
	}
	if !more[""] {
		// Every history entry has been given: positions start at 1, so
		// "before 1" is nothing, and the next page reads none.
		next.History = historyDone
	}
	for _, src := range sources {
		if !more[src.key()] {
			next.Refs[src.key()] = refsDone
		}
	}
	for _, v := range more {
		if v {
			out.NextCursor = next.encode()
			break
		}
	}
	return out, nil
}

// idTime is when a record's id was made (ids are ULIDs), or its
// created_at for an id of another shape.
func idTime(r *store.Record) time.Time {
	if id, err := ulid.ParseStrict(r.ID); err == nil {
		return ulid.Time(id.Time())
	}
	return r.CreatedAt
}

// refSources are the ref fields that point at entity, of the entities the
// actor may read, in schema order.
func (s *Service) refSources(a Actor, entity string) []refSource {
	var out []refSource
	for _, e := range s.sch.Entities() {
		if !a.CanRead(e.Name) {
			continue
		}
		for _, f := range e.Fields {
			if f.Type == config.TypeRef && f.To == entity {
				out = append(out, refSource{entity: e.Name, field: f.Name})
			}
		}
	}
	return out
}
