package e2e

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/ssekit/ssekit/server"
)

// liveHub is a hub on a fixed loopback address that a test can kill
// abruptly (listener and every connection closed, no reconnect event) and
// start again on the same port, as after a crash and a restart.
type liveHub struct {
	t    testing.TB
	opts []server.Option
	addr string
	URL  string

	mu  sync.Mutex
	hub *server.Hub
	srv *http.Server
}

func startLiveHub(t testing.TB, opts ...server.Option) *liveHub {
	t.Helper()
	l := &liveHub{t: t, opts: append([]server.Option{server.WithStatic(filepath.Join(Root(), "www"))}, opts...)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	l.addr = ln.Addr().String()
	l.URL = "http://" + l.addr
	l.serve(ln)
	t.Cleanup(l.kill)
	return l
}

func (l *liveHub) serve(ln net.Listener) {
	h, err := server.New(l.opts...)
	if err != nil {
		l.t.Fatalf("server.New: %v", err)
	}
	srv := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	l.mu.Lock()
	l.hub, l.srv = h, srv
	l.mu.Unlock()
}

// kill closes the listener and every connection at once.
func (l *liveHub) kill() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.srv == nil {
		return
	}
	_ = l.srv.Close()
	_ = l.hub.Close()
	l.srv, l.hub = nil, nil
}

// restart serves a fresh hub (a new history epoch) on the same address.
func (l *liveHub) restart() {
	l.t.Helper()
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		l.t.Fatalf("listen again on %s: %v", l.addr, err)
	}
	l.serve(ln)
}

func (l *liveHub) current() *server.Hub {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hub
}

// gate is a small server in front of a real hub's handler: requests to the
// stream path get scripted answers (statuses the hub would not give) while
// a script is loaded, and pass through to the hub otherwise. It logs every
// stream request and can end the open streams from the server side.
type gate struct {
	URL string

	mu      sync.Mutex
	status  int
	header  map[string]string
	left    int // scripted answers left; < 0: for ever
	reqs    []gateReq
	streams map[net.Conn]bool // connections that carried a stream request
}

type gateConnKey struct{}

type gateReq struct {
	method string
	uri    string
	at     time.Time
	status int // 0: passed through to the hub
}

const streamPrefix = "/api/sse/connect"

func startGate(t testing.TB, hub *Hub) *gate {
	t.Helper()
	g := &gate{streams: make(map[net.Conn]bool)}
	next := hub.Handler()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	g.URL = "http://" + ln.Addr().String()
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, ConnContext: func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, gateConnKey{}, c)
	}, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, streamPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		g.mu.Lock()
		req := gateReq{method: r.Method, uri: r.URL.RequestURI(), at: time.Now()}
		if g.left != 0 {
			g.left--
			req.status = g.status
			for k, v := range g.header {
				w.Header().Set(k, v)
			}
		}
		g.reqs = append(g.reqs, req)
		nc, _ := r.Context().Value(gateConnKey{}).(net.Conn)
		if req.status == 0 && nc != nil {
			g.streams[nc] = true
		}
		g.mu.Unlock()
		if req.status != 0 {
			w.WriteHeader(req.status)
			return
		}
		next.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return g
}

// fail answers the next n stream requests (GET and HEAD alike; n < 0: all
// of them) with status and the given header pairs.
func (g *gate) fail(n, status int, header ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status, g.left, g.header = status, n, map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		g.header[header[i]] = header[i+1]
	}
}

// dropStreams ends every stream the gate passed through, from the server
// side, without a reconnect event: their connections are closed.
func (g *gate) dropStreams() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for nc := range g.streams {
		_ = nc.Close()
		delete(g.streams, nc)
	}
}

// requests returns the stream requests so far.
func (g *gate) requests() []gateReq {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gateReq(nil), g.reqs...)
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.reqs)
}

// openPageAt loads the demo page of base (a hub or a gate) in a new tab,
// watched for exceptions, and waits until the SDK is ready. Scripts in
// before run in every document of the tab ahead of the page's own.
func openPageAt(t *testing.T, base string, before ...string) context.Context {
	t.Helper()
	ctx := NewTab(t, browser)
	watchPage(t, ctx)
	for _, src := range before {
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("navigate %s: %v", base, err)
	}
	EvalJS[bool](t, ctx, `SSEKit.ready.then(() => true)`)
	return ctx
}

// recordJS connects in the page with opts (a JS object literal) and keeps
// what the client reports in window.__rec: states with a timestamp,
// errors, resets, and the events of the listed types.
func recordJS(t *testing.T, ctx context.Context, url, opts string, types ...string) {
	t.Helper()
	recordJSWith(t, ctx, url, opts, "", types...)
}

// recordJSWith is recordJS that also runs setup, JS with the client in c,
// in the same task as connect (before any network answer can arrive).
func recordJSWith(t *testing.T, ctx context.Context, url, opts, setup string, types ...string) {
	t.Helper()
	if types == nil {
		types = []string{}
	}
	EvalJS[bool](t, ctx, `(() => {
		const rec = window.__rec = {states: [], errors: [], resets: [], events: []};
		const c = window.__c = SSEKit.connect(`+jsLiteral(t, url)+`, `+opts+`);
		c.onState(s => rec.states.push(Object.assign({at: performance.now()}, s)));
		c.onError(e => rec.errors.push({message: e.message, event: e.event || null, field: e.field}));
		c.onReset(r => rec.resets.push(r.reason));
		for (const type of `+jsLiteral(t, types)+`) c.on(type, e => rec.events.push({type: e.type, id: e.id, data: e.data, raw: e.raw}));
		`+setup+`;
		return true;
	})()`)
}

// jsState is one recorded state.
type jsState struct {
	At          float64 `json:"at"`
	State       string  `json:"state"`
	Attempt     int     `json:"attempt"`
	NextDelayMs int     `json:"nextDelayMs"`
	Status      int     `json:"status"`
	LastError   string  `json:"lastError"`
}

func states(t *testing.T, ctx context.Context) []jsState {
	t.Helper()
	return EvalJS[[]jsState](t, ctx, `window.__rec.states`)
}

// quiet fails if cond becomes true within d: for checks that something
// does not happen (no request while offline, none after a 204).
func quiet(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			t.Fatalf("%s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startTestServer serves h on a loopback port until the test ends.
func startTestServer(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
