package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// rawStream opens a stream on a TCP connection of its own and reads the
// response head, so the test can drop the connection as a client would.
func rawStream(t testing.TB, th *testHub, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(th.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %v", path, resp, err)
	}
	return c, br
}

// TestHub_goneClient_unregisteredWithin1s: a client that closes its
// connection while its stream is idle (no event, no heartbeat due) is
// unregistered within a second.
func TestHub_goneClient_unregisteredWithin1s(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithHeartbeat(time.Hour))
	for _, c := range []struct {
		name  string
		close func(net.Conn)
	}{
		{"close", func(c net.Conn) { c.Close() }},
		{"reset", func(c net.Conn) { _ = c.(*net.TCPConn).SetLinger(0); c.Close() }},
		{"half close", func(c net.Conn) { _ = c.(*net.TCPConn).CloseWrite() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := "gone-" + strings.ReplaceAll(c.name, " ", "-")
			conn, _ := rawStream(t, th, "/api/sse/connect/"+id)
			eventually(t, wait, "registered", func() bool { return th.clientCount(id) == 1 })
			closedAt := time.Now()
			c.close(conn)
			eventually(t, time.Second, "unregistered within 1s", func() bool { return th.clientCount(id) == 0 })
			t.Logf("unregistered %v after the close", time.Since(closedAt))
		})
	}
	if got := th.metric(t, "ssekit_streams_closed_total", `reason="client-gone"`); got != 3 {
		t.Fatalf(`ssekit_streams_closed_total{reason="client-gone"} = %v, want 3`, got)
	}
	if got := th.metric(t, "ssekit_connections", ""); got != 0 {
		t.Fatalf("ssekit_connections = %v, want 0", got)
	}
}

// TestHub_rotation: after -max-stream-duration the stream gets a short
// retry and a reconnect event, then closes; the next connection restores
// the normal retry and misses nothing.
func TestHub_rotation(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithMaxStreamDuration(time.Second), WithRetry(3*time.Second))
	s := th.open(t, "/api/sse/connect/rot")
	s.connected(t)
	before := th.publishJSON(t, "/api/sse/send/rot", `{"data":"before"}`)
	s.expect(t, "message", "before")
	s.expect(t, "reconnect", `{"reason":"rotation","retry":250}`)
	if rest := s.end(t); len(rest) != 0 {
		t.Fatalf("events after reconnect: %+v", rest)
	}
	if raw := s.rawText(); !strings.HasSuffix(raw, "retry: 250\n\nevent: reconnect\ndata: {\"reason\":\"rotation\",\"retry\":250}\n\n") {
		t.Fatalf("the stream ends with %q", raw[max(0, len(raw)-120):])
	}
	if n := th.clientCount("rot"); n != 0 {
		t.Fatal("the rotated stream is still listed")
	}
	th.publishJSON(t, "/api/sse/send/rot", `{"data":"while away"}`)

	next := th.open(t, "/api/sse/connect/rot", "Last-Event-ID", before.ID)
	if _, retry := next.connected(t); retry != 3000 {
		t.Fatalf("connected announces retry %d, want 3000", retry)
	}
	if raw := next.rawText(); !strings.HasPrefix(raw, "retry: 3000\n\n") {
		t.Fatalf("the next stream starts with %q, want the normal retry", raw)
	}
	next.expect(t, "message", "while away")
	if got := th.metric(t, "ssekit_streams_closed_total", `reason="rotation"`); got != 1 {
		t.Fatalf(`ssekit_streams_closed_total{reason="rotation"} = %v, want 1`, got)
	}
}

// TestHub_drain: every stream (hub and demo streams) gets a short retry and
// a reconnect event, then closes; meanwhile readiness fails, liveness does
// not, and new streams and publishes get 503.
func TestHub_drain(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithWordsInterval(time.Hour))
	if resp, body := th.do(t, "GET", "/readyz", "", ""); resp.StatusCode != 200 || !strings.Contains(body, `"ready"`) {
		t.Fatalf("readyz before the drain: %d %s", resp.StatusCode, body)
	}
	streams := []*stream{
		th.open(t, "/api/sse/connect/alice"),
		th.open(t, "/api/sse/connect?topics=t"),
		th.open(t, "/orderpay?payid=7"),
		th.open(t, "/sse/words"),
		th.open(t, "/sse/stats"),
	}
	for _, s := range streams[:3] {
		s.connected(t)
	}
	eventually(t, wait, "all streams open", func() bool { return th.Conns() == len(streams) })

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := th.Drain(ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	t.Logf("drained %d streams in %v", len(streams), time.Since(start))
	for i, s := range streams {
		rest := s.end(t)
		if len(rest) == 0 || rest[len(rest)-1].Type != "reconnect" || rest[len(rest)-1].Data != `{"reason":"drain","retry":250}` {
			t.Fatalf("stream %d ended with %+v, want a reconnect event (drain)", i, rest)
		}
		if raw := s.rawText(); !strings.HasSuffix(raw, "retry: 250\n\nevent: reconnect\ndata: {\"reason\":\"drain\",\"retry\":250}\n\n") {
			t.Fatalf("stream %d ends with %q", i, raw[max(0, len(raw)-100):])
		}
	}
	if n := th.Conns(); n != 0 {
		t.Fatalf("%d streams left after the drain", n)
	}
	resp, body := th.do(t, "GET", "/readyz", "", "")
	if resp.StatusCode != 503 || !strings.Contains(body, `"draining"`) {
		t.Fatalf("readyz after the drain: %d %s", resp.StatusCode, body)
	}
	if resp, body := th.do(t, "GET", "/healthz", "", ""); resp.StatusCode != 200 {
		t.Fatalf("healthz after the drain: %d %s", resp.StatusCode, body)
	}
	resp, body = th.do(t, "GET", "/api/sse/connect/late", "", "")
	wantError(t, resp, body, 503)
	resp, body = th.do(t, "POST", "/api/sse/sendAll", ctJSON, `{"data":"late"}`)
	wantError(t, resp, body, 503)
}

// TestHub_drain_boundedByContext: a client that does not read cannot hold
// a drain beyond its context: the blocked write is aborted, readiness
// fails meanwhile, and the connection is closed.
func TestHub_drain_boundedByContext(t *testing.T) {
	t.Parallel()
	ln := newSlowListener()
	th := startHubOn(t, func(l net.Listener) net.Listener { ln.Listener = l; return ln },
		WithWriteTimeout(time.Minute))
	stuck, err := net.Dial("tcp", strings.TrimPrefix(th.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	_ = stuck.(*net.TCPConn).SetReadBuffer(1 << 10)
	if _, err := io.WriteString(stuck, "GET /api/sse/connect/stuck HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	eventually(t, wait, "registered", func() bool { return th.clientCount("stuck") == 1 })
	big := strings.Repeat("x", 16<<10)
	for range 16 { // far more than the socket buffers hold: the writer blocks
		if _, err := th.Send("stuck", wire.Event{Data: big}); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- th.Drain(ctx) }()
	eventually(t, wait, "readyz fails during the drain", func() bool {
		resp, _ := th.do(t, "GET", "/readyz", "", "")
		return resp.StatusCode == 503
	})
	if resp, body := th.do(t, "GET", "/healthz", "", ""); resp.StatusCode != 200 {
		t.Fatalf("healthz during the drain: %d %s", resp.StatusCode, body)
	}
	select {
	case err := <-done:
		t.Fatalf("Drain returned (%v) while a stream was still blocked", err)
	default:
	}
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Drain: %v, want the context's deadline", err)
		}
	case <-time.After(wait):
		t.Fatal("Drain did not return")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Drain took %v with a 1s context", d)
	}
	select {
	case <-ln.closedCh(stuck.LocalAddr().String()):
	case <-time.After(time.Second):
		t.Fatal("the stuck connection is still open after the drain")
	}
}

// TestHub_writeTimeout: a stream whose writes block longer than
// -write-timeout is closed and unregistered, with no publish needed to
// notice it.
func TestHub_writeTimeout(t *testing.T) {
	t.Parallel()
	ln := newSlowListener()
	th := startHubOn(t, func(l net.Listener) net.Listener { ln.Listener = l; return ln },
		WithWriteTimeout(200*time.Millisecond))
	stuck, err := net.Dial("tcp", strings.TrimPrefix(th.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	_ = stuck.(*net.TCPConn).SetReadBuffer(1 << 10)
	if _, err := io.WriteString(stuck, "GET /api/sse/connect/stuck HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	eventually(t, wait, "registered", func() bool { return th.clientCount("stuck") == 1 })
	big := strings.Repeat("x", 16<<10)
	for range 16 { // fits the queue, not the socket buffers: the writer blocks
		if p, err := th.Send("stuck", wire.Event{Data: big}); err != nil || p.Delivered != 1 {
			t.Fatalf("%+v %v", p, err)
		}
	}
	select {
	case <-ln.closedCh(stuck.LocalAddr().String()):
	case <-time.After(wait):
		t.Fatal("the blocked stream was not closed")
	}
	eventually(t, wait, "unregistered", func() bool { return th.clientCount("stuck") == 0 })
	if got := th.metric(t, "ssekit_streams_closed_total", `reason="write-error"`); got != 1 {
		t.Fatalf(`ssekit_streams_closed_total{reason="write-error"} = %v, want 1`, got)
	}
	if got := th.metric(t, "ssekit_slow_client_drops_total", ""); got != 0 {
		t.Fatalf("counted as a slow drop: %v", got)
	}
}

// TestHub_heartbeat: one ticker queues the same comment frame to every
// stream; it dispatches nothing. The clock is fake.
func TestHub_heartbeat(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h, err := New(WithHeartbeat(15 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		a, b := newConn("a", nil, 8, "test", time.Now()), newConn("b", nil, 8, "test", time.Now())
		for _, c := range []*conn{a, b} {
			if _, _, err := h.register(c, ""); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(14 * time.Second)
		synctest.Wait()
		if a.queue.len() != 0 {
			t.Fatal("a heartbeat before the interval")
		}
		time.Sleep(31 * time.Second)
		synctest.Wait()
		if a.queue.len() != 3 || b.queue.len() != 3 {
			t.Fatalf("after 45s: %d and %d heartbeats, want 3", a.queue.len(), b.queue.len())
		}
		fa, fb := a.queue.take()[0], b.queue.take()[0]
		if string(fa) != ": ping\n\n" || &fa[0] != &fb[0] {
			t.Fatalf("heartbeat frame %q, shared: %v", fa, &fa[0] == &fb[0])
		}
	})
}

// TestHub_heartbeat_onTheWire: heartbeats reach an idle stream as comment
// lines, and a conformant parser dispatches nothing for them.
func TestHub_heartbeat_onTheWire(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithHeartbeat(20*time.Millisecond))
	s := th.open(t, "/api/sse/connect/idle")
	s.connected(t)
	eventually(t, wait, "three heartbeats", func() bool { return strings.Count(s.rawText(), ": ping\n\n") >= 3 })
	th.publishJSON(t, "/api/sse/send/idle", `{"data":"after pings"}`)
	ev := s.next(t)
	if ev.Type != "message" || ev.Data != "after pings" {
		t.Fatalf("after heartbeats the parser dispatched %+v", ev)
	}
}
