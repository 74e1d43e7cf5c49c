package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// wait is how long a test waits for something that should happen at once.
const wait = 5 * time.Second

// testHub is a hub served on a real loopback socket.
type testHub struct {
	*Hub
	URL    string
	srv    *httptest.Server
	client *http.Client
}

// startHub serves a new hub on 127.0.0.1; it is closed when the test ends.
func startHub(t testing.TB, opts ...Option) *testHub {
	t.Helper()
	return startHubOn(t, nil, opts...)
}

// startHubOn is startHub with a listener wrapper (nil: none).
func startHubOn(t testing.TB, wrap func(net.Listener) net.Listener, opts ...Option) *testHub {
	t.Helper()
	h, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewUnstartedServer(h.Handler())
	if wrap != nil {
		srv.Listener = wrap(srv.Listener)
	}
	srv.Start()
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 256}
	th := &testHub{Hub: h, URL: srv.URL, srv: srv, client: &http.Client{Transport: tr}}
	t.Cleanup(func() {
		_ = h.Close()
		srv.CloseClientConnections()
		srv.Close()
		tr.CloseIdleConnections()
	})
	return th
}

// do sends a request and returns the response with its body read.
func (th *testHub) do(t testing.TB, method, path, contentType, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, th.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body = http.NoBody
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := th.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, string(b)
}

// publishJSON posts a JSON event and insists on 202.
func (th *testHub) publishJSON(t testing.TB, path, body string, hdr ...string) Published {
	t.Helper()
	resp, got := th.do(t, http.MethodPost, path, "application/json", body, hdr...)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s %s: status %d, body %s", path, body, resp.StatusCode, got)
	}
	var p Published
	if err := json.Unmarshal([]byte(got), &p); err != nil {
		t.Fatalf("POST %s: body %q: %v", path, got, err)
	}
	return p
}

// wantError checks a JSON error answer.
func wantError(t testing.TB, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d (body %s)", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json (body %s)", ct, body)
	}
	var e struct {
		Error string `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not {\"error\": \"...\"} (%v)", body, err)
	}
}

// stream is an open event stream read by the spec-conformant wire.Parser in
// a goroutine of its own, so the server never sees a slow reader.
type stream struct {
	resp *http.Response

	mu     sync.Mutex
	raw    bytes.Buffer
	events []wire.Event
	err    error // why reading stopped (io.EOF: the server closed)
	seen   int   // events handed out by next
	notify chan struct{}
}

// open opens a stream and insists on 200.
func (th *testHub) open(t testing.TB, path string, hdr ...string) *stream {
	t.Helper()
	s, resp := th.tryOpen(t, path, hdr...)
	if s == nil {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: status %d, body %s", path, resp.StatusCode, b)
	}
	return s
}

// tryOpen opens a stream; a non-200 answer returns nil and the response.
func (th *testHub) tryOpen(t testing.TB, path string, hdr ...string) (*stream, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, th.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := th.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Cleanup(func() { resp.Body.Close() })
		return nil, resp
	}
	s := &stream{resp: resp, notify: make(chan struct{}, 1)}
	t.Cleanup(s.close)
	go s.read()
	return s, resp
}

func (s *stream) read() {
	p := wire.NewParser(io.TeeReader(s.resp.Body, writerFunc(func(b []byte) (int, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.raw.Write(b)
	})))
	for {
		ev, err := p.Next()
		s.mu.Lock()
		if err != nil {
			s.err = err
		} else {
			s.events = append(s.events, ev)
		}
		s.mu.Unlock()
		select {
		case s.notify <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (s *stream) close() { s.resp.Body.Close() }

// next returns the next event, failing the test after wait.
func (s *stream) next(t testing.TB) wire.Event {
	t.Helper()
	deadline := time.After(wait)
	for {
		s.mu.Lock()
		if s.seen < len(s.events) {
			ev := s.events[s.seen]
			s.seen++
			s.mu.Unlock()
			return ev
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			t.Fatalf("stream ended (%v) while waiting for an event", err)
		}
		select {
		case <-s.notify:
		case <-deadline:
			t.Fatalf("no event within %v", wait)
		}
	}
}

// expect reads the next event and checks its type and data.
func (s *stream) expect(t testing.TB, typ, data string) wire.Event {
	t.Helper()
	ev := s.next(t)
	if ev.Type != typ || ev.Data != data {
		t.Fatalf("got event %q %q, want %q %q", ev.Type, ev.Data, typ, data)
	}
	return ev
}

// connected reads the connected event and returns its payload.
func (s *stream) connected(t testing.TB) (clientID string, retryMs int) {
	t.Helper()
	ev := s.next(t)
	var p struct {
		ClientID string `json:"clientId"`
		Retry    int    `json:"retry"`
	}
	if ev.Type != "connected" || json.Unmarshal([]byte(ev.Data), &p) != nil {
		t.Fatalf("first event %q %q, want connected {clientId, retry}", ev.Type, ev.Data)
	}
	return p.ClientID, p.Retry
}

// end waits for the server to close the stream and returns the events not
// yet read.
func (s *stream) end(t testing.TB) []wire.Event {
	t.Helper()
	deadline := time.After(wait)
	for {
		s.mu.Lock()
		if s.err != nil {
			rest := append([]wire.Event(nil), s.events[s.seen:]...)
			s.seen = len(s.events)
			err := s.err
			s.mu.Unlock()
			if !errors.Is(err, io.EOF) {
				t.Fatalf("stream ended with %v, want the server to close it (EOF)", err)
			}
			return rest
		}
		s.mu.Unlock()
		select {
		case <-s.notify:
		case <-deadline:
			t.Fatalf("the server did not close the stream within %v", wait)
		}
	}
}

// pending returns the events received and not yet read, without waiting.
func (s *stream) pending() []wire.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wire.Event(nil), s.events[s.seen:]...)
}

// rawText is every byte received so far.
func (s *stream) rawText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

// eventually polls cond until it holds, failing the test after d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clientCount is how many open streams /api/sse/clients lists for id.
func (th *testHub) clientCount(id string) int {
	n := 0
	for _, c := range th.Clients() {
		if c.ClientID == id {
			n++
		}
	}
	return n
}

// metric scrapes /metrics and sums the samples of name (all label sets, or
// only those containing labels, e.g. `reason="slow"`).
func (th *testHub) metric(t testing.TB, name, labels string) float64 {
	t.Helper()
	resp, body := th.do(t, http.MethodGet, "/metrics", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	return sumMetric(t, body, name, labels)
}

func sumMetric(t testing.TB, body, name, labels string) float64 {
	t.Helper()
	found, sum := false, 0.0
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		metricName, lbls, _ := strings.Cut(series, "{")
		if metricName != name || (labels != "" && !strings.Contains(lbls, labels)) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		found, sum = true, sum+v
	}
	if !found && labels == "" {
		t.Fatalf("metric %s not exposed", name)
	}
	return sum
}
