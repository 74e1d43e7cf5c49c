//go:build js && wasm

package sdk

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/hack-pad/safejs"
)

// Options configure a client.
type Options struct {
	// WithCredentials sends cookies cross-origin. Defaults to false.
	WithCredentials bool
}

// ErrClosed is returned by calls on a closed client.
var ErrClosed = errors.New("ssekit/sdk: client is closed")

// Client is one stream, wrapping a browser EventSource. All JS listeners
// and js.Funcs it creates are released by Close.
type Client struct {
	url  string
	opts Options
	reg  *registry

	mu        sync.Mutex
	es        safejs.Value
	listeners map[string]safejs.Func // EventSource listeners by event type
	own       []listener             // open/error listeners
	stateFns  []func(StateChange)
	errFns    []func(error)
	state     StateChange
	closed    bool
	clientID  string
	retry     time.Duration
}

// listener is a JS function added to the EventSource, kept to be removed
// and released on Close.
type listener struct {
	typ string
	f   safejs.Func
}

// Connect opens a stream to url.
func Connect(url string, opts Options) (*Client, error) {
	c := &Client{
		url:       url,
		opts:      opts,
		reg:       newRegistry(),
		listeners: make(map[string]safejs.Func),
		state:     StateChange{State: StateConnecting},
	}
	ctor, err := global("EventSource")
	if err != nil {
		return nil, err
	}
	init, err := newObject(map[string]any{"withCredentials": opts.WithCredentials})
	if err != nil {
		return nil, err
	}
	es, err := ctor.New(url, init)
	if err != nil {
		return nil, jsErr("new EventSource", err)
	}
	c.es = es
	if err := c.listen("open", c.onOpen); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.listen("error", c.onTransportError); err != nil {
		c.Close()
		return nil, err
	}
	// Control events the SDK itself acts on.
	c.reg.add(EventConnected, c.onConnected)
	c.reg.add(EventEnd, c.onEnd)
	for _, typ := range []string{EventConnected, EventEnd} {
		if err := c.listenType(typ); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// listen adds a non-message listener to the EventSource.
func (c *Client) listen(typ string, fn func(safejs.Value)) error {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if len(args) > 0 {
			fn(args[0])
		}
		return nil
	})
	if err != nil {
		return jsErr("FuncOf", err)
	}
	c.own = append(c.own, listener{typ: typ, f: f})
	if _, err := c.es.Call("addEventListener", typ, f.Value()); err != nil {
		return jsErr("addEventListener "+typ, err)
	}
	return nil
}

// listenType makes the EventSource deliver events of typ to the registry.
func (c *Client) listenType(typ string) error {
	if typ == EventAny {
		typ = EventMessage
	}
	c.mu.Lock()
	_, ok := c.listeners[typ]
	closed := c.closed
	c.mu.Unlock()
	if ok || closed {
		return nil
	}
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if len(args) > 0 {
			c.deliver(args[0])
		}
		return nil
	})
	if err != nil {
		return jsErr("FuncOf", err)
	}
	if _, err := c.es.Call("addEventListener", typ, f.Value()); err != nil {
		f.Release()
		return jsErr("addEventListener "+typ, err)
	}
	c.mu.Lock()
	c.listeners[typ] = f
	c.mu.Unlock()
	return nil
}

// deliver turns a MessageEvent into an Event and dispatches it.
func (c *Client) deliver(msg safejs.Value) {
	ev := Event{
		Type: getString(msg, "type"),
		ID:   getString(msg, "lastEventId"),
		Data: getString(msg, "data"),
	}
	for _, err := range c.reg.dispatch(ev) {
		c.reportError(err)
	}
}

// On registers fn for events of typ ("*" for every event that reaches the
// client: message and every type that has a handler; EventSource cannot
// show types nobody listens for). The returned function removes it.
func (c *Client) On(typ string, fn Handler) (func(), error) {
	if c.isClosed() {
		return nil, ErrClosed
	}
	remove, _ := c.reg.add(typ, fn)
	if err := c.listenType(typ); err != nil {
		remove()
		return nil, err
	}
	return remove, nil
}

// OnState registers fn for state changes and calls it at once with the
// current state.
func (c *Client) OnState(fn func(StateChange)) {
	c.mu.Lock()
	c.stateFns = append(c.stateFns, fn)
	st := c.state
	c.mu.Unlock()
	fn(st)
}

// OnError registers fn for errors: handler failures, decode failures and
// transport errors.
func (c *Client) OnError(fn func(error)) {
	c.mu.Lock()
	c.errFns = append(c.errFns, fn)
	c.mu.Unlock()
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

func (c *Client) setState(st StateChange) {
	c.mu.Lock()
	if c.state == st || (c.state.State == StateClosed) {
		c.mu.Unlock()
		return
	}
	c.state = st
	fns := slices.Clone(c.stateFns)
	c.mu.Unlock()
	for _, fn := range fns {
		fn(st)
	}
}

func (c *Client) onOpen(safejs.Value) {
	c.setState(StateChange{State: StateOpen})
}

// onTransportError follows the EventSource: CONNECTING means the browser
// retries by itself; CLOSED means it gave up (e.g. a non-200 status).
func (c *Client) onTransportError(safejs.Value) {
	rs := getInt(c.es, "readyState", 2)
	if rs == 2 {
		c.reportError(errors.New("ssekit/sdk: stream failed and the browser gave up"))
		c.Close()
		return
	}
	c.mu.Lock()
	attempt := c.state.Attempt + 1
	retry := c.retry
	c.mu.Unlock()
	c.setState(StateChange{State: StateReconnecting, Attempt: attempt, NextDelay: retry, LastError: "connection lost"})
}

func (c *Client) onConnected(ev Event) error {
	v, err := jsonParse(ev.Data)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.clientID = getString(v, "clientId")
	if ms := getInt(v, "retry", 0); ms > 0 {
		c.retry = time.Duration(ms) * time.Millisecond
	}
	c.mu.Unlock()
	return nil
}

// onEnd stops for good: the server said not to come back.
func (c *Client) onEnd(Event) error {
	c.Close()
	return nil
}

// ClientID is the id the server announced in its connected event.
func (c *Client) ClientID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clientID
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close closes the stream, removes every listener and releases every
// js.Func. Safe to call more than once.
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	all := c.own
	for typ, f := range c.listeners {
		all = append(all, listener{typ: typ, f: f})
	}
	c.listeners, c.own = nil, nil
	c.mu.Unlock()
	_, _ = c.es.Call("close")
	for _, l := range all {
		_, _ = c.es.Call("removeEventListener", l.typ, l.f.Value())
		l.f.Release()
	}
	c.mu.Lock()
	fns := slices.Clone(c.stateFns)
	c.state = StateChange{State: StateClosed}
	c.mu.Unlock()
	for _, fn := range fns {
		fn(StateChange{State: StateClosed})
	}
}
