package cluster

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ssekit/ssekit/e2e"
)

// TestCluster_browserMovesToNodeB: a page whose stream runs through a
// proxy to node A; events are published every 20 ms, to node A first; then
// the proxy sends new requests to node B, publishing moves to node B and
// node A is killed (-9) mid-stream. The SDK reconnects by itself, lands on
// node B with its cursor, and the page ends with every event exactly once,
// in order, without a reset.
func TestCluster_browserMovesToNodeB(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := startNodes(t, r, 2)
	a, b := nodes[0], nodes[1]
	proxy := startSwitchProxy(t, a)
	ctx := openPage(t, proxy.URL)
	recordJS(t, ctx, "/api/sse/connect/mover")

	const total, cut = 100, 40
	var want []string
	pubTo := a
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := range total {
		<-tick.C
		if i == cut {
			// The page is receiving from node A when it dies.
			e2e.WaitJS(t, ctx, `window.__rec.events.length >= 30`)
			proxy.switchTo(b)
			pubTo = b
			a.Kill()
		}
		data := fmt.Sprintf("ev-%03d", i)
		mustPublish(t, "http://"+pubTo.Addr, "/api/sse/send/mover", data)
		want = append(want, data)
	}
	e2e.WaitJS(t, ctx, fmt.Sprintf(`window.__rec.events.length >= %d`, total))
	if got := pageEvents(t, ctx); !slices.Equal(got, want) {
		t.Fatalf("page received %d events %v\nwant %d in order, once each", len(got), got, len(want))
	}
	if resets := e2e.EvalJS[[]string](t, ctx, `window.__rec.resets`); len(resets) != 0 {
		t.Errorf("resets %q: the cursor was not resumed on node B", resets)
	}
	if n := e2e.EvalJS[int](t, ctx, `window.__c.stats().reconnects`); n < 1 {
		t.Errorf("stats().reconnects = %d, want at least 1", n)
	}
	// The stream came back on node B, with the cursor the page had.
	reqs := proxy.streamRequests()
	if len(reqs) < 2 || reqs[0].node != a.Addr || reqs[0].lastEventID != "" {
		t.Fatalf("stream requests %+v: want the first on node A (%s) without a cursor", reqs, a.Addr)
	}
	resumed := false
	for _, q := range reqs[1:] {
		if q.node != b.Addr {
			t.Errorf("a stream request after the cut went to %s, not node B %s", q.node, b.Addr)
		}
		resumed = resumed || q.lastEventID != ""
	}
	if !resumed {
		t.Errorf("stream requests %+v: none on node B carried a Last-Event-ID", reqs)
	}
}

// TestCluster_browserCrossNodeFanOut: the page's stream is on node A; what
// is published on node B (to the client, to a topic of the stream, to
// everyone) reaches the page, in order.
func TestCluster_browserCrossNodeFanOut(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := startNodes(t, r, 2)
	a, b := nodes[0], nodes[1]
	proxy := startSwitchProxy(t, a)
	ctx := openPage(t, proxy.URL)
	recordJS(t, ctx, "/api/sse/connect/faraway?topics=news")

	// The stream is on node A only.
	if on := clientsOn(t, a); !slices.Contains(on, "faraway") {
		t.Fatalf("node A lists %v, want faraway", on)
	}
	if on := clientsOn(t, b); len(on) != 0 {
		t.Fatalf("node B lists %v, want nobody", on)
	}
	paths := []string{"/api/sse/send/faraway", "/api/sse/topics/news", "/api/sse/sendAll"}
	var want []string
	for i := range 30 {
		data := fmt.Sprintf("from-b-%02d", i)
		path := paths[i%len(paths)]
		st, body := publish(t, "http://"+b.Addr, path, data)
		if st != http.StatusAccepted {
			t.Fatalf("POST %s on node B: %d %s", path, st, body)
		}
		// Node B knows from the presence map that the client is on A.
		if path == paths[0] && !containsDelivered1(body) {
			t.Errorf("POST %s on node B answered %s, want delivered 1 (the stream on node A)", path, body)
		}
		want = append(want, data)
	}
	e2e.WaitJS(t, ctx, fmt.Sprintf(`window.__rec.events.length >= %d`, len(want)))
	if got := pageEvents(t, ctx); !slices.Equal(got, want) {
		t.Fatalf("page received %v\nwant %v", got, want)
	}
}

func containsDelivered1(body string) bool {
	var v struct {
		Delivered int `json:"delivered"`
	}
	return json.Unmarshal([]byte(body), &v) == nil && v.Delivered == 1
}

// clientsOn lists the client ids with a stream on node n.
func clientsOn(t *testing.T, n *Node) []string {
	t.Helper()
	res, err := httpClient.Get(n.URL("/api/sse/clients"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Clients []struct {
			ClientID string `json:"clientId"`
		} `json:"clients"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET /api/sse/clients: %v", err)
	}
	var ids []string
	for _, c := range body.Clients {
		ids = append(ids, c.ClientID)
	}
	return ids
}
