package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

func TestRoundPause(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, c := range []struct {
		name                           string
		sinceBegan, took, delay, every time.Duration
		want                           time.Duration
	}{
		{"quiet spell: at once", time.Second, ms, 0, 5 * ms, -995 * ms},
		{"first round ever: at once", 1 << 62, 0, 0, 5 * ms, -(1<<62 - 5*ms)},
		{"right after a short round: the interval", ms, ms / 2, 0, 5 * ms, 4 * ms},
		{"after a long round: half its length again", 8 * ms, 8 * ms, 0, 5 * ms, 4 * ms},
		{"a long round ended long ago: at once", 20 * ms, 8 * ms, 0, 5 * ms, -8 * ms},
		{"a fixed delay still applies", time.Second, ms, 3 * ms, 5 * ms, 3 * ms},
		{"no interval: back to back", ms, 0, 0, 0, -ms},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := roundPause(c.sinceBegan, c.took, c.delay, c.every)
			if (got > 0 || c.want > 0) && got != c.want {
				t.Fatalf("roundPause(%v, %v, %v, %v) = %v, want %v", c.sinceBegan, c.took, c.delay, c.every, got, c.want)
			}
		})
	}
}

// TestHub_flushInterval_coalesces: an event after a quiet spell goes out
// at once in a write of its own; events published close behind it, a
// millisecond apart, wait for the next round (100ms later) and go out
// together: in order, complete, in far fewer writes than events. Without
// the pacing each would take a write of its own.
func TestHub_flushInterval_coalesces(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithFlushInterval(100*time.Millisecond))
	s := th.open(t, "/api/sse/connect/burst")
	s.connected(t)
	send := func(i int) {
		t.Helper()
		if p, err := th.Send("burst", wire.Event{Data: fmt.Sprint(i)}); err != nil || p.Delivered != 1 {
			t.Fatalf("send %d: %+v %v", i, p, err)
		}
	}
	writes := func() float64 { return th.metric(t, "ssekit_stream_writes_total", "") }
	w0 := writes()
	send(0)
	if ev := s.next(t); ev.Data != "0" {
		t.Fatalf("event 0: got %q", ev.Data)
	}
	if w := writes() - w0; w != 1 {
		t.Fatalf("the lone event took %v writes, want 1", w)
	}
	const n = 20
	w1 := writes()
	for i := 1; i <= n; i++ {
		send(i)
		time.Sleep(time.Millisecond) // spacing between publishes, not a wait for anything
	}
	for i := 1; i <= n; i++ {
		if ev := s.next(t); ev.Data != fmt.Sprint(i) {
			t.Fatalf("event %d: got %q", i, ev.Data)
		}
	}
	// One round should take them all; a stalled machine may split them.
	if w := writes() - w1; w < 1 || w > 3 {
		t.Fatalf("%d events a millisecond apart took %v writes, want 1..3", n, w)
	}
}

func TestWithFlushInterval_range(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{-time.Millisecond, 101 * time.Millisecond} {
		if _, err := New(WithFlushInterval(d)); err == nil {
			t.Errorf("WithFlushInterval(%v) accepted", d)
		}
	}
	h, err := New(WithFlushInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
}
