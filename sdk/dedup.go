package sdk

// DefaultDedupWindow is how many recent event ids a client remembers to
// drop duplicates.
const DefaultDedupWindow = 1024

// dedup remembers the last n event ids it was shown, in a ring, so memory
// stays bounded however long the stream lives. Ids are opaque: only
// equality is used. Not safe for concurrent use; the client guards it.
type dedup struct {
	max  int
	ring []string
	next int
	seen map[string]struct{}
}

// newDedup remembers up to n ids; memory grows with use, so a client that
// never sees an id costs nothing.
func newDedup(n int) *dedup {
	if n <= 0 {
		n = DefaultDedupWindow
	}
	return &dedup{max: n, seen: make(map[string]struct{})}
}

// check reports whether id was seen within the window and records it if
// not. The empty id is never a duplicate.
func (d *dedup) check(id string) (dup bool) {
	if id == "" {
		return false
	}
	if _, ok := d.seen[id]; ok {
		return true
	}
	if len(d.ring) < d.max {
		d.ring = append(d.ring, id)
	} else {
		delete(d.seen, d.ring[d.next])
		d.ring[d.next] = id
		d.next = (d.next + 1) % len(d.ring)
	}
	d.seen[id] = struct{}{}
	return false
}

// clear forgets every id, as after a reset: the server's history starts
// over and an old id may legitimately come again.
func (d *dedup) clear() {
	d.ring = d.ring[:0]
	d.next = 0
	clear(d.seen)
}

// len is the number of ids remembered.
func (d *dedup) len() int { return len(d.seen) }
