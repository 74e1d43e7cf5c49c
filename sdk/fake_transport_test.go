package sdk

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTransport is a scripted platform for the client's state machine
// under testing/synctest. The same behaviour runs against a real hub over
// net/http (native_test.go) and in Chromium (e2e).
type fakeTransport struct {
	mu       sync.Mutex
	streams  []*fakeStream
	probes   []string
	answer   Failure // what a probe learns
	offline  bool
	onlines  []*fakeWait
	isHidden bool
	visFns   map[int]func(bool)
	nextVis  int
	store    map[string]string
	openErr  error
}

type fakeWait struct {
	fn        func()
	cancelled bool
}

type fakeStream struct {
	url    string
	types  []string
	s      sink
	closed bool
}

func newFake() *fakeTransport {
	return &fakeTransport{visFns: make(map[int]func(bool)), store: make(map[string]string), answer: Failure{Status: 200, ContentType: "text/event-stream"}}
}

func (t *fakeTransport) open(url string, types []string, s sink) (stream, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.openErr != nil {
		return nil, t.openErr
	}
	st := &fakeStream{url: url, types: types, s: s}
	t.streams = append(t.streams, st)
	return st, nil
}

func (st *fakeStream) listen(typ string) error { st.types = append(st.types, typ); return nil }
func (st *fakeStream) close()                  { st.closed = true }

func (t *fakeTransport) probe(url string, done func(Failure)) {
	t.mu.Lock()
	t.probes = append(t.probes, url)
	f := t.answer
	t.mu.Unlock()
	go done(f) // answers come later, like a fetch
}

func (t *fakeTransport) online() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.offline
}

func (t *fakeTransport) onOnline(fn func()) func() {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := &fakeWait{fn: fn}
	t.onlines = append(t.onlines, w)
	return func() {
		t.mu.Lock()
		w.cancelled = true
		t.mu.Unlock()
	}
}

// setOnline flips the network and fires the waiting online listeners.
func (t *fakeTransport) setOnline(on bool) {
	t.mu.Lock()
	t.offline = !on
	var fire []*fakeWait
	if on {
		fire, t.onlines = t.onlines, nil
	}
	t.mu.Unlock()
	for _, w := range fire {
		if !w.cancelled {
			go w.fn()
		}
	}
}

func (t *fakeTransport) hidden() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.isHidden
}

func (t *fakeTransport) onVisibility(fn func(bool)) func() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nextVis++
	id := t.nextVis
	t.visFns[id] = fn
	return func() {
		t.mu.Lock()
		delete(t.visFns, id)
		t.mu.Unlock()
	}
}

func (t *fakeTransport) setHidden(h bool) {
	t.mu.Lock()
	t.isHidden = h
	var fns []func(bool)
	for _, fn := range t.visFns {
		fns = append(fns, fn)
	}
	t.mu.Unlock()
	for _, fn := range fns {
		fn(h)
	}
}

func (t *fakeTransport) load(key string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.store[key]
}

func (t *fakeTransport) save(key, value string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.store[key] = value
}

// dials is how many connections were opened.
func (t *fakeTransport) dials() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.streams)
}

// last is the newest connection.
func (t *fakeTransport) last(tb testing.TB) *fakeStream {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.streams) == 0 {
		tb.Fatal("no connection opened")
	}
	return t.streams[len(t.streams)-1]
}

func (t *fakeTransport) setAnswer(f Failure) {
	t.mu.Lock()
	t.answer = f
	t.mu.Unlock()
}

// recorder collects what a client reports.
type recorder struct {
	mu     sync.Mutex
	states []StateChange
	errs   []error
	events []Event
	resets []string
}

func record(c *Client) *recorder {
	r := &recorder{}
	c.OnState(func(st StateChange) { r.mu.Lock(); r.states = append(r.states, st); r.mu.Unlock() })
	c.OnError(func(err error) { r.mu.Lock(); r.errs = append(r.errs, err); r.mu.Unlock() })
	c.OnReset(func(reason string) { r.mu.Lock(); r.resets = append(r.resets, reason); r.mu.Unlock() })
	return r
}

func (r *recorder) last() StateChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.states[len(r.states)-1]
}

// waits lists the NextDelay of every reconnecting state with a delay.
func (r *recorder) stateNames() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for _, s := range r.states {
		names = append(names, string(s.State))
	}
	return strings.Join(names, ",")
}

// newTestClient connects a client on a fake transport with a fixed jitter.
func newTestClient(t *testing.T, opts Options, rnd float64) (*Client, *fakeTransport, *recorder) {
	t.Helper()
	ft := newFake()
	c := newClient("http://h/s", opts, ft)
	c.rnd = func() float64 { return rnd }
	r := record(c)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	return c, ft, r
}

var errRefused = errors.New("connection refused")

// fail breaks the newest connection without a status and lets the probe
// answer.
func fail(ft *fakeTransport, tb testing.TB) {
	tb.Helper()
	ft.last(tb).s.failed(Failure{Err: errRefused}, false)
}

const ms = time.Millisecond
