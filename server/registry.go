package server

import "sync"

// numShards is how many parts the registry of streams is split into. A
// stream lives in the shard of its client id: connecting, leaving and
// sending to one client lock that shard only, and a broadcast locks one
// shard at a time, so a stream that connects waits for at most a
// sixteenth of a fan-out, not all of it.
const numShards = 16

// shard is one part of the registry: its streams, by client id and topic.
// Its mu also guards the position (conn.pos) of each of its streams.
type shard struct {
	mu      sync.Mutex
	all     map[*conn]struct{}
	clients map[string]map[*conn]struct{}
	topics  map[string]map[*conn]struct{}
}

// shardOf is the shard of clientID (FNV-1a).
func (h *Hub) shardOf(clientID string) *shard {
	x := uint32(2166136261)
	for i := 0; i < len(clientID); i++ {
		x ^= uint32(clientID[i])
		x *= 16777619
	}
	return &h.shards[x%numShards]
}

// add registers c. s.mu is held.
func (s *shard) add(c *conn) {
	if s.all == nil {
		s.all = make(map[*conn]struct{})
		s.clients = make(map[string]map[*conn]struct{})
		s.topics = make(map[string]map[*conn]struct{})
	}
	s.all[c] = struct{}{}
	addTo(s.clients, c.clientID, c)
	for _, t := range c.topics {
		addTo(s.topics, t, c)
	}
}

// remove unregisters c and reports whether it was there. s.mu is held.
func (s *shard) remove(c *conn) bool {
	if _, ok := s.all[c]; !ok {
		return false
	}
	delete(s.all, c)
	removeFrom(s.clients, c.clientID, c)
	for _, t := range c.topics {
		removeFrom(s.topics, t, c)
	}
	return true
}

// deliver queues e to the streams of s it is for and returns how many,
// with slow extended by those whose queue was full, which it unregisters.
// A stream still reading history keeps e for later (register merges it by
// seq).
//
// Taken-over streams whose queue it armed go into a, which the caller
// hands over once the event is queued everywhere.
func (s *shard) deliver(h *Hub, e *Entry, slow []*conn, a *armedSet) (int, []*conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := len(slow)
	delivered := 0
	offer := func(c *conn) {
		switch {
		case c.pos.replaying:
			if len(c.pos.pending) >= c.queue.max {
				slow = append(slow, c)
				return
			}
			c.pos.pending = append(c.pos.pending, *e)
			delivered++
		case !c.pos.fresh(e):
			// Already written from history, or seen before an outage.
		case a.offer(c, e.Frame):
			delivered++
		default:
			slow = append(slow, c)
		}
	}
	switch e.to.kind {
	case toAll:
		for c := range s.all {
			offer(c)
		}
	case toClient:
		for c := range s.clients[e.to.name] {
			offer(c)
		}
	case toTopic:
		for c := range s.topics[e.to.name] {
			offer(c)
		}
	}
	for _, c := range slow[first:] {
		h.unregisterLocked(s, c)
	}
	return delivered, slow
}

// eachConn calls fn for every registered stream, one shard locked at a
// time.
func (h *Hub) eachConn(fn func(*conn)) {
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.Lock()
		for c := range s.all {
			fn(c)
		}
		s.mu.Unlock()
	}
}

func addTo(m map[string]map[*conn]struct{}, key string, c *conn) {
	set := m[key]
	if set == nil {
		set = make(map[*conn]struct{})
		m[key] = set
	}
	set[c] = struct{}{}
}

func removeFrom(m map[string]map[*conn]struct{}, key string, c *conn) {
	set := m[key]
	delete(set, c)
	if len(set) == 0 {
		delete(m, key)
	}
}
