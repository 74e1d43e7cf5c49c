package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// rawReq is one HTTP/1.1 request written byte for byte, so it can carry
// what a Go http.Request refuses to build (control bytes, bad UTF-8).
type rawReq struct {
	name        string
	method      string
	target      string // request target as sent, already %-escaped or not
	contentType string
	header      string // extra header lines, each ending in \r\n
	body        string
	want        int
	// stream: the answer is an event stream; wantEvent is the type of the
	// first event after connected.
	wantEvent string
}

func (c rawReq) send(t *testing.T, addr string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", c.method, c.target, addr)
	if c.contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", c.contentType)
	}
	b.WriteString(c.header)
	if c.method == "POST" || c.method == "PUT" || c.body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(c.body))
	}
	b.WriteString("\r\n" + c.body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	if c.wantEvent != "" {
		p := wire.NewParser(res.Body)
		for {
			ev, err := p.Next()
			if err != nil {
				t.Fatalf("stream ended before a %s event: %v", c.wantEvent, err)
			}
			if ev.Type != "connected" {
				return res.StatusCode, ev.Type
			}
		}
	}
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func jsonBody(fields map[string]any) string { b, _ := json.Marshal(fields); return string(b) }

// badInputCases are bad requests against every endpoint. None of them may
// reach the witness stream (client id "witness", topic "w") or change the
// set of connected clients.
func badInputCases() []rawReq {
	long := strings.Repeat("a", 129)
	manyTopics := strings.TrimSuffix(strings.Repeat("t,", 65), ",")
	big := strings.Repeat("x", 65<<10)
	const form, js = "application/x-www-form-urlencoded", "application/json"
	return []rawReq{
		// GET /api/sse/connect[/{clientId}]
		{name: "connect id with NUL", method: "GET", target: "/api/sse/connect/a%00b", want: 400},
		{name: "connect id with CR", method: "GET", target: "/api/sse/connect/a%0Db", want: 400},
		{name: "connect id with LF", method: "GET", target: "/api/sse/connect/a%0Ab", want: 400},
		{name: "connect id of 129 chars", method: "GET", target: "/api/sse/connect/" + long, want: 400},
		{name: "connect id ..%2f path trick", method: "GET", target: "/api/sse/connect/..%2f..%2fwitness", want: 400},
		{name: "connect id not UTF-8", method: "GET", target: "/api/sse/connect/%ff%fe", want: 400},
		{name: "connect id with space", method: "GET", target: "/api/sse/connect/a%20b", want: 400},
		{name: "connect id non-ASCII", method: "GET", target: "/api/sse/connect/%C3%A9", want: 400},
		{name: "connect topic with NUL", method: "GET", target: "/api/sse/connect?topics=a%00", want: 400},
		{name: "connect topic of 129 chars", method: "GET", target: "/api/sse/connect?topics=" + long, want: 400},
		{name: "connect 65 topics", method: "GET", target: "/api/sse/connect?topics=" + manyTopics, want: 400},
		{name: "connect topic path trick", method: "GET", target: "/api/sse/connect?topics=..%2fw", want: 400},
		{name: "connect Last-Event-ID of 40 KiB", method: "GET", target: "/api/sse/connect/x1",
			header: "Last-Event-ID: " + strings.Repeat("9", 40<<10) + "\r\n", want: 431},
		{name: "connect Last-Event-ID of 16 KiB", method: "GET", target: "/api/sse/connect/x2",
			header: "Last-Event-ID: " + strings.Repeat("9", 16<<10) + "\r\n", want: 200, wantEvent: "reset"},
		{name: "connect Last-Event-ID not UTF-8", method: "GET", target: "/api/sse/connect/x3",
			header: "Last-Event-ID: \xff\xfe-1\r\n", want: 200, wantEvent: "reset"},
		{name: "connect lastEventId query of 8 KiB", method: "GET", target: "/api/sse/connect/x4?lastEventId=" + strings.Repeat("z", 8<<10),
			want: 200, wantEvent: "reset"},
		// POST /api/sse/send/{clientId}
		{name: "send id with NUL", method: "POST", target: "/api/sse/send/witness%00", contentType: form, body: "message=x", want: 400},
		{name: "send id of 129 chars", method: "POST", target: "/api/sse/send/" + long, contentType: form, body: "message=x", want: 400},
		{name: "send id ..%2f path trick", method: "POST", target: "/api/sse/send/..%2fwitness", contentType: form, body: "message=x", want: 400},
		{name: "send id empty", method: "POST", target: "/api/sse/send/", contentType: form, body: "message=x", want: 404},
		{name: "send event with CR", method: "POST", target: "/api/sse/send/witness", contentType: js, body: jsonBody(map[string]any{"event": "a\rb", "data": "x"}), want: 400},
		{name: "send event with LF", method: "POST", target: "/api/sse/send/witness", contentType: js, body: jsonBody(map[string]any{"event": "a\nb", "data": "x"}), want: 400},
		{name: "send event with NUL", method: "POST", target: "/api/sse/send/witness", contentType: js, body: jsonBody(map[string]any{"event": "a\x00b", "data": "x"}), want: 400},
		{name: "send id field with LF", method: "POST", target: "/api/sse/send/witness", contentType: js, body: jsonBody(map[string]any{"id": "1\nevent: x", "data": "x"}), want: 400},
		{name: "send invalid JSON", method: "POST", target: "/api/sse/send/witness", contentType: js, body: `{"data":`, want: 400},
		{name: "send JSON array", method: "POST", target: "/api/sse/send/witness", contentType: js, body: `[1,2]`, want: 400},
		{name: "send JSON data of wrong type", method: "POST", target: "/api/sse/send/witness", contentType: js, body: `{"data":{"a":1},"event":5}`, want: 400},
		{name: "send JSON negative retry", method: "POST", target: "/api/sse/send/witness", contentType: js, body: `{"data":"x","retry":-1}`, want: 400},
		{name: "send text/plain", method: "POST", target: "/api/sse/send/witness", contentType: "text/plain", body: "message=x", want: 415},
		{name: "send application/xml", method: "POST", target: "/api/sse/send/witness", contentType: "application/xml", body: "<m/>", want: 415},
		{name: "send malformed content type", method: "POST", target: "/api/sse/send/witness", contentType: ";;;=", body: "message=x", want: 415},
		{name: "send body without content type", method: "POST", target: "/api/sse/send/witness", body: "message=x", want: 415},
		{name: "send JSON over the limit", method: "POST", target: "/api/sse/send/witness", contentType: js, body: jsonBody(map[string]any{"data": big}), want: 413},
		{name: "send form over the limit", method: "POST", target: "/api/sse/send/witness", contentType: form, body: "message=" + big, want: 413},
		{name: "send form event with CR", method: "POST", target: "/api/sse/send/witness", contentType: form, body: "message=x&event=a%0Db", want: 400},
		{name: "send form id with NUL", method: "POST", target: "/api/sse/send/witness", contentType: form, body: "message=x&id=%00", want: 400},
		{name: "send Idempotency-Key of 129 chars", method: "POST", target: "/api/sse/send/witness", contentType: form, body: "message=x",
			header: "Idempotency-Key: " + long + "\r\n", want: 400},
		// POST /api/sse/sendAll
		{name: "sendAll event with CR", method: "POST", target: "/api/sse/sendAll", contentType: js, body: jsonBody(map[string]any{"event": "a\rb", "data": "x"}), want: 400},
		{name: "sendAll invalid JSON", method: "POST", target: "/api/sse/sendAll", contentType: js, body: `{"data" "x"}`, want: 400},
		{name: "sendAll JSON not UTF-8", method: "POST", target: "/api/sse/sendAll", contentType: js, body: "{\"event\":\"\xff\",\"data\":\"x\"}", want: 400},
		{name: "sendAll text/plain", method: "POST", target: "/api/sse/sendAll", contentType: "text/plain", body: "hi", want: 415},
		{name: "sendAll over the limit", method: "POST", target: "/api/sse/sendAll", contentType: form, body: "message=" + big, want: 413},
		{name: "sendAll form event with NUL", method: "POST", target: "/api/sse/sendAll", contentType: form, body: "message=x&event=%00", want: 400},
		// POST /api/sse/topics/{topic}
		{name: "topic with NUL", method: "POST", target: "/api/sse/topics/w%00", contentType: form, body: "message=x", want: 400},
		{name: "topic of 129 chars", method: "POST", target: "/api/sse/topics/" + long, contentType: form, body: "message=x", want: 400},
		{name: "topic ..%2f path trick", method: "POST", target: "/api/sse/topics/..%2fw", contentType: form, body: "message=x", want: 400},
		{name: "topic event with LF", method: "POST", target: "/api/sse/topics/w", contentType: js, body: jsonBody(map[string]any{"event": "x\ndata: y", "data": "x"}), want: 400},
		// DELETE /api/sse/disconnect/{clientId}
		{name: "disconnect id with LF", method: "DELETE", target: "/api/sse/disconnect/witness%0A", want: 400},
		{name: "disconnect id of 129 chars", method: "DELETE", target: "/api/sse/disconnect/" + long, want: 400},
		{name: "disconnect id ..%2f path trick", method: "DELETE", target: "/api/sse/disconnect/..%2fwitness", want: 400},
		// methods and the rest
		{name: "GET sendAll", method: "GET", target: "/api/sse/sendAll", want: 405},
		{name: "PUT topic", method: "PUT", target: "/api/sse/topics/w", contentType: form, body: "message=x", want: 405},
		{name: "payback payid not a number", method: "GET", target: "/payback?payid=abc", want: 400},
		{name: "payback payid of 40 digits", method: "GET", target: "/payback?payid=" + strings.Repeat("9", 40), want: 400},
	}
}

// witness is one stream that must see only the markers the test sends it.
func TestBadInput_table(t *testing.T) {
	t.Parallel()
	p := startServer(t, nil)
	w := follow(t, p, "witness?topics=w")
	eventually(t, 10*time.Second, "witness connected", func() bool { return w.connected() == 1 })
	clientsBefore := clientsBody(t, p)

	cases := badInputCases()
	marker := 0
	// Sequential on purpose: every case is followed by the same "nothing
	// else changed" checks on the one witness stream.
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, body := c.send(t, p.addr)
			if st != c.want {
				t.Fatalf("status %d, want %d: %.200s", st, c.want, body)
			}
			if c.wantEvent != "" && body != c.wantEvent {
				t.Fatalf("first event after connected: %q, want %q", body, c.wantEvent)
			}
			if c.want >= 400 && c.want != 431 && !strings.Contains(body, `"error"`) {
				t.Errorf("no JSON error reason: %.200s", body)
			}
			marker++
			m := fmt.Sprintf("marker-%d", marker)
			if st, _ := post(t, p, "/api/sse/topics/w", "application/x-www-form-urlencoded", "message="+m); st != 202 {
				t.Fatalf("marker publish: %d", st)
			}
			eventually(t, 5*time.Second, "witness receives the marker", func() bool { return w.count(m) == 1 })
			eventually(t, 5*time.Second, "/api/sse/clients unchanged", func() bool { return clientsBody(t, p) == clientsBefore })
		})
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.order) != marker || w.connects != 1 {
		t.Errorf("witness saw %d events on %d connections, want only the %d markers on 1: %q", len(w.order), w.connects, marker, w.order)
	}
	if strings.Contains(p.log.String(), "panic") {
		t.Errorf("server log has a panic:\n%s", p.log.String())
	}
	report(t, "Bad input", "requests with bad ids, topics, event names, bodies, content types, sizes, headers",
		"%d cases, each answered with its 4xx (and a JSON reason) or a reset stream; witness stream got only its %d markers, /api/sse/clients unchanged after each", len(cases), marker)
}

func clientsBody(t testing.TB, p *proc) string {
	t.Helper()
	res, err := client.Get(p.url("/api/sse/clients"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// TestBadInput_stalledRequests holds a slowloris header and a chunked body
// that never ends open against the binary: the server closes both on its
// own (ReadHeaderTimeout 10 s, ReadTimeout 30 s) and serves others
// meanwhile.
func TestBadInput_stalledRequests(t *testing.T) {
	t.Parallel()
	p := startServer(t, nil)
	w := follow(t, p, "witness")
	eventually(t, 10*time.Second, "witness connected", func() bool { return w.connected() == 1 })

	type stalled struct {
		name, start string
		within      time.Duration
	}
	cases := []stalled{
		{"slowloris header", "GET /api/sse/connect/s HTTP/1.1\r\nHost: x\r\nX-Slow: a", 15 * time.Second},
		{"chunked body that never ends", "POST /api/sse/sendAll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"dat\r\n", 40 * time.Second},
	}
	closed := make(chan string, len(cases))
	started := time.Now()
	for _, c := range cases {
		conn, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, c.start); err != nil {
			t.Fatal(err)
		}
		go func() {
			_ = conn.SetReadDeadline(time.Now().Add(c.within))
			_, err := io.Copy(io.Discard, conn)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				closed <- c.name + ": still open after " + c.within.String()
				return
			}
			closed <- fmt.Sprintf("%s: closed by the server after %v", c.name, time.Since(started).Round(100*time.Millisecond))
		}()
	}
	// Meanwhile the server serves everyone else.
	for i := 0; i < 20; i++ {
		m := fmt.Sprintf("live-%d", i)
		if st, _ := post(t, p, "/api/sse/send/witness", "application/x-www-form-urlencoded", "message="+m); st != 202 {
			t.Fatalf("publish while requests stall: %d", st)
		}
		eventually(t, 5*time.Second, "witness receives "+m, func() bool { return w.count(m) == 1 })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	var lines []string
	for range cases {
		select {
		case s := <-closed:
			if strings.Contains(s, "still open") {
				t.Error(s)
			}
			lines = append(lines, s)
		case <-ctx.Done():
			t.Fatal("a stalled request was not closed")
		}
	}
	report(t, "Bad input", "stalled requests against the binary (others kept served: 20/20 live events)", "%s", strings.Join(lines, "; "))
}
