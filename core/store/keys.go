package store

// Key layout of the Badger backend. Every key starts with a one-letter
// prefix and a slash; entity and field names are [a-z0-9_], so '/' never
// appears inside them. Numbers are big-endian so that byte order is numeric
// order; values inside index keys use the order-preserving encoding of
// encodeValue.
//
//	r/{entity}/{id}                       record: JSON envelope of the current version
//	x/{entity}/{field}/{value}{id}        secondary index entry (empty value);
//	                                      fields marked index or unique, ref, user, file, owner
//	u/{entity}/{field}/{value}            unique constraint -> id
//	h/{entity}/{id}/{seq:8}               history entry (JSON); kept after a delete
//	o/{seq:8}                             outbox event (JSON), the change feed
//	m/seq                                 last committed feed position (8 bytes)
//	m/count/{entity}                      number of live records (8 bytes)
//	c/{entity}/{dim}/{values}             records per value of a counted dimension (aggregates.go)
//	t/{entity}/{money}/{dim}/{values}{currency}  count and sum of a money field per group (aggregates.go)
//	s/{kind}/{key}                        system document (JSON) of one of the kinds below
//	b/{file id}/{chunk:4}                 a stored file's bytes, in chunks of 512 KiB
//	q/{entity}/{gram}\x00{kind:1}{id}     search index entry (empty value); kind 0 exact token,
//	                                      1 prefix of a token, 2 suffix of a token (search.go)
//
// The kinds of system documents (s/{kind}/{key}), with their keys:
//
//	user/{user id}                        a user (core/auth)
//	user_email/{lower-cased e-mail}       -> user id (core/auth)
//	token/{token id}                      a session or API token, without its secret (core/auth)
//	token_hash/{hash of the secret}       -> token id (core/auth)
//	file/{file id}                        a stored file's metadata; its bytes are under b/
//	idem/{idempotency key}                the record a write with that key made, so a retry returns it
//	consumer/{name}                       a change-feed consumer's position: "rules", "plugin:{name}"
//	effect/{idempotency key}              a rule action's outside effect done (e-mail, webhook), when
//	notification/{user id}/{key}          an in-app notification
//	rule_run/{run id}                     a rule run, as GET /api/v1/rules/.../runs shows it
//	rule_retry/{run id}                   a failed run due for retry -> when
//	rule_stats/{rule}                     a rule's counters
//	rule_tick/{rule}                      when a scheduled rule last ran
//	search_index/{entity}                 the search index's fields and its backfill's progress
//	aggregates/{entity}                   what the entity's counters count, and the backfill's progress
//	view/{view id}                        a saved view of a list (core/views)
//	lease/{name}                          a lease: its holder node and expiry (core/lease)
//	login_limit/{addr|pair|account}/{key} a login limit's token bucket (core/auth); pair keys are
//	                                      {address}/{e-mail}
//	login_known/{address}/{e-mail}        when the account last logged in from the address (core/auth)
//	copy/load                             the copy a loaded store received: its id, progress, whether
//	                                      it finished (KindCopy, dump.go); never dumped
//
// IDs are 26-character ULIDs, so an index key's id is its last 26 bytes.
// Every prefix and kind is a constant below: code names them, never spells
// them.

import (
	"encoding/binary"
)

const idLen = 26

// Key prefixes, one per kind of key in the layout above.
const (
	prefixRecord  = "r/"
	prefixIndex   = "x/"
	prefixUnique  = "u/"
	prefixHistory = "h/"
	prefixOutbox  = "o/"
	prefixMeta    = "m/"
	prefixSys     = "s/"
	prefixBlob    = "b/"
	prefixSearch  = "q/"
	prefixCounter = "c/"
	prefixSum     = "t/"

	keySeq      = prefixMeta + "seq"
	prefixCount = prefixMeta + "count/"
)

// Kinds of system documents (SysTx, SysList), as listed above. Those of
// lease and login_* are constants of core/lease and core/auth, copy is
// KindCopy (dump.go).
const (
	KindUser         = "user"
	KindUserEmail    = "user_email"
	KindToken        = "token"
	KindTokenHash    = "token_hash"
	KindFile         = "file"
	KindIdempotency  = "idem"
	KindConsumer     = "consumer"
	KindEffect       = "effect"
	KindNotification = "notification"
	KindRuleRun      = "rule_run"
	KindRuleRetry    = "rule_retry"
	KindRuleStats    = "rule_stats"
	KindRuleTick     = "rule_tick"
	KindSearchIndex  = "search_index"
	KindAggregates   = "aggregates"
	KindView         = "view"
)

func recordPrefix(entity string) []byte { return []byte(prefixRecord + entity + "/") }

func recordKey(entity, id string) []byte { return []byte(prefixRecord + entity + "/" + id) }

func indexPrefix(entity, field string) []byte {
	return []byte(prefixIndex + entity + "/" + field + "/")
}

func indexKey(entity, field string, enc []byte, id string) []byte {
	k := indexPrefix(entity, field)
	k = append(k, enc...)
	return append(k, id...)
}

func uniqueKey(entity, field string, enc []byte) []byte {
	k := []byte(prefixUnique + entity + "/" + field + "/")
	return append(k, enc...)
}

func historyPrefix(entity, id string) []byte {
	return []byte(prefixHistory + entity + "/" + id + "/")
}

func historyKey(entity, id string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(historyPrefix(entity, id), seq)
}

var outboxPrefix = []byte(prefixOutbox)

func outboxKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte(prefixOutbox), seq) }

var seqKey = []byte(keySeq)

func countKey(entity string) []byte { return []byte(prefixCount + entity) }

func sysKey(kind, key string) []byte { return []byte(prefixSys + kind + "/" + key) }

func sysPrefix(kind, prefix string) []byte { return []byte(prefixSys + kind + "/" + prefix) }

func blobPrefix(fileID string) []byte { return []byte(prefixBlob + fileID + "/") }

func searchPrefix(entity string) []byte { return []byte(prefixSearch + entity + "/") }

// searchGramPrefix is the prefix of the entries of one gram and kind.
func searchGramPrefix(entity, gram string, kind byte) []byte {
	return append(append(searchPrefix(entity), gram...), 0, kind)
}

func searchKey(entity, gram string, kind byte, id string) []byte {
	return append(searchGramPrefix(entity, gram, kind), id...)
}
