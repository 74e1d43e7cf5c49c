package e2e

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/ssekit/ssekit/sdk/wire"
	"github.com/ssekit/ssekit/server"
)

// The SDK crosses between JS and Go once per batch of events (what one read
// of the stream holds): these tests publish back to back from inside the
// process, so that thousands of events share a batch, and check that
// nothing about dispatch and rendering depends on where a batch ends.

// sendBurst publishes data(i) as events of typ to clientID, back to back.
func sendBurst(t *testing.T, hub *Hub, clientID, typ string, n int, data func(i int) string) {
	t.Helper()
	for i := range n {
		res, err := hub.Send(clientID, wire.Event{Type: typ, Data: data(i)})
		if err != nil || res.Delivered != 1 {
			t.Fatalf("send %d: %+v, %v", i, res, err)
		}
	}
}

func TestBatch_burstKeepsOrderMaxAndHandlers(t *testing.T) {
	t.Parallel()
	const n = 3000
	hub := StartHub(t, server.WithQueueSize(n+64))
	ctx := loadPage(t, hub, "/")
	addContainers(t, ctx, "b-all:div", "b-last:ul", "b-one:p", "b-solo:div")
	EvalJS[bool](t, ctx, `(() => {
		// Count the batches the loader applies to #b-solo, bound by a
		// client without handlers (a handler gets the DOM up to date, so
		// with one the SDK applies before each call).
		const io = SSEKit.__io, apply = io.apply;
		const got = window.__got = {applies: 0, raws: [], seen: [], states: [], errors: []};
		io.apply = function (el) { if (el.id === 'b-solo') got.applies++; return apply.apply(this, arguments); };
		const solo = SSEKit.connect('/api/sse/connect/burst-solo');
		solo.onState(s => got.states.push('solo ' + s.state));
		solo.bind('#b-solo', 'message');
		const c = window.__c = SSEKit.connect('/api/sse/connect/burst');
		c.onState(s => got.states.push(s.state));
		c.onError(e => got.errors.push(e.event ? e.event.raw : '!no event: ' + e.message));
		c.bind('#b-all', 'message');
		c.bind('#b-last', 'message', {insert: 'prepend', max: 50});
		c.bind('#b-one', 'message', {insert: 'replace'});
		// A handler sees every earlier event rendered, and its own too (the
		// bindings were registered first).
		c.on('message', e => got.seen.push(document.getElementById('b-all').children.length));
		c.on('message', e => { if (+e.raw.slice(0, 6) % 100 === 7) throw new Error('boom ' + e.raw); });
		c.on('message', e => got.raws.push(e.raw), {decode: 'text'});
		return true;
	})()`)
	WaitJS(t, ctx, `window.__got.states.includes('open') && window.__got.states.includes('solo open')`)
	want := func(i int) string { return fmt.Sprintf("%06d <b>not bold</b> \"q\" \\ é 😀", i) }
	sendBurst(t, hub, "burst-solo", "", n, want)
	sendBurst(t, hub, "burst", "", n, want)
	WaitJS(t, ctx, `window.__got.raws.length === `+strconv.Itoa(n)+` && document.querySelector('#b-solo').children.length === `+strconv.Itoa(n))

	type result struct {
		All     []string `json:"all"`
		Last    []string `json:"last"`
		One     []string `json:"one"`
		Seen    []int    `json:"seen"`
		Raws    []string `json:"raws"`
		Errors  []string `json:"errors"`
		Applies int      `json:"applies"`
		Recv    int      `json:"received"`
	}
	r := EvalJS[result](t, ctx, `(() => {
		const texts = sel => [...document.querySelector(sel).childNodes].map(k =>
			k.nodeType === 1 && k.attributes.length === 0 && k.childNodes.length === 1 && k.firstChild.nodeType === 3
				? k.tagName + ':' + k.textContent : '!unexpected node ' + k.nodeName);
		const g = window.__got;
		return {all: texts('#b-all'), last: texts('#b-last'), one: texts('#b-one'), seen: g.seen, raws: g.raws,
			errors: g.errors, applies: g.applies, received: window.__c.stats().received};
	})()`)
	if len(r.All) != n || len(r.Raws) != n || len(r.Seen) != n {
		t.Fatalf("%d rendered, %d handled, %d seen; want %d", len(r.All), len(r.Raws), len(r.Seen), n)
	}
	for i := range n {
		if r.All[i] != "DIV:"+want(i) || r.Raws[i] != want(i) || r.Seen[i] != i+1 {
			t.Fatalf("event %d: rendered %q, handled %q, handler saw %d rendered", i, r.All[i], r.Raws[i], r.Seen[i])
		}
	}
	if len(r.Last) != 50 || r.Last[0] != "LI:"+want(n-1) || r.Last[49] != "LI:"+want(n-50) {
		t.Errorf("prepend, max 50: %d children, first %q, last %q", len(r.Last), r.Last[0], r.Last[len(r.Last)-1])
	}
	if len(r.One) != 1 || r.One[0] != "SPAN:"+want(n-1) {
		t.Errorf("replace: %q", r.One)
	}
	// Every 100th event's throwing handler was reported with its event; the
	// handler after it still saw every event (checked above).
	if len(r.Errors) != n/100 || r.Errors[0] != want(7) || r.Errors[len(r.Errors)-1] != want(n-93) {
		t.Errorf("%d errors, want %d: %q ...", len(r.Errors), n/100, r.Errors[:min(len(r.Errors), 3)])
	}
	if r.Recv != n {
		t.Errorf("stats().received = %d, want %d", r.Recv, n)
	}
	// The burst arrived in few batches, not one crossing per event.
	if r.Applies < 1 || r.Applies > n/10 {
		t.Errorf("#b-solo got %d batches for %d events", r.Applies, n)
	}
	t.Logf("%d events in %d batches", n, r.Applies)
}

// TestBatch_xssInOneBurst sends the XSS corpus back to back, so that many
// payloads share a batch, through text mode, sanitized HTML and a template.
func TestBatch_xssInOneBurst(t *testing.T) {
	t.Parallel()
	hub := StartHub(t, server.WithQueueSize(1024))
	ctx := loadPage(t, hub, "/")
	addContainers(t, ctx, "bx-text:div", "bx-html:div", "bx-tmpl:ul", "bx-table:table")
	EvalJS[bool](t, ctx, `(() => {
		window.__states = [];
		const c = SSEKit.connect('/api/sse/connect/bx');
		c.onState(s => window.__states.push(s.state));
		c.bind('#bx-text', 'x');
		c.bind('#bx-html', 'x', {mode: 'sanitized-html'});
		c.bind('#bx-table', 'x', {mode: 'sanitized-html', max: 5});
		c.bind('#bx-tmpl', 't', {template: '<li><b>{{name}}</b> <a href="{{url}}" title="{{name}}">l</a> {{$raw}}</li>'});
		return true;
	})()`)
	WaitJS(t, ctx, `window.__states.includes('open')`)
	all := xssPayloads
	sendBurst(t, hub, "bx", "x", len(all), func(i int) string { return all[i] })
	sendBurst(t, hub, "bx", "t", len(all), func(i int) string {
		return `{"name":` + jsLiteral(t, all[i]) + `,"url":` + jsLiteral(t, all[i]) + `}`
	})
	n := strconv.Itoa(len(all))
	WaitJS(t, ctx, `document.querySelector('#bx-text').children.length === `+n+
		` && document.querySelector('#bx-html').children.length === `+n+
		` && document.querySelector('#bx-tmpl').children.length === `+n)

	checkTextMode(t, ctx, "#bx-text", all)
	auditContainers(t, ctx, "#bx-text:DIV", "#bx-html:DIV", "#bx-tmpl:", "#bx-table:")
	// A bare container (no safe wrapper in a table) keeps max nodes.
	if got := EvalJS[int](t, ctx, `document.querySelector('#bx-table').childNodes.length`); got > 5 {
		t.Errorf("#bx-table holds %d nodes, want at most 5", got)
	}
	names := EvalJS[[]string](t, ctx, `[...document.querySelectorAll('#bx-tmpl > li')].map(li => li.querySelector('b').textContent)`)
	for i, p := range all {
		if names[i] != p {
			t.Errorf("template row %d: got %q, want %q", i, names[i], p)
		}
	}
	EvalJS[bool](t, ctx, `(document.body.insertAdjacentHTML('beforeend', '<img src="/no-such-image" onerror="window.__control=1">'), true)`)
	WaitJS(t, ctx, `window.__control === 1`)
	if pwned := EvalJS[bool](t, ctx, `typeof window.__pwned !== 'undefined'`); pwned {
		t.Fatal("window.__pwned was set: a payload ran")
	}
}
