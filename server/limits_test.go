package server

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestHub_limits_refuseWithJSON: every refused request answers its
// documented status and a JSON error, and a stream open meanwhile keeps
// receiving.
func TestHub_limits_refuseWithJSON(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithMaxTopics(3), WithMaxBody(256))
	witness := th.open(t, "/api/sse/connect/witness?topics=w")
	witness.connected(t)
	long := strings.Repeat("a", 129)
	cases := []struct {
		name, method, path, ct, body string
		status                       int
		allow                        string
	}{
		{name: "too many topics", method: "GET", path: "/api/sse/connect/x?topics=a,b,c,d", status: 400},
		{name: "empty topic", method: "GET", path: "/api/sse/connect/x?topics=a,,b", status: 400},
		{name: "topic with a space", method: "GET", path: "/api/sse/connect/x?topics=a%20b", status: 400},
		{name: "topic of 129 chars", method: "GET", path: "/api/sse/connect/x?topics=" + long, status: 400},
		{name: "non-ASCII topic", method: "GET", path: "/api/sse/connect/x?topics=%C3%BC", status: 400},
		{name: "client id with a space", method: "GET", path: "/api/sse/connect/a%20b", status: 400},
		{name: "client id of 129 chars", method: "GET", path: "/api/sse/connect/" + long, status: 400},
		{name: "client id with a slash", method: "GET", path: "/api/sse/connect/a%2Fb", status: 400},
		{name: "non-ASCII client id", method: "GET", path: "/api/sse/connect/%C3%A9", status: 400},
		{name: "send to a bad id", method: "POST", path: "/api/sse/send/a%3Cb", ct: ctJSON, body: `{"data":"x"}`, status: 400},
		{name: "publish to a bad topic", method: "POST", path: "/api/sse/topics/" + long, ct: ctJSON, body: `{"data":"x"}`, status: 400},
		{name: "disconnect a bad id", method: "DELETE", path: "/api/sse/disconnect/a%20b", status: 400},
		{name: "bad payid", method: "GET", path: "/orderpay?payid=0", status: 400},
		{name: "body over max-body", method: "POST", path: "/api/sse/sendAll", ct: ctJSON, body: `{"data":"` + strings.Repeat("x", 300) + `"}`, status: 413},
		{name: "content type", method: "POST", path: "/api/sse/sendAll", ct: "text/plain", body: "x", status: 415},
		{name: "GET on a publish route", method: "GET", path: "/api/sse/sendAll", status: 405, allow: "POST"},
		{name: "POST on a stream route", method: "POST", path: "/api/sse/connect/x", ct: ctJSON, body: `{"data":"x"}`, status: 405, allow: "GET, HEAD"},
		{name: "DELETE on the client list", method: "DELETE", path: "/api/sse/clients", status: 405, allow: "GET, HEAD"},
		{name: "PUT on metrics", method: "PUT", path: "/metrics", status: 405, allow: "GET, HEAD"},
		{name: "unknown API route", method: "GET", path: "/api/nope", status: 404},
		{name: "unknown SSE route", method: "POST", path: "/api/sse/nope", status: 404},
		{name: "extra path segment", method: "GET", path: "/api/sse/connect/a/b", status: 404},
		{name: "empty client id", method: "POST", path: "/api/sse/send/", status: 404},
		{name: "unknown demo route", method: "GET", path: "/sse/nope", status: 404},
		{name: "unknown root path", method: "GET", path: "/nope", status: 404},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := th.do(t, c.method, c.path, c.ct, c.body)
			wantError(t, resp, body, c.status)
			if got := resp.Header.Get("Allow"); got != c.allow {
				t.Errorf("Allow %q, want %q", got, c.allow)
			}
			data := "after " + strconv.Itoa(i)
			th.publishJSON(t, "/api/sse/topics/w", `{"data":"`+data+`"}`)
			witness.expect(t, "message", data)
		})
	}
	if n := th.Conns(); n != 1 {
		t.Fatalf("%d streams open, want the witness only", n)
	}
	if got := th.metric(t, "ssekit_requests_refused_total", `code="404"`); got != 6 {
		t.Fatalf("ssekit_requests_refused_total{code=404} = %v, want 6", got)
	}
}

// TestHub_limits_staticFiles: with static files, the API paths still
// answer JSON 404/405; other paths are files.
func TestHub_limits_staticFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>hi</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	th := startHub(t, WithStatic(dir))
	resp, body := th.do(t, "GET", "/index.html", "", "")
	if resp.StatusCode != 200 || body != "<p>hi</p>" {
		t.Fatalf("/index.html: %d %q", resp.StatusCode, body)
	}
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/nope", 404},
		{"GET", "/api/sse/connect/a/b", 404},
		{"GET", "/sse/nope", 404},
		{"GET", "/api", 404},
		{"POST", "/healthz", 405},
		{"GET", "/api/sse/sendAll", 405},
		{"POST", "/index.html", 405},
		{"DELETE", "/", 405},
	} {
		resp, body := th.do(t, c.method, c.path, "", "")
		wantError(t, resp, body, c.status)
	}
	s := th.open(t, "/api/sse/connect/static-ok")
	s.connected(t)
}

// TestHub_limits_connsPerClient: the stream over -max-conns-per-client gets
// 429; the client's other streams and other clients are untouched.
func TestHub_limits_connsPerClient(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithMaxConnsPerClient(2))
	a1, a2 := th.open(t, "/api/sse/connect/alice"), th.open(t, "/api/sse/connect/alice")
	a1.connected(t)
	a2.connected(t)
	s, resp := th.tryOpen(t, "/api/sse/connect/alice")
	if s != nil {
		t.Fatal("a third stream for alice was opened")
	}
	body := readAll(t, resp)
	wantError(t, resp, body, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	bob := th.open(t, "/api/sse/connect/bob")
	bob.connected(t)
	th.publishJSON(t, "/api/sse/sendAll", `{"data":"all"}`)
	for _, s := range []*stream{a1, a2, bob} {
		s.expect(t, "message", "all")
	}
	a1.close()
	eventually(t, wait, "alice's first stream is unregistered", func() bool { return th.clientCount("alice") == 1 })
	a3 := th.open(t, "/api/sse/connect/alice")
	a3.connected(t)
}

// TestHub_limits_maxConns: the stream over -max-conns gets 503; open
// streams keep receiving, and a slot that frees up is usable again.
func TestHub_limits_maxConns(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithMaxConns(3))
	var open []*stream
	for i := range 3 {
		s := th.open(t, "/api/sse/connect/c"+strconv.Itoa(i))
		s.connected(t)
		open = append(open, s)
	}
	for _, path := range []string{"/api/sse/connect/c9", "/api/sse/connect", "/orderpay?payid=1", "/sse/words", "/sse/stats"} {
		s, resp := th.tryOpen(t, path)
		if s != nil {
			t.Fatalf("%s: a stream over the limit was opened", path)
		}
		body := readAll(t, resp)
		wantError(t, resp, body, http.StatusServiceUnavailable)
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", path)
		}
	}
	th.publishJSON(t, "/api/sse/sendAll", `{"data":"still served"}`)
	for _, s := range open {
		s.expect(t, "message", "still served")
	}
	open[0].close()
	eventually(t, wait, "a slot frees up", func() bool { return th.Conns() == 2 })
	th.open(t, "/sse/stats")
	if _, resp := th.tryOpen(t, "/api/sse/connect/c9"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("demo streams count towards -max-conns: got %d", resp.StatusCode)
	}
}

// TestHub_head_answersLikeGet: HEAD on every stream path answers the status
// and headers a GET would get, and opens nothing.
func TestHub_head_answersLikeGet(t *testing.T) {
	t.Parallel()
	full := startHub(t, WithMaxConns(1))
	full.open(t, "/api/sse/connect/occupant").connected(t)
	perClient := startHub(t, WithMaxConnsPerClient(1))
	perClient.open(t, "/api/sse/connect/busy").connected(t)
	drained := startHub(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = drained.Drain(ctx)
	ok := startHub(t)

	cases := []struct {
		name   string
		th     *testHub
		path   string
		status int
	}{
		{"connect", ok, "/api/sse/connect", 200},
		{"connect with id and topics", ok, "/api/sse/connect/alice?topics=a,b", 200},
		{"orderpay", ok, "/orderpay?payid=42", 200},
		{"words", ok, "/sse/words", 200},
		{"stats", ok, "/sse/stats", 200},
		{"bad id", ok, "/api/sse/connect/a%20b", 400},
		{"bad topics", ok, "/api/sse/connect/a?topics=%20", 400},
		{"bad payid", ok, "/orderpay?payid=x", 400},
		{"per-client limit", perClient, "/api/sse/connect/busy", 429},
		{"server full", full, "/api/sse/connect/other", 503},
		{"server full, orderpay", full, "/orderpay?payid=1", 503},
		{"server full, stats", full, "/sse/stats", 503},
		{"draining", drained, "/api/sse/connect/a", 503},
		{"draining, words", drained, "/sse/words", 503},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.th.Conns()
			head, headBody := c.th.do(t, http.MethodHead, c.path, "", "")
			if headBody != "" {
				t.Fatalf("HEAD has a body: %q", headBody)
			}
			if c.th.Conns() != before {
				t.Fatal("HEAD opened a stream")
			}
			var get *http.Response
			if s, resp := c.th.tryOpen(t, c.path); s != nil {
				get = s.resp
				s.close()
				eventually(t, wait, "the GET stream is unregistered", func() bool { return c.th.Conns() == before })
			} else {
				get = resp
			}
			if head.StatusCode != c.status || get.StatusCode != c.status {
				t.Fatalf("HEAD %d, GET %d, want %d", head.StatusCode, get.StatusCode, c.status)
			}
			for _, name := range []string{"Content-Type", "Cache-Control", "X-Accel-Buffering", "X-Content-Type-Options", "Retry-After", "Content-Length"} {
				if h, g := head.Header.Get(name), get.Header.Get(name); h != g {
					t.Errorf("%s: HEAD %q, GET %q", name, h, g)
				}
			}
		})
	}
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
