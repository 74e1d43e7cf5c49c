package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/ssekit/ssekit/sdk/wire"
)

func TestHub_stream_firstFrameAndHeaders(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	s := th.open(t, "/api/sse/connect/alice")
	for name, want := range map[string]string{
		"Content-Type":      "text/event-stream; charset=utf-8",
		"Cache-Control":     "no-cache",
		"X-Accel-Buffering": "no",
	} {
		if got := s.resp.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if ce := s.resp.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding = %q: a stream is never compressed", ce)
	}
	id, retry := s.connected(t)
	if id != "alice" || retry != 3000 {
		t.Fatalf("connected {clientId %q, retry %d}, want alice, 3000", id, retry)
	}
	if raw := s.rawText(); !strings.HasPrefix(raw, "retry: 3000\n\nevent: connected\ndata: ") {
		t.Fatalf("the stream starts with %q, want the retry frame, then connected", raw)
	}
}

func TestHub_connect_generatedID(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	s := th.open(t, "/api/sse/connect")
	id, _ := s.connected(t)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("generated client id %q is not a random UUID", id)
	}
	if p := th.publishJSON(t, "/api/sse/send/"+id, `{"data":"to the generated id"}`); p.Delivered != 1 {
		t.Fatalf("delivered %d, want 1", p.Delivered)
	}
	s.expect(t, "message", "to the generated id")
	other := th.open(t, "/api/sse/connect")
	if id2, _ := other.connected(t); id2 == id {
		t.Fatalf("two streams got the same generated id %q", id)
	}
}

// TestHub_publish_addressing sends to one client (two tabs), a topic and
// everyone; each stream must see exactly its events, in order.
func TestHub_publish_addressing(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	streams := map[string]*stream{
		"alice-tab1": th.open(t, "/api/sse/connect/alice"),
		"alice-tab2": th.open(t, "/api/sse/connect/alice"),
		"bob":        th.open(t, "/api/sse/connect/bob?topics=news"),
		"carol":      th.open(t, "/api/sse/connect/carol?topics=news,sport"),
		"dave":       th.open(t, "/api/sse/connect/dave?topics=sport,sport"),
	}
	for _, s := range streams {
		s.connected(t)
	}
	for _, c := range []struct {
		path      string
		data      string
		delivered int
	}{
		{"/api/sse/send/alice", "to alice", 2},
		{"/api/sse/topics/sport", "to sport", 2},
		{"/api/sse/send/nobody", "to nobody", 0},
		{"/api/sse/topics/news", "to news", 2},
		{"/api/sse/sendAll", "to all", 5},
	} {
		p := th.publishJSON(t, c.path, `{"data":"`+c.data+`"}`)
		if p.Delivered != c.delivered {
			t.Errorf("%s: delivered %d, want %d", c.path, p.Delivered, c.delivered)
		}
	}
	want := map[string][]string{
		"alice-tab1": {"to alice", "to all"},
		"alice-tab2": {"to alice", "to all"},
		"bob":        {"to news", "to all"},
		"carol":      {"to sport", "to news", "to all"},
		"dave":       {"to sport", "to all"},
	}
	for name, s := range streams {
		for _, data := range want[name] {
			if ev := s.next(t); ev.Data != data {
				t.Errorf("%s got %q, want %q", name, ev.Data, data)
			}
		}
	}
}

func TestHub_disconnect_endsEveryStreamOfTheClient(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	tab1, tab2 := th.open(t, "/api/sse/connect/alice"), th.open(t, "/api/sse/connect/alice")
	bob := th.open(t, "/api/sse/connect/bob")
	for _, s := range []*stream{tab1, tab2, bob} {
		s.connected(t)
	}
	resp, body := th.do(t, http.MethodDelete, "/api/sse/disconnect/alice", "", "")
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"clientId":"alice","disconnected":2}` {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	for _, s := range []*stream{tab1, tab2} {
		s.expect(t, "end", `{"reason":"disconnected"}`)
		if rest := s.end(t); len(rest) != 0 {
			t.Fatalf("events after end: %+v", rest)
		}
	}
	if n := th.clientCount("alice"); n != 0 {
		t.Fatalf("alice still listed %d times", n)
	}
	th.publishJSON(t, "/api/sse/sendAll", `{"data":"still here"}`)
	bob.expect(t, "message", "still here")

	resp, body = th.do(t, http.MethodDelete, "/api/sse/disconnect/alice", "", "")
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"clientId":"alice","disconnected":0}` {
		t.Fatalf("second DELETE: %d %s", resp.StatusCode, body)
	}
}

func TestHub_clients_listsIDsTopicsSinceAndQueue(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	before := time.Now().Add(-time.Second)
	s := th.open(t, "/api/sse/connect/alice?topics=news,sport")
	s.connected(t)
	resp, body := th.do(t, http.MethodGet, "/api/sse/clients", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var list struct {
		Count   int `json:"count"`
		Clients []struct {
			ClientID       string    `json:"clientId"`
			Topics         []string  `json:"topics"`
			ConnectedSince time.Time `json:"connectedSince"`
			QueueDepth     *int      `json:"queueDepth"`
		} `json:"clients"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if list.Count != 1 || len(list.Clients) != 1 {
		t.Fatalf("listing %s, want one client", body)
	}
	c := list.Clients[0]
	if c.ClientID != "alice" || strings.Join(c.Topics, ",") != "news,sport" || c.QueueDepth == nil ||
		c.ConnectedSince.Before(before) || c.ConnectedSince.After(time.Now()) {
		t.Fatalf("listing %s", body)
	}
}

// TestHub_clients_queueDepth registers a stream nobody writes out, so its
// queue holds what was published.
func TestHub_clients_queueDepth(t *testing.T) {
	t.Parallel()
	h, err := New(WithQueueSize(8))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	c := newConn("q", nil, 8, "test", time.Now())
	if _, _, err := h.register(c, ""); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := h.Send("q", wire.Event{Data: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.Clients(); len(got) != 1 || got[0].QueueDepth != 3 {
		t.Fatalf("Clients() = %+v, want one client with queue depth 3", got)
	}
	if d := h.queueDepth(); d != 3 {
		t.Fatalf("queueDepth = %d, want 3", d)
	}
}

// TestHub_publish_encodesOnce checks that every stream gets the same bytes
// of one encoded frame, not a copy each.
func TestHub_publish_encodesOnce(t *testing.T) {
	t.Parallel()
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	a, b := newConn("a", []string{"t"}, 4, "test", time.Now()), newConn("b", []string{"t"}, 4, "test", time.Now())
	for _, c := range []*conn{a, b} {
		if _, _, err := h.register(c, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.SendTopic("t", wire.Event{Data: "shared"}); err != nil {
		t.Fatal(err)
	}
	fa, fb := a.queue.take()[0], b.queue.take()[0]
	if unsafe.SliceData(fa) != unsafe.SliceData(fb) {
		t.Fatal("each stream got its own copy of the frame")
	}
	if !strings.HasSuffix(string(fa), "data: shared\n\n") {
		t.Fatalf("frame %q", fa)
	}
}

// TestHub_stream_registeredBeforeFirstByte: once a client has its first
// event, the hub already lists it and delivers to it.
func TestHub_stream_registeredBeforeFirstByte(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	for i := range 10 {
		s := th.open(t, "/api/sse/connect/early")
		s.connected(t)
		if n := th.clientCount("early"); n != i+1 {
			t.Fatalf("after connected: listed %d times, want %d", n, i+1)
		}
		if p := th.publishJSON(t, "/api/sse/send/early", `{"data":"hi"}`); p.Delivered != i+1 {
			t.Fatalf("delivered %d, want %d", p.Delivered, i+1)
		}
		s.expect(t, "message", "hi")
	}
}

// TestHub_GoAPI_validates: the Go publishing API refuses what the HTTP API
// refuses, and nothing refused reaches a stream.
func TestHub_GoAPI_validates(t *testing.T) {
	t.Parallel()
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	c := newConn("ok", []string{"t"}, 4, "test", time.Now())
	if _, _, err := h.register(c, ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func() (Published, error)
		want error
	}{
		{"bad client id", func() (Published, error) { return h.Send("a b", wire.Event{Data: "x"}) }, ErrBadClientID},
		{"bad topic", func() (Published, error) { return h.SendTopic("", wire.Event{Data: "x"}) }, ErrBadTopic},
		{"id with LF", func() (Published, error) { return h.SendAll(wire.Event{ID: "a\nb", Data: "x"}) }, ErrBadEvent},
		{"event with NUL", func() (Published, error) { return h.Send("ok", wire.Event{Type: "a\x00", Data: "x"}) }, ErrBadEvent},
		{"long event", func() (Published, error) { return h.SendAll(wire.Event{Type: strings.Repeat("e", 129), Data: "x"}) }, ErrBadEvent},
	} {
		if _, err := tc.call(); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := c.queue.len(); n != 0 {
		t.Fatalf("%d refused events reached the stream", n)
	}
	h.Close()
	if _, err := h.SendAll(wire.Event{Data: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after Close: %v, want ErrClosed", err)
	}
	if _, _, err := h.register(newConn("late", nil, 1, "test", time.Now()), ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("register after Close: %v, want ErrClosed", err)
	}
}
