package server

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Broker carries published events: it gives each one its id, keeps it in
// the history a reconnecting client resumes from, and fans it out to the
// hubs (nodes) that must deliver it. The hub is the same for every broker;
// the memory broker is the default, the bolt broker keeps history on local
// disk (-data-dir), the redis broker shares it between nodes (-redis-url).
// The implementations live in this package (Message and Entry carry an
// unexported target).
//
// The contract the hub relies on:
//   - Ids are strictly increasing within an epoch (Entry.Seq), never reused,
//     and the epoch is the history's own: a new one means nothing from an
//     older one can be resumed.
//   - An event is in history before it is handed to any subscriber, so a
//     stream that registers, then reads history, then takes live events
//     (dropping seqs it has already written) sees no gap.
//   - deliver is called for the accepted events this node must deliver, one
//     at a time, in seq order, from one goroutine at a time, at least once
//     (a node resuming after an outage may see an event twice; the hub drops
//     repeats by seq).
type Broker interface {
	// Publish assigns m its id (m.ID when the publisher chose one), stores
	// it and fans it out. On error nothing was stored or delivered: the
	// error wraps ErrBrokerDown (503) or ErrStoreFull (507).
	Publish(ctx context.Context, m Message) (Receipt, error)
	// Subscribe starts the fan-out to this node: deliver gets each event
	// for this node and returns how many local streams it queued it to. It
	// is called once, before any Publish.
	Subscribe(deliver func(Entry) int) error
	// Since resolves a Last-Event-ID and reads the events after it, oldest
	// first. A cursor that cannot be resumed is not an error: Replay.Reset
	// says why. Errors wrap ErrBrokerDown.
	Since(ctx context.Context, cursor string) (Replay, error)
	// Close stops the fan-out and releases the store. Publish and Since
	// fail after it.
	Close() error
}

// Optional abilities, found by type assertion.
type (
	// healthChecker is a broker that can be unavailable for a while (a
	// remote store): Health returns an error wrapping ErrBrokerDown until
	// it answers again. Streams stay open meanwhile.
	healthChecker interface {
		Health() error
	}
	// holder is a broker that routes events for one client only to the
	// nodes holding a stream of it. Hold must have taken effect before the
	// hub reads history for the stream, so an event published meanwhile is
	// either in what it reads or delivered live.
	holder interface {
		Hold(ctx context.Context, clientID string, topics []string) error
		Release(clientID string, topics []string)
	}
	// counter reports the events this node has published since it started,
	// for the stats demo.
	counter interface {
		Published() uint64
	}
)

// ErrBrokerDown and ErrStoreFull are the broker failures a publisher sees.
var (
	ErrBrokerDown = errors.New("ssekit/server: event broker unavailable, try again")
	ErrStoreFull  = errors.New("ssekit/server: history store cannot write (out of space or failing)")
)

// Message is an event handed to a broker: encoded once, without its id line.
type Message struct {
	to   target
	ID   string // the publisher's id, or "" for the broker's own
	Body []byte // the encoded event without an id line
	At   time.Time
}

// Receipt is what a broker answers for a published event.
type Receipt struct {
	ID        string
	Delivered int // streams it was queued to (on every node, as far as the broker knows)
}

// Entry is one event as a broker delivers and replays it.
type Entry struct {
	Epoch string
	Seq   uint64
	ID    string
	At    time.Time
	to    target
	Frame []byte // id line + body: the bytes written to every stream
}

// Replay is the outcome of Since.
type Replay struct {
	Reset   string // why the cursor was not resumed ("" when it was)
	Epoch   string // the cursor's epoch and seq when it was resumed
	Seq     uint64
	Entries []Entry
}

// frameOf builds the frame of an event: its id line, then the body, which
// was encoded without one.
func frameOf(id string, body []byte) []byte {
	f := make([]byte, 0, len(id)+5+len(body))
	f = append(f, "id: "...)
	f = append(f, id...)
	f = append(f, '\n')
	return append(f, body...)
}

// Compile-time guards: every broker is a Broker, with its optional
// abilities.
var (
	_ Broker        = (*memoryBroker)(nil)
	_ Broker        = (*boltBroker)(nil)
	_ Broker        = (*redisBroker)(nil)
	_ healthChecker = (*redisBroker)(nil)
	_ holder        = (*redisBroker)(nil)
)

// position is where a stream stands in the history: the epoch and seq of
// the last event it was given. Guarded by the hub's mu.
type position struct {
	epoch     string
	seq       uint64
	replaying bool    // history is being read for it: live events wait in pending
	pending   []Entry // live events that arrived while replaying
	held      bool    // the broker's holder counts this stream
}

// fresh reports whether e comes after what the stream was given, and moves
// the stream past it if so. An event of another epoch is always fresh:
// the history started over.
func (p *position) fresh(e *Entry) bool {
	if e.Epoch == p.epoch && e.Seq <= p.seq {
		return false
	}
	p.epoch, p.seq = e.Epoch, e.Seq
	return true
}

// storeConfig picks the broker: memory unless a data dir or a Redis URL is
// set (not both).
type storeConfig struct {
	broker   Broker // set by tests
	dataDir  string
	maxBytes int64
	redis    redisOptions
	lockWait time.Duration
	cleanup  time.Duration // bolt cleanup interval; 0: 1s
}

// WithDataDir keeps history on local disk in dir (a bbolt file), so a
// restarted node replays what its clients missed. One process per dir.
// Empty (default) = history in memory.
func WithDataDir(dir string) Option {
	return func(c *config) error { c.store.dataDir = dir; return nil }
}

// WithHistoryMaxBytes bounds the on-disk history (WithDataDir) by the size
// of its records; the oldest are deleted first. 0 (default) = bounded by
// count and age only.
func WithHistoryMaxBytes(n int64) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("%w: history max bytes must be >= 0", errOption)
		}
		c.store.maxBytes = n
		return nil
	}
}

// WithRedis shares history and fan-out with every node that uses the same
// Redis, e.g. "redis://127.0.0.1:6379/0". Empty (default) = this process
// alone.
func WithRedis(url string) Option {
	return func(c *config) error { c.store.redis.url = url; return nil }
}

// WithRedisPresence turns targeted delivery through Redis on (default) or
// off: with it, an event for one client goes only to the nodes holding a
// stream of that client; without, every event goes to every node.
func WithRedisPresence(on bool) Option {
	return func(c *config) error { c.store.redis.untargeted = !on; return nil }
}

// useBroker opens the configured broker and subscribes the hub to it.
func (h *Hub) useBroker() error {
	s := h.cfg.store
	var (
		b   Broker
		err error
	)
	switch {
	case s.broker != nil:
		b = s.broker
	case s.dataDir != "" && s.redis.url != "":
		return fmt.Errorf("%w: a data dir and a Redis URL exclude each other: Redis keeps the history", errOption)
	case s.dataDir != "":
		lockWait := s.lockWait
		if lockWait <= 0 {
			lockWait = time.Second
		}
		b, err = openBolt(s.dataDir, boltBounds{
			count: h.cfg.historySize, maxBytes: s.maxBytes, maxAge: h.cfg.historyTTL, every: s.cleanup,
		}, h.log, lockWait)
	case s.redis.url != "":
		o := s.redis
		o.maxLen, o.maxAge = h.cfg.historySize, h.cfg.historyTTL
		b, err = dialRedis(o, h.log)
	default:
		b = newMemoryBroker(h.cfg.historySize, h.cfg.historyTTL)
	}
	if err != nil {
		return err
	}
	h.broker = b
	if hc, ok := b.(healthChecker); ok {
		h.health = hc
	}
	if hd, ok := b.(holder); ok {
		h.hold = hd
	}
	return b.Subscribe(h.deliver)
}
