package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// pageLog records a tab's uncaught exceptions and console output, so a test
// fails on an exception and shows the console when it fails.
type pageLog struct {
	mu         sync.Mutex
	exceptions []string
	console    []string
}

// watchPage subscribes to the tab's exceptions and console before anything
// loads in it.
func watchPage(t *testing.T, ctx context.Context) *pageLog {
	t.Helper()
	l := &pageLog{}
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			l.mu.Lock()
			l.exceptions = append(l.exceptions, text)
			l.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			l.mu.Lock()
			l.console = append(l.console, string(ev.Type)+": "+strings.Join(parts, " "))
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if len(l.exceptions) > 0 {
			t.Errorf("uncaught page exceptions: %q", l.exceptions)
		}
		if t.Failed() && len(l.console) > 0 {
			t.Logf("page console:\n%s", strings.Join(l.console, "\n"))
		}
	})
	return l
}

// loadPage opens path of hub in a new tab, watched for exceptions, and waits
// until the SDK is ready.
func loadPage(t *testing.T, hub *Hub, path string) context.Context {
	t.Helper()
	ctx := NewTab(t, browser)
	watchPage(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(hub.URL+path)); err != nil {
		t.Fatalf("navigate %s: %v", path, err)
	}
	EvalJS[bool](t, ctx, `SSEKit.ready.then(() => true)`)
	return ctx
}

// publish sends one event to a client id as JSON and fails on anything but
// a 202 that reached a stream.
func publish(t *testing.T, hub *Hub, clientID, event string, data any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"event": event, "data": data})
	if err != nil {
		t.Fatal(err)
	}
	status, resp := hub.Post(t, "/api/sse/send/"+clientID, "application/json", string(body))
	if status != http.StatusAccepted || strings.Contains(resp, `"delivered":0`) {
		t.Fatalf("publish %s to %s: %d %s", event, clientID, status, resp)
	}
}

// jsLiteral is v as a JavaScript literal (JSON is one).
func jsLiteral(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// auditJS is a page function that walks the element matched by its first
// argument and lists everything the sanitizer's allow-list forbids; direct
// children with the tag of its second argument are the SDK's wrappers and
// must have no attribute at all.
const auditJS = `((sel, wrapper) => {
	const allowed = new Set(['P','BR','B','I','EM','STRONG','CODE','PRE','UL','OL','LI','SPAN','A','BLOCKQUOTE']);
	const root = document.querySelector(sel);
	const bad = [];
	for (const el of root.querySelectorAll('*')) {
		const isWrapper = el.parentElement === root && el.tagName === wrapper;
		if (!allowed.has(el.tagName) && !isWrapper) bad.push('element ' + el.tagName);
		if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') bad.push('namespace ' + el.namespaceURI);
		for (const a of el.attributes) {
			if (isWrapper) { bad.push('attribute ' + a.name + ' on a wrapper'); continue; }
			if (a.name === 'title' || a.name === 'class') continue;
			if (a.name === 'href' && el.tagName === 'A') {
				let p = 'invalid';
				try { p = new URL(a.value).protocol; } catch (e) {}
				if (!['http:', 'https:', 'mailto:'].includes(p)) bad.push('href ' + JSON.stringify(a.value));
				continue;
			}
			bad.push('attribute ' + a.name + ' on ' + el.tagName);
		}
	}
	return bad;
})`

// addContainers appends one empty element per "id:tag" to the page's body,
// for a test to bind streams to.
func addContainers(t *testing.T, ctx context.Context, idTags ...string) {
	t.Helper()
	raw, err := json.Marshal(idTags)
	if err != nil {
		t.Fatal(err)
	}
	EvalJS[bool](t, ctx, `(() => {
		for (const it of `+string(raw)+`) {
			const [id, tag] = it.split(':');
			const el = document.createElement(tag);
			el.id = id;
			document.body.append(el);
		}
		return true;
	})()`)
}

// checkTextMode asserts that the text-mode container sel holds, in order,
// one plain div per payload (no attributes, one text node holding the
// payload verbatim).
func checkTextMode(t *testing.T, ctx context.Context, sel string, payloads []string) {
	t.Helper()
	texts := EvalJS[[]string](t, ctx, `[...document.querySelector(`+jsLiteral(t, sel)+`).children].map(d =>
		d.tagName === 'DIV' && d.attributes.length === 0 && d.childNodes.length === 1 && d.firstChild.nodeType === 3
			? d.textContent : '!not a plain wrapper with one text node: ' + d.tagName)`)
	if len(texts) != len(payloads) {
		t.Fatalf("%s holds %d elements, want %d", sel, len(texts), len(payloads))
	}
	for i, p := range payloads {
		if texts[i] != p {
			t.Errorf("text mode, payload %d: got %q, want %q", i, texts[i], p)
		}
	}
}

// auditContainers runs auditJS on each "selector:wrapper" (wrapper the
// tag each event is wrapped in, "" for bare nodes): nothing outside the
// allow-list may be there.
func auditContainers(t *testing.T, ctx context.Context, selWrappers ...string) {
	t.Helper()
	for _, sw := range selWrappers {
		sel, wrapper, _ := strings.Cut(sw, ":")
		if bad := EvalJS[[]string](t, ctx, auditJS+`(`+jsLiteral(t, sel)+`, `+jsLiteral(t, wrapper)+`)`); len(bad) > 0 {
			t.Errorf("%s holds what the allow-list forbids: %q", sel, bad)
		}
	}
}
