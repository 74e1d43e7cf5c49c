package server

import (
	"context"
	"strconv"
	"testing"

	"github.com/ssekit/ssekit/sdk/wire"
)

// lateBroker is the memory broker with a history read that waits for the
// test, as a remote store's does: live events reach the hub meanwhile. The
// redis tests check the same switch against a real Redis; this one makes
// the interleaving certain.
type lateBroker struct {
	*memoryBroker
	readFirst bool          // read history before waiting (else after)
	entered   chan struct{} // Since has started
	release   chan struct{} // Since may answer
}

func (b *lateBroker) Since(ctx context.Context, cursor string) (Replay, error) {
	var rp Replay
	var err error
	if b.readFirst {
		rp, err = b.memoryBroker.Since(ctx, cursor)
	}
	close(b.entered)
	<-b.release
	if !b.readFirst {
		rp, err = b.memoryBroker.Since(ctx, cursor)
	}
	return rp, err
}

// TestHub_register_liveDuringReplay: events published while a resuming
// stream reads history are neither lost (history read before them) nor
// doubled (history read after them, so they are in both).
func TestHub_register_liveDuringReplay(t *testing.T) {
	t.Parallel()
	for _, readFirst := range []bool{true, false} {
		t.Run("history read first "+strconv.FormatBool(readFirst), func(t *testing.T) {
			t.Parallel()
			lb := &lateBroker{memoryBroker: newMemoryBroker(100, 0), readFirst: readFirst,
				entered: make(chan struct{}), release: make(chan struct{})}
			th := startHub(t, func(c *config) error { c.store.broker = lb; return nil })
			cursor := ""
			for i := range 3 {
				p, err := th.Send("late", wire.Event{Data: "before " + strconv.Itoa(i)})
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					cursor = p.ID
				}
			}
			opened := make(chan *stream, 1)
			go func() { opened <- th.open(t, "/api/sse/connect/late", "Last-Event-ID", cursor) }()
			<-lb.entered
			for i := range 3 {
				if _, err := th.Send("late", wire.Event{Data: "during " + strconv.Itoa(i)}); err != nil {
					t.Error(err)
				}
			}
			close(lb.release)
			s := <-opened
			s.connected(t)
			th.publishJSON(t, "/api/sse/send/late", `{"data":"after"}`)
			for _, want := range []string{"before 1", "before 2", "during 0", "during 1", "during 2", "after"} {
				s.expect(t, "message", want)
			}
			eventually(t, wait, "nothing more", func() bool { return len(s.pending()) == 0 })
		})
	}
}

// TestPosition_fresh: a stream takes each seq once, in order, and anything
// from a new epoch.
func TestPosition_fresh(t *testing.T) {
	t.Parallel()
	var p position
	for _, c := range []struct {
		epoch string
		seq   uint64
		want  bool
	}{
		{"a", 5, true}, {"a", 5, false}, {"a", 4, false}, {"a", 6, true},
		{"b", 1, true}, {"b", 1, false}, {"a", 7, true}, {"a", 7, false},
	} {
		if got := p.fresh(&Entry{Epoch: c.epoch, Seq: c.seq}); got != c.want {
			t.Fatalf("fresh(%s-%d) = %v, want %v", c.epoch, c.seq, got, c.want)
		}
	}
}
