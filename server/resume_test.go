package server

import (
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// seqOf is the sequence number of a hub-assigned id "<epoch>-<seq>".
func seqOf(t testing.TB, id string) uint64 {
	t.Helper()
	_, num, ok := strings.Cut(id, "-")
	n, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil {
		t.Fatalf("id %q is not <epoch>-<seq>", id)
	}
	return n
}

// TestHub_resume_noLossNoDuplicate publishes continuously while a client
// drops its connection again and again and comes back with its last id:
// it must see every event exactly once, in order.
func TestHub_resume_noLossNoDuplicate(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	const n = 400
	first := th.open(t, "/api/sse/connect/resumer")
	var pubWG sync.WaitGroup
	pubWG.Go(func() {
		for i := range n {
			th.publishJSON(t, "/api/sse/send/resumer", `{"data":"`+strconv.Itoa(i)+`"}`)
		}
	})

	var got []wire.Event
	cursor := ""
	for drop := 0; len(got) < n; drop++ {
		var s *stream
		switch {
		case drop == 0:
			s = first
		case cursor == "":
			t.Fatal("the first connection read no event")
		case drop%2 == 0: // the browser's way
			s = th.open(t, "/api/sse/connect/resumer", "Last-Event-ID", cursor)
		default: // the SDK's way
			s = th.open(t, "/api/sse/connect/resumer?lastEventId="+url.QueryEscape(cursor))
		}
		s.connected(t)
		chunk := 1 + drop*drop%61 // 1, 2, 5, 10, 17, ...: drops at ever other places
		for i := 0; i < chunk && len(got) < n; i++ {
			ev := s.next(t)
			if ev.Type != "message" {
				t.Fatalf("unexpected %q event %q after %d events", ev.Type, ev.Data, len(got))
			}
			got = append(got, ev)
			cursor = ev.ID
		}
		s.close()
		// Come back only once more events are published while away, so
		// replay is exercised, not only the live path.
		away := th.publishedCount()
		eventually(t, wait, "the dropped stream is unregistered", func() bool { return th.clientCount("resumer") == 0 })
		eventually(t, wait, "events are published while away", func() bool {
			return th.publishedCount() >= min(away+3, n)
		})
	}
	pubWG.Wait()
	for i, ev := range got {
		if ev.Data != strconv.Itoa(i) {
			t.Fatalf("event %d is %q: lost or duplicated (events %v)", i, ev.Data, datas(got))
		}
		if i > 0 && seqOf(t, ev.ID) <= seqOf(t, got[i-1].ID) {
			t.Fatalf("id %q after %q: not strictly increasing", ev.ID, got[i-1].ID)
		}
	}
	if r := th.metric(t, "ssekit_events_replayed_total", ""); r == 0 {
		t.Fatal("no event was replayed: the test did not exercise resume")
	}
}

func datas(evs []wire.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Data
	}
	return out
}

// TestHub_resume_onlyOwnEvents: a resumed stream replays what was for its
// id, its topics or everyone, and nothing else.
func TestHub_resume_onlyOwnEvents(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	s := th.open(t, "/api/sse/connect/me?topics=mine")
	s.connected(t)
	cursor := th.publishJSON(t, "/api/sse/send/me", `{"data":"before"}`).ID
	s.expect(t, "message", "before")
	s.close()
	eventually(t, wait, "unregistered", func() bool { return th.clientCount("me") == 0 })

	for _, p := range []struct{ path, data string }{
		{"/api/sse/send/me", "1 to me"},
		{"/api/sse/send/other", "to other"},
		{"/api/sse/topics/mine", "2 to my topic"},
		{"/api/sse/topics/theirs", "to their topic"},
		{"/api/sse/sendAll", "3 to all"},
	} {
		th.publishJSON(t, p.path, `{"data":"`+p.data+`"}`)
	}
	custom := th.publishJSON(t, "/api/sse/send/me", `{"data":"4 custom id","id":"order-7"}`)
	if custom.ID != "order-7" {
		t.Fatalf("custom id answered as %q", custom.ID)
	}
	th.publishJSON(t, "/api/sse/send/me", `{"data":"5 after custom"}`)

	r := th.open(t, "/api/sse/connect/me?topics=mine", "Last-Event-ID", cursor)
	r.connected(t)
	for _, want := range []string{"1 to me", "2 to my topic", "3 to all", "4 custom id", "5 after custom"} {
		r.expect(t, "message", want)
	}
	th.publishJSON(t, "/api/sse/send/me", `{"data":"live"}`)
	r.expect(t, "message", "live")
	r.close()
	eventually(t, wait, "unregistered", func() bool { return th.clientCount("me") == 0 })

	// A publisher-given id is a cursor too.
	c := th.open(t, "/api/sse/connect/me", "Last-Event-ID", "order-7")
	c.connected(t)
	c.expect(t, "message", "5 after custom")
	c.expect(t, "message", "live")
}

// TestHub_resume_resets: a cursor the hub cannot resume never fails the
// stream: reset (with why), then live events, and nothing replayed.
func TestHub_resume_resets(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithHistory(5, 0))
	var ids []string
	for i := range 10 {
		ids = append(ids, th.publishJSON(t, "/api/sse/sendAll", `{"data":"old `+strconv.Itoa(i)+`"}`).ID)
	}
	epoch, _, _ := strings.Cut(ids[0], "-")
	restarted := startHub(t) // a new hub is a new epoch, as after a restart
	cases := []struct {
		name, cursor, reason string
	}{
		{"older than the history", ids[3], resetTooOld},
		{"from the future", epoch + "-999", resetUnknown},
		{"malformed: no dash", "garbage", resetMalformed},
		{"malformed: not a number", epoch + "-x1", resetMalformed},
		{"malformed: leading zero", epoch + "-07", resetMalformed},
		{"malformed: sign", epoch + "-+7", resetMalformed},
		{"malformed: no epoch", "-7", resetMalformed},
		{"malformed: too long", epoch + "-" + strings.Repeat("1", 300), resetMalformed},
		{"non-ASCII epoch", "é-1", resetEpoch},
		{"another epoch", "zzzzzzzz-1", resetEpoch},
		{"publisher id no longer kept", "order-1", resetEpoch},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			id := "reset-" + strconv.Itoa(i)
			s := th.open(t, "/api/sse/connect/"+id+"?lastEventId="+url.QueryEscape(c.cursor))
			s.connected(t)
			s.expect(t, "reset", `{"reason":"`+c.reason+`"}`)
			th.publishJSON(t, "/api/sse/send/"+id, `{"data":"live"}`)
			s.expect(t, "message", "live")
		})
	}
	t.Run("cursor from before a restart", func(t *testing.T) {
		t.Parallel()
		s := restarted.open(t, "/api/sse/connect/after-restart", "Last-Event-ID", ids[9])
		s.connected(t)
		s.expect(t, "reset", `{"reason":"`+resetEpoch+`"}`)
		restarted.publishJSON(t, "/api/sse/send/after-restart", `{"data":"live"}`)
		s.expect(t, "message", "live")
		if got := restarted.metric(t, "ssekit_resets_total", `reason="`+resetEpoch+`"`); got != 1 {
			t.Fatalf("ssekit_resets_total{reason=%q} = %v, want 1", resetEpoch, got)
		}
	})
}

// TestHub_resume_historyBoundaries: the cursor just before the oldest kept
// event still resumes; the newest cursor replays nothing.
func TestHub_resume_historyBoundaries(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithHistory(5, 0))
	var ids []string
	for i := range 10 {
		ids = append(ids, th.publishJSON(t, "/api/sse/sendAll", `{"data":"old `+strconv.Itoa(i)+`"}`).ID)
	}
	s := th.open(t, "/api/sse/connect/boundary", "Last-Event-ID", ids[4])
	s.connected(t)
	for i := 5; i < 10; i++ {
		s.expect(t, "message", "old "+strconv.Itoa(i))
	}
	n := th.open(t, "/api/sse/connect/newest", "Last-Event-ID", ids[9])
	n.connected(t)
	th.publishJSON(t, "/api/sse/send/newest", `{"data":"live"}`)
	n.expect(t, "message", "live")
	if got := th.metric(t, "ssekit_events_replayed_total", ""); got != 5 {
		t.Fatalf("ssekit_events_replayed_total = %v, want 5", got)
	}
}

// TestHistory covers the ring, its id resolution and its age limit with
// explicit clocks.
func TestHistory(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	h := newHistory(3, time.Minute, t0)
	add := func(at time.Time, custom string) string {
		seq, id := h.nextID()
		if custom != "" {
			id = custom
		}
		h.add(histEntry{seq: seq, id: id, at: at, frame: []byte(id)}, custom != "")
		return id
	}
	replayed := func(cursor string) (string, string) {
		seq, reset := h.resolve(cursor)
		if reset != "" {
			return "", reset
		}
		var got []string
		h.since(seq, func(e *histEntry) { got = append(got, e.id) })
		return strings.Join(got, ","), ""
	}
	id1 := add(t0, "")
	id2 := add(t0.Add(10*time.Second), "")
	add(t0.Add(20*time.Second), "c")
	if got, _ := replayed(id1); got != id2+",c" {
		t.Fatalf("after %s: %q", id1, got)
	}
	id4 := add(t0.Add(30*time.Second), "") // evicts id1 (ring of 3)
	if _, reset := replayed(id1); reset != "" {
		t.Fatalf("the cursor just before the oldest kept event: reset %q, want a resume", reset)
	}
	if got, _ := replayed("c"); got != id4 {
		t.Fatalf("after the custom id: %q", got)
	}
	add(t0.Add(40*time.Second), "") // evicts id2
	if _, reset := replayed(id1); reset != resetTooOld {
		t.Fatalf("evicted cursor: reset %q, want %q", reset, resetTooOld)
	}
	add(t0.Add(50*time.Second), "") // evicts "c"
	if _, reset := replayed("c"); reset == "" {
		t.Fatal("an evicted custom id still resolves")
	}
	h.expire(t0.Add(95 * time.Second)) // keeps only what is at most a minute old: 40s and 50s
	if h.n != 2 {
		t.Fatalf("after expiry %d events kept, want 2", h.n)
	}
	if _, reset := replayed(id4); reset != "" {
		t.Fatalf("the cursor just before the oldest kept event after expiry: %q", reset)
	}
	h.expire(t0.Add(time.Hour))
	if h.n != 0 {
		t.Fatalf("after expiry of everything %d events kept", h.n)
	}
	if got, reset := replayed(h.epoch + "-" + strconv.FormatUint(h.last, 10)); reset != "" || got != "" {
		t.Fatalf("the newest cursor on an empty history: %q %q", got, reset)
	}
	if a, b := newEpoch(t0), newEpoch(t0); a == b {
		t.Fatalf("two epochs of the same millisecond are equal: %q", a)
	}
}

// TestHub_resume_afterHistoryTTL: events older than -history-ttl leave the
// history, and their cursors get a reset. Under synctest, the clock is fake.
func TestHub_resume_afterHistoryTTL(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h, err := New(WithHistory(100, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		old, err := h.SendAll(wire.Event{Data: "old"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.SendAll(wire.Event{Data: "missed"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Second)
		if _, err := h.SendAll(wire.Event{Data: "younger"}); err != nil {
			t.Fatal(err)
		}
		if replay, reset, _ := h.register(newConn("a", nil, 8, "test", time.Now()), old.ID); reset != "" || len(replay) != 2 {
			t.Fatalf("within the ttl: reset %q, %d replayed; want 2 replayed", reset, len(replay))
		}
		time.Sleep(31 * time.Second)
		c := newConn("b", nil, 8, "test", time.Now())
		replay, reset, _ := h.register(c, old.ID)
		if reset != resetTooOld || len(replay) != 0 {
			t.Fatalf("after the ttl: reset %q, %d replayed; want %q", reset, len(replay), resetTooOld)
		}
	})
}
