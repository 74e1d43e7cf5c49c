package server

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// targetKind says who an event is for.
type targetKind uint8

const (
	toAll targetKind = iota
	toClient
	toTopic
)

// target addresses an event: everyone, one client id, or one topic.
type target struct {
	kind targetKind
	name string
}

// histEntry is one published event as kept in history: encoded once,
// shared by every stream that delivers or replays it.
type histEntry struct {
	seq   uint64
	id    string
	at    time.Time
	to    target
	frame []byte
}

// history is a bounded, in-memory ring of published events, ordered by
// seq. It is not safe for concurrent use; the hub guards it.
type history struct {
	epoch string
	ring  []histEntry
	head  int // index of the oldest entry
	n     int
	ttl   time.Duration
	ids   map[string]uint64 // publisher-given ids still in the ring
	last  uint64            // seq of the newest event ever added
}

func newHistory(size int, ttl time.Duration, now time.Time) *history {
	return &history{
		epoch: newEpoch(now),
		ring:  make([]histEntry, size),
		ttl:   ttl,
		ids:   make(map[string]uint64),
	}
}

// newEpoch names a memory history: its start time in base 36 and four
// random base-36 digits, so ids are never reused across restarts, even two
// in the same millisecond.
func newEpoch(now time.Time) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := []byte(strconv.FormatInt(now.UnixMilli(), 36))
	for range 4 {
		b = append(b, digits[rand.IntN(len(digits))])
	}
	return string(b)
}

// nextID reserves the next sequence number and its wire id.
func (h *history) nextID() (uint64, string) {
	seq := h.last + 1
	return seq, h.epoch + "-" + strconv.FormatUint(seq, 10)
}

// add appends e (whose seq came from nextID), evicting the oldest entry when
// full.
func (h *history) add(e histEntry, custom bool) {
	h.last = e.seq
	if h.n == len(h.ring) {
		h.dropOldest()
	}
	h.ring[(h.head+h.n)%len(h.ring)] = e
	h.n++
	if custom {
		h.ids[e.id] = e.seq
	}
}

func (h *history) dropOldest() {
	old := &h.ring[h.head]
	if seq, ok := h.ids[old.id]; ok && seq == old.seq {
		delete(h.ids, old.id)
	}
	*old = histEntry{}
	h.head = (h.head + 1) % len(h.ring)
	h.n--
}

// expire drops entries older than the ttl.
func (h *history) expire(now time.Time) {
	if h.ttl <= 0 {
		return
	}
	for h.n > 0 && now.Sub(h.ring[h.head].at) > h.ttl {
		h.dropOldest()
	}
}

// firstSeq is the seq of the oldest retained event, or last+1 when empty.
func (h *history) firstSeq() uint64 {
	if h.n == 0 {
		return h.last + 1
	}
	return h.ring[h.head].seq
}

// Reasons a cursor cannot be resumed, sent in the reset event.
const (
	resetMalformed = "cursor-malformed" // not an id this hub could have assigned
	resetEpoch     = "cursor-epoch"     // from another epoch: a restart, or another history
	resetTooOld    = "cursor-too-old"   // its events have left the history
	resetUnknown   = "cursor-unknown"   // never assigned (an id from the future)
)

// resolve turns a Last-Event-ID into a seq. reset is not empty when the
// cursor is malformed, from another epoch, unknown, or older than what is
// retained: the caller then sends a reset event with it.
func (h *history) resolve(cursor string) (seq uint64, reset string) {
	if seq, ok := h.ids[cursor]; ok {
		return seq, ""
	}
	epoch, seq, ok := parseCursor(cursor)
	switch {
	case !ok:
		return 0, resetMalformed
	case epoch != h.epoch:
		return 0, resetEpoch
	case seq > h.last:
		return 0, resetUnknown
	case seq+1 < h.firstSeq():
		return 0, resetTooOld
	}
	return seq, ""
}

// since calls fn for each retained entry after seq, oldest first. Seqs in
// the ring are contiguous, so the start is found by arithmetic.
func (h *history) since(seq uint64, fn func(*histEntry)) {
	start := 0
	if first := h.firstSeq(); seq >= first {
		start = int(seq - first + 1)
	}
	for i := start; i < h.n; i++ {
		fn(&h.ring[(h.head+i)%len(h.ring)])
	}
}

// parseCursor splits a hub-assigned id "<epoch>-<seq>". ok is false for
// anything else, which cannot be resumed unless it is a publisher's id.
func parseCursor(cursor string) (epoch string, seq uint64, ok bool) {
	if len(cursor) > maxCursor {
		return "", 0, false
	}
	epoch, num, found := strings.Cut(cursor, "-")
	if !found || epoch == "" {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil || strconv.FormatUint(seq, 10) != num {
		return "", 0, false
	}
	return epoch, seq, true
}
