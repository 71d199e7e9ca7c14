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
//	s/{kind}/{key}                        system document (JSON): users, sessions, tokens, file metadata
//	b/{file id}/{chunk:4}                 a stored file's bytes, in chunks of 512 KiB
//
// IDs are 26-character ULIDs, so an index key's id is its last 26 bytes.

import (
	"encoding/binary"
)

const idLen = 26

func recordPrefix(entity string) []byte { return []byte("r/" + entity + "/") }

func recordKey(entity, id string) []byte { return []byte("r/" + entity + "/" + id) }

func indexPrefix(entity, field string) []byte { return []byte("x/" + entity + "/" + field + "/") }

func indexKey(entity, field string, enc []byte, id string) []byte {
	k := indexPrefix(entity, field)
	k = append(k, enc...)
	return append(k, id...)
}

func uniqueKey(entity, field string, enc []byte) []byte {
	k := []byte("u/" + entity + "/" + field + "/")
	return append(k, enc...)
}

func historyPrefix(entity, id string) []byte { return []byte("h/" + entity + "/" + id + "/") }

func historyKey(entity, id string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(historyPrefix(entity, id), seq)
}

var outboxPrefix = []byte("o/")

func outboxKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte("o/"), seq) }

var seqKey = []byte("m/seq")

func countKey(entity string) []byte { return []byte("m/count/" + entity) }

func sysKey(kind, key string) []byte { return []byte("s/" + kind + "/" + key) }

func sysPrefix(kind, prefix string) []byte { return []byte("s/" + kind + "/" + prefix) }
