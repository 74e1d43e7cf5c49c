package e2e

import (
	"strconv"
	"testing"
)

// xssPayloads try every way we know to run script or to leave an element or
// attribute outside the allow-list. Each that runs sets window.__pwned (or
// parent.__pwned from a frame).
var xssPayloads = []string{
	`<script>window.__pwned=1</script>`,
	`<SCRIPT>window.__pwned=1</SCRIPT>`,
	`<scr<script>ipt>window.__pwned=1</scr</script>ipt>`,
	`<img src=x onerror="window.__pwned=1">`,
	`<img src=x onerror=window.__pwned=1//`,
	`<IMG SRC=x OnErRoR=window.__pwned=1>`,
	`<img/src=x/onerror=window.__pwned=1>`,
	`<img """><script>window.__pwned=1</script>">`,
	`"><img src=x onerror=window.__pwned=1>`,
	`<svg onload="window.__pwned=1">`,
	`<svg><script>window.__pwned=1</script></svg>`,
	`<svg><animate onbegin="window.__pwned=1" attributeName=x dur=1s>`,
	`<svg><a xlink:href="javascript:window.__pwned=1"><text y=20>x</text></a></svg>`,
	`<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned=1">`,
	`<math href="javascript:window.__pwned=1">click</math>`,
	`<a href="javascript:window.__pwned=1">click</a>`,
	`<a href="JaVaScRiPt:window.__pwned=1">click</a>`,
	`<a href="  javascript:window.__pwned=1">click</a>`,
	`<a href="jav&#x09;ascript:window.__pwned=1">click</a>`,
	`<a href="jav&Tab;ascript:window.__pwned=1">click</a>`,
	"<a href=\"jav\nascript:window.__pwned=1\">click</a>",
	`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;window.__pwned=1">click</a>`,
	`<a href="&#x6A;avascript&#x3A;window.__pwned=1">click</a>`,
	`<a href=" &#14;javascript:window.__pwned=1">click</a>`,
	`<a href="javascript&colon;window.__pwned=1">click</a>`,
	`<a href="data:text/html,<script>window.__pwned=1</script>">click</a>`,
	`<a href="vbscript:msgbox(1)">click</a>`,
	`<a/href="javascript:window.__pwned=1">click</a>`,
	`<a href="https://example.com/" onclick="window.__pwned=1">ok</a>`,
	`<a href="http://x" title="</a><img src=x onerror=window.__pwned=1>">t</a>`,
	`<a href="javascript:window.__pwned=1"`,
	`<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>`,
	`<iframe src="javascript:parent.__pwned=1"></iframe>`,
	`<object data="javascript:window.__pwned=1"></object>`,
	`<embed src="javascript:window.__pwned=1">`,
	`<body onload="window.__pwned=1">`,
	`<details open ontoggle="window.__pwned=1">`,
	`<input autofocus onfocus="window.__pwned=1">`,
	`<video><source onerror="window.__pwned=1"></video>`,
	`<div style="background:url(javascript:window.__pwned=1)">css</div>`,
	`<p style="width:expression(window.__pwned=1)">ie</p>`,
	`<style>@import 'javascript:window.__pwned=1';</style>`,
	`<base href="javascript:window.__pwned=1//">`,
	`<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=1">`,
	`<form action="javascript:window.__pwned=1"><button>go</button></form>`,
	`<button formaction="javascript:window.__pwned=1">go</button>`,
	`<noscript><p title="</noscript><img src=x onerror=window.__pwned=1>">`,
	`<template><img src=x onerror="window.__pwned=1"></template>`,
	`<![CDATA[<img src=x onerror="window.__pwned=1">]]>`,
	`<!--<img src=x onerror="window.__pwned=1">-->`,
	`<!--><img src=x onerror="window.__pwned=1">-->`,
	`<xmp><img src=x onerror="window.__pwned=1"></xmp>`,
	`<textarea><img src=x onerror="window.__pwned=1"></textarea>`,
	`<select><option><img src=x onerror=window.__pwned=1>`,
	`<b onmouseover="window.__pwned=1">hover</b>`,
	`<span class="x" onclick="window.__pwned=1" title="t">s</span>`,
	`&lt;img src=x onerror=window.__pwned=1&gt;`,
	`<link rel=stylesheet href="javascript:window.__pwned=1">`,
}

// TestXSS_corpus sends every payload through text mode, sanitized-html mode
// and a template in real Chromium: no script runs (the page trap stays
// unset, while the same trap does fire for a payload the test itself inserts
// as markup) and no element or attribute outside the allow-list appears.
func TestXSS_corpus(t *testing.T) {
	t.Parallel()
	if len(xssPayloads) < 30 {
		t.Fatalf("corpus has %d payloads, want at least 30", len(xssPayloads))
	}
	hub := StartHub(t)
	ctx := loadPage(t, hub, "/")
	addContainers(t, ctx, "xss-text:div", "xss-html:div", "xss-list:ul", "xss-tmpl:ul", "xss-control:div")
	EvalJS[bool](t, ctx, `(() => {
		window.__states = [];
		const c = SSEKit.connect('/api/sse/connect/xss');
		c.onState(s => window.__states.push(s.state));
		c.bind('#xss-text', 'x');
		c.bind('#xss-html', 'x', {mode: 'sanitized-html'});
		c.bind('#xss-list', 'x', {mode: 'sanitized-html'});
		c.bind('#xss-tmpl', 't', {template:
			'<li class="row"><b>{{name}}</b> <a href="{{url}}" title="{{title}}">link</a> <span class="{{cls}}">{{$raw}}</span></li>'});
		return true;
	})()`)
	WaitJS(t, ctx, `window.__states.includes('open')`)

	benign := `<b>bold</b> <a href="https://example.com/ok" title="fine" class="c">ok</a>`
	all := append([]string{benign}, xssPayloads...)
	for _, p := range all {
		publish(t, hub, "xss", "x", p)
		publish(t, hub, "xss", "t", map[string]string{"name": p, "url": p, "title": p, "cls": p})
	}
	n := strconv.Itoa(len(all))
	WaitJS(t, ctx, `document.querySelector('#xss-text').children.length === `+n+
		` && document.querySelector('#xss-html').children.length === `+n+
		` && document.querySelector('#xss-list').children.length === `+n+
		` && document.querySelector('#xss-tmpl').children.length === `+n)

	// Text mode: each payload is one wrapper holding one text node with the
	// payload verbatim.
	checkTextMode(t, ctx, "#xss-text", all)
	// Sanitized HTML and templates: nothing outside the allow-list.
	auditContainers(t, ctx, "#xss-text:DIV", "#xss-html:DIV", "#xss-list:LI", "#xss-tmpl:")
	// Sanitizing is not just dropping: the benign markup survives.
	if got := EvalJS[string](t, ctx, `(() => {
		const first = document.querySelector('#xss-html').firstElementChild;
		const a = first.querySelector('a');
		return first.querySelector('b').textContent + '|' + a.getAttribute('href') + '|' + a.title + '|' + a.className;
	})()`); got != "bold|https://example.com/ok|fine|c" {
		t.Errorf("benign markup rendered as %q", got)
	}
	// Templates: every row has the template's four elements, whatever the
	// fields held, and the fields are text.
	rows := EvalJS[[]string](t, ctx, `[...document.querySelectorAll('#xss-tmpl > li')].map(li =>
		li.querySelectorAll('*').length + '|' + li.querySelector('b').textContent)`)
	for i, p := range all {
		if want := "3|" + p; rows[i] != want {
			t.Errorf("template row %d: got %q, want %q", i, rows[i], want)
		}
	}

	// The trap works: markup the test inserts itself does run, and by the
	// time its error handler fired, any image the SDK had created would
	// have failed to load too.
	EvalJS[bool](t, ctx, `(document.querySelector('#xss-control').innerHTML = '<img src="/no-such-image" onerror="window.__control=1">', true)`)
	WaitJS(t, ctx, `window.__control === 1`)
	if pwned := EvalJS[bool](t, ctx, `typeof window.__pwned !== 'undefined'`); pwned {
		t.Fatal("window.__pwned was set: a payload ran")
	}
}
