package server

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// withBoltCleanup makes the on-disk history's cleaner run every d.
func withBoltCleanup(d time.Duration) Option {
	return func(c *config) error { c.store.cleanup = d; return nil }
}

func boltOf(t testing.TB, h *Hub) *boltBroker {
	t.Helper()
	b, ok := h.broker.(*boltBroker)
	if !ok {
		t.Fatalf("the hub's broker is %T, want the bolt broker", h.broker)
	}
	return b
}

// TestBolt_restartReplays: a node restarted on the same data dir keeps its
// epoch and goes on numbering, and a client resumes across the restart.
func TestBolt_restartReplays(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h1, err := New(WithDataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		p, err := h1.Send("alice", wire.Event{Data: "before " + strconv.Itoa(i), Type: "order"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	custom, err := h1.SendTopic("news", wire.Event{Data: "custom", ID: "order-42"})
	if err != nil || custom.ID != "order-42" {
		t.Fatalf("custom id publish: %+v %v", custom, err)
	}
	if err := h1.Close(); err != nil {
		t.Fatal(err)
	}

	th := startHub(t, WithDataDir(dir))
	after := th.publishJSON(t, "/api/sse/send/alice", `{"data":"after restart"}`)
	if e0, _, _ := strings.Cut(ids[0], "-"); !strings.HasPrefix(after.ID, e0+"-") || seqOf(t, after.ID) != 7 {
		t.Fatalf("id after the restart %q, want epoch %q and seq 7 (ids before: %v)", after.ID, e0, ids)
	}
	s := th.open(t, "/api/sse/connect/alice?topics=news", "Last-Event-ID", ids[1])
	s.connected(t)
	for _, want := range []string{"before 2", "before 3", "before 4"} {
		if ev := s.next(t); ev.Type != "order" || ev.Data != want {
			t.Fatalf("replayed %+v, want order %q", ev, want)
		}
	}
	if ev := s.expect(t, "message", "custom"); ev.ID != "order-42" {
		t.Fatalf("custom id replayed as %q", ev.ID)
	}
	s.expect(t, "message", "after restart")
	th.publishJSON(t, "/api/sse/sendAll", `{"data":"live"}`)
	s.expect(t, "message", "live")

	// A publisher's id is a cursor across the restart too.
	c := th.open(t, "/api/sse/connect/alice", "Last-Event-ID", "order-42")
	c.connected(t)
	c.expect(t, "message", "after restart")
	c.expect(t, "message", "live")

	r := th.open(t, "/api/sse/connect/alice", "Last-Event-ID", "zzz-1")
	r.connected(t)
	r.expect(t, "reset", `{"reason":"`+resetEpoch+`"}`)
}

// TestBolt_secondProcessFails: a second hub on a data dir in use fails
// fast, saying why; once the first closes, the dir opens.
func TestBolt_secondProcessFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := New(WithDataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	second, err := New(WithDataDir(dir))
	if err == nil {
		second.Close()
		t.Fatal("a second hub opened a data dir in use")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the second open took %v to fail", took)
	}
	if !strings.Contains(err.Error(), "in use by another ssekit-server") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("error %q does not say the dir is in use", err)
	}
	if _, err := New(WithDataDir(dir), WithRedis("redis://127.0.0.1:1/0")); err == nil || !strings.Contains(err.Error(), "exclude each other") {
		t.Fatalf("data dir with Redis: %v", err)
	}
	first.Close()
	again, err := New(WithDataDir(dir))
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	again.Close()
}

// TestBolt_cleanup_bySize: the history stays within its size bound, the
// oldest events go first (their cursors reset), and the file stops growing
// because freed pages are reused.
func TestBolt_cleanup_bySize(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const maxBytes = 64 << 10
	th := startHub(t, WithDataDir(dir), WithHistoryMaxBytes(maxBytes), withBoltCleanup(10*time.Millisecond))
	b := boltOf(t, th.Hub)
	data := strings.Repeat("x", 2000)
	publish := func(n int) (first string) {
		for i := range n {
			p, err := th.SendAll(wire.Event{Data: data})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = p.ID
			}
		}
		return first
	}
	settled := func() {
		eventually(t, wait, "the history within its size bound", func() bool {
			b.mu.Lock()
			defer b.mu.Unlock()
			return b.size <= maxBytes
		})
	}
	oldest := publish(150) // about 5 times the bound
	settled()
	size := func() int64 {
		fi, err := os.Stat(filepath.Join(dir, boltFile))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	publish(750)
	settled()
	if grown := size(); grown > 2*before {
		t.Fatalf("file grew from %d to %d bytes over 750 more events in a bounded history: pages not reused", before, grown)
	}
	b.mu.Lock()
	kept := b.last + 1 - b.first
	b.mu.Unlock()
	if kept == 0 || kept > maxBytes/2000 {
		t.Fatalf("%d events kept, want some and at most %d", kept, maxBytes/2000)
	}
	s := th.open(t, "/api/sse/connect/late", "Last-Event-ID", oldest)
	s.connected(t)
	s.expect(t, "reset", `{"reason":"`+resetTooOld+`"}`)
}

// TestBolt_cleanup_byAge: events older than the age bound leave the file,
// and their cursors reset, even before the cleaner has run.
func TestBolt_cleanup_byAge(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithDataDir(t.TempDir()), WithHistory(1000, 300*time.Millisecond), withBoltCleanup(20*time.Millisecond))
	b := boltOf(t, th.Hub)
	old := th.publishJSON(t, "/api/sse/sendAll", `{"data":"old"}`)
	th.publishJSON(t, "/api/sse/sendAll", `{"data":"missed"}`)
	eventually(t, wait, "old events deleted", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.first == b.last+1
	})
	s := th.open(t, "/api/sse/connect/old", "Last-Event-ID", old.ID)
	s.connected(t)
	s.expect(t, "reset", `{"reason":"`+resetTooOld+`"}`)
}

// TestBolt_writeFailure: while the disk refuses writes, publishing answers
// 507 with a JSON reason and nothing is delivered or kept; once writes
// succeed again, publishing goes on with the next id.
func TestBolt_writeFailure(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithDataDir(t.TempDir()))
	b := boltOf(t, th.Hub)
	s := th.open(t, "/api/sse/connect/disk")
	s.connected(t)
	first := th.publishJSON(t, "/api/sse/send/disk", `{"data":"before"}`)
	s.expect(t, "message", "before")

	b.failWrites(syscall.ENOSPC)
	for range 3 {
		resp, body := th.do(t, http.MethodPost, "/api/sse/send/disk", "application/json", `{"data":"refused"}`)
		wantError(t, resp, body, http.StatusInsufficientStorage)
	}
	if _, err := th.SendAll(wire.Event{Data: "refused"}); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("Go API while the disk fails: %v, want ErrStoreFull", err)
	}
	b.failWrites(nil)
	next := th.publishJSON(t, "/api/sse/send/disk", `{"data":"after"}`)
	if seqOf(t, next.ID) != seqOf(t, first.ID)+1 {
		t.Fatalf("id after recovery %q follows %q: refused events took ids", next.ID, first.ID)
	}
	s.expect(t, "message", "after")
	if rest := s.pending(); len(rest) != 0 {
		t.Fatalf("refused events reached the stream: %+v", rest)
	}
	r := th.open(t, "/api/sse/connect/disk", "Last-Event-ID", first.ID)
	r.connected(t)
	r.expect(t, "message", "after")
}

// TestBolt_groupCommit: concurrent publishes all land, with distinct
// contiguous ids, delivered in id order.
func TestBolt_groupCommit(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithDataDir(t.TempDir()))
	s := th.open(t, "/api/sse/connect/many")
	s.connected(t)
	const writers, each = 8, 50
	errc := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				if _, err := th.Send("many", wire.Event{Data: strconv.Itoa(w*each + i)}); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range writers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	seen := make(map[string]bool)
	var prev uint64
	for range writers * each {
		ev := s.next(t)
		if seen[ev.Data] {
			t.Fatalf("event %q twice", ev.Data)
		}
		seen[ev.Data] = true
		if seq := seqOf(t, ev.ID); seq != prev+1 {
			t.Fatalf("id %q after seq %d", ev.ID, prev)
		} else {
			prev = seq
		}
	}
}
