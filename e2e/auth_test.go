package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ssekit/ssekit/server"
)

const e2eSecret server.Secret = "e2e-auth-secret-e2e-auth-secret-0123456789"

// isolatedPage opens path of hub in a tab with a browser context of its
// own (its own cookie jar: two pages of one test hold different sessions
// for the same host), and waits until the SDK is ready.
func isolatedPage(t *testing.T, hub *Hub, path string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel() })
	watchPage(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(hub.URL+path)); err != nil {
		t.Fatalf("navigate %s: %v", path, err)
	}
	EvalJS[bool](t, ctx, `SSEKit.ready.then(() => true)`)
	return ctx
}

func mintE2E(t *testing.T, sub string, ttl time.Duration) string {
	t.Helper()
	tok, err := server.MintToken(e2eSecret, server.Claims{Subject: sub, Expiry: time.Now().Add(ttl)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// sessionJS exchanges a bearer token for the session cookie as a page
// does: fetch with the header, the cookie comes back HttpOnly.
const sessionJS = `(async (token) => {
	const r = await fetch('/api/sse/session', {method: 'POST', headers: {Authorization: 'Bearer ' + token}, credentials: 'same-origin'});
	const body = await r.json();
	return {status: r.status, clientId: body.clientId || '', scriptSeesCookie: document.cookie.includes('ssekit_session')};
})`

type sessionResult struct {
	Status           int    `json:"status"`
	ClientID         string `json:"clientId"`
	ScriptSeesCookie bool   `json:"scriptSeesCookie"`
}

func login(t *testing.T, ctx context.Context, token string) {
	t.Helper()
	got := EvalJS[sessionResult](t, ctx, sessionJS+`(`+jsLiteral(t, token)+`)`)
	if got.Status != 200 || got.ScriptSeesCookie {
		t.Fatalf("session: %+v, want 200 and a cookie scripts cannot read", got)
	}
}

// connectAuthJS connects to url, recording states, message data and auth
// errors in window.__s[name]; the auth hook stops the client.
const connectAuthJS = `((name, url) => {
	window.__s = window.__s || {};
	const rec = {states: [], data: [], auth: []};
	window.__s[name] = rec;
	const c = SSEKit.connect(url);
	rec.client = c;
	c.onState(s => rec.states.push(s.state));
	c.on('message', e => rec.data.push(e.data));
	c.onAuthError(info => { rec.auth.push(info); return false; });
	return true;
})`

// TestAuth_browserSessionCookie: with -auth-secret, a page exchanges its
// token for the session cookie, its EventSource authenticates with it and
// receives its own messages and broadcasts only; a page holding another
// id's cookie gets 403 on that id's stream, a page without one 401.
func TestAuth_browserSessionCookie(t *testing.T) {
	t.Parallel()
	hub := StartHub(t, server.WithAuthSecrets(e2eSecret))
	alice := isolatedPage(t, hub, "/")
	bob := isolatedPage(t, hub, "/")
	stranger := isolatedPage(t, hub, "/")
	login(t, alice, mintE2E(t, "alice", time.Hour))
	login(t, bob, mintE2E(t, "bob", time.Hour))

	EvalJS[bool](t, alice, connectAuthJS+`('own', '/api/sse/connect/alice')`)
	EvalJS[bool](t, bob, connectAuthJS+`('own', '/api/sse/connect/bob')`)
	WaitJS(t, alice, `window.__s.own.states.includes('open')`)
	WaitJS(t, bob, `window.__s.own.states.includes('open')`)
	publish(t, hub, "alice", "message", "for alice")
	publish(t, hub, "bob", "message", "for bob")
	if status, body := hub.Post(t, "/api/sse/sendAll", "application/x-www-form-urlencoded", "message=for+all"); status != 202 {
		t.Fatalf("sendAll: %d %s", status, body)
	}
	WaitJS(t, alice, `window.__s.own.data.length === 2`)
	WaitJS(t, bob, `window.__s.own.data.length === 2`)
	if got := EvalJS[[]string](t, alice, `window.__s.own.data`); got[0] != "for alice" || got[1] != "for all" {
		t.Fatalf("alice received %q", got)
	}
	if got := EvalJS[[]string](t, bob, `window.__s.own.data`); got[0] != "for bob" || got[1] != "for all" {
		t.Fatalf("bob received %q", got)
	}

	// Bob's cookie on alice's stream, and no cookie at all.
	EvalJS[bool](t, bob, connectAuthJS+`('other', '/api/sse/connect/alice')`)
	WaitJS(t, bob, `window.__s.other.auth.length > 0`)
	if got := EvalJS[int](t, bob, `window.__s.other.auth[0].status`); got != 403 {
		t.Fatalf("bob on alice's stream: auth error status %d, want 403", got)
	}
	if got := EvalJS[int](t, bob, `fetch('/api/sse/connect/alice', {credentials: 'same-origin'}).then(r => r.status)`); got != 403 {
		t.Fatalf("bob's fetch of alice's stream: %d, want 403", got)
	}
	EvalJS[bool](t, stranger, connectAuthJS+`('none', '/api/sse/connect/alice')`)
	WaitJS(t, stranger, `window.__s.none.auth.length > 0`)
	if got := EvalJS[int](t, stranger, `window.__s.none.auth[0].status`); got != 401 {
		t.Fatalf("no cookie: auth error status %d, want 401", got)
	}
	if n := len(hub.Clients()); n != 2 {
		t.Fatalf("%d streams open, want alice's and bob's", n)
	}
}

// TestAuth_browserRenewsExpiredSession: a stream ends with end
// token-expired when its token runs out; the page's auth hook gets a fresh
// cookie from the session route and the client reconnects, resuming.
func TestAuth_browserRenewsExpiredSession(t *testing.T) {
	t.Parallel()
	hub := StartHub(t, server.WithAuthSecrets(e2eSecret))
	page := isolatedPage(t, hub, "/")
	login(t, page, mintE2E(t, "carol", 2*time.Second))
	fresh := mintE2E(t, "carol", time.Hour)
	EvalJS[bool](t, page, `((token) => {
		const rec = {states: [], data: [], auth: []};
		window.__rec = rec;
		const c = SSEKit.connect('/api/sse/connect/carol');
		c.onState(s => rec.states.push(s.state));
		c.on('message', e => rec.data.push(e.data));
		c.onAuthError(async info => {
			rec.auth.push(info);
			const r = await fetch('/api/sse/session', {method: 'POST', headers: {Authorization: 'Bearer ' + token}});
			return r.ok;
		});
		return true;
	})(`+jsLiteral(t, fresh)+`)`)
	WaitJS(t, page, `window.__rec.states.includes('open')`)
	publish(t, hub, "carol", "message", "before")
	WaitJS(t, page, `window.__rec.data.includes('before')`)
	WaitJS(t, page, `window.__rec.auth.length === 1`)
	if got := EvalJS[string](t, page, `window.__rec.auth[0].reason`); got != "token-expired" {
		t.Fatalf("auth hook reason %q, want token-expired", got)
	}
	WaitJS(t, page, `window.__rec.states.filter(s => s === 'open').length === 2`)
	publish(t, hub, "carol", "message", "after")
	WaitJS(t, page, `window.__rec.data.includes('after')`)
	if got := EvalJS[[]string](t, page, `window.__rec.data`); len(got) != 2 {
		t.Fatalf("received %q, want before and after once each", got)
	}
}
