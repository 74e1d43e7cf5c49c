//go:build !(js && wasm)

package sdk

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
	"github.com/ssekit/ssekit/server"
)

// The client's policy over net/http against the real hub, on real sockets:
// the same state machine the browser runs, with the platform's status
// visible.

func startHub(t *testing.T, opts ...server.Option) (*server.Hub, *httptest.Server) {
	t.Helper()
	h, err := server.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h.Handler())
	t.Cleanup(func() { h.Close(); ts.Close() })
	return h, ts
}

// collector gathers a client's message payloads.
type collector struct {
	mu   sync.Mutex
	data []string
}

func (c *collector) add(ev Event) error {
	c.mu.Lock()
	c.data = append(c.data, ev.Data)
	c.mu.Unlock()
	return nil
}

func (c *collector) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.data...)
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func connect(t *testing.T, url string, opts Options) (*Client, *collector) {
	t.Helper()
	c, err := Connect(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	col := &collector{}
	if _, err := c.On(EventMessage, col.add); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "open", func() bool { return c.State().State == StateOpen })
	return c, col
}

func TestNative_rotationAndDroppedConnectionsLoseNothing(t *testing.T) {
	t.Parallel()
	hub, err := server.New(server.WithMaxStreamDuration(150*time.Millisecond), server.WithRetry(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ts, drop := NewDroppableServer(hub.Handler())
	t.Cleanup(func() { hub.Close(); ts.Close() })
	c, col := connect(t, ts.URL+"/api/sse/connect/native", Options{Backoff: Backoff{Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}})
	const n = 60
	tick := time.NewTicker(10 * time.Millisecond) // the publisher's pace
	defer tick.Stop()
	for i := range n {
		<-tick.C
		if i == 20 || i == 40 {
			drop() // a dropped connection, not a rotation
		}
		if _, err := hub.Send("native", wire.Event{Data: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 3*time.Second, "every event", func() bool { return len(col.snapshot()) >= n })
	got := col.snapshot()
	for i, d := range got {
		if d != strconv.Itoa(i) {
			t.Fatalf("event %d is %q in %v", i, d, got)
		}
	}
	if st := c.Stats(); st.Reconnects < 2 || st.Received != n || st.Resets != 0 {
		t.Fatalf("stats %+v: want several reconnects, %d received, no reset", st, n)
	}
}

func TestNative_statusesFromTheResponse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		header string
		final  State
		delay  time.Duration // at least, when retrying
	}{
		{"204 stops", 204, "", StateClosed, 0},
		{"404 stops", 404, "", StateClosed, 0},
		{"503 waits Retry-After", 503, "2", StateReconnecting, 2 * time.Second},
		{"500 backs off", 500, "", StateReconnecting, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var methods []string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				methods = append(methods, r.Method)
				mu.Unlock()
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				w.WriteHeader(c.status)
			}))
			defer ts.Close()
			cl, err := Connect(ts.URL, Options{Backoff: Backoff{Initial: time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			waitFor(t, 2*time.Second, "a verdict", func() bool { return cl.State().State == c.final })
			st := cl.State()
			if st.Status != c.status || st.NextDelay < c.delay {
				t.Fatalf("state %+v, want status %d, delay >= %v", st, c.status, c.delay)
			}
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(methods, ",") != "GET" {
				t.Fatalf("requests %v: the status was visible, so no probe", methods)
			}
		})
	}
}

func TestNative_probeFallsBackToGET(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var log []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		log = append(log, r.Method)
		n := len(log)
		mu.Unlock()
		switch {
		case r.Method == http.MethodHead:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case n == 1: // a stream that ends at once: the status says nothing
			w.Header().Set("Content-Type", "text/event-stream")
		default: // the probe's GET learns the truth
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer ts.Close()
	cl, err := Connect(ts.URL, Options{Backoff: Backoff{Initial: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	waitFor(t, 2*time.Second, "the verdict", func() bool { return cl.State().Status == 503 })
	if st := cl.State(); st.State != StateReconnecting || st.NextDelay < 3*time.Second {
		t.Fatalf("state %+v, want a wait of Retry-After", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(log, ",") != "GET,HEAD,GET" {
		t.Fatalf("requests %v, want the stream, HEAD, then the GET fallback", log)
	}
}
