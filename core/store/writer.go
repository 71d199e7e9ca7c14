package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"maps"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// All record writes go through one writer goroutine that batches the writes
// queued at the moment into one Badger transaction (a group commit). That
// gives the change feed its order (positions are assigned in commit order,
// by the only writer) and pays one fsync per batch instead of one per write.
// A write is applied to the batch's transaction only after all its checks
// passed, so a refused write leaves nothing behind in the batch.

const (
	maxBatchOps   = 512
	maxBatchBytes = 4 << 20 // well under Badger's transaction limit (15% of the 64 MiB memtable)
)

type writeOp struct {
	ctx    context.Context
	create *CreateRequest
	update *UpdateRequest
	delete *DeleteRequest
	sys    func(SysTx) error
	emit   *EmitRequest
	done   chan writeResult
}

type writeResult struct {
	rec *Record
	err error
}

// batch is the state of one group commit.
type batch struct {
	txn    *badger.Txn
	seq    uint64             // last position assigned in this batch
	counts map[string]int64   // count deltas per entity
	aggs   map[string]*aggAcc // counter deltas per counter key (aggregates.go)
	bytes  int
	now    time.Time
}

// mutation is one key to set (val != nil) or delete (val == nil), or a
// change to add to the counter at key (add != nil; see aggregates.go).
type mutation struct {
	key []byte
	val []byte
	add *aggDelta
}

func (s *Badger) submit(ctx context.Context, op *writeOp) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	op.ctx = ctx
	op.done = make(chan writeResult, 1)
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case s.writes <- op:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return nil, ctx.Err()
	}
	s.closeMu.RUnlock()
	// Once queued, the write is committed or refused whatever the caller's
	// context does: we wait for the outcome so the caller never mistakes a
	// committed write for a failed one.
	res := <-op.done
	return res.rec, res.err
}

// Create stores a new record, its history entry and its outbox event in one
// transaction.
func (s *Badger) Create(ctx context.Context, req CreateRequest) (*Record, error) {
	return s.submit(ctx, &writeOp{create: &req})
}

// Update changes fields of a record; a write that changes nothing returns
// the current version and writes nothing.
func (s *Badger) Update(ctx context.Context, req UpdateRequest) (*Record, error) {
	return s.submit(ctx, &writeOp{update: &req})
}

// Delete removes a record. Its history stays. A record that others
// reference is refused with a ConflictError unless req.Force, which clears
// those references, each in its record's own history.
func (s *Badger) Delete(ctx context.Context, req DeleteRequest) (*Record, error) {
	return s.submit(ctx, &writeOp{delete: &req})
}

func (s *Badger) writer() {
	defer s.wg.Done()
	for {
		select {
		case op := <-s.writes:
			s.runBatch(op)
		case <-s.stop:
			s.drain()
			return
		}
	}
}

// drain commits what was queued before Close.
func (s *Badger) drain() {
	for {
		select {
		case op := <-s.writes:
			s.runBatch(op)
		default:
			return
		}
	}
}

func (s *Badger) runBatch(first *writeOp) {
	ops := []*writeOp{first}
collect:
	for len(ops) < maxBatchOps {
		select {
		case op := <-s.writes:
			ops = append(ops, op)
		default:
			break collect
		}
	}
	for len(ops) > 0 {
		ops = s.commitSome(ops)
	}
}

// commitSome applies as many of ops as fit in one transaction, commits them
// and answers their callers; it returns the ops left for the next one.
func (s *Badger) commitSome(ops []*writeOp) []*writeOp {
	b := &batch{txn: s.db.NewTransaction(true), seq: s.seq.Load(), counts: map[string]int64{}, now: time.Now().UTC()}
	defer b.txn.Discard()
	results := make([]writeResult, 0, len(ops))
	i := 0
	for ; i < len(ops) && b.bytes < maxBatchBytes; i++ {
		op := ops[i]
		if err := op.ctx.Err(); err != nil {
			results = append(results, writeResult{err: err})
			continue
		}
		seq, counts := b.seq, maps.Clone(b.counts)
		rec, muts, err := s.plan(b, op)
		if err != nil {
			b.seq, b.counts = seq, counts // a refused write takes no feed position
			results = append(results, writeResult{err: err})
			continue
		}
		if err := b.apply(muts); err != nil {
			// The transaction may now hold part of this write: drop the
			// whole batch rather than commit half a write. The byte budget
			// keeps this from happening short of a failing disk.
			s.answerFailed(ops[:i+1], results, fmt.Errorf("write batch aborted: %w", err))
			return ops[i+1:]
		}
		results = append(results, writeResult{rec: rec})
	}
	if err := s.finish(b); err != nil {
		s.answerFailed(ops[:i], results, fmt.Errorf("commit: %w", err))
		return ops[i:]
	}
	for j, r := range results {
		ops[j].done <- r
	}
	return ops[i:]
}

// answerFailed answers every op of a batch that was not committed: those
// already refused with their own error, the others with err.
func (s *Badger) answerFailed(ops []*writeOp, results []writeResult, err error) {
	s.log.Error("write batch failed", slog.Any("err", err), slog.Int("writes", len(ops)))
	for j, op := range ops {
		if j < len(results) && results[j].err != nil {
			op.done <- results[j]
			continue
		}
		op.done <- writeResult{err: err}
	}
}

// finish writes the batch's feed position and counts and commits.
func (s *Badger) finish(b *batch) error {
	if b.bytes == 0 {
		return nil // nothing written
	}
	if b.seq != s.seq.Load() {
		if err := b.txn.Set(seqKey, binary.BigEndian.AppendUint64(nil, b.seq)); err != nil {
			return err
		}
	}
	if err := flushAggregates(b.txn, b.aggs, s.log); err != nil {
		return err
	}
	for entity, d := range b.counts {
		n := s.counter(entity).Load() + d
		if err := b.txn.Set(countKey(entity), binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
			return err
		}
	}
	if err := b.txn.Commit(); err != nil {
		return err
	}
	s.seq.Store(b.seq)
	for entity, d := range b.counts {
		s.counter(entity).Add(d)
	}
	s.signalCommit()
	return nil
}

func (b *batch) apply(muts []mutation) error {
	for _, m := range muts {
		if m.add != nil {
			b.addAggregate(m.key, m.add)
			b.bytes += len(m.key) + 24 // its share of the counter written at finish
			continue
		}
		var err error
		if m.val == nil {
			err = b.txn.Delete(m.key)
		} else {
			err = b.txn.Set(m.key, m.val)
		}
		if err != nil {
			return fmt.Errorf("write %q: %w", m.key[:min(len(m.key), 40)], err)
		}
		b.bytes += len(m.key) + len(m.val)
	}
	return nil
}

func (s *Badger) plan(b *batch, op *writeOp) (*Record, []mutation, error) {
	switch {
	case op.create != nil:
		return s.planCreate(b, op.create)
	case op.update != nil:
		return s.planUpdate(b, op.update)
	case op.sys != nil:
		return s.planSys(b, op.sys)
	case op.emit != nil:
		return s.planEmit(b, op.emit)
	default:
		return s.planDelete(b, op.delete)
	}
}
