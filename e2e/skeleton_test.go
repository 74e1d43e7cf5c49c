package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// openSDKPage loads the demo page and waits until the wasm SDK is ready.
func openSDKPage(t *testing.T, hub *Hub) context.Context {
	t.Helper()
	ctx := NewTab(t, browser)
	if err := chromedp.Do(ctx, chromedp.Navigate(hub.URL+"/")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	EvalJS[bool](t, ctx, `SSEKit.ready.then(() => true)`)
	return ctx
}

// connectJS connects in the page as id, records states and message events
// in window globals, and waits until the stream is open.
func connectJS(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	EvalJS[bool](t, ctx, `(() => {
		window.__states = [];
		window.__events = [];
		const c = SSEKit.connect('/api/sse/connect/`+id+`');
		window.__client = c;
		c.onState(s => window.__states.push(s.state));
		c.on('message', e => window.__events.push(e));
		return true;
	})()`)
	WaitJS(t, ctx, `window.__states.includes('open')`)
}

func TestSkeleton_demoPageReceivesMessage(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := openSDKPage(t, hub)
	// Drive the demo page as a person would: connect as bob.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#client-id"), "bob"),
		chromedp.Click(chromedp.CSS("#connect")),
	); err != nil {
		t.Fatal(err)
	}
	WaitJS(t, ctx, `document.getElementById('state').textContent === 'open'`)
	status, body := hub.Post(t, "/api/sse/send/bob", "application/x-www-form-urlencoded", "message=hi+bob")
	if status != http.StatusAccepted {
		t.Fatalf("send: %d %s", status, body)
	}
	var res struct {
		ID        string `json:"id"`
		Delivered int    `json:"delivered"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || res.Delivered != 1 || res.ID == "" {
		t.Fatalf("send result %s (%v): want one delivery and an id", body, err)
	}
	WaitJS(t, ctx, `[...document.querySelectorAll('#messages li')].some(li => li.textContent === 'hi bob')`)
}

func TestSkeleton_xssPayloadStaysText(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := openSDKPage(t, hub)
	EvalJS[bool](t, ctx, `(() => {
		window.__states = [];
		const c = SSEKit.connect('/api/sse/connect/mallory');
		c.onState(s => window.__states.push(s.state));
		c.bind('#messages', 'message');
		return true;
	})()`)
	WaitJS(t, ctx, `window.__states.includes('open')`)
	payload := `<img src=x onerror="window.__pwned=1">`
	status, body := hub.Post(t, "/api/sse/send/mallory", "application/json", `{"data":`+jsonString(payload)+`}`)
	if status != http.StatusAccepted {
		t.Fatalf("send: %d %s", status, body)
	}
	WaitJS(t, ctx, `document.querySelectorAll('#messages li').length === 1`)
	got := EvalJS[string](t, ctx, `document.querySelector('#messages li').textContent`)
	if got != payload {
		t.Fatalf("text = %q, want the payload verbatim %q", got, payload)
	}
	if n := EvalJS[int](t, ctx, `document.querySelectorAll('img').length`); n != 0 {
		t.Fatalf("%d img elements created", n)
	}
	// Give an onerror handler every chance to run: wait for a later event to
	// arrive on the same stream, then check the trap.
	hub.Post(t, "/api/sse/send/mallory", "application/x-www-form-urlencoded", "message=after")
	WaitJS(t, ctx, `document.querySelectorAll('#messages li').length === 2`)
	if pwned := EvalJS[bool](t, ctx, `typeof window.__pwned !== 'undefined'`); pwned {
		t.Fatal("window.__pwned was set: the payload ran")
	}
}

func TestSkeleton_stateTransitions(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := openSDKPage(t, hub)
	connectJS(t, ctx, "carol")
	EvalJS[bool](t, ctx, `(window.__client.close(), true)`)
	got := EvalJS[[]string](t, ctx, `window.__states`)
	want := []string{"connecting", "open", "closed"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("states = %v, want %v", got, want)
	}
	// The server unregisters the closed stream within a second.
	Eventually(t, time.Second, "the closed stream is unregistered", func() bool { return hub.Conns() == 0 })
}

func TestSkeleton_multilineAndUnicode(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := openSDKPage(t, hub)
	connectJS(t, ctx, "dave")
	cases := []struct{ sent, want string }{
		{"line1\nline2", "line1\nline2"},
		{"crlf1\r\ncrlf2", "crlf1\ncrlf2"},
		{"cr1\rcr2", "cr1\ncr2"},
		{"\n\nempty lines\n", "\n\nempty lines\n"},
		{" leading space: colon", " leading space: colon"},
		{"用户支付成功", "用户支付成功"},
		{"", ""},
	}
	for _, c := range cases {
		if status, body := hub.Post(t, "/api/sse/send/dave", "application/json", `{"data":`+jsonString(c.sent)+`}`); status != http.StatusAccepted {
			t.Fatalf("send %q: %d %s", c.sent, status, body)
		}
	}
	WaitJS(t, ctx, `window.__events.length === `+strconv.Itoa(len(cases)))
	got := EvalJS[[]string](t, ctx, `window.__events.map(e => e.raw)`)
	for i, c := range cases {
		if got[i] != c.want {
			t.Errorf("event %d: got %q, want %q", i, got[i], c.want)
		}
	}
}

func TestSkeleton_badFieldsReachNoStream(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := openSDKPage(t, hub)
	connectJS(t, ctx, "erin")
	for _, body := range []string{
		`{"event":"a\nb","data":"x"}`,
		`{"event":"a\rb","data":"x"}`,
		`{"id":"1\n2","data":"x"}`,
		`{"id":"1\u00002","data":"x"}`,
	} {
		status, resp := hub.Post(t, "/api/sse/send/erin", "application/json", body)
		if status != http.StatusBadRequest || !strings.Contains(resp, `"error"`) {
			t.Errorf("%s: got %d %s, want 400 with a JSON error", body, status, resp)
		}
	}
	// A good event after the bad ones is the first and only one to arrive.
	hub.Post(t, "/api/sse/send/erin", "application/x-www-form-urlencoded", "message=good")
	WaitJS(t, ctx, `window.__events.length >= 1`)
	got := EvalJS[[]string](t, ctx, `window.__events.map(e => e.raw)`)
	if len(got) != 1 || got[0] != "good" {
		t.Fatalf("events = %q, want only [good]", got)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
