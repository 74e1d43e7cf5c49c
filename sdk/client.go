package sdk

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
)

// Options configure a client. The zero value is the documented default.
type Options struct {
	// Backoff is the reconnect delay policy. Zero fields take the defaults
	// (500ms initial, factor 2, 30s max, counter reset after 5s open).
	Backoff Backoff
	// MaxRetries bounds the reconnect attempts in a row (since the last
	// connection that stayed open for Backoff.ResetAfter). 0 (default) means
	// unlimited; a negative value means never reconnect.
	MaxRetries int
	// WithCredentials sends cookies cross-origin. Defaults to false.
	WithCredentials bool
	// Persist keeps the last event id across page loads so a reload resumes
	// too. Defaults to PersistNone. Browser only: elsewhere it is ignored.
	Persist Persist
	// PauseWhenHidden closes the stream while the page is hidden and resumes
	// it (from the last event id) when the page is visible again. Defaults to
	// false: the stream stays open in hidden tabs.
	PauseWhenHidden bool
	// DedupWindow is how many recent event ids the client remembers to drop
	// duplicates. Must be > 0. Defaults to 1024.
	DedupWindow int
}

// Persist says where a client keeps its last event id.
type Persist string

// Persist modes.
const (
	PersistNone    Persist = "none"
	PersistSession Persist = "session" // sessionStorage, keyed by the URL
)

// ParsePersist reads a persist option; "" means PersistNone.
func ParsePersist(s string) (Persist, bool) {
	switch Persist(s) {
	case "", PersistNone:
		return PersistNone, true
	case PersistSession:
		return PersistSession, true
	}
	return "", false
}

// persistKey is the storage key of a stream's last event id.
func persistKey(url string) string { return "ssekit:lastEventId:" + url }

// Stats are a client's counters since Connect.
type Stats struct {
	Received          int // events delivered, control events and duplicates not counted
	DroppedDuplicates int // events dropped because their id was already seen
	Reconnects        int // connections opened after the first one
	Resets            int // reset events: the server could not resume the cursor
}

// AuthError is what the auth hook learns: a 401 or 403 on the stream URL
// (Status), or an end event with reason token-expired (Status 0).
type AuthError struct {
	Status int
	Reason string
}

// ErrClosed is returned by calls on a closed client.
var ErrClosed = errors.New("ssekit/sdk: client is closed")

// ErrEmptyType is returned by On for an empty event type.
var ErrEmptyType = errors.New("ssekit/sdk: event type is empty")

// transport is the platform under a client: the browser's EventSource and
// fetch, or net/http elsewhere.
type transport interface {
	// open starts one connection to url, delivering events of types (and
	// of types added later with listen) to s until the stream is closed.
	open(url string, types []string, s sink) (stream, error)
	// probe learns the status a GET of url gets now, without opening a
	// stream, and calls done once.
	probe(url string, done func(Failure))
	// online reports whether the platform believes it has a network.
	online() bool
	// onOnline calls fn once when the network comes back; cancel stops it.
	onOnline(fn func()) (cancel func())
	// hidden reports whether the page is hidden.
	hidden() bool
	// onVisibility calls fn on every visibility change until cancelled.
	onVisibility(fn func(hidden bool)) (cancel func())
	// load and save keep a value in session storage; errors are ignored.
	load(key string) string
	save(key, value string)
}

// stream is one connection opened by a transport.
type stream interface {
	// listen makes the stream deliver events of typ too.
	listen(typ string) error
	// close ends the connection; the stream reports nothing afterwards.
	close()
}

// Client is one logical stream: it opens connections through its
// transport, reconnects by its policy, drops duplicates, and dispatches
// events to handlers. All of its listeners, timers and JS functions are
// released by Close.
type Client struct {
	url  string
	opts Options
	tr   transport
	reg  *registry
	rnd  func() float64

	mu          sync.Mutex
	closed      bool
	tok         int // the current step; callbacks of an older step do nothing
	cur         stream
	types       map[string]bool // event types the platform delivers
	state       StateChange
	attempt     int
	authInRow   int
	openedAt    Duration // monotonic time the connection opened; 0 unless open
	everOpen    bool
	paused      bool
	serverRetry Duration
	lastID      string // the cursor to resume from
	prevID      string // the last event id seen on the current connection
	seen        *dedup
	stats       Stats
	clientID    string
	stopTimer   func() bool // stops the reconnect timer (afterFunc)
	cancelWait  func()
	unwatch     func()
	alive       any // set by the platform layer to count live clients

	stateFns []func(StateChange)
	errFns   []func(error)
	resetFns []func(reason string)
	authFn   func(AuthError) bool

	// Listener notifications are queued and delivered in order by one
	// caller at a time, so a listener may call back into the client.
	queue      []func()
	delivering bool
}

// controlTypes are the event types the client acts on itself.
var controlTypes = []string{EventConnected, EventReconnect, EventEnd, EventReset}

func isControl(typ string) bool {
	switch typ {
	case EventConnected, EventReconnect, EventEnd, EventReset:
		return true
	}
	return false
}

// sortStrings is an insertion sort for the few names the SDK orders:
// slices.Sort's generic pdqsort costs more wasm than it saves time here.
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// newClient builds a client on tr; start opens the first connection.
func newClient(url string, opts Options, tr transport) *Client {
	opts.Backoff = opts.Backoff.withDefaults()
	c := &Client{
		url:   url,
		opts:  opts,
		tr:    tr,
		reg:   newRegistry(),
		rnd:   rand.Float64,
		types: make(map[string]bool),
		seen:  newDedup(opts.DedupWindow),
		state: StateChange{State: StateConnecting},
	}
	for _, t := range controlTypes {
		c.types[t] = true
	}
	return c
}

// start opens the first connection, from the persisted cursor if any. An
// error here (a URL the platform refuses) closes the client.
func (c *Client) start() error {
	if c.opts.PauseWhenHidden {
		cancel := c.tr.onVisibility(c.visibilityChanged)
		c.mu.Lock()
		c.unwatch = cancel
		c.mu.Unlock()
	}
	c.mu.Lock()
	if c.opts.Persist == PersistSession {
		c.lastID = c.tr.load(persistKey(c.url))
	}
	var err error
	if c.opts.PauseWhenHidden && c.tr.hidden() {
		c.pauseLocked()
	} else if err = c.dialLocked(); err != nil {
		c.closeLocked(StateChange{State: StateClosed, LastError: err.Error()})
	}
	c.mu.Unlock()
	c.deliver()
	return err
}

// On registers fn for events of typ ("*" for every event that reaches the
// client except the control events connected, reconnect, end and reset:
// register those by name). The returned function removes fn.
func (c *Client) On(typ string, fn Handler) (func(), error) {
	if typ == "" {
		return nil, ErrEmptyType
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	pt := typ
	if typ == EventAny {
		pt = EventMessage
	}
	if !c.types[pt] {
		if c.cur != nil {
			if err := c.cur.listen(pt); err != nil {
				return nil, err
			}
		}
		c.types[pt] = true
	}
	remove, _ := c.reg.add(typ, fn)
	return remove, nil
}

// OnState registers fn for state changes and calls it at once with the
// current state.
func (c *Client) OnState(fn func(StateChange)) {
	c.mu.Lock()
	c.stateFns = append(c.stateFns, fn)
	st := c.state
	c.queue = append(c.queue, func() { fn(st) })
	c.mu.Unlock()
	c.deliver()
}

// OnError registers fn for errors: handler failures (a *HandlerError with
// the event), decode and schema failures, transport errors.
func (c *Client) OnError(fn func(error)) {
	c.mu.Lock()
	c.errFns = append(c.errFns, fn)
	c.mu.Unlock()
}

// OnReset registers fn for reset events: the server could not resume from
// the last event id, so events may have been missed.
func (c *Client) OnReset(fn func(reason string)) {
	c.mu.Lock()
	c.resetFns = append(c.resetFns, fn)
	c.mu.Unlock()
}

// OnAuthError sets the hook called on a 401 or 403, or an end event with
// reason token-expired. It runs on its own goroutine and may block (e.g.
// to renew a session cookie); returning true reconnects, false stops the
// client. Without a hook the client stops. A later call replaces the hook.
func (c *Client) OnAuthError(fn func(AuthError) bool) {
	c.mu.Lock()
	c.authFn = fn
	c.mu.Unlock()
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// State returns the current state.
func (c *Client) State() StateChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// ClientID is the id the server announced in its connected event.
func (c *Client) ClientID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clientID
}

// LastEventID is the id the client would resume from now.
func (c *Client) LastEventID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastID
}

// Close closes the stream, stops every timer and watcher, and releases
// every listener. Safe to call more than once.
func (c *Client) Close() {
	c.mu.Lock()
	c.closeLocked(StateChange{State: StateClosed})
	c.mu.Unlock()
	c.deliver()
}

func (c *Client) closeLocked(final StateChange) {
	if c.closed {
		return
	}
	c.takeOverLocked()
	if c.unwatch != nil {
		c.unwatch()
		c.unwatch = nil
	}
	c.setStateLocked(final)
	c.closed = true
}

// setStateLocked records st and queues it for the state listeners.
func (c *Client) setStateLocked(st StateChange) {
	if c.closed || c.state == st {
		return
	}
	c.state = st
	for _, fn := range c.stateFns {
		c.queue = append(c.queue, func() { fn(st) })
	}
}

// deliver runs queued notifications in order, outside the lock. One
// caller delivers at a time; a listener that calls back into the client
// only queues more, which the same loop then delivers.
func (c *Client) deliver() {
	c.mu.Lock()
	if c.delivering {
		c.mu.Unlock()
		return
	}
	c.delivering = true
	for len(c.queue) > 0 {
		fn := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.mu.Unlock()
		c.notify(fn)
		c.mu.Lock()
	}
	c.queue = nil
	c.delivering = false
	c.mu.Unlock()
}

// notify runs one listener; a panic is reported, and never stops the
// notifications that follow.
func (c *Client) notify(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			c.reportError(panicError(r))
		}
	}()
	fn()
}

func (c *Client) reportError(err error) {
	c.mu.Lock()
	fns := slices.Clone(c.errFns)
	c.mu.Unlock()
	if len(fns) == 0 {
		logError(err)
	}
	for _, fn := range fns {
		fn(err)
	}
}
