package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// config holds the hub's settings. Every field has a working default, so a
// zero-option New gives a usable loopback hub.
type config struct {
	logger        *slog.Logger
	heartbeat     time.Duration
	retry         time.Duration
	shortRetry    time.Duration
	queueSize     int
	writeTimeout  time.Duration
	writeDelay    time.Duration
	flushEvery    time.Duration
	maxBody       int64
	maxTopics     int
	maxConns      int
	maxConnsPerID int
	historySize   int
	historyTTL    time.Duration
	maxStreamLife time.Duration
	wordsInterval time.Duration
	corsOrigins   []string
	wwwDir        string
	drainTimeout  time.Duration
	sec           securityConfig // auth, Origin and per-address limits (auth.go)
	store         storeConfig    // which broker keeps history (broker.go)
}

func defaultConfig() config {
	return config{
		logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		heartbeat:     15 * time.Second,
		retry:         3 * time.Second,
		shortRetry:    250 * time.Millisecond,
		queueSize:     1024,
		writeTimeout:  10 * time.Second,
		flushEvery:    5 * time.Millisecond,
		maxBody:       64 << 10,
		maxTopics:     64,
		maxConns:      10000,
		maxConnsPerID: 16,
		historySize:   10000,
		wordsInterval: time.Second,
		drainTimeout:  5 * time.Second,
	}
}

// Option configures a Hub.
type Option func(*config) error

var errOption = errors.New("ssekit/server: invalid option")

func positive[T int | int64 | time.Duration](name string, v T) error {
	if v <= 0 {
		return fmt.Errorf("%w: %s must be > 0, got %v", errOption, name, v)
	}
	return nil
}

// WithLogger sets the structured logger. Defaults to discarding logs.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", errOption)
		}
		c.logger = l
		return nil
	}
}

// WithHeartbeat sets the interval of the comment heartbeat shared by all
// streams. Must be > 0. Defaults to 15s.
func WithHeartbeat(d time.Duration) Option {
	return func(c *config) error { c.heartbeat = d; return positive("heartbeat", d) }
}

// WithRetry sets the reconnection delay announced in each stream's first
// frame and in the connected event. Must be > 0. Defaults to 3s.
func WithRetry(d time.Duration) Option {
	return func(c *config) error { c.retry = d; return positive("retry", d) }
}

// WithQueueSize bounds the frames queued for one connection; a connection
// whose queue is full is dropped. Must be > 0. Defaults to 1024.
func WithQueueSize(n int) Option {
	return func(c *config) error { c.queueSize = n; return positive("queue size", n) }
}

// WithWriteTimeout bounds each write+flush to a stream. Must be > 0.
// Defaults to 10s.
func WithWriteTimeout(d time.Duration) Option {
	return func(c *config) error { c.writeTimeout = d; return positive("write timeout", d) }
}

// WithWriteDelay lets frames published within d of each other go out in
// one write: a flusher that is woken waits d before it writes. Trades up to
// d of latency for fewer write calls under load. Must be 0..100ms. Defaults
// to 0 (frames that arrive while a flusher works still share a write).
func WithWriteDelay(d time.Duration) Option {
	return func(c *config) error { c.writeDelay = d; return upTo100ms("write delay", d) }
}

// WithFlushInterval paces the writers of HTTP/1.x streams: a flusher
// starts a round of writes at most every d, and each round writes
// everything queued for a stream in one call. A frame that comes after a
// quiet spell of d or more goes out at once; under load, frames published
// within d of the previous round wait for the next one and share its write.
// So a sparse stream gets no added latency, a busy one at most d (or 1.5
// times a round's length, when rounds take longer than d), for far fewer
// write calls per event. Must be 0..100ms; 0 paces by the round's length
// alone. Defaults to 5ms.
func WithFlushInterval(d time.Duration) Option {
	return func(c *config) error { c.flushEvery = d; return upTo100ms("flush interval", d) }
}

// upTo100ms checks a pacing option's range.
func upTo100ms(name string, d time.Duration) error {
	if d < 0 || d > 100*time.Millisecond {
		return fmt.Errorf("ssekit/server: %s %v: want 0..100ms", name, d)
	}
	return nil
}

// WithMaxBody limits publish request bodies in bytes. Must be > 0. Defaults
// to 64 KiB.
func WithMaxBody(n int64) Option {
	return func(c *config) error { c.maxBody = n; return positive("max body", n) }
}

// WithMaxTopics limits the topics of one stream. Must be > 0. Defaults to 64.
func WithMaxTopics(n int) Option {
	return func(c *config) error { c.maxTopics = n; return positive("max topics", n) }
}

// WithMaxConns limits open streams in total. Must be > 0. Defaults to 10000.
func WithMaxConns(n int) Option {
	return func(c *config) error { c.maxConns = n; return positive("max conns", n) }
}

// WithMaxConnsPerClient limits the open streams of one client id. Must be
// > 0. Defaults to 16.
func WithMaxConnsPerClient(n int) Option {
	return func(c *config) error { c.maxConnsPerID = n; return positive("max conns per client", n) }
}

// WithHistory bounds the replay history by count (must be > 0, default
// 10000) and age (0 = no age limit, the default).
func WithHistory(size int, ttl time.Duration) Option {
	return func(c *config) error {
		c.historySize, c.historyTTL = size, ttl
		if ttl < 0 {
			return fmt.Errorf("%w: history ttl must be >= 0", errOption)
		}
		return positive("history size", size)
	}
}

// WithMaxStreamDuration ends each stream after d with a reconnect event so
// proxies with idle limits never cut a frame. 0 (default) = never.
func WithMaxStreamDuration(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%w: max stream duration must be >= 0", errOption)
		}
		c.maxStreamLife = d
		return nil
	}
}

// WithWordsInterval sets the pace of the /sse/words demo. Must be > 0.
// Defaults to 1s.
func WithWordsInterval(d time.Duration) Option {
	return func(c *config) error { c.wordsInterval = d; return positive("words interval", d) }
}

// WithCORSOrigins allow-lists cross-origin callers. Empty (default) = same
// origin only.
func WithCORSOrigins(origins []string) Option {
	return func(c *config) error { c.corsOrigins = origins; return nil }
}

// WithStatic serves the files of dir at "/". Empty = no static files.
func WithStatic(dir string) Option {
	return func(c *config) error { c.wwwDir = dir; return nil }
}
