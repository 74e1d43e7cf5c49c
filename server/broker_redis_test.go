package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// redisNodes starts n hubs (nodes) sharing the Redis r.
func redisNodes(t *testing.T, r *redisServer, n int, opts ...Option) []*testHub {
	t.Helper()
	nodes := make([]*testHub, n)
	for i := range nodes {
		nodes[i] = startHub(t, append([]Option{WithRedis(r.URL())}, opts...)...)
	}
	return nodes
}

func redisOf(t testing.TB, th *testHub) *redisBroker {
	t.Helper()
	b, ok := th.broker.(*redisBroker)
	if !ok {
		t.Fatalf("the hub's broker is %T, want the redis broker", th.broker)
	}
	return b
}

// TestRedis_fanOutAcrossNodes: what is published on one node reaches the
// streams of every node it is for, with the same id everywhere.
func TestRedis_fanOutAcrossNodes(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := redisNodes(t, r, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	bob := b.open(t, "/api/sse/connect/bob?topics=news")
	carol := c.open(t, "/api/sse/connect/carol?topics=news")
	alice := a.open(t, "/api/sse/connect/alice")
	for _, s := range []*stream{bob, carol, alice} {
		s.connected(t)
	}
	for _, p := range []struct {
		node      *testHub
		path      string
		data      string
		delivered int
	}{
		{a, "/api/sse/send/bob", "to bob", 1},
		{c, "/api/sse/topics/news", "to news", 2},
		{b, "/api/sse/sendAll", "to all", 3},
		{a, "/api/sse/send/nobody", "to nobody", 0},
	} {
		if got := p.node.publishJSON(t, p.path, `{"data":"`+p.data+`"}`); got.Delivered != p.delivered {
			t.Errorf("%s: delivered %d, want %d", p.path, got.Delivered, p.delivered)
		}
	}
	ids := map[string]string{}
	for name, want := range map[*stream][]string{
		bob: {"to bob", "to news", "to all"}, carol: {"to news", "to all"}, alice: {"to all"},
	} {
		for _, data := range want {
			ev := name.expect(t, "message", data)
			if prev, ok := ids[data]; ok && prev != ev.ID {
				t.Fatalf("%q has id %q on one node and %q on another", data, prev, ev.ID)
			}
			ids[data] = ev.ID
		}
	}
	for _, s := range []*stream{bob, carol, alice} {
		if rest := s.pending(); len(rest) != 0 {
			t.Fatalf("unexpected events %+v", rest)
		}
	}
}

// TestRedis_resumeOnAnotherNode: while events are published every 2 ms (on
// every node in turn), a client hops from node to node with its last id;
// the node it leaves is stopped. It sees every event once, in order.
func TestRedis_resumeOnAnotherNode(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := redisNodes(t, r, 4)
	publisher := nodes[3] // never stopped
	const n = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for i := range n {
			<-tick.C
			node := publisher
			if i%2 == 1 {
				node = nodes[2]
			}
			if _, err := node.Send("hopper", wire.Event{Data: strconv.Itoa(i)}); err != nil {
				t.Errorf("publish %d: %v", i, err)
				return
			}
		}
	}()
	var got []wire.Event
	cursor := ""
	for hop := 0; len(got) < n; hop++ {
		node := nodes[0]
		if hop > 0 {
			node = nodes[1+hop%2]
		}
		var s *stream
		if cursor == "" {
			s = node.open(t, "/api/sse/connect/hopper")
		} else {
			s = node.open(t, "/api/sse/connect/hopper?lastEventId="+url.QueryEscape(cursor))
		}
		s.connected(t)
		for i := 0; i < 60 && len(got) < n; i++ {
			ev := s.next(t)
			if ev.Type != "message" {
				t.Fatalf("unexpected %q %q after %d events", ev.Type, ev.Data, len(got))
			}
			got = append(got, ev)
			cursor = ev.ID
		}
		if hop == 0 {
			// The node the client leaves first goes away for good.
			_ = node.Close()
			continue
		}
		s.close()
		eventually(t, wait, "the stream is unregistered", func() bool { return node.clientCount("hopper") == 0 })
	}
	<-done
	for i, ev := range got {
		if ev.Data != strconv.Itoa(i) {
			t.Fatalf("event %d is %q: lost or duplicated (%v)", i, ev.Data, datas(got))
		}
	}
}

// TestRedis_subscriptionLost: Redis drops a node's subscription again and
// again while another node publishes; the node resubscribes, catches up
// from the stream on what Redis accepted meanwhile, and its client sees
// every event once, in order.
func TestRedis_subscriptionLost(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := redisNodes(t, r, 2)
	a, b := nodes[0], nodes[1]
	s := b.open(t, "/api/sse/connect/steady")
	s.connected(t)
	const n = 200
	go func() {
		for i := range n {
			if _, err := a.Send("steady", wire.Event{Data: strconv.Itoa(i)}); err != nil {
				t.Errorf("publish %d: %v", i, err)
				return
			}
			if i%40 == 20 {
				r.killSubscription(redisOf(t, b).opts.node)
			}
			time.Sleep(time.Millisecond) // pacing the publisher, not synchronising
		}
	}()
	for i := range n {
		if ev := s.next(t); ev.Data != strconv.Itoa(i) {
			t.Fatalf("event %d is %q", i, ev.Data)
		}
	}
	if rb := redisOf(t, b); rb.traffic().Reconnects == 0 || rb.caughtUp.Load() == 0 {
		t.Fatalf("%d resubscriptions, %d events caught up: the test did not exercise catch-up",
			rb.traffic().Reconnects, rb.caughtUp.Load())
	}
}

// TestRedis_restartEmpty: Redis dies while streams are open and comes back
// empty. Meanwhile publishing answers 503, health says degraded, readiness
// 503, and streams stay open; after, every node is ready within a second,
// clients get what is published, ids never repeat, old cursors reset.
func TestRedis_restartEmpty(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := redisNodes(t, r, 2)
	a, b := nodes[0], nodes[1]
	s := b.open(t, "/api/sse/connect/survivor")
	s.connected(t)
	before := a.publishJSON(t, "/api/sse/send/survivor", `{"data":"before"}`)
	s.expect(t, "message", "before")

	r.kill()
	for _, node := range nodes {
		eventually(t, wait, "readyz 503 while Redis is down", func() bool {
			resp, _ := node.do(t, http.MethodGet, "/readyz", "", "")
			return resp.StatusCode == http.StatusServiceUnavailable
		})
		resp, body := node.do(t, http.MethodGet, "/healthz", "", "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"status":"degraded"`) {
			t.Fatalf("healthz while Redis is down: %d %s", resp.StatusCode, body)
		}
		resp, body = node.do(t, http.MethodPost, "/api/sse/send/survivor", "application/json", `{"data":"refused"}`)
		wantError(t, resp, body, http.StatusServiceUnavailable)
		if resp.Header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		resp, body = node.do(t, http.MethodGet, "/api/sse/connect/newcomer", "", "")
		wantError(t, resp, body, http.StatusServiceUnavailable)
		if got := node.metric(t, "ssekit_broker_up", ""); got != 0 {
			t.Fatalf("ssekit_broker_up = %v while Redis is down", got)
		}
	}
	if b.clientCount("survivor") != 1 {
		t.Fatal("the open stream was dropped while Redis was down")
	}

	r.start()
	back := time.Now()
	for _, node := range nodes {
		eventually(t, wait, "ready again", func() bool {
			resp, _ := node.do(t, http.MethodGet, "/readyz", "", "")
			return resp.StatusCode == http.StatusOK
		})
	}
	// Re-registered: Redis knows where the survivor is again.
	eventually(t, wait, "presence re-registered", func() bool {
		return strings.HasPrefix(r.do("HLEN {ssekit}:p:c:survivor"), ":1")
	})
	if took := time.Since(back); took > time.Second {
		t.Errorf("nodes ready and re-registered %v after Redis answered, want within 1s", took)
	}
	after := a.publishJSON(t, "/api/sse/send/survivor", `{"data":"after"}`)
	if after.Delivered != 1 {
		t.Fatalf("after the restart delivered %d, want 1 (presence not re-registered)", after.Delivered)
	}
	ev := s.expect(t, "message", "after")
	oldEpoch, _, _ := strings.Cut(before.ID, "-")
	newEpoch, _, _ := strings.Cut(ev.ID, "-")
	if oldEpoch == newEpoch || ev.ID == before.ID {
		t.Fatalf("id after an empty restart %q reuses the epoch of %q", ev.ID, before.ID)
	}
	old := a.open(t, "/api/sse/connect/survivor", "Last-Event-ID", before.ID)
	old.connected(t)
	old.expect(t, "reset", `{"reason":"`+resetEpoch+`"}`)
	resumed := a.open(t, "/api/sse/connect/survivor", "Last-Event-ID", before.ID)
	resumed.connected(t)
	resumed.expect(t, "reset", `{"reason":"`+resetEpoch+`"}`)
	b.publishJSON(t, "/api/sse/sendAll", `{"data":"everyone"}`)
	for _, st := range []*stream{s, old, resumed} {
		st.expect(t, "message", "everyone")
	}
}

// TestRedis_restart_acceptedDelivered: a publisher keeps publishing while
// Redis dies and comes back empty; the client on another node gets exactly
// the events that were accepted (202), in order, and none refused (503).
func TestRedis_restart_acceptedDelivered(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := redisNodes(t, r, 2)
	a, b := nodes[0], nodes[1]
	s := b.open(t, "/api/sse/connect/counted")
	s.connected(t)
	var accepted []string
	refused := 0
	publish := func(i int) {
		resp, body := a.do(t, http.MethodPost, "/api/sse/send/counted", "application/json", `{"data":"`+strconv.Itoa(i)+`"}`)
		switch resp.StatusCode {
		case http.StatusAccepted:
			accepted = append(accepted, strconv.Itoa(i))
		case http.StatusServiceUnavailable:
			refused++
		default:
			t.Fatalf("publish %d: %d %s", i, resp.StatusCode, body)
		}
	}
	i := 0
	for ; len(accepted) < 50; i++ {
		publish(i)
	}
	// A Redis without persistence that is killed loses what it held, also
	// events no node has read yet; the contract covers what it still holds.
	// So the stream reads the first batch before the kill.
	for _, want := range accepted {
		if ev := s.next(t); ev.Data != want {
			t.Fatalf("before the kill: got %q, want %q", ev.Data, want)
		}
	}
	delivered := len(accepted)
	r.kill()
	for ; refused < 20; i++ {
		publish(i)
	}
	r.start()
	for n := len(accepted) + 50; len(accepted) < n; i++ {
		publish(i)
	}
	for _, want := range accepted[delivered:] {
		if ev := s.next(t); ev.Data != want {
			t.Fatalf("got %q, want %q (accepted: %v)", ev.Data, want, accepted)
		}
	}
	a.publishJSON(t, "/api/sse/send/counted", `{"data":"last"}`)
	s.expect(t, "message", "last")
	t.Logf("%d accepted, %d refused while Redis was down", len(accepted), refused)
}

// TestRedis_presence_targeted: an event for one client reaches only the
// node holding it; broadcasts and topics reach every node; with presence
// off, every event reaches every node.
func TestRedis_presence_targeted(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		t.Run("presence "+strconv.FormatBool(on), func(t *testing.T) {
			t.Parallel()
			r := startRedis(t)
			nodes := redisNodes(t, r, 3, WithRedisPresence(on))
			a, b, c := nodes[0], nodes[1], nodes[2]
			s := b.open(t, "/api/sse/connect/target?topics=t")
			s.connected(t)
			base := redisOf(t, c).traffic().Events
			for i := range 20 {
				a.publishJSON(t, "/api/sse/send/target", `{"data":"`+strconv.Itoa(i)+`"}`)
			}
			a.publishJSON(t, "/api/sse/topics/t", `{"data":"topic"}`)
			a.publishJSON(t, "/api/sse/sendAll", `{"data":"all"}`)
			for i := range 20 {
				s.expect(t, "message", strconv.Itoa(i))
			}
			s.expect(t, "message", "topic")
			s.expect(t, "message", "all")
			want := uint64(22)
			if on {
				want = 2 // only the topic and the broadcast
			}
			eventually(t, wait, "node C took its events", func() bool { return redisOf(t, c).traffic().Events-base >= want })
			if got := redisOf(t, c).traffic().Events - base; got != want {
				t.Fatalf("the node without the client took %d events, want %d", got, want)
			}
			// The client moves to C: events for it follow at once.
			s.close()
			eventually(t, wait, "unregistered from B", func() bool { return b.clientCount("target") == 0 })
			moved := c.open(t, "/api/sse/connect/target")
			moved.connected(t)
			if p := a.publishJSON(t, "/api/sse/send/target", `{"data":"moved"}`); p.Delivered != 1 {
				t.Fatalf("after the move delivered %d, want 1", p.Delivered)
			}
			moved.expect(t, "message", "moved")
		})
	}
}

// TestRedis_cursors: cursors resolve against the shared history from any
// node; what cannot be resumed resets.
func TestRedis_cursors(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := redisNodes(t, r, 2, WithHistory(10, 0))
	a, b := nodes[0], nodes[1]
	var ids []string
	for i := range 400 { // MAXLEN ~ 10 keeps whole stream nodes of 100
		ids = append(ids, a.publishJSON(t, "/api/sse/sendAll", `{"data":"`+strconv.Itoa(i)+`"}`).ID)
	}
	custom := a.publishJSON(t, "/api/sse/send/me", `{"data":"custom","id":"order-9"}`)
	a.publishJSON(t, "/api/sse/send/me", `{"data":"after custom"}`)
	epoch, _, _ := strings.Cut(ids[0], "-")
	for _, c := range []struct{ cursor, first, reset string }{
		{ids[398], "399", ""},
		{custom.ID, "after custom", ""},
		{ids[0], "", resetTooOld},
		{epoch + "-99999", "", resetUnknown},
		{"garbage", "", resetMalformed},
		{"zzzz-3", "", resetEpoch},
	} {
		t.Run(c.cursor, func(t *testing.T) {
			s := b.open(t, "/api/sse/connect/me?lastEventId="+url.QueryEscape(c.cursor))
			s.connected(t)
			if c.reset != "" {
				s.expect(t, "reset", `{"reason":"`+c.reset+`"}`)
				return
			}
			s.expect(t, "message", c.first)
		})
	}
}

// TestRedis_unreachable: a Redis URL that does not answer fails at startup.
func TestRedis_unreachable(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	r.kill()
	start := time.Now()
	if _, err := New(WithRedis(r.URL())); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("New with Redis down: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("failing took %v", took)
	}
	if _, err := New(WithRedis("http://x")); err == nil {
		t.Fatal("a malformed Redis URL was accepted")
	}
}

// TestRedis_traffic measures what each node exchanges with Redis for the
// same work, with 2 and 4 nodes, with and without presence: every node
// holds 5 clients, one node publishes 400 events to single clients and 20
// broadcasts. README quotes the figures (go test -run TestRedis_traffic -v).
func TestRedis_traffic(t *testing.T) {
	t.Parallel()
	type figure struct {
		nodes    int
		presence bool
		in, cmds float64 // per node, bytes and commands, publisher excluded
		pubIn    float64 // the publishing node's bytes in, out and commands
		pubOut   float64
		pubCmds  float64
	}
	var (
		mu      sync.Mutex
		figures []figure
	)
	t.Run("runs", func(t *testing.T) {
		for _, n := range []int{2, 4} {
			for _, on := range []bool{true, false} {
				t.Run(fmt.Sprintf("%d nodes presence %v", n, on), func(t *testing.T) {
					t.Parallel()
					r := startRedis(t)
					nodes := redisNodes(t, r, n, WithRedisPresence(on))
					var streams []*stream
					var clients []string
					for i, node := range nodes {
						for j := range 5 {
							id := fmt.Sprintf("c%d-%d", i, j)
							s := node.open(t, "/api/sse/connect/"+id)
							s.connected(t)
							streams, clients = append(streams, s), append(clients, id)
						}
					}
					before := make([]redisTraffic, n)
					for i, node := range nodes {
						before[i] = redisOf(t, node).traffic()
					}
					data := strings.Repeat("x", 200)
					for i := range 400 {
						if _, err := nodes[0].Send(clients[i%len(clients)], wire.Event{Data: data}); err != nil {
							t.Fatal(err)
						}
					}
					for range 20 {
						if _, err := nodes[0].SendAll(wire.Event{Data: data}); err != nil {
							t.Fatal(err)
						}
					}
					for _, s := range streams {
						for range 400/len(clients) + 20 {
							s.next(t)
						}
					}
					f := figure{nodes: n, presence: on}
					for i, node := range nodes {
						d := redisOf(t, node).traffic()
						if i == 0 {
							f.pubIn = float64(d.BytesIn - before[i].BytesIn)
							f.pubOut = float64(d.BytesOut - before[i].BytesOut)
							f.pubCmds = float64(d.Commands - before[i].Commands)
							continue
						}
						f.in += float64(d.BytesIn-before[i].BytesIn) / float64(n-1)
						f.cmds += float64(d.Commands-before[i].Commands) / float64(n-1)
					}
					mu.Lock()
					figures = append(figures, f)
					mu.Unlock()
				})
			}
		}
	})
	byKey := map[string]figure{}
	for _, f := range figures {
		byKey[fmt.Sprint(f.nodes, f.presence)] = f
		t.Logf("%d nodes, presence %-5v: per other node %7.0f bytes in, %3.0f commands; publishing node %7.0f bytes in, %7.0f out, %3.0f commands",
			f.nodes, f.presence, f.in, f.cmds, f.pubIn, f.pubOut, f.pubCmds)
	}
	for _, n := range []int{2, 4} {
		with, without := byKey[fmt.Sprint(n, true)], byKey[fmt.Sprint(n, false)]
		// Without presence every node takes all 420 events; with it, its
		// own 400/n and the 20 broadcasts.
		if limit := without.in * (1/float64(n) + 0.15); with.in > limit {
			t.Errorf("%d nodes: %0.f bytes per node with presence, want under %.0f (without: %.0f)", n, with.in, limit, without.in)
		}
	}
}

// TestSingleflight: callers that ask for the same cursor while a read
// runs share it; the reconnect storm after a deploy costs one read.
func TestSingleflight(t *testing.T) {
	t.Parallel()
	var sf singleflight
	const callers = 10
	var calls atomic.Int32
	release := make(chan struct{})
	fn := func() (Replay, error) {
		calls.Add(1)
		<-release
		return Replay{Seq: 7}, nil
	}
	var wg sync.WaitGroup
	results := make(chan Replay, callers)
	wg.Go(func() { rp, _ := sf.do("c", fn); results <- rp })
	eventually(t, wait, "the first read runs", func() bool { return calls.Load() == 1 })
	for range callers - 1 {
		wg.Go(func() { rp, _ := sf.do("c", fn); results <- rp })
	}
	eventually(t, wait, "the others wait for it", func() bool { return sf.shared.Load() == callers-1 })
	close(release)
	wg.Wait()
	close(results)
	for rp := range results {
		if rp.Seq != 7 {
			t.Fatalf("a caller got %+v", rp)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("%d reads for one cursor", calls.Load())
	}
	if rp, _ := sf.do("c", func() (Replay, error) { return Replay{Seq: 8}, nil }); rp.Seq != 8 {
		t.Fatal("a later call reused a finished read")
	}
}

// BenchmarkRedis_publish measures publishes through the one stream key
// (the script: INCR, XADD, presence read, PUBLISH) with parallel
// publishers: the ceiling of a single history key. README quotes it.
func BenchmarkRedis_publish(b *testing.B) {
	r := startRedis(b)
	h, err := New(WithRedis(r.URL()))
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	data := strings.Repeat("x", 200)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.SendAll(wire.Event{Data: data}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
