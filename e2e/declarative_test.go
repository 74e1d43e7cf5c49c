package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestDeclarative_markupWiresStreams adds data-sse-* markup to a page after
// the SDK is ready (the loader watches for it): each container opens its
// stream, swap children render per their mode, insert and max, a nested
// container keeps its own children, a bad option is reported without
// breaking the rest, and removing a container closes its stream.
func TestDeclarative_markupWiresStreams(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := loadPage(t, hub, "/")
	EvalJS[bool](t, ctx, `(() => {
		const el = (tag, attrs, ...kids) => {
			const e = document.createElement(tag);
			for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
			e.append(...kids);
			return e;
		};
		const tpl = el('template', {id: 'decl-row'});
		tpl.content.append(el('li', {class: 'row'}, el('b', {}, '{{who}}'), ': {{text}}'));
		document.body.append(tpl);
		window.__errors = [];
		const origError = console.error;
		console.error = (...a) => { window.__errors.push(a.map(String).join(' ')); origError.apply(console, a); };
		document.body.append(el('section', {id: 'decl', 'data-sse-connect': '/api/sse/connect/decl'},
			el('ul', {id: 'decl-text', 'data-sse-swap': 'message'}),
			el('div', {id: 'decl-html', 'data-sse-swap': 'html', 'data-sse-mode': 'sanitized-html'}),
			el('ol', {id: 'decl-items', 'data-sse-swap': 'item', 'data-sse-insert': 'prepend', 'data-sse-max': '2'}),
			el('ul', {id: 'decl-rows', 'data-sse-swap': 'row', 'data-sse-template': 'decl-row'}),
			el('div', {id: 'decl-bad', 'data-sse-swap': 'message', 'data-sse-mode': 'html'}),
			el('div', {id: 'decl-inner', 'data-sse-connect': '/api/sse/connect/decl-inner'},
				el('ul', {id: 'decl-inner-text', 'data-sse-swap': 'message'}))));
		return true;
	})()`)
	WaitJS(t, ctx, `document.getElementById('decl').getAttribute('data-sse-state') === 'open' &&
		document.getElementById('decl-inner').getAttribute('data-sse-state') === 'open'`)

	publish(t, hub, "decl", "message", `<b>not bold</b>`)
	publish(t, hub, "decl", "html", `<b>bold</b><img src=x onerror="window.__pwned=1">`)
	for _, item := range []string{"one", "two", "three"} {
		publish(t, hub, "decl", "item", item)
	}
	publish(t, hub, "decl", "row", map[string]string{"who": "<i>ann</i>", "text": "hi"})
	publish(t, hub, "decl-inner", "message", "inner")
	WaitJS(t, ctx, `document.querySelectorAll('#decl-text li').length === 1 && document.querySelector('#decl-html b') !== null &&
		document.querySelector('#decl-items').textContent === 'threetwo' && document.querySelectorAll('#decl-rows li').length === 1 &&
		document.querySelectorAll('#decl-inner-text li').length === 1`)

	checks := []struct{ what, js, want string }{
		{"text mode", `document.querySelector('#decl-text li').textContent`, `<b>not bold</b>`},
		{"sanitized mode", `document.querySelector('#decl-html').innerHTML`, `<div><b>bold</b></div>`},
		{"prepend with max", `[...document.querySelectorAll('#decl-items li')].map(li => li.textContent).join(',')`, "three,two"},
		{"template", `document.querySelector('#decl-rows li').outerHTML`, `<li class="row"><b>&lt;i&gt;ann&lt;/i&gt;</b>: hi</li>`},
		{"inner stream only", `[...document.querySelectorAll('#decl-inner-text li')].map(li => li.textContent).join(',')`, "inner"},
		{"bad mode not bound", `String(document.querySelector('#decl-bad').childNodes.length)`, "0"},
		{"bad mode reported", `String(window.__errors.some(e => e.includes('data-sse-swap') && e.includes('mode')))`, "true"},
	}
	for _, c := range checks {
		if got := EvalJS[string](t, ctx, c.js); got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, got, c.want)
		}
	}

	// Removing the containers closes both streams.
	if n := hub.Conns(); n != 2 {
		t.Fatalf("%d streams open, want 2", n)
	}
	EvalJS[bool](t, ctx, `(window.__decl = document.getElementById('decl'), window.__decl.remove(), true)`)
	Eventually(t, 2*time.Second, "the removed containers' streams are closed", func() bool { return hub.Conns() == 0 })
	if got := EvalJS[bool](t, ctx, `SSEKit.clientFor(window.__decl) === null`); !got {
		t.Fatal("the removed container still has a client")
	}
	if pwned := EvalJS[bool](t, ctx, `typeof window.__pwned !== 'undefined'`); pwned {
		t.Fatal("a payload ran")
	}
}

// TestBind_badOptionsThrow: bind refuses what it cannot honour at once,
// with an Error naming the option, and binds nothing.
func TestBind_badOptionsThrow(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := loadPage(t, hub, "/")
	got := EvalJS[[]string](t, ctx, `(() => {
		const c = SSEKit.connect('/api/sse/connect/badbind');
		const tries = [
			() => c.bind({}, 'x'),
			() => c.bind(null, 'x'),
			() => c.bind('#no-such-element', 'x'),
			() => c.bind('#messages', 'x', {mode: 'html'}),
			() => c.bind('#messages', 'x', {insert: 'before'}),
			() => c.bind('#messages', 'x', {max: -1}),
			() => c.bind('#messages', 'x', {max: 'many'}),
			() => c.bind('#messages', 'x', {template: 5}),
			() => c.bind('#messages', 'x', {template: {}}),
		];
		const out = tries.map(f => { try { f(); return 'bound'; } catch (e) { return e.message; } });
		c.close();
		return out;
	})()`)
	wants := []string{"selector", "selector", "selector matches no element", "mode", "insert", "max", "max", "template", "template"}
	for i, w := range wants {
		if !strings.Contains(got[i], w) {
			t.Errorf("try %d: %q, want an error about %s", i, got[i], w)
		}
	}
}
