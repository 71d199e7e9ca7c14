package api

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/hub"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/store"
)

// A user's in-app notifications, which the rules' notify action stores
// (store.KindNotification, under the user's id) and the hub pushes to the
// user's sockets as they come.

func (s *Server) notificationRoutes(authed func(string, authedHandler)) {
	authed("GET /api/v1/notifications", s.listNotifications)
	authed("POST /api/v1/notifications/read", s.readNotifications)
	authed("POST /api/v1/notifications/{id}/read", s.readNotification)
}

// Notification pages.
const (
	defaultNotificationLimit = 50
	maxNotificationLimit     = 200
)

// notificationCursor is where a page of notifications ends: the last
// item's time and id, in the list's order (newest first).
type notificationCursor struct {
	At time.Time `json:"at"`
	ID string    `json:"id"`
}

// newerFirst orders notifications newest first, then by id descending.
func newerFirst(a, b *rules.Notification) int {
	if c := b.At.Compare(a.At); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

// userNotifications reads every notification of a user, newest first.
func (s *Server) userNotifications(r *http.Request, user string) ([]*rules.Notification, error) {
	var all []*rules.Notification
	err := s.opts.Store.SysList(r.Context(), store.KindNotification, user+"/", func(key string, data []byte) error {
		var n rules.Notification
		if err := json.Unmarshal(data, &n); err != nil {
			return fmt.Errorf("decode notification %s: %w", key, err)
		}
		all = append(all, &n)
		return nil
	})
	slices.SortFunc(all, newerFirst)
	return all, err
}

// listNotifications answers GET /api/v1/notifications?unread=true&limit=&cursor=
// with {"items", "unread", "next_cursor"}, newest first; unread counts all
// of the user's unread notifications.
func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	unreadOnly, err := boolParam(q, "unread")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit := defaultNotificationLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxNotificationLimit {
			writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("limit: a whole number from 1 to %d", maxNotificationLimit), "limit")
			return
		}
		limit = n
	}
	var after *notificationCursor
	if c := q.Get("cursor"); c != "" {
		after = &notificationCursor{}
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err == nil {
			err = json.Unmarshal(raw, after)
		}
		if err != nil || after.ID == "" {
			writeError(w, http.StatusBadRequest, "invalid_query", "cursor: not a cursor this server gave out", "cursor")
			return
		}
	}
	all, err := s.userNotifications(r, p.User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	unread := 0
	items := []map[string]any{}
	var last *rules.Notification
	next := ""
	for _, n := range all {
		if !n.Read {
			unread++
		}
		if unreadOnly && n.Read || after != nil && newerFirst(n, &rules.Notification{At: after.At, ID: after.ID}) <= 0 {
			continue
		}
		if len(items) == limit {
			if next == "" {
				b, _ := json.Marshal(notificationCursor{At: last.At, ID: last.ID})
				next = base64.RawURLEncoding.EncodeToString(b)
			}
			continue
		}
		items = append(items, hub.PublicNotification(n))
		last = n
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "unread": unread, "next_cursor": next})
}

// readNotification answers POST /api/v1/notifications/{id}/read: 204, or
// 404 when the user has no such notification.
func (s *Server) readNotification(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id := r.PathValue("id")
	found, changed := false, false
	err := s.opts.Store.SysUpdate(r.Context(), func(tx store.SysTx) error {
		var err error
		found, changed, err = markRead(tx, p.User.ID, id)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("you have no notification %q", id), "")
		return
	}
	if changed {
		if err := s.announceRead(r, p.User.ID, []string{id}, false); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// readNotifications answers POST /api/v1/notifications/read: with
// {"ids": [...]} it marks those read (ids the user does not have are
// skipped), with no body or {} every notification of the user.
func (s *Server) readNotifications(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	body, err := readBody(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		IDs *[]string `json:"ids"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeStrict(body, &in); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var ids []string
	if in.IDs != nil {
		ids = *in.IDs
		for _, id := range ids {
			if id == "" || strings.Contains(id, "/") {
				writeError(w, http.StatusUnprocessableEntity, "invalid_value", fmt.Sprintf("ids: %q is not a notification id", id), "ids")
				return
			}
		}
	} else {
		all, err := s.userNotifications(r, p.User.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, n := range all {
			if !n.Read {
				ids = append(ids, n.ID)
			}
		}
	}
	var changed []string
	err = s.opts.Store.SysUpdate(r.Context(), func(tx store.SysTx) error {
		changed = changed[:0] // the function may run again
		for _, id := range ids {
			_, ch, err := markRead(tx, p.User.ID, id)
			if err != nil {
				return err
			}
			if ch {
				changed = append(changed, id)
			}
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(changed) > 0 {
		if err := s.announceRead(r, p.User.ID, changed, in.IDs == nil); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// announceRead puts the notifications a user has just read into the change
// feed (rules.NotificationReadEvent), from which the hub tells every open
// socket of the user, so that the bell of another tab or device goes out
// too. all is a "mark all read".
func (s *Server) announceRead(r *http.Request, user string, ids []string, all bool) error {
	payload := map[string]any{"user": user, "ids": ids}
	if all {
		payload["all"] = true
	}
	_, err := s.opts.Store.Emit(r.Context(), store.EmitRequest{Name: rules.NotificationReadEvent, By: user, Payload: payload})
	if err != nil {
		return fmt.Errorf("announce the notifications %s read: %w", strings.Join(ids, ", "), err)
	}
	return nil
}

// markRead marks one of a user's notifications read; found is false when
// the user has none with that id, changed when it was unread.
func markRead(tx store.SysTx, user, id string) (found, changed bool, err error) {
	var n rules.Notification
	key := user + "/" + id
	if err := tx.Get(store.KindNotification, key, &n); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, false, nil
		}
		return false, false, err
	}
	if n.Read {
		return true, false, nil
	}
	n.Read = true
	return true, true, tx.Put(store.KindNotification, key, n)
}
