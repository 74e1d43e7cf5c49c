package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ssekit/ssekit/e2e"
)

// The one Chromium of this test binary, started by the first test that
// needs it and closed by TestMain.
var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserErr    error
	browserCancel context.CancelFunc = func() {}
)

func chromium(t testing.TB) context.Context {
	t.Helper()
	browserOnce.Do(func() { browserCtx, browserCancel, browserErr = e2e.NewBrowser(context.Background()) })
	if browserErr != nil {
		t.Fatalf("the network cut case needs Chromium: %v", browserErr)
	}
	return browserCtx
}

// cutProxy forwards TCP connections from the browser to the server. cut
// black-holes it: every open connection is reset on both sides, and every
// new one is accepted and reset at once, until restore.
type cutProxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	cut      bool
	conns    map[net.Conn]struct{}
	refused  int      // connections reset during the cut
	requests []string // request lines the browser sent, in order
}

func startCutProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		p.resetAll()
	})
	return p
}

func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.cut {
		p.refused++
		p.mu.Unlock()
		reset(c)
		return
	}
	p.mu.Unlock()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		reset(c)
		return
	}
	p.mu.Lock()
	if p.cut { // cut while dialling
		p.refused++
		p.mu.Unlock()
		reset(c)
		reset(s)
		return
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() {
		_, _ = io.Copy(c, s)
		reset(c)
	}()
	_, _ = io.Copy(s, io.TeeReader(c, &requestLines{p: p}))
	reset(s)
}

// reset closes c with an RST (SO_LINGER 0), as a dropped route looks to
// the peer once it next writes.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	p.cut = cut
	p.mu.Unlock()
	if cut {
		p.resetAll()
	}
}

func (p *cutProxy) resetAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
	}
}

func (p *cutProxy) isCut() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.cut }

func (p *cutProxy) refusedCount() int { p.mu.Lock(); defer p.mu.Unlock(); return p.refused }

func (p *cutProxy) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

var requestLine = regexp.MustCompile(`^(GET|HEAD|POST) \S+ HTTP/1\.[01]$`)

// requestLines records the request lines of the bytes written to it.
type requestLines struct {
	p   *cutProxy
	buf []byte
}

func (r *requestLines) Write(b []byte) (int, error) {
	r.buf = append(r.buf, b...)
	for {
		i := bytes.IndexByte(r.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(r.buf[:i]), "\r")
		r.buf = r.buf[i+1:]
		if requestLine.MatchString(line) {
			r.p.mu.Lock()
			r.p.requests = append(r.p.requests, line)
			r.p.mu.Unlock()
		}
	}
	if len(r.buf) > 8<<10 { // a body: no request line in it
		r.buf = r.buf[:0]
	}
	return len(b), nil
}

// pageEvent is one event as the page received it.
type pageEvent struct {
	ID   string `json:"id"`
	Data string `json:"data"`
	At   int64  `json:"at"` // Date.now() in the page
}

type pageState struct {
	State     string `json:"state"`
	Attempt   int    `json:"attempt"`
	LastError string `json:"lastError"`
	At        int64  `json:"at"`
}

// sent is one event published during the case.
type sent struct {
	data      string
	duringCut bool // the proxy was cut before the publish started
}

// TestFault_networkCut_browser cuts the network between a real Chromium
// page (the SDK subscribed through a TCP proxy) and the binary for 5 s
// while events are published every 50 ms, then restores it: the page gets
// every event once and in order through the SDK's own reconnect with the
// last event id, and nothing published during the cut reaches it before
// the restore.
func TestFault_networkCut_browser(t *testing.T) {
	t.Parallel()
	const (
		clientID = "cutter"
		period   = 50 * time.Millisecond
		cutFor   = 5 * time.Second
	)
	www := filepath.Join(e2e.Root(), "www")
	if _, err := os.Stat(filepath.Join(www, "ssekit.wasm")); err != nil {
		t.Fatalf("the page needs the SDK built (make wasm): %v", err)
	}
	srv := startServer(t, nil, "-www", www, "-retry", "100ms")
	proxy := startCutProxy(t, srv.addr)

	ctx := e2e.NewTab(t, chromium(t))
	ctx, cancel := context.WithTimeout(ctx, 25*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(proxy.url()+"/")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	e2e.EvalJS[bool](t, ctx, `SSEKit.ready.then(() => true)`)
	e2e.EvalJS[bool](t, ctx, `(() => {
		const rec = window.__rec = {states: [], events: []};
		const c = window.__c = SSEKit.connect('/api/sse/connect/`+clientID+`', {backoff: {initialMs: 100, maxMs: 500, factor: 2}});
		c.onState(s => rec.states.push({state: s.state, attempt: s.attempt, lastError: s.lastError || '', at: Date.now()}));
		c.on('message', e => rec.events.push({id: e.id, data: e.raw, at: Date.now()}));
		return true;
	})()`)
	e2e.WaitJS(t, ctx, `window.__rec.states.some(s => s.state === 'open')`)
	eventually(t, 5*time.Second, "the stream registered at the server", func() bool { return streamsOf(t, srv, clientID) == 1 })

	// Publish every 50 ms directly to the binary (the publisher is not cut).
	var (
		pubMu   sync.Mutex
		pubs    []sent
		stop    atomic.Bool
		pubDone = make(chan error, 1)
	)
	go func() {
		tick := time.NewTicker(period)
		defer tick.Stop()
		for n := 1; !stop.Load(); n++ {
			<-tick.C
			s := sent{data: fmt.Sprintf("n%04d", n), duringCut: proxy.isCut()}
			body, _ := json.Marshal(map[string]string{"data": s.data})
			res, err := client.Post(srv.url("/api/sse/send/"+clientID), "application/json", bytes.NewReader(body))
			if err != nil {
				pubDone <- err
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				pubDone <- fmt.Errorf("publish %s: status %d", s.data, res.StatusCode)
				return
			}
			pubMu.Lock()
			pubs = append(pubs, s)
			pubMu.Unlock()
		}
		pubDone <- nil
	}()
	published := func() []sent { pubMu.Lock(); defer pubMu.Unlock(); return append([]sent(nil), pubs...) }

	e2e.WaitJS(t, ctx, `window.__rec.events.length >= 5`)
	linesBefore := len(proxy.lines())
	proxy.setCut(true)
	cutAt := time.Now()
	// The cut is real: the page notices, the server sees the stream close,
	// and the SDK's attempts during the cut fail.
	e2e.WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'reconnecting'`)
	eventually(t, 3*time.Second, "the server saw the stream close", func() bool { return streamsOf(t, srv, clientID) == 0 })
	serverClosedAfter := time.Since(cutAt)
	eventually(t, cutFor, "a connection refused during the cut", func() bool { return proxy.refusedCount() > 0 })
	if d := time.Until(cutAt.Add(cutFor)); d > 0 {
		<-time.After(d) // the fault lasts 5 s: a duration, not a wait for a condition
	}
	receivedInCut := e2e.EvalJS[int](t, ctx, `window.__rec.events.length`)
	refused := proxy.refusedCount()
	proxy.setCut(false)
	restoreAt := time.Now()
	cutPubs := len(published())

	// Publish on for half a second after the restore, then check the page.
	eventually(t, 5*time.Second, "half a second of publishing after the restore", func() bool { return len(published()) >= cutPubs+10 })
	stop.Store(true)
	if err := <-pubDone; err != nil {
		t.Fatal(err)
	}
	all := published()
	e2e.WaitJS(t, ctx, fmt.Sprintf(`window.__rec.events.length >= %d`, len(all)))

	events := e2e.EvalJS[[]pageEvent](t, ctx, `window.__rec.events`)
	states := e2e.EvalJS[[]pageState](t, ctx, `window.__rec.states`)
	stats := e2e.EvalJS[map[string]int](t, ctx, `window.__c.stats()`)
	if len(events) != len(all) {
		t.Fatalf("page got %d events, %d published", len(events), len(all))
	}
	restoreMs := restoreAt.UnixMilli()
	during, firstAfter := 0, int64(-1)
	for i, s := range all {
		ev := events[i]
		if ev.Data != s.data {
			t.Fatalf("event %d is %q, want %q: lost, duplicated or out of order", i, ev.Data, s.data)
		}
		if s.duringCut {
			during++
			if ev.At < restoreMs {
				t.Errorf("event %s, published during the cut, reached the page before the restore", s.data)
			}
		}
		if ev.At >= restoreMs && firstAfter < 0 {
			firstAfter = ev.At - restoreMs
		}
	}
	if during < 40 { // 100 at one every 50 ms; fewer when the machine is busy
		t.Errorf("%d events published during the 5 s cut, want at least 40", during)
	}
	beforeCut := 0
	for beforeCut < len(all) && !all[beforeCut].duringCut {
		beforeCut++
	}
	if receivedInCut > beforeCut || receivedInCut == 0 {
		t.Errorf("the page had %d events at the restore, %d were published before the cut", receivedInCut, beforeCut)
	}
	// The SDK reconnected with the cursor: a stream request after the
	// restore carries the id of the last event received before the cut.
	lastBefore := events[receivedInCut-1].ID
	resumed := false
	for _, l := range proxy.lines()[linesBefore:] {
		target := strings.Fields(l)[1]
		u, err := url.Parse(target)
		if err == nil && strings.HasPrefix(l, "GET ") && u.Path == "/api/sse/connect/"+clientID && u.Query().Get("lastEventId") == lastBefore {
			resumed = true
		}
	}
	if !resumed {
		t.Errorf("no stream request resumed from %q after the restore: %q", lastBefore, proxy.lines()[linesBefore:])
	}
	failed, reopenAt := 0, int64(0)
	for _, s := range states {
		if s.At >= cutAt.UnixMilli() && s.At < restoreMs && s.State == "reconnecting" && s.Attempt > 0 {
			failed++
		}
		if s.State == "open" && s.At >= restoreMs && reopenAt == 0 {
			reopenAt = s.At
		}
	}
	if failed < 2 || refused < 2 {
		t.Errorf("%d failed attempts seen by the page, %d connections refused by the cut, want at least 2 each", failed, refused)
	}
	if stats["resets"] != 0 || stats["droppedDuplicates"] != 0 {
		t.Errorf("stats %v: want no reset and no duplicate to drop", stats)
	}
	if firstAfter < 0 || reopenAt == 0 {
		t.Fatalf("no event or open state after the restore")
	}
	report(t, "Faults", "network cut between Chromium and the binary for 5 s while publishing every 50 ms (TCP proxy reset both ways, new connections reset)",
		"%d published, all delivered to the page once and in order (%d during the cut, none before the restore); server saw the stream close %dms after the cut; "+
			"%d SDK attempts failed, %d connections refused during the cut; after the restore: stream open in %dms, first event in %dms, resumed with lastEventId, 0 resets, 0 duplicates dropped",
		len(all), during, serverClosedAfter.Milliseconds(), failed, refused, reopenAt-restoreMs, firstAfter)
}

// streamsOf counts the open streams of id at the binary.
func streamsOf(t testing.TB, p *proc, id string) int {
	t.Helper()
	res, err := client.Get(p.url("/api/sse/clients"))
	if err != nil {
		t.Fatalf("clients: %v", err)
	}
	defer res.Body.Close()
	var list struct {
		Clients []struct {
			ClientID string `json:"clientId"`
		} `json:"clients"`
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		t.Fatalf("clients: %v", err)
	}
	n := 0
	for _, c := range list.Clients {
		if c.ClientID == id {
			n++
		}
	}
	return n
}
