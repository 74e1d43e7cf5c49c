package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestCSP_strictPageWorks loads www/csp.html, served with script-src 'self'
// 'wasm-unsafe-eval' and Trusted Types required: the SDK loads (its
// wasm_exec.js script URL comes from the 'ssekit' policy), the declarative
// markup connects, text, sanitized HTML and a template render, and the page
// reports no violation. Then a markup sink is tried on purpose, to show the
// policy is enforced and the listener does see violations.
func TestCSP_strictPageWorks(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	resp, err := http.Get(hub.URL + "/csp.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, d := range []string{"script-src 'self' 'wasm-unsafe-eval'", "require-trusted-types-for 'script'", "trusted-types ssekit"} {
		if !strings.Contains(csp, d) {
			t.Fatalf("csp.html policy %q lacks %q", csp, d)
		}
	}

	ctx := loadPage(t, hub, "/csp.html")
	WaitJS(t, ctx, `document.getElementById('stream').getAttribute('data-sse-state') === 'open'`)
	publish(t, hub, "csp-demo", "message", `<img src=x onerror="window.__pwned=1">plain`)
	publish(t, hub, "csp-demo", "html", `<b>bold</b><script>window.__pwned=1</script><a href="https://example.com/x">x</a>`)
	publish(t, hub, "csp-demo", "order", map[string]any{"sku": "A1<i>", "qty": 2, "url": "https://example.com/A1"})
	WaitJS(t, ctx, `document.querySelectorAll('#messages li').length === 1 && document.querySelectorAll('#rich > div').length === 1 && document.querySelectorAll('#orders li').length === 1`)

	if got := EvalJS[string](t, ctx, `document.querySelector('#messages li').textContent`); got != `<img src=x onerror="window.__pwned=1">plain` {
		t.Errorf("text mode rendered %q", got)
	}
	if got := EvalJS[string](t, ctx, `[...document.querySelectorAll('#rich *')].map(e => e.tagName + (e.getAttribute('href') || '')).join(',')`); got != "DIV,B,Ahttps://example.com/x" {
		t.Errorf("sanitized HTML rendered elements %q", got)
	}
	if got := EvalJS[string](t, ctx, `(() => { const li = document.querySelector('#orders li');
		return li.className + '|' + li.querySelector('b').textContent + '|' + li.textContent.includes('× 2') + '|' + li.querySelector('a').href; })()`); got != "order|A1<i>|true|https://example.com/A1" {
		t.Errorf("template rendered %q", got)
	}
	if v := EvalJS[[]map[string]any](t, ctx, `window.cspViolations`); len(v) != 0 {
		t.Fatalf("CSP violations while the SDK worked: %v", v)
	}
	if pwned := EvalJS[bool](t, ctx, `typeof window.__pwned !== 'undefined'`); pwned {
		t.Fatal("a payload ran")
	}

	// Enforcement is real: a markup sink throws and is reported, and no
	// second policy can be created (ssekit's holds the only allowed name).
	if got := EvalJS[string](t, ctx, `(() => { try { document.createElement('div').innerHTML = '<b>x</b>'; return 'allowed'; } catch (e) { return e.name; } })()`); got != "TypeError" {
		t.Fatalf("innerHTML under require-trusted-types-for: %s, want a TypeError", got)
	}
	if got := EvalJS[string](t, ctx, `(() => { try { trustedTypes.createPolicy('ssekit', {}); return 'created'; } catch (e) { return e.name; } })()`); got == "created" {
		t.Fatal("a second 'ssekit' policy could be created: the loader did not create its own")
	}
	WaitJS(t, ctx, `window.cspViolations.some(v => v.directive === 'require-trusted-types-for')`)
}
