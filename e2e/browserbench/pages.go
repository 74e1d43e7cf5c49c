package main

import (
	"net/http"
	"path/filepath"
	"strings"
)

// The two pages under test. Both connect to /api/sse/connect/{id} (id from
// the query string), render every event into #out as one element holding
// the event's data as text, and leave their figures in window.bench. The
// bench sets window.bench.start (performance.now) just before it publishes
// the first event; a MutationObserver on #out, the same on both pages,
// timestamps the renders, so the measurement is the same whatever renders:
// the start, the first and last render times, and the count. The span is
// start to last render: a page that renders in batches adds its first
// nodes only after its first batch, so first to last would leave that
// batch's time out. window.bench.check() then reads the DOM back: every
// event once, in order.
//
// The wasm page renders through the SDK's safe insertion API (bind, text
// mode: a text node in a plain div, built with createElement and
// createTextNode); the plain page is what a hand-written page does with
// EventSource and textContent.

// benchScript is shared by both pages; it runs before the page's own script.
const benchScript = `
const q = new URLSearchParams(location.search);
const bench = window.bench = {id: q.get('id'), n: +q.get('n'), count: 0, start: 0, first: 0, last: 0,
	open: false, opens: 0, done: false, error: ''};
const out = document.getElementById('out');
new MutationObserver(records => {
	const now = performance.now();
	for (const r of records) bench.count += r.addedNodes.length;
	if (bench.first === 0) bench.first = now;
	if (bench.count >= bench.n && !bench.done) { bench.last = now; bench.done = true; }
}).observe(out, {childList: true});
window.addEventListener('error', e => { bench.error ||= String(e.message); });
// check reads #out back: n children, child i holding sequence number i.
bench.check = () => {
	const kids = out.children;
	if (kids.length !== bench.n) return 'rendered ' + kids.length + ' elements, want ' + bench.n;
	for (let i = 0; i < kids.length; i++) {
		const seq = parseInt(kids[i].textContent.slice(0, 8), 10);
		if (seq !== i) return 'element ' + i + ' holds event ' + seq;
	}
	return '';
};
`

const wasmPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>browserbench: wasm SDK</title>
<script>
// ?syms loads the build of ssekit.wasm that keeps its symbols, for a profile
// with function names.
if (new URLSearchParams(location.search).has('syms')) globalThis.SSEKIT_BASE = '/bench/syms/';
</script>
<script src="/ssekit.js"></script></head>
<body><div id="out"></div>
<script>` + benchScript + `
SSEKit.ready.then(() => {
	const c = window.client = SSEKit.connect('/api/sse/connect/' + encodeURIComponent(bench.id), {maxRetries: 0});
	c.onState(s => { if (s.state === 'open') { bench.open = true; bench.opens++; } });
	c.onError(e => { bench.error ||= String(e && e.message); });
	c.bind(out, 'message', {mode: 'text'});
}, e => { bench.error = 'load: ' + e; });
</script></body></html>
`

const plainPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>browserbench: plain EventSource</title></head>
<body><div id="out"></div>
<script>` + benchScript + `
const es = window.client = new EventSource('/api/sse/connect/' + encodeURIComponent(bench.id));
es.onopen = () => { bench.open = true; bench.opens++; };
es.onmessage = e => {
	const d = document.createElement('div');
	d.textContent = e.data;
	out.append(d);
};
</script></body></html>
`

// pages serves the bench pages under /bench/, the build of ssekit.wasm
// with symbols (when symsWasm is set) under /bench/syms/, and everything
// else from next (the hub: its API and www/).
func pages(next http.Handler, www string, symsWasm *string) http.Handler {
	byPath := map[string]string{"/bench/wasm.html": wasmPage, "/bench/plain.html": plainPage}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bench/syms/ssekit.wasm":
			if *symsWasm == "" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/wasm")
			http.ServeFile(w, r, *symsWasm)
			return
		case "/bench/syms/wasm_exec.js":
			http.ServeFile(w, r, filepath.Join(www, "wasm_exec.js"))
			return
		}
		page, ok := byPath[r.URL.Path]
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = strings.NewReader(page).WriteTo(w)
	})
}
