//go:build js && wasm

package sdk

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/hack-pad/safejs"
)

// Connect opens a stream to url through the browser's EventSource. The
// SDK, not the browser, reconnects: see Options and Backoff.
func Connect(url string, opts Options) (*Client, error) {
	c := newClient(url, opts, &browserTransport{withCredentials: opts.WithCredentials})
	c.alive = newLiveToken()
	if err := c.start(); err != nil {
		return nil, err
	}
	return c, nil
}

// Live resources, for the leak checks behind SSEKit.__debug(): every
// js.Func and every event listener the SDK creates goes through funcOf and
// addListener, and back through release and removeListener; every Client
// holds a liveToken, counted until the garbage collector frees it.
var liveFuncs, liveListeners, liveClients atomic.Int64

// liveToken is referenced by one Client only and refers to nothing, so its
// finalizer runs once that Client is garbage (a finalizer on the Client
// itself would never run: closures make it reach itself). 16 bytes keeps
// it out of the tiny allocator, whose batching would delay the finalizer.
type liveToken [2]int64

func newLiveToken() *liveToken {
	liveClients.Add(1)
	t := new(liveToken)
	runtime.SetFinalizer(t, func(*liveToken) { liveClients.Add(-1) })
	return t
}

func funcOf(fn func(args []safejs.Value)) (safejs.Func, error) {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		fn(args)
		return nil
	})
	if err != nil {
		return f, jsErr("FuncOf", err)
	}
	liveFuncs.Add(1)
	return f, nil
}

func release(f safejs.Func) {
	f.Release()
	liveFuncs.Add(-1)
}

// listener is a function added to a target as an event listener.
type listener struct {
	target safejs.Value
	typ    string
	f      safejs.Func
}

// addListener adds a new listener for typ on target calling fn.
func addListener(target safejs.Value, typ string, fn func(args []safejs.Value)) (listener, error) {
	f, err := funcOf(fn)
	if err != nil {
		return listener{}, err
	}
	if _, err := target.Call("addEventListener", typ, f.Value()); err != nil {
		release(f)
		return listener{}, jsErr("addEventListener "+typ, err)
	}
	liveListeners.Add(1)
	return listener{target: target, typ: typ, f: f}, nil
}

// remove removes the listener and releases its function.
func (l listener) remove() {
	_, _ = l.target.Call("removeEventListener", l.typ, l.f.Value())
	liveListeners.Add(-1)
	release(l.f)
}

// Debug is a snapshot of the SDK's live resources, for leak tests.
type Debug struct {
	Funcs     int // js.Funcs not yet released
	Listeners int // event listeners not yet removed
	Clients   int // Clients not yet garbage collected
}

// ReadDebug collects garbage and reports the live resources. Finalizers
// run on their own goroutine after a collection, so a freed Client leaves
// the count once the page has yielded to Go: poll.
func ReadDebug() Debug {
	runtime.GC()
	return Debug{Funcs: int(liveFuncs.Load()), Listeners: int(liveListeners.Load()), Clients: int(liveClients.Load())}
}

// browserTransport opens EventSources and probes with fetch.
type browserTransport struct {
	withCredentials bool
}

func (t *browserTransport) open(url string, types []string, s sink) (stream, error) {
	io, ok := loaderIO()
	if !ok {
		return nil, ErrNoLoader
	}
	ctor, err := global("EventSource")
	if err != nil {
		return nil, err
	}
	init, err := newObject("withCredentials", t.withCredentials)
	if err != nil {
		return nil, err
	}
	es, err := ctor.New(url, init)
	if err != nil {
		return nil, jsErr("new EventSource", err)
	}
	return openBatched(io, es, types, s)
}

// batchStream is one EventSource whose events www/ssekit.js queues and
// hands over once per read of the stream (SSEKit.__io.stream): one
// crossing into Go per batch instead of one callback and three property
// reads per event. Go
// still creates and closes the EventSource and decides everything else.
type batchStream struct {
	es      safejs.Value
	handle  safejs.Value // the helper's {listen, close}
	deliver safejs.Func
	sink    sink

	mu        sync.Mutex
	closed    bool
	listeners int // counted in liveListeners: open, error and each type

}

func openBatched(io, es safejs.Value, types []string, s sink) (stream, error) {
	st := &batchStream{es: es, sink: s}
	var err error
	if st.deliver, err = funcOf(st.receive); err != nil {
		_, _ = es.Call("close")
		return nil, err
	}
	if st.handle, err = io.Call("stream", es, st.deliver.Value()); err != nil {
		_, _ = es.Call("close")
		release(st.deliver)
		return nil, jsErr("SSEKit.__io.stream", err)
	}
	st.listeners = 2
	liveListeners.Add(2)
	for _, typ := range types {
		if err := st.listen(typ); err != nil {
			st.close()
			return nil, err
		}
	}
	return st, nil
}

// receive reads one batch, in order, then renders what bound elements
// collected from it.
func (st *batchStream) receive(args []safejs.Value) {
	defer flushDOM()
	if len(args) == 0 || args[0].Type() != safejs.TypeString {
		return
	}
	batch, err := args[0].String()
	if err != nil {
		return
	}
	prev := delivering
	defer func() { delivering = prev }()
	err = readBatch(batch, func(kind int, ev Event, pos int) bool {
		switch kind {
		case batchOpen:
			st.sink.opened()
		case batchError:
			// The browser would retry by itself at a fixed interval: close
			// the EventSource and let the client's policy decide.
			st.close()
			st.sink.failed(Failure{}, false)
			return false
		default:
			// The event's strings are substrings of the batch. What the
			// client keeps of them (the ids of its duplicate filter, the
			// last id) pins at most the batches of its last dedupWindow
			// events, so they are not copied.
			delivering = deliveredEvent{data: ev.Data, pos: pos}
			st.sink.event(ev)
			delivering = deliveredEvent{pos: -1}
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		return !st.closed
	})
	if err != nil {
		logError(err)
	}
}

// deliveredEvent is the event being dispatched from a batch: its data and
// the index of that data in the batch, which SSEKit.__io.apply can read
// from the batch instead of getting the text again.
type deliveredEvent struct {
	data string
	pos  int
}

var delivering = deliveredEvent{pos: -1}

// batchRef returns the index of data in the batch being delivered when
// data is the payload of the event being dispatched, else -1.
func batchRef(data string) int {
	d := delivering
	if len(data) == 0 || len(data) != len(d.data) || unsafe.StringData(data) != unsafe.StringData(d.data) {
		return -1
	}
	return d.pos
}

func (st *batchStream) listen(typ string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return ErrClosed
	}
	if _, err := st.handle.Call("listen", typ); err != nil {
		return jsErr("listen "+typ, err)
	}
	st.listeners++
	liveListeners.Add(1)
	return nil
}

func (st *batchStream) close() {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return
	}
	st.closed = true
	n := st.listeners
	st.listeners = 0
	st.mu.Unlock()
	_, _ = st.es.Call("close")
	_, _ = st.handle.Call("close")
	liveListeners.Add(int64(-n))
	release(st.deliver)
}

// probeTimeout bounds a probe; a server that accepts and never answers
// counts as a network error.
const probeTimeout = 10 * second

// probe asks with HEAD (the ssekit server answers it on stream paths
// without opening a stream); a server that does not (405, 501) gets a GET
// that is aborted as soon as its headers arrive.
func (t *browserTransport) probe(url string, done func(Failure)) {
	go func() {
		f := t.ask("HEAD", url)
		if f.Status == 405 || f.Status == 501 {
			f = t.ask("GET", url)
		}
		done(f)
	}()
}

func (t *browserTransport) ask(method, url string) Failure {
	ctlCtor, err := global("AbortController")
	if err != nil {
		return Failure{Err: err}
	}
	ctl, err := ctlCtor.New()
	if err != nil {
		return Failure{Err: jsErr("new AbortController", err)}
	}
	signal, err := ctl.Get("signal")
	if err != nil {
		return Failure{Err: jsErr("AbortController.signal", err)}
	}
	headers, err := newObject("Accept", "text/event-stream")
	if err != nil {
		return Failure{Err: err}
	}
	credentials := "same-origin"
	if t.withCredentials {
		credentials = "include"
	}
	init, err := newObject("method", method, "credentials", credentials, "cache", "no-store", "headers", headers, "signal", signal)
	if err != nil {
		return Failure{Err: err}
	}
	p, err := safejs.Global().Call("fetch", url, init)
	if err != nil {
		return Failure{Err: jsErr("fetch", err)}
	}
	stop := afterFunc(probeTimeout, func() { _, _ = ctl.Call("abort") })
	resp, err := await(p)
	stop()
	// Headers are all a probe wants: abort the body of a fallback GET.
	defer func() { _, _ = ctl.Call("abort") }()
	if err != nil {
		return Failure{Err: err}
	}
	f := Failure{Status: getInt(resp, "status", 0)}
	if h, err := resp.Get("headers"); err == nil {
		f.RetryAfter = header(h, "Retry-After")
		f.ContentType = header(h, "Content-Type")
	}
	return f
}

func header(h safejs.Value, name string) string {
	v, err := h.Call("get", name)
	if err != nil || v.Type() != safejs.TypeString {
		return ""
	}
	s, _ := v.String()
	return s
}

// await blocks the calling goroutine (never a JS callback) until p
// settles. A value that is not a promise is returned as is.
func await(p safejs.Value) (safejs.Value, error) {
	if p.Type() != safejs.TypeObject && p.Type() != safejs.TypeFunction {
		return p, nil
	}
	if then, err := p.Get("then"); err != nil || then.Type() != safejs.TypeFunction {
		return p, nil
	}
	type result struct {
		v   safejs.Value
		err error
	}
	ch := make(chan result, 1)
	arg := func(args []safejs.Value) safejs.Value {
		if len(args) == 0 {
			return safejs.Undefined()
		}
		return args[0]
	}
	ok, err := funcOf(func(args []safejs.Value) { ch <- result{v: arg(args)} })
	if err != nil {
		return safejs.Undefined(), err
	}
	defer release(ok)
	bad, err := funcOf(func(args []safejs.Value) { ch <- result{err: rejection(arg(args))} })
	if err != nil {
		return safejs.Undefined(), err
	}
	defer release(bad)
	if _, err := p.Call("then", ok.Value(), bad.Value()); err != nil {
		return safejs.Undefined(), jsErr("then", err)
	}
	r := <-ch
	return r.v, r.err
}

// ErrRejected wraps a rejected promise.
var ErrRejected = errors.New("ssekit/sdk: promise rejected")

func rejection(reason safejs.Value) error {
	msg := getString(reason, "message")
	if msg == "" && reason.Type() == safejs.TypeString {
		msg, _ = reason.String()
	}
	if msg == "" {
		return ErrRejected
	}
	return join(ErrRejected, errors.New(msg))
}

func (t *browserTransport) online() bool {
	nav, err := global("navigator")
	if err != nil || nav.IsUndefined() {
		return true
	}
	return getBool(nav, "onLine", true)
}

// onOnline waits for the window's online event, once.
func (t *browserTransport) onOnline(fn func()) func() {
	return once(safejs.Global(), "online", fn)
}

func (t *browserTransport) hidden() bool {
	doc, err := global("document")
	if err != nil || doc.IsUndefined() {
		return false
	}
	return getString(doc, "visibilityState") == "hidden"
}

func (t *browserTransport) onVisibility(fn func(hidden bool)) func() {
	doc, err := global("document")
	if err != nil || doc.IsUndefined() {
		return func() {}
	}
	l, err := addListener(doc, "visibilitychange", func([]safejs.Value) { fn(t.hidden()) })
	if err != nil {
		return func() {}
	}
	var o sync.Once
	return func() { o.Do(l.remove) }
}

// once calls fn the first time target fires typ, then removes its
// listener. The returned cancel removes it earlier.
func once(target safejs.Value, typ string, fn func()) (cancel func()) {
	var (
		mu   sync.Mutex
		l    listener
		done bool
	)
	stop := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return false
		}
		done = true
		l.remove()
		return true
	}
	mu.Lock()
	defer mu.Unlock()
	var err error
	l, err = addListener(target, typ, func([]safejs.Value) {
		if stop() {
			// Off the JS callback: fn may open connections and take locks.
			go fn()
		}
	})
	if err != nil {
		done = true
		return func() {}
	}
	return func() { stop() }
}

// load and save use sessionStorage, which may be missing or throw (storage
// disabled, sandboxed frames): then nothing is kept.
func (t *browserTransport) load(key string) string {
	s, err := global("sessionStorage")
	if err != nil || s.IsUndefined() || s.IsNull() {
		return ""
	}
	v, err := s.Call("getItem", key)
	if err != nil || v.Type() != safejs.TypeString {
		return ""
	}
	str, _ := v.String()
	return str
}

func (t *browserTransport) save(key, value string) {
	s, err := global("sessionStorage")
	if err != nil || s.IsUndefined() || s.IsNull() {
		return
	}
	_, _ = s.Call("setItem", key, value)
}
