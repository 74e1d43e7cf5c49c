package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ssekit/ssekit/sdk"
	"github.com/ssekit/ssekit/sdk/wire"
	"github.com/ssekit/ssekit/server"
)

func TestReconnect_serverKilledAndRestarted(t *testing.T) {
	t.Parallel()
	lh := startLiveHub(t, server.WithRetry(20*time.Millisecond))
	ctx := openPageAt(t, lh.URL)
	recordJS(t, ctx, "/api/sse/connect/phoenix", `{backoff: {initialMs: 50, maxMs: 800, factor: 2}}`, "message")
	WaitJS(t, ctx, `window.__rec.states.some(s => s.state === 'open')`)
	if _, err := lh.current().Send("phoenix", wire.Event{Data: "before"}); err != nil {
		t.Fatal(err)
	}
	WaitJS(t, ctx, `window.__rec.events.length === 1`)

	lh.kill()
	// Seven failed attempts in a row, then the server comes back.
	WaitJS(t, ctx, `window.__rec.states.filter(s => s.state === 'reconnecting' && s.attempt >= 7).length > 0`)
	lh.restart()
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'open'`)
	Eventually(t, 2*time.Second, "the client registered again", func() bool { return lh.current().Conns() == 1 })
	if _, err := lh.current().Send("phoenix", wire.Event{Data: "after"}); err != nil {
		t.Fatal(err)
	}
	WaitJS(t, ctx, `window.__rec.events.length === 2`)

	// Every wait was within its full-jitter bounds: at least the server's
	// retry (20ms), at most the cap of its attempt; attempts counted up one
	// by one; the client never dialled before its delay ran out; and the
	// delays grew (a later one beyond the first cap: with full jitter, all
	// of attempts 4-7 under 50ms has odds of 1 in 32768).
	b := sdk.Backoff{Initial: 50 * time.Millisecond, Max: 800 * time.Millisecond, Factor: 2}
	sts := states(t, ctx)
	var waits []jsState
	for i, s := range sts {
		if s.State != "reconnecting" {
			continue
		}
		waits = append(waits, s)
		floor, cap := 20, int(b.Cap(s.Attempt).Milliseconds())
		if s.NextDelayMs < floor || s.NextDelayMs > max(floor, cap) {
			t.Errorf("attempt %d waits %dms, outside [%d, %d]", s.Attempt, s.NextDelayMs, floor, cap)
		}
		if s.Attempt != len(waits) {
			t.Errorf("wait %d reports attempt %d", len(waits), s.Attempt)
		}
		if s.Status != 0 || s.LastError == "" {
			t.Errorf("attempt %d: status %d, lastError %q; want 0 (no answer) and a reason", s.Attempt, s.Status, s.LastError)
		}
		// The page stamps a state when its listener runs, a little after the
		// timer started: hence a few milliseconds of slack.
		if i+1 < len(sts) && sts[i+1].State == "connecting" {
			if waited := sts[i+1].At - s.At; waited < float64(s.NextDelayMs)-5 {
				t.Errorf("attempt %d dialled after %.1fms, before its %dms delay", s.Attempt, waited, s.NextDelayMs)
			}
		}
	}
	grew := false
	for _, w := range waits {
		grew = grew || (w.Attempt >= 4 && w.NextDelayMs > int(b.Cap(1).Milliseconds()))
	}
	if len(waits) < 7 || !grew {
		t.Errorf("waits %+v: want at least 7, a later one beyond %v", waits, b.Cap(1))
	}
	// The restarted hub has a new history epoch: the cursor cannot resume,
	// so the client hears a reset (and says so in its stats).
	WaitJS(t, ctx, `window.__rec.resets.length === 1 && window.__c.stats().resets === 1`)
	if n := EvalJS[int](t, ctx, `window.__c.stats().reconnects`); n != 1 {
		t.Errorf("stats.reconnects = %d, want 1", n)
	}
}

func TestReconnect_rotationLosesNothing(t *testing.T) {
	t.Parallel()
	hub := StartHub(t, server.WithMaxStreamDuration(300*time.Millisecond), server.WithRetry(20*time.Millisecond))
	ctx := openPageAt(t, hub.URL)
	recordJS(t, ctx, "/api/sse/connect/rotor", `{}`, "message")
	WaitJS(t, ctx, `window.__rec.states.some(s => s.state === 'open')`)

	const n = 100 // one every 20ms: two seconds, several rotations
	tick := time.NewTicker(20 * time.Millisecond)
	for i := range n {
		<-tick.C
		if _, err := hub.Send("rotor", wire.Event{Data: strconv.Itoa(i)}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	tick.Stop()
	WaitJS(t, ctx, `window.__rec.events.length >= `+strconv.Itoa(n))

	got := EvalJS[[]string](t, ctx, `window.__rec.events.map(e => e.raw)`)
	for i, g := range got {
		if g != strconv.Itoa(i) {
			t.Fatalf("event %d is %q: lost or duplicated events in %v", i, g, got)
		}
	}
	if len(got) != n {
		t.Fatalf("%d events, want %d", len(got), n)
	}
	stats := EvalJS[map[string]int](t, ctx, `window.__c.stats()`)
	if stats["reconnects"] < 3 || stats["received"] != n || stats["resets"] != 0 {
		t.Fatalf("stats %v: want several reconnects, %d received, no reset", stats, n)
	}
	// A rotation is not a failure: every wait is the server's short retry,
	// and the attempt counter never moves.
	for _, s := range states(t, ctx) {
		if s.State == "reconnecting" && (s.Attempt != 0 || s.NextDelayMs != 250 || s.LastError != "") {
			t.Errorf("rotation wait %+v: want attempt 0, the reconnect event's 250ms, no error", s)
		}
	}
}

func TestReconnect_duplicatesDropped(t *testing.T) {
	t.Parallel()
	// A server that ignores the cursor and replays from the start: the
	// client must pass lastEventId and drop what it has already seen.
	var (
		mu      sync.Mutex
		cursors []string
	)
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(Root()+"/www")))
	mux.HandleFunc("/replay", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if r.Method == http.MethodHead { // the probe after each end: all fine
			return
		}
		mu.Lock()
		cursors = append(cursors, r.URL.Query().Get("lastEventId"))
		round := len(cursors)
		mu.Unlock()
		var frames []byte
		frames = wire.AppendRetry(frames, 10*time.Millisecond)
		for i := 1; i <= 2+round; i++ { // 1-3, then 1-4, then 1-5
			frames, _ = wire.AppendEvent(frames, wire.Event{ID: "r-" + strconv.Itoa(i), Data: "event " + strconv.Itoa(i)})
		}
		_, _ = w.Write(frames) // then the stream ends: a failure, so a reconnect
	})
	ts := startTestServer(t, mux)
	ctx := openPageAt(t, ts)
	recordJS(t, ctx, "/replay", `{backoff: {initialMs: 20, maxMs: 40}, maxRetries: 2}`, "message")
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'closed'`)
	got := EvalJS[[]string](t, ctx, `window.__rec.events.map(e => e.id + '=' + e.raw)`)
	want := "r-1=event 1,r-2=event 2,r-3=event 3,r-4=event 4,r-5=event 5"
	if strings.Join(got, ",") != want {
		t.Fatalf("events %v, want %s", got, want)
	}
	mu.Lock()
	sent := strings.Join(cursors, ",")
	mu.Unlock()
	if sent != ",r-3,r-4" {
		t.Fatalf("cursors sent %q, want none, then r-3, then r-4", sent)
	}
	stats := EvalJS[map[string]int](t, ctx, `window.__c.stats()`)
	if stats["droppedDuplicates"] != 3+4 || stats["received"] != 5 {
		t.Fatalf("stats %v: want 7 duplicates dropped, 5 received", stats)
	}
}

func TestReconnect_204StopsForGood(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	g := startGate(t, hub)
	g.fail(-1, http.StatusNoContent)
	ctx := openPageAt(t, g.URL)
	recordJS(t, ctx, "/api/sse/connect/done", `{backoff: {initialMs: 10, maxMs: 20}}`)
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'closed'`)
	last := states(t, ctx)
	if st := last[len(last)-1]; st.Status != 204 || !strings.Contains(st.LastError, "204") {
		t.Fatalf("final state %+v, want status 204 with the reason", st)
	}
	// One GET (the EventSource), one HEAD (the probe), and never again,
	// although the backoff would retry every 20ms.
	quiet(t, 500*time.Millisecond, "requests after 204", func() bool { return g.count() > 2 })
	reqs := g.requests()
	if len(reqs) != 2 || reqs[0].method != "GET" || reqs[1].method != "HEAD" {
		t.Fatalf("requests %+v, want GET then HEAD", reqs)
	}
}

func TestReconnect_401CallsTheAuthHook(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	g := startGate(t, hub)
	g.fail(2, http.StatusUnauthorized) // the stream, then the probe
	ctx := openPageAt(t, g.URL)
	// The hook renews credentials (here: takes 150ms), then the SDK reconnects.
	recordJSWith(t, ctx, "/api/sse/connect/keymaster", `{backoff: {initialMs: 10, maxMs: 20}}`, `
		window.__auth = [];
		window.__hookDone = 0;
		c.onAuthError(info => {
			window.__auth.push(info);
			return new Promise(res => setTimeout(() => { window.__hookDone = performance.now(); res(); }, 150));
		})`)
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'open'`)
	auth := EvalJS[[]map[string]any](t, ctx, `window.__auth`)
	if len(auth) != 1 || auth[0]["status"] != float64(401) {
		t.Fatalf("hook calls %v, want one with status 401", auth)
	}
	// The reconnect came after the hook's promise resolved.
	openAt := EvalJS[float64](t, ctx, `window.__rec.states.at(-1).at`)
	if done := EvalJS[float64](t, ctx, `window.__hookDone`); done == 0 || openAt < done {
		t.Fatalf("open at %.0fms, hook resolved at %.0fms", openAt, done)
	}
	// A client without a hook stops on its 401.
	g.fail(2, http.StatusUnauthorized)
	EvalJS[bool](t, ctx, `(SSEKit.connect('/api/sse/connect/nobody2').onState(s => { if (s.state === 'closed') window.__noHook = s; }), true)`)
	WaitJS(t, ctx, `window.__noHook && window.__noHook.status === 401`)
}

func TestReconnect_503RetryAfterHonoured(t *testing.T) {
	t.Parallel()
	// Retry-After as delay-seconds, and as an HTTP date (which the browser
	// build reads against Date.now): 3s ahead in whole seconds, taken
	// before the page opens, so the wait is under 3s and well over 1s.
	for _, c := range []struct {
		name         string
		value        func() string
		minMs, maxMs int
	}{
		{"seconds", func() string { return "1" }, 1000, 0},
		{"http-date", func() string { return time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat) }, 1000, 3000},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			hub := StartHub(t)
			g := startGate(t, hub)
			g.fail(2, http.StatusServiceUnavailable, "Retry-After", c.value())
			ctx := openPageAt(t, g.URL)
			recordJS(t, ctx, "/api/sse/connect/patient", `{backoff: {initialMs: 10, maxMs: 20}}`)
			WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'open'`)
			var wait *jsState
			for _, s := range states(t, ctx) {
				if s.State == "reconnecting" {
					wait = &s
				}
			}
			if wait == nil || wait.Status != 503 || wait.NextDelayMs < c.minMs || c.maxMs > 0 && wait.NextDelayMs > c.maxMs {
				t.Fatalf("wait %+v, want status 503 and a delay of at least %dms (at most %dms) from Retry-After", wait, c.minMs, c.maxMs)
			}
			reqs := g.requests()
			if len(reqs) != 3 || reqs[1].method != "HEAD" || reqs[2].method != "GET" {
				t.Fatalf("requests %+v, want GET, HEAD, GET", reqs)
			}
			// Measured at the server: the retry came no earlier than
			// Retry-After after the answer that carried it.
			if gap := reqs[2].at.Sub(reqs[1].at); gap < time.Duration(c.minMs)*time.Millisecond {
				t.Fatalf("next attempt %v after the 503, want >= %dms", gap, c.minMs)
			}
		})
	}
}

func TestReconnect_offlineWaitsForOnline(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	g := startGate(t, hub)
	ctx := openPageAt(t, g.URL)
	recordJS(t, ctx, "/api/sse/connect/traveller", `{backoff: {initialMs: 10, maxMs: 20}}`)
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'open'`)

	setOffline(t, ctx, true)
	WaitJS(t, ctx, `navigator.onLine === false`)
	g.dropStreams()
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'reconnecting'`)
	if st := states(t, ctx); !strings.Contains(st[len(st)-1].LastError, "offline") {
		t.Fatalf("state %+v, want waiting for the network", st[len(st)-1])
	}
	before := g.count()
	quiet(t, 600*time.Millisecond, "a request while offline", func() bool { return g.count() > before })
	if n := EvalJS[int](t, ctx, `window.__rec.states.filter(s => s.state === 'connecting').length`); n != 1 {
		t.Fatalf("%d connecting states, want only the first: no attempt while offline", n)
	}

	online := time.Now()
	setOffline(t, ctx, false)
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'open'`)
	reqs := g.requests()
	if len(reqs) != before+1 || reqs[len(reqs)-1].method != "GET" {
		t.Fatalf("requests after online %+v, want one GET", reqs[before:])
	}
	if d := reqs[len(reqs)-1].at.Sub(online); d > time.Second {
		t.Fatalf("reconnected %v after going online, want soon", d)
	}
}

// setOffline emulates losing (and regaining) the network in the tab:
// navigator.onLine with its events, and requests that fail.
func setOffline(t *testing.T, ctx context.Context, offline bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	var rules []*network.Conditions
	if offline {
		rules = []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatal(err)
	}
}

func TestReconnect_persistSessionResumesAfterReload(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := openPageAt(t, hub.URL)
	recordJS(t, ctx, "/api/sse/connect/reader", `{persist: 'session'}`, "message")
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'open'`)
	publish(t, hub, "reader", "", "one")
	publish(t, hub, "reader", "", "two")
	WaitJS(t, ctx, `window.__rec.events.length === 2`)
	lastID := EvalJS[string](t, ctx, `window.__c.lastEventId`)

	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	EvalJS[bool](t, ctx, `SSEKit.ready.then(() => true)`)
	Eventually(t, 2*time.Second, "the old page's stream is gone", func() bool { return hub.Conns() == 0 })
	if _, err := hub.Send("reader", wire.Event{Data: "three"}); err != nil { // nobody connected: history only
		t.Fatal(err)
	}
	stored := EvalJS[string](t, ctx, `sessionStorage.getItem('ssekit:lastEventId:' + new URL('/api/sse/connect/reader', location.href).href) || ''`)
	if stored != lastID || lastID == "" {
		t.Fatalf("stored cursor %q, want the last id %q", stored, lastID)
	}
	recordJS(t, ctx, "/api/sse/connect/reader", `{persist: 'session'}`, "message")
	WaitJS(t, ctx, `window.__rec.events.length >= 1`)
	got := EvalJS[[]string](t, ctx, `window.__rec.events.map(e => e.raw)`)
	if len(got) != 1 || got[0] != "three" || EvalJS[int](t, ctx, `window.__rec.resets.length`) != 0 {
		t.Fatalf("after reload got %q, want only the missed event and no reset", got)
	}
}

func TestReconnect_thousandCyclesLeakNothing(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	// Keep a handle on the wasm instance's memory: it grows with the Go heap
	// and never shrinks.
	ctx := openPageAt(t, hub.URL, `(() => {
		const keep = r => { window.__wasmMemory = (r.instance || r).exports.mem; return r; };
		const streaming = WebAssembly.instantiateStreaming, plain = WebAssembly.instantiate;
		WebAssembly.instantiateStreaming = (...a) => streaming.apply(WebAssembly, a).then(keep);
		WebAssembly.instantiate = (...a) => plain.apply(WebAssembly, a).then(keep);
	})()`)
	// Count EventSources and their listeners independently of the SDK.
	EvalJS[bool](t, ctx, `(() => {
		const Native = EventSource;
		const w = window.__es = {made: 0, closed: 0, listeners: 0};
		window.EventSource = class extends Native {
			constructor(...a) { super(...a); w.made++; }
			addEventListener(...a) { w.listeners++; return super.addEventListener(...a); }
			removeEventListener(...a) { w.listeners--; return super.removeEventListener(...a); }
			close() { if (this.readyState !== 2) w.closed++; return super.close(); }
		};
		return true;
	})()`)
	liveClients := func() int { return EvalJS[int](t, ctx, `SSEKit.__debug().liveClients`) }
	base := EvalJS[map[string]int](t, ctx, `SSEKit.__debug()`)
	if base["liveClients"] != 0 {
		t.Fatalf("debug %v before any client", base)
	}
	// The count sees a client while the page holds it (so it can fail).
	EvalJS[bool](t, ctx, `(window.__held = SSEKit.connect('/api/sse/connect'), true)`)
	if n := liveClients(); n != 1 {
		t.Fatalf("liveClients = %d with one client held, want 1", n)
	}
	EvalJS[bool](t, ctx, `(window.__held.close(), delete window.__held, true)`)

	cycles := `(async n => {
		for (let i = 0; i < n; i++) {
			const c = SSEKit.connect('/api/sse/connect', {backoff: {initialMs: 10}});
			c.on('message', () => {});
			c.on('order', () => {}, {schema: {id: 'string'}});
			c.onState(() => {});
			c.onError(() => {});
			c.onReset(() => {});
			c.onAuthError(() => true);
			if (i % 100 === 0) { // now and then all the way to an open stream
				await new Promise(res => c.onState(s => { if (s.state === 'open') res(); }));
			}
			c.close();
		}
		return true;
	})`
	memory := func() (jsHeap, wasmMem float64) {
		t.Helper()
		// Go first: a collection there (and its finalizers) lets go of the
		// JS values Go held, then the JS heap is collected and measured.
		Eventually(t, 3*time.Second, "every closed Client garbage collected", func() bool { return liveClients() == 0 })
		if _, err := chromedp.Call(ctx, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		u, err := chromedp.Call(ctx, cdpruntime.GetHeapUsage, cdp.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		return u.UsedSize, EvalJS[float64](t, ctx, `window.__wasmMemory.buffer.byteLength`)
	}
	// Warm up until both heaps reach their working size, then measure over
	// the rest: a leak of 400 bytes a cycle would show in the JS heap.
	start := time.Now()
	EvalJS[bool](t, ctx, cycles+`(300)`)
	heap0, mem0 := memory()
	EvalJS[bool](t, ctx, cycles+`(700)`)
	took := time.Since(start)
	heap1, mem1 := memory()

	// memory() also waited until every Client was garbage collected.
	after := EvalJS[map[string]int](t, ctx, `SSEKit.__debug()`)
	for _, k := range []string{"funcs", "listeners"} {
		if after[k] != base[k] {
			t.Errorf("%s: %d live after 1000 cycles, %d before", k, after[k], base[k])
		}
	}
	if after["clients"] != 0 || after["subs"] != 0 {
		t.Errorf("the bridge keeps %d clients and %d registrations", after["clients"], after["subs"])
	}
	es := EvalJS[map[string]int](t, ctx, `window.__es`)
	if es["made"] != 1001 || es["closed"] != 1001 || es["listeners"] != 0 {
		t.Errorf("EventSources %v: want 1001 made (with the held one), as many closed, no listener left", es)
	}
	// Measured here: about 25 KB of JS heap and no wasm page over the 700.
	if growth := heap1 - heap0; growth > 256<<10 {
		t.Errorf("JS heap grew %.0f KB over the last 700 cycles", growth/1024)
	}
	if growth := mem1 - mem0; growth > 1<<20 {
		t.Errorf("wasm memory grew %.0f KB over the last 700 cycles", growth/1024)
	}
	t.Logf("1000 cycles in %v; over the last 700: JS heap %.0f -> %.0f KB, wasm memory %.0f -> %.0f KB",
		took, heap0/1024, heap1/1024, mem0/1024, mem1/1024)
}

func TestReconnect_endStopsAndTokenExpiredAsksTheHook(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		gets int
	)
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(Root()+"/www")))
	mux.HandleFunc("/ending", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if r.Method == http.MethodHead {
			return
		}
		mu.Lock()
		gets++
		n := gets
		mu.Unlock()
		reason := "token-expired" // first the token runs out, then the client is let go
		if n > 1 {
			reason = "disconnected"
		}
		frames, _ := wire.AppendEvent(nil, wire.Event{Type: "end", Data: `{"reason":"` + reason + `"}`})
		_, _ = w.Write(frames)
	})
	ts := startTestServer(t, mux)
	ctx := openPageAt(t, ts)
	recordJSWith(t, ctx, "/ending", `{backoff: {initialMs: 10, maxMs: 20}}`, `
		window.__auth = [];
		c.onAuthError(info => { window.__auth.push(info); return Promise.resolve(true); })`)
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'closed'`)
	auth := EvalJS[[]map[string]any](t, ctx, `window.__auth`)
	if len(auth) != 1 || auth[0]["reason"] != "token-expired" || auth[0]["status"] != float64(0) {
		t.Fatalf("hook calls %v, want one for token-expired", auth)
	}
	sts := states(t, ctx)
	if last := sts[len(sts)-1]; !strings.Contains(last.LastError, "disconnected") {
		t.Fatalf("final state %+v, want the end reason", last)
	}
	quiet(t, 300*time.Millisecond, "a request after end", func() bool { mu.Lock(); defer mu.Unlock(); return gets > 2 })
	mu.Lock()
	defer mu.Unlock()
	if gets != 2 {
		t.Fatalf("%d streams opened, want 2: after the hook, and none after end", gets)
	}
}

func TestReconnect_hiddenTabs(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := openPageAt(t, hub.URL)
	// The page turns hidden the way a browser tells it: visibilityState
	// and a visibilitychange event.
	hide := func(hidden bool) {
		EvalJS[bool](t, ctx, `(() => {
			Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => `+strconv.Quote(map[bool]string{true: "hidden", false: "visible"}[hidden])+`});
			document.dispatchEvent(new Event('visibilitychange'));
			return true;
		})()`)
	}
	recordJS(t, ctx, "/api/sse/connect/pauser", `{pauseWhenHidden: true}`, "message")
	EvalJS[bool](t, ctx, `(() => {
		window.__stay = [];
		const c = window.__stayer = SSEKit.connect('/api/sse/connect/stayer');
		c.on('message', e => window.__stay.push(e.raw));
		return true;
	})()`)
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'open' && window.__stayer.state().state === 'open'`)
	Eventually(t, 2*time.Second, "both streams registered", func() bool { return hub.Conns() == 2 })
	publish(t, hub, "pauser", "", "before") // gives the client a cursor to resume from
	WaitJS(t, ctx, `window.__rec.events.length === 1`)

	hide(true)
	WaitJS(t, ctx, `window.__rec.states.at(-1).lastError.includes('hidden')`)
	Eventually(t, 2*time.Second, "the pausing client's stream closed", func() bool { return hub.Conns() == 1 })
	if _, err := hub.Send("pauser", wire.Event{Data: "while hidden"}); err != nil {
		t.Fatal(err)
	}
	publish(t, hub, "stayer", "", "to a hidden tab") // the default client still receives
	WaitJS(t, ctx, `window.__stay.length === 1`)

	hide(false)
	WaitJS(t, ctx, `window.__rec.events.length === 2`)
	if got := EvalJS[string](t, ctx, `window.__rec.events[1].raw`); got != "while hidden" {
		t.Fatalf("after the pause got %q, want the event sent while hidden", got)
	}
	if st := EvalJS[string](t, ctx, `window.__stayer.state().state`); st != "open" {
		t.Fatalf("the default client is %s, want open all along", st)
	}
	if n := EvalJS[int](t, ctx, `window.__stayer.stats().reconnects`); n != 0 {
		t.Fatalf("the default client reconnected %d times", n)
	}
}

func TestReconnect_probeFallsBackToAnAbortedGET(t *testing.T) {
	t.Parallel()
	// A server that knows no HEAD: the SDK's probe falls back to a GET and
	// aborts it once the headers are in.
	var (
		mu      sync.Mutex
		log     []string
		aborted = make(chan time.Duration, 1)
	)
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(Root()+"/www")))
	mux.HandleFunc("/nohead", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			mu.Lock()
			log = append(log, "HEAD")
			mu.Unlock()
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		mu.Lock()
		log = append(log, "GET")
		n := len(log)
		mu.Unlock()
		switch n {
		case 1: // the stream: ends at once, so its status says nothing
			w.Header().Set("Content-Type", "text/event-stream")
		case 3: // the probe's GET: a healthy stream that would never end
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			http.NewResponseController(w).Flush()
			start := time.Now()
			<-r.Context().Done()
			aborted <- time.Since(start)
		default: // then the server is done with this client
			w.WriteHeader(http.StatusNoContent)
		}
	})
	ts := startTestServer(t, mux)
	ctx := openPageAt(t, ts)
	recordJS(t, ctx, "/nohead", `{backoff: {initialMs: 10, maxMs: 20}}`)
	select {
	case d := <-aborted:
		if d > time.Second {
			t.Fatalf("the probe's GET was aborted after %v, want at once", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the probe's GET was never aborted")
	}
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'closed'`)
	sts := states(t, ctx)
	if last := sts[len(sts)-1]; last.Status != 204 {
		t.Fatalf("final state %+v, want stopped by the 204", last)
	}
	mu.Lock()
	defer mu.Unlock()
	// The stream, HEAD, the probe's GET (200: back off); the stream again
	// (204, which EventSource hides), HEAD, the probe's GET (204: stop).
	if got := strings.Join(log, ","); got != "GET,HEAD,GET,GET,HEAD,GET" {
		t.Fatalf("requests %s", got)
	}
}
