package sdk

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"
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
	openedAt    time.Duration // monotonic time the connection opened; 0 unless open
	everOpen    bool
	paused      bool
	serverRetry time.Duration
	lastID      string // the cursor to resume from
	prevID      string // the last event id seen on the current connection
	seen        *dedup
	stats       Stats
	clientID    string
	stopTimer   func() bool // a func, not the *time.Timer: see clockStart
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

// clockStart anchors monotonic. The client keeps durations, not
// time.Time values: a time.Time inside a type that reaches an interface
// makes the linker keep time's whole formatting code in the wasm.
var clockStart = time.Now()

// monotonic is the time since clockStart on the monotonic clock; never 0.
func monotonic() time.Duration { return time.Since(clockStart) | 1 }

// controlTypes are the event types the client acts on itself.
var controlTypes = []string{EventConnected, EventReconnect, EventEnd, EventReset}

func isControl(typ string) bool { return slices.Contains(controlTypes, typ) }

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

// next starts a new step; callers hold c.mu.
func (c *Client) next() int {
	c.tok++
	if c.stopTimer != nil {
		c.stopTimer()
		c.stopTimer = nil
	}
	if c.cancelWait != nil {
		c.cancelWait()
		c.cancelWait = nil
	}
	return c.tok
}

// current reports whether tok is still the client's step; callers hold c.mu.
func (c *Client) current(tok int) bool { return !c.closed && tok == c.tok }

// wake runs when a wait is over: it dials, unless the page is hidden and
// the client pauses, or the browser is offline.
func (c *Client) wake(tok int) {
	c.mu.Lock()
	if !c.current(tok) {
		c.mu.Unlock()
		return
	}
	switch {
	case c.opts.PauseWhenHidden && c.tr.hidden():
		c.pauseLocked()
	case !c.tr.online():
		c.waitOnlineLocked(tok, 0)
	default:
		if err := c.dialLocked(); err != nil {
			// Report from a fresh goroutine: failed takes the lock held here.
			go sink{c: c, tok: c.tok}.failed(Failure{Err: err}, false)
		}
	}
	c.mu.Unlock()
	c.deliver()
}

// pauseLocked closes the connection until the page is visible again.
func (c *Client) pauseLocked() {
	c.paused = true
	c.takeOverLocked()
	c.setStateLocked(StateChange{State: StateReconnecting, Attempt: c.attempt, LastError: "paused while the page is hidden"})
}

// dialLocked opens a connection, resuming from the last event id.
func (c *Client) dialLocked() error {
	tok := c.next()
	u := c.url
	if c.lastID != "" {
		u = withLastEventID(u, c.lastID)
	}
	types := make([]string, 0, len(c.types))
	for t := range c.types {
		types = append(types, t)
	}
	sortStrings(types)
	c.prevID = ""
	c.setStateLocked(StateChange{State: StateConnecting, Attempt: c.attempt})
	s, err := c.tr.open(u, types, sink{c: c, tok: tok})
	if err != nil {
		return err
	}
	c.cur = s
	return nil
}

// waitOnlineLocked waits for the network instead of burning attempts.
func (c *Client) waitOnlineLocked(tok, status int) {
	c.setStateLocked(StateChange{State: StateReconnecting, Attempt: c.attempt, Status: status, LastError: "offline: waiting for the network"})
	if c.cancelWait != nil {
		c.cancelWait()
	}
	c.cancelWait = c.tr.onOnline(func() { c.wake(tok) })
}

// sink is how one connection reports to its client; reports from a
// connection the client has moved on from are ignored.
type sink struct {
	c   *Client
	tok int
}

func (s sink) opened() {
	c := s.c
	c.mu.Lock()
	if !c.current(s.tok) {
		c.mu.Unlock()
		return
	}
	c.openedAt = monotonic()
	if c.everOpen {
		c.stats.Reconnects++
	}
	c.everOpen = true
	c.setStateLocked(StateChange{State: StateOpen, Attempt: c.attempt})
	c.mu.Unlock()
	c.deliver()
}

func (s sink) event(ev Event) {
	c := s.c
	c.mu.Lock()
	if !c.current(s.tok) {
		c.mu.Unlock()
		return
	}
	// An event that carries no id field repeats the previous event's id
	// (EventSource's lastEventId persists), so only a changed id is a new
	// one to check and record.
	if ev.ID != c.prevID {
		c.prevID = ev.ID
		if c.seen.check(ev.ID) {
			c.stats.DroppedDuplicates++
			c.mu.Unlock()
			return
		}
		c.lastID = ev.ID
		if c.opts.Persist == PersistSession {
			c.tr.save(persistKey(c.url), ev.ID)
		}
	}
	if !c.types[ev.Type] {
		c.mu.Unlock()
		return
	}
	control := isControl(ev.Type)
	if !control {
		c.stats.Received++
	}
	c.mu.Unlock()

	switch ev.Type {
	case EventConnected:
		c.connected(ev)
	case EventReset:
		c.reset(ev)
	}
	for _, err := range c.reg.dispatch(ev, !control) {
		c.reportError(err)
	}
	switch ev.Type {
	case EventReconnect:
		c.reconnectRequested(s.tok, ev)
	case EventEnd:
		c.ended(s.tok, ev)
	}
}

// failed reports a broken connection. known says f.Status came from the
// connection itself; otherwise the client probes for it.
func (s sink) failed(f Failure, known bool) {
	c := s.c
	c.mu.Lock()
	if !c.current(s.tok) {
		c.mu.Unlock()
		return
	}
	tok := c.takeOverLocked()
	c.attempt++
	attempt := c.attempt
	retries := c.opts.MaxRetries
	switch {
	case retries < 0 || (retries > 0 && attempt > retries):
		reason := "gave up after " + strconv.Itoa(attempt-1) + " reconnect attempts"
		if retries < 0 {
			reason = "stream failed and reconnecting is off"
		}
		c.closeLocked(StateChange{State: StateClosed, Attempt: attempt - 1, Status: f.Status, LastError: reason})
	case !c.tr.online():
		c.waitOnlineLocked(tok, f.Status)
	case known:
		c.decideLocked(tok, attempt, f)
	default:
		c.mu.Unlock()
		c.tr.probe(c.url, func(f Failure) {
			c.mu.Lock()
			if c.current(tok) {
				c.decideLocked(tok, attempt, f)
			}
			c.mu.Unlock()
			c.deliver()
		})
		return
	}
	c.mu.Unlock()
	c.deliver()
}

// takeOverLocked closes the current connection (the SDK reconnects, never
// the platform) and starts a new step. A connection that stayed open long
// enough resets the attempt counters.
func (c *Client) takeOverLocked() int {
	if c.cur != nil {
		c.cur.close()
		c.cur = nil
	}
	if c.openedAt != 0 && monotonic()-c.openedAt >= c.opts.Backoff.ResetAfter {
		c.attempt, c.authInRow = 0, 0
	}
	c.openedAt = 0
	return c.next()
}

// decideLocked acts on a classified failure.
func (c *Client) decideLocked(tok, attempt int, f Failure) {
	v, retryAfter, reason := Classify(f, time.Now())
	if f.Status == 0 && f.Err != nil {
		reason += ": " + f.Err.Error()
	}
	switch v {
	case VerdictStop:
		c.closeLocked(StateChange{State: StateClosed, Attempt: attempt, Status: f.Status, LastError: reason})
	case VerdictAuth:
		c.authenticateLocked(tok, AuthError{Status: f.Status, Reason: reason})
	default:
		d := c.opts.Backoff.Delay(attempt, c.serverRetry, c.rnd())
		if v == VerdictRetryAfter {
			d = max(d, retryAfter)
		}
		c.scheduleLocked(tok, d, StateChange{State: StateReconnecting, Attempt: attempt, NextDelay: d, Status: f.Status, LastError: reason})
	}
}

// scheduleLocked reports st and wakes after d.
func (c *Client) scheduleLocked(tok int, d time.Duration, st StateChange) {
	c.setStateLocked(st)
	c.stopTimer = time.AfterFunc(d, func() { c.wake(tok) }).Stop
}

// authenticateLocked asks the auth hook (on its own goroutine: it may
// block) and reconnects if it says so. The first auth failure in a row
// reconnects at once; later ones wait the backoff delay, so a hook that
// cannot fix anything never drives a tight loop.
func (c *Client) authenticateLocked(tok int, info AuthError) {
	fn := c.authFn
	if fn == nil {
		c.closeLocked(StateChange{State: StateClosed, Attempt: c.attempt, Status: info.Status, LastError: info.Reason + " (no auth hook)"})
		return
	}
	c.authInRow++
	var d time.Duration
	if c.authInRow > 1 {
		d = c.opts.Backoff.Delay(c.authInRow-1, c.serverRetry, c.rnd())
	}
	st := StateChange{State: StateReconnecting, Attempt: c.attempt, NextDelay: d, Status: info.Status, LastError: info.Reason}
	c.setStateLocked(st)
	go func() {
		ok := c.callAuth(fn, info)
		c.mu.Lock()
		if c.current(tok) {
			if ok {
				c.scheduleLocked(tok, d, st)
			} else {
				c.closeLocked(StateChange{State: StateClosed, Attempt: c.attempt, Status: info.Status, LastError: info.Reason + " (the auth hook declined)"})
			}
		}
		c.mu.Unlock()
		c.deliver()
	}()
}

// callAuth runs the hook; a panic counts as a refusal and is reported.
func (c *Client) callAuth(fn func(AuthError) bool, info AuthError) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
			c.reportError(panicError(r))
		}
	}()
	return fn(info)
}

// connected learns the client id and the server's retry, the floor of
// every reconnect delay.
func (c *Client) connected(ev Event) {
	fields, _, err := objectFields(ev.Data)
	if err != nil {
		c.reportError(&HandlerError{Event: ev, Err: err})
		return
	}
	c.mu.Lock()
	if id, ok := fieldString(fields, "clientId"); ok {
		c.clientID = id
	}
	if ms, ok := fieldInt(fields, "retry"); ok && ms >= 0 {
		c.serverRetry = clampDelay(time.Duration(ms) * time.Millisecond)
	}
	c.mu.Unlock()
}

// reset: the server could not resume the cursor, so history starts over
// and the duplicate filter with it.
func (c *Client) reset(ev Event) {
	reason := controlReason(ev)
	c.mu.Lock()
	c.seen.clear()
	c.stats.Resets++
	fns := slices.Clone(c.resetFns)
	c.mu.Unlock()
	for _, fn := range fns {
		fn(reason)
	}
}

// reconnectRequested: the server closes the stream on purpose (rotation,
// drain). Come back after its retry; this is not a failure, so the attempt
// counter does not grow.
func (c *Client) reconnectRequested(tok int, ev Event) {
	d := time.Duration(-1)
	if fields, _, err := objectFields(ev.Data); err == nil {
		if ms, ok := fieldInt(fields, "retry"); ok && ms >= 0 {
			d = clampDelay(time.Duration(ms) * time.Millisecond)
		}
	}
	c.mu.Lock()
	if c.current(tok) {
		if d < 0 {
			d = c.serverRetry
		}
		tok = c.takeOverLocked()
		c.scheduleLocked(tok, d, StateChange{State: StateReconnecting, Attempt: c.attempt, NextDelay: d})
	}
	c.mu.Unlock()
	c.deliver()
}

// ended: the server said not to come back, unless the reason is an expired
// token and the auth hook renews it.
func (c *Client) ended(tok int, ev Event) {
	reason := controlReason(ev)
	c.mu.Lock()
	if c.current(tok) {
		tok = c.takeOverLocked()
		if reason == "token-expired" {
			c.authenticateLocked(tok, AuthError{Reason: reason})
		} else {
			c.closeLocked(StateChange{State: StateClosed, Attempt: c.attempt, LastError: "ended by the server: " + reason})
		}
	}
	c.mu.Unlock()
	c.deliver()
}

func controlReason(ev Event) string {
	fields, _, err := objectFields(ev.Data)
	if err != nil {
		return ""
	}
	r, _ := fieldString(fields, "reason")
	return r
}

// visibilityChanged pauses and resumes with PauseWhenHidden.
func (c *Client) visibilityChanged(hidden bool) {
	c.mu.Lock()
	switch {
	case c.closed:
	case hidden && !c.paused:
		c.pauseLocked()
	case !hidden && c.paused:
		c.paused = false
		tok := c.next()
		c.mu.Unlock()
		c.wake(tok)
		return
	}
	c.mu.Unlock()
	c.deliver()
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
