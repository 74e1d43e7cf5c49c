package server

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowListener shrinks the server side's socket send buffer, so a client
// that never reads blocks the server's writes after a few KiB instead of
// the megabytes loopback autotuning allows, and reports when the server
// closes a connection, by the client's address.
type slowListener struct {
	net.Listener
	mu     sync.Mutex
	closed map[string]chan struct{}
	conns  map[string]*notifyConn
}

func newSlowListener() *slowListener {
	return &slowListener{closed: make(map[string]chan struct{}), conns: make(map[string]*notifyConn)}
}

func (l *slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4 << 10)
	}
	nc := &notifyConn{Conn: c, closed: l.closedCh(c.RemoteAddr().String())}
	l.mu.Lock()
	l.conns[c.RemoteAddr().String()] = nc
	l.mu.Unlock()
	return nc, nil
}

// closedAt waits up to d for the server to close the connection of the
// client at remote and says when it did (zero: still open).
func (l *slowListener) closedAt(remote string, d time.Duration) time.Time {
	select {
	case <-l.closedCh(remote):
	case <-time.After(d):
		return time.Time{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[remote].at
}

func (l *slowListener) closedCh(remote string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed[remote] == nil {
		l.closed[remote] = make(chan struct{})
	}
	return l.closed[remote]
}

type notifyConn struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
	at     time.Time // when Close was first called; read after closed is closed
}

func (c *notifyConn) Close() error {
	c.once.Do(func() { c.at = time.Now(); close(c.closed) })
	return c.Conn.Close()
}

// TestHub_slowClient_neverDelaysOthers: a client that never reads is
// dropped when its queue fills (unregistered at once, its connection
// closed, counted), and no broadcast waits for it: 100 readers get every
// event, in order, and no publish takes anywhere near the write timeout.
func TestHub_slowClient_neverDelaysOthers(t *testing.T) {
	t.Parallel()
	const (
		readers    = 100
		broadcasts = 60
		queueSize  = 8
	)
	// A write timeout far longer than the test: were a publish waiting for
	// the slow client, it would show.
	ln := newSlowListener()
	th := startHubOn(t, func(l net.Listener) net.Listener { ln.Listener = l; return ln },
		WithQueueSize(queueSize), WithWriteTimeout(time.Minute))

	streams := make([]*stream, readers)
	for i := range streams {
		streams[i] = th.open(t, "/api/sse/connect/reader-"+strconv.Itoa(i))
		streams[i].connected(t)
	}

	slow, err := net.Dial("tcp", strings.TrimPrefix(th.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if err := slow.(*net.TCPConn).SetReadBuffer(1 << 10); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(slow, "GET /api/sse/connect/slow HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	eventually(t, wait, "the slow client is registered", func() bool { return th.clientCount("slow") == 1 })

	payload := strings.Repeat("x", 2<<10)
	var slowest time.Duration
	var droppedAt time.Time
	delivered := make([]int, broadcasts)
	for i := range broadcasts {
		data := strconv.Itoa(i) + " " + payload
		start := time.Now()
		p := th.publishJSON(t, "/api/sse/sendAll", `{"data":"`+data+`"}`)
		slowest = max(slowest, time.Since(start))
		delivered[i] = p.Delivered
		if p.Delivered == readers && droppedAt.IsZero() {
			droppedAt = start
		}
		// Every reader gets each broadcast before the next one, so the
		// readers' own queues never fill, only the slow client's.
		for r, s := range streams {
			if ev := s.next(t); ev.Data != data {
				t.Fatalf("reader %d: event %d is %.20q…", r, i, ev.Data)
			}
		}
	}
	if delivered[0] != readers+1 {
		t.Fatalf("the first broadcast reached %d streams, want %d", delivered[0], readers+1)
	}
	if last := delivered[broadcasts-1]; last != readers {
		t.Fatalf("the last broadcast reached %d streams, want the %d readers only (delivered: %v)", last, readers, delivered)
	}
	if slowest > 2*time.Second {
		t.Fatalf("the slowest broadcast took %v: something waited", slowest)
	}
	t.Logf("slowest of %d broadcasts to %d streams: %v; dropped after %d", broadcasts, readers+1, slowest,
		countWhile(delivered, readers+1))
	// The server closes the slow connection at once, not at its write
	// timeout.
	closed := ln.closedAt(slow.LocalAddr().String(), wait)
	if closed.IsZero() || closed.Sub(droppedAt) > time.Second {
		t.Fatalf("the server closed the slow connection at %v, the drop was at %v", closed, droppedAt)
	}
	if got := th.metric(t, "ssekit_streams_closed_total", `reason="slow"`); got != 1 {
		t.Fatalf("ssekit_streams_closed_total{reason=\"slow\"} = %v, want 1", got)
	}
	if n := th.clientCount("slow"); n != 0 {
		t.Fatalf("the slow client is still listed")
	}
	if got := th.metric(t, "ssekit_slow_client_drops_total", ""); got != 1 {
		t.Fatalf("ssekit_slow_client_drops_total = %v, want 1", got)
	}

}

func countWhile(xs []int, v int) int {
	n := 0
	for n < len(xs) && xs[n] == v {
		n++
	}
	return n
}
