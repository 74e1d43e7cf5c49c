package server

import (
	"sync"
	"time"
)

// idempotency remembers the outcome of publishes by Idempotency-Key, so a
// retried publish returns the first one's id instead of sending twice. It is
// bounded in entries and age.
type idempotency struct {
	max int
	ttl time.Duration

	mu    sync.Mutex
	byKey map[string]*idemEntry
	order []string // insertion order, for eviction
}

type idemEntry struct {
	done chan struct{} // closed when res/err are set
	res  Published
	err  error
	at   time.Time
}

func newIdempotency(max int, ttl time.Duration) *idempotency {
	return &idempotency{max: max, ttl: ttl, byKey: make(map[string]*idemEntry)}
}

// do runs fn once per key. A concurrent or later call with the same key
// waits for and returns the first outcome. A failed fn is forgotten so a
// retry can succeed.
func (i *idempotency) do(key string, fn func() (Published, error)) (Published, error) {
	now := time.Now()
	i.mu.Lock()
	if e, ok := i.byKey[key]; ok && now.Sub(e.at) <= i.ttl {
		i.mu.Unlock()
		<-e.done
		return e.res, e.err
	}
	e := &idemEntry{done: make(chan struct{}), at: now}
	i.byKey[key] = e
	i.order = append(i.order, key)
	i.evictLocked(now)
	i.mu.Unlock()

	e.res, e.err = fn()
	close(e.done)
	if e.err != nil {
		i.mu.Lock()
		if i.byKey[key] == e {
			delete(i.byKey, key)
		}
		i.mu.Unlock()
	}
	return e.res, e.err
}

func (i *idempotency) evictLocked(now time.Time) {
	drop := 0
	for drop < len(i.order) {
		key := i.order[drop]
		e, ok := i.byKey[key]
		if ok && len(i.byKey) <= i.max && now.Sub(e.at) <= i.ttl {
			break
		}
		if ok {
			select {
			case <-e.done:
				delete(i.byKey, key)
			default:
				// Still running: keep it, and stop evicting behind it.
				i.order = i.order[drop:]
				return
			}
		}
		drop++
	}
	i.order = i.order[drop:]
}
