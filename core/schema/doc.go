// Package schema holds the entities and fields that a running crm instance
// has, built from its configuration, and everything about field values that
// does not need storage.
//
// It owns:
//   - entity definitions: the built-in and configured entities, their
//     declared fields, the system fields every record has, and the
//     pipelines (ordered stages) of entities that have them;
//   - value types: the canonical Go type of each field type (string, int64,
//     [Decimal], [Money], bool, time.Time) and exact decimal and money
//     arithmetic on text;
//   - validation: decoding a client's JSON body ([Entity.DecodeInput]),
//     normalising one value ([Field.Normalize]) and checking a whole record
//     after a merge ([Entity.CheckRecord]), with user-facing [FieldError]s;
//   - JSON encoding of values for the API ([Entity.EncodeValues]) and for
//     storage ([Entity.MarshalValues], [Entity.UnmarshalValues]);
//   - the shape of records inside expr expressions ([Field.ExprValue],
//     [Field.ExprZero], [Entity.ExprEnv], [Entity.ExprType], [Entity.ExprRecord]).
//
// It must not store anything or do I/O: it does not know whether a referenced
// record, user or file exists (the store checks that), it reads no files and
// no clock, and it depends only on the config package and pure libraries.
//
// Canonical values by field type:
//
//	string, text, email, phone, url, enum, ref, user, file  string
//	int                                                     int64
//	decimal                                                 Decimal
//	money                                                   Money
//	bool                                                    bool
//	date                                                    time.Time, 00:00 UTC
//	datetime                                                time.Time, UTC
//
// A nil value, or a missing key, means "no value".
package schema
