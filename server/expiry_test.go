package server

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestAuth_tokenExpiry: a stream ends with end {"reason":"token-expired"}
// within a second of its token's expiry (plus the leeway), whether the
// token came as a bearer or a cookie; the events before it arrive, and
// the client is unregistered.
func TestAuth_tokenExpiry(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		leeway time.Duration
		cookie bool
	}{
		{"bearer", 0, false},
		{"cookie", 0, true},
		{"leeway", 700 * time.Millisecond, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			th := startHub(t, WithAuthSecrets(secretOld), WithAuthLeeway(c.leeway), WithHeartbeat(time.Hour))
			exp := time.Now().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
			id := "exp-" + c.name
			tok := mint(t, secretOld, id, exp)
			hdr := bearerHdr(tok)
			if c.cookie {
				hdr = cookieHdr(tok)
			}
			s := th.open(t, "/api/sse/connect/"+id, hdr...)
			s.connected(t)
			th.publishJSON(t, "/api/sse/send/"+id, `{"data":"before"}`)
			s.expect(t, "message", "before")

			ev := s.next(t)
			at := time.Now()
			deadline := exp.Add(c.leeway)
			if ev.Type != "end" || ev.Data != `{"reason":"token-expired"}` {
				t.Fatalf("got %q %q, want end token-expired", ev.Type, ev.Data)
			}
			late := at.Sub(deadline)
			t.Logf("end arrived %v after the token's deadline", late)
			if late < 0 || late > time.Second {
				t.Fatalf("end arrived %v after the deadline, want within [0, 1s]", late)
			}
			if rest := s.end(t); len(rest) != 0 {
				t.Fatalf("events after end: %+v", rest)
			}
			eventually(t, time.Second, "unregistered", func() bool { return th.clientCount(id) == 0 })
			if got := th.metric(t, "ssekit_streams_closed_total", `reason="token-expired"`); got != 1 {
				t.Fatalf("streams closed as token-expired: %v", got)
			}
		})
	}
}

// TestAuth_tokenExpiry_noGoroutinePerStream: the expiry is a runtime
// timer in the stream's own select loop, so streams with a token cost no
// more goroutines than streams without one.
func TestAuth_tokenExpiry_noGoroutinePerStream(t *testing.T) {
	const n = 100
	exp := time.Now().Add(time.Hour)
	count := func(opts []Option, hdr func(id string) []string) int {
		th := startHub(t, append(opts, WithHeartbeat(time.Hour))...)
		before := runtime.NumGoroutine()
		for i := range n {
			id := fmt.Sprintf("g-%d", i)
			th.open(t, "/api/sse/connect/"+id, hdr(id)...).connected(t)
		}
		return runtime.NumGoroutine() - before
	}
	plain := count(nil, func(string) []string { return nil })
	withToken := count([]Option{WithAuthSecrets(secretOld)}, func(id string) []string { return bearerHdr(mint(t, secretOld, id, exp)) })
	t.Logf("goroutines for %d streams: %d without auth, %d with a token each", n, plain, withToken)
	if withToken-plain >= n/2 {
		t.Fatalf("%d streams with a token take %d goroutines more than without", n, withToken-plain)
	}
}

// BenchmarkStreamExpiryTimer is what a token adds to a stream: one runtime
// timer, made and stopped.
func BenchmarkStreamExpiryTimer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		t := time.NewTimer(time.Hour)
		t.Stop()
	}
}
