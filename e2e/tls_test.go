package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ssekit/ssekit/sdk/wire"
	"github.com/ssekit/ssekit/server"
)

// newTLSBrowser starts a Chromium of its own that accepts the test
// servers' self-signed certificates, for the tests of this file only (the
// shared browser keeps checking certificates).
func newTLSBrowser(t *testing.T) context.Context {
	t.Helper()
	bctx, cancel, err := NewBrowser(context.Background(), chromedp.IgnoreCertErrors)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return bctx
}

// tlsHub is a hub serving www/ over TLS, HTTP/2 or HTTP/1.1 only.
type tlsHub struct {
	*server.Hub
	URL     string
	streams atomic.Int64 // stream requests seen over HTTP/2
}

func startTLSHub(t *testing.T, h2 bool) *tlsHub {
	t.Helper()
	h, err := server.New(server.WithStatic(filepath.Join(Root(), "www")), server.WithHeartbeat(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	th := &tlsHub{Hub: h}
	api := h.Handler()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/sse/connect/") && r.ProtoMajor == 2 {
			th.streams.Add(1)
		}
		api.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	th.URL = srv.URL
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Drain(ctx)
		srv.CloseClientConnections()
		srv.Close()
	})
	return th
}

// openTenJS opens ten streams from one page, recording which opened and
// what each received.
const openTenJS = `(() => {
	window.__open = new Set();
	window.__got = {};
	window.__clients = [];
	for (let i = 0; i < 10; i++) {
		const c = SSEKit.connect('/api/sse/connect/tls-' + i);
		c.onState(s => { if (s.state === 'open') window.__open.add(i); });
		c.on('message', e => { window.__got[i] = e.data; });
		window.__clients.push(c);
	}
	return true;
})()`

// TestTLS_tenStreamsFromOnePage: over HTTPS with HTTP/2 a page's ten
// streams share one connection and all receive; over HTTPS with HTTP/1.1
// only, the browser's limit of six connections per host holds the
// seventh and later back until one of the six closes.
func TestTLS_tenStreamsFromOnePage(t *testing.T) {
	t.Parallel()
	tlsBrowser := newTLSBrowser(t)
	page := func(t *testing.T, hub *tlsHub) context.Context {
		ctx, cancel := chromedp.NewContext(tlsBrowser)
		ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
		t.Cleanup(func() { cancelTimeout(); cancel() })
		watchPage(t, ctx)
		if err := chromedp.Do(ctx, chromedp.Navigate(hub.URL+"/")); err != nil {
			t.Fatalf("navigate: %v", err)
		}
		EvalJS[bool](t, ctx, `SSEKit.ready.then(() => true)`)
		if proto := EvalJS[string](t, ctx, `performance.getEntriesByType('navigation')[0].nextHopProtocol`); proto == "" {
			t.Fatal("no protocol for the page load")
		}
		return ctx
	}
	sendAll := func(t *testing.T, hub *tlsHub, msg string) {
		t.Helper()
		if _, err := hub.SendAll(wireEvent(msg)); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("HTTP/2", func(t *testing.T) {
		t.Parallel()
		hub := startTLSHub(t, true)
		ctx := page(t, hub)
		if proto := EvalJS[string](t, ctx, `performance.getEntriesByType('navigation')[0].nextHopProtocol`); proto != "h2" {
			t.Fatalf("page loaded over %q, want h2", proto)
		}
		EvalJS[bool](t, ctx, openTenJS)
		WaitJS(t, ctx, `window.__open.size === 10`)
		if n := hub.Conns(); n != 10 {
			t.Fatalf("%d streams open on the server, want 10", n)
		}
		if n := hub.streams.Load(); n != 10 {
			t.Fatalf("%d stream requests over HTTP/2, want 10", n)
		}
		sendAll(t, hub, "to all ten")
		WaitJS(t, ctx, `Object.values(window.__got).filter(d => d === 'to all ten').length === 10`)
	})

	t.Run("HTTP/1.1", func(t *testing.T) {
		t.Parallel()
		hub := startTLSHub(t, false)
		ctx := page(t, hub)
		if proto := EvalJS[string](t, ctx, `performance.getEntriesByType('navigation')[0].nextHopProtocol`); proto != "http/1.1" {
			t.Fatalf("page loaded over %q, want http/1.1", proto)
		}
		EvalJS[bool](t, ctx, openTenJS)
		WaitJS(t, ctx, `window.__open.size === 6`)
		sendAll(t, hub, "to the six")
		WaitJS(t, ctx, `Object.keys(window.__got).length === 6`)
		// The seventh stalls: for a while, still six open in the page and
		// on the server, none of them refused.
		until := time.Now().Add(1500 * time.Millisecond)
		for time.Now().Before(until) {
			open := EvalJS[int](t, ctx, `window.__open.size`)
			if n := hub.Conns(); open != 6 || n != 6 {
				t.Fatalf("%d open in the page, %d on the server: want the browser to hold the 7th back", open, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if n := hub.streams.Load(); n != 0 {
			t.Fatalf("%d stream requests over HTTP/2 on an HTTP/1.1 server", n)
		}
		// Closing one of the six lets the seventh through.
		EvalJS[bool](t, ctx, `(() => { const i = [...window.__open][0]; window.__clients[i].close(); return true; })()`)
		WaitJS(t, ctx, `window.__open.size === 7`)
		Eventually(t, 5*time.Second, "six streams open on the server again", func() bool { return hub.Conns() == 6 })
	})
}

// wireEvent is a message event with data msg.
func wireEvent(msg string) wire.Event { return wire.Event{Data: msg} }
