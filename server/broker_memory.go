package server

import (
	"context"
	"sync"
	"time"
)

// memoryBroker is the default broker: one process, history in a bounded
// ring in memory, a new epoch with each process. Publish delivers
// synchronously, so Receipt.Delivered is exact.
type memoryBroker struct {
	mu      sync.Mutex
	hist    *history
	deliver func(Entry) int
	closed  bool
}

func newMemoryBroker(size int, ttl time.Duration) *memoryBroker {
	return &memoryBroker{hist: newHistory(size, ttl, time.Now()), deliver: func(Entry) int { return 0 }}
}

func (b *memoryBroker) Subscribe(deliver func(Entry) int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.deliver = deliver
	return nil
}

// Publish keeps the event and delivers it under one lock, so events reach
// the hub in seq order.
func (b *memoryBroker) Publish(_ context.Context, m Message) (Receipt, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return Receipt{}, ErrClosed
	}
	seq, id := b.hist.nextID()
	custom := m.ID != ""
	if custom {
		id = m.ID
	}
	e := histEntry{seq: seq, id: id, at: m.At, to: m.to, frame: frameOf(id, m.Body)}
	b.hist.expire(m.At)
	b.hist.add(e, custom)
	n := b.deliver(b.entry(&e))
	return Receipt{ID: id, Delivered: n}, nil
}

func (b *memoryBroker) entry(e *histEntry) Entry {
	return Entry{Epoch: b.hist.epoch, Seq: e.seq, ID: e.id, At: e.at, to: e.to, Frame: e.frame}
}

func (b *memoryBroker) Since(_ context.Context, cursor string) (Replay, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return Replay{}, ErrClosed
	}
	b.hist.expire(time.Now()) // a cursor older than the ttl must not resume
	seq, reset := b.hist.resolve(cursor)
	if reset != "" {
		return Replay{Reset: reset}, nil
	}
	rp := Replay{Epoch: b.hist.epoch, Seq: seq}
	b.hist.since(seq, func(e *histEntry) { rp.Entries = append(rp.Entries, b.entry(e)) })
	return rp, nil
}

func (b *memoryBroker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}
