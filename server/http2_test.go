package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// startTLSHub serves a new hub over TLS on 127.0.0.1, with HTTP/2 when h2
// is set (else HTTP/1.1 only); the client trusts the test certificate.
func startTLSHub(t testing.TB, h2 bool, opts ...Option) *testHub {
	t.Helper()
	h, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewUnstartedServer(h.Handler())
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	client := srv.Client()
	client.Transport.(*http.Transport).DisableCompression = true
	th := &testHub{Hub: h, URL: srv.URL, srv: srv, client: client}
	t.Cleanup(func() {
		_ = h.Close()
		srv.CloseClientConnections()
		srv.Close()
	})
	return th
}

// TestHTTP2_streams: over HTTP/2 ten streams share one connection, each
// gets its frames flushed at once, and a stream that ends leaves the
// connection and the other streams alone.
func TestHTTP2_streams(t *testing.T) {
	t.Parallel()
	th := startTLSHub(t, true, WithHeartbeat(time.Hour))
	var streams []*stream
	for i := range 10 {
		s := th.open(t, fmt.Sprintf("/api/sse/connect/h2-%d", i))
		if s.resp.Proto != "HTTP/2.0" {
			t.Fatalf("proto %s, want HTTP/2.0", s.resp.Proto)
		}
		if ct := s.resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		s.connected(t)
		streams = append(streams, s)
	}
	// One TCP connection carries them all: the server sees one address.
	remotes := map[string]bool{}
	for _, c := range th.Hub.Clients() {
		remotes[c.ClientID] = true
	}
	if len(remotes) != 10 {
		t.Fatalf("%d clients registered, want 10", len(remotes))
	}
	th.publishJSON(t, "/api/sse/sendAll", `{"data":"to all"}`)
	for _, s := range streams {
		s.expect(t, "message", "to all")
	}
	th.publishJSON(t, "/api/sse/send/h2-3", `{"data":"to three"}`)
	streams[3].expect(t, "message", "to three")

	// The server ends one stream: the others and the connection go on.
	if n := th.Disconnect("h2-5"); n != 1 {
		t.Fatalf("disconnected %d", n)
	}
	if rest := streams[5].end(t); len(rest) != 1 || rest[0].Type != "end" {
		t.Fatalf("after disconnect: %+v", rest)
	}
	th.publishJSON(t, "/api/sse/sendAll", `{"data":"after"}`)
	for i, s := range streams {
		if i != 5 {
			s.expect(t, "message", "after")
		}
	}
	again := th.open(t, "/api/sse/connect/h2-5")
	again.connected(t)
}

// TestHTTP2_clientGone: a client that cancels its HTTP/2 stream (the
// connection stays open) is unregistered within a second.
func TestHTTP2_clientGone(t *testing.T) {
	t.Parallel()
	th := startTLSHub(t, true, WithHeartbeat(time.Hour))
	keep := th.open(t, "/api/sse/connect/h2-keep")
	keep.connected(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, th.URL+"/api/sse/connect/h2-gone", nil)
	resp, err := th.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Proto != "HTTP/2.0" {
		t.Fatalf("proto %s", resp.Proto)
	}
	if ev, err := wire.NewParser(resp.Body).Next(); err != nil || ev.Type != "connected" {
		t.Fatalf("%+v %v", ev, err)
	}
	gone := time.Now()
	cancel()
	eventually(t, time.Second, "unregistered within 1s", func() bool { return th.clientCount("h2-gone") == 0 })
	t.Logf("unregistered %v after the cancel", time.Since(gone))
	th.publishJSON(t, "/api/sse/send/h2-keep", `{"data":"still here"}`)
	keep.expect(t, "message", "still here")
}

// TestHTTP2_slowClient: a stream whose reader stops is dropped when its
// queue fills, over HTTP/2 as over HTTP/1.1: only that stream is reset,
// and a new stream on the same connection works.
func TestHTTP2_slowClient(t *testing.T) {
	t.Parallel()
	th := startTLSHub(t, true, WithQueueSize(4), WithWriteTimeout(500*time.Millisecond), WithHeartbeat(time.Hour))
	resp, err := th.client.Get(th.URL + "/api/sse/connect/h2-slow")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // never read: flow control stalls the writes
	eventually(t, wait, "slow registered", func() bool { return th.clientCount("h2-slow") == 1 })

	big := strings.Repeat("x", 256<<10)
	dropped := false
	for range 64 { // 16 MiB: beyond any HTTP/2 window
		if _, err := th.Send("h2-slow", wire.Event{Data: big}); err != nil {
			t.Fatal(err)
		}
		if th.clientCount("h2-slow") == 0 {
			dropped = true
			break
		}
	}
	if !dropped {
		t.Fatal("16 MiB queued to a stream that reads nothing, and it was not dropped")
	}
	next := th.open(t, "/api/sse/connect/h2-next")
	next.connected(t)
	th.publishJSON(t, "/api/sse/send/h2-next", `{"data":"next"}`)
	next.expect(t, "message", "next")
}
