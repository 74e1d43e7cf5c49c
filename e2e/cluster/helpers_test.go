package cluster

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ssekit/ssekit/e2e"
)

// startRedis runs a redis-server for the test.
func startRedis(t *testing.T) *Redis {
	t.Helper()
	r, err := StartRedis(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// startNodes runs n ssekit-server processes sharing r, serving www/, with
// a short retry so browsers come back quickly, and the loopback trusted as
// a proxy. Extra args go to every node.
func startNodes(t *testing.T, r *Redis, n int, extra ...string) []*Node {
	t.Helper()
	args := append([]string{"-www", filepath.Join(e2e.Root(), "www"), "-redis-url", r.URL(),
		"-retry", "100ms", "-trusted-proxies", "127.0.0.1/32"}, extra...)
	nodes := make([]*Node, n)
	for i := range nodes {
		node, err := StartNode(serverBin, args...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			node.Kill()
			if t.Failed() {
				t.Logf("node %d (%s) log:\n%s", i, node.Addr, tail(node.Log(), 40))
			}
		})
		nodes[i] = node
	}
	return nodes
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// publish posts the JSON event {"data": data} to path of base and returns
// the status and body.
func publish(t *testing.T, base, path, data string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"data": data})
	res, err := httpClient.Post(base+path, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("POST %s%s: %v", base, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// mustPublish is publish that fails the test on anything but a 202.
func mustPublish(t *testing.T, base, path, data string) {
	t.Helper()
	if st, body := publish(t, base, path, data); st != http.StatusAccepted {
		t.Fatalf("POST %s%s %q: %d %s", base, path, data, st, body)
	}
}

// switchProxy is a reverse proxy in front of the nodes that sends every
// new request to one node, switchable at any time, as a load balancer
// that takes a node out. It records the stream requests it forwards.
type switchProxy struct {
	URL    string
	target atomic.Pointer[Node]

	mu      sync.Mutex
	streams []proxied
}

// proxied is one stream request: the node it went to and its cursor.
type proxied struct {
	node        string
	lastEventID string // the Last-Event-ID header or lastEventId parameter
}

func startSwitchProxy(t *testing.T, to *Node) *switchProxy {
	t.Helper()
	p := &switchProxy{}
	p.target.Store(to)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			node := p.target.Load()
			pr.SetURL(&url.URL{Scheme: "http", Host: node.Addr})
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			if strings.HasPrefix(pr.In.URL.Path, "/api/sse/connect") {
				cursor := pr.In.Header.Get("Last-Event-ID")
				if q := pr.In.URL.Query().Get("lastEventId"); q != "" {
					cursor = q
				}
				p.mu.Lock()
				p.streams = append(p.streams, proxied{node: node.Addr, lastEventID: cursor})
				p.mu.Unlock()
			}
		},
		FlushInterval: -1,
		// A node killed under a stream makes the copy fail: expected here.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.URL = "http://" + ln.Addr().String()
	return p
}

func (p *switchProxy) switchTo(n *Node) { p.target.Store(n) }

func (p *switchProxy) streamRequests() []proxied {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]proxied(nil), p.streams...)
}

// openPage loads the demo page of base in a new tab, fails the test on an
// uncaught page exception, and waits until the SDK is ready.
func openPage(t *testing.T, base string) context.Context {
	t.Helper()
	ctx := e2e.NewTab(t, browser)
	var mu sync.Mutex
	var exceptions, console []string
	go func() {
		for ev, err := range chromedp.Events(ctx, runtime.ExceptionThrown) {
			if err != nil {
				return
			}
			text := ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil {
				text += " " + ex.Description
			}
			mu.Lock()
			exceptions = append(exceptions, text)
			mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, runtime.ConsoleAPICalled) {
			if err != nil {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, a.Description+string(a.Value))
			}
			mu.Lock()
			console = append(console, strings.Join(parts, " "))
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(exceptions) > 0 {
			t.Errorf("uncaught page exceptions: %q", exceptions)
		}
		if t.Failed() && len(console) > 0 {
			t.Logf("page console:\n%s", strings.Join(console, "\n"))
		}
	})
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("navigate %s: %v", base, err)
	}
	e2e.EvalJS[bool](t, ctx, `SSEKit.ready.then(() => true)`)
	return ctx
}

// recordJS connects the page to path with the SDK and keeps, in
// window.__rec, the data of every message event in arrival order, the
// resets and the states.
func recordJS(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	p, _ := json.Marshal(path)
	e2e.EvalJS[bool](t, ctx, `(() => {
		const rec = window.__rec = {events: [], resets: [], states: []};
		const c = window.__c = SSEKit.connect(`+string(p)+`, {backoff: {initialMs: 50, maxMs: 500, factor: 2}});
		c.onState(s => rec.states.push(s.state));
		c.onReset(r => rec.resets.push(r.reason));
		c.on('message', e => rec.events.push(e.data), {decode: 'text'});
		return true;
	})()`)
	e2e.WaitJS(t, ctx, `window.__rec.states.includes('open')`)
}

// pageEvents is the data of the message events the page received.
func pageEvents(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return e2e.EvalJS[[]string](t, ctx, `window.__rec.events`)
}
