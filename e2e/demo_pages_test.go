package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ssekit/ssekit/server"
)

// TestDemoPages_streams opens www/streams.html, which has no script of its
// own: the words stream renders every word and stops after end, and the
// stats template shows the server's figures.
func TestDemoPages_streams(t *testing.T) {
	t.Parallel()
	hub := StartHub(t, server.WithWordsInterval(20*time.Millisecond))
	ctx := loadPage(t, hub, "/streams.html")
	WaitJS(t, ctx, `document.querySelectorAll('#words li').length === 9 &&
		document.getElementById('words-stream').getAttribute('data-sse-state') === 'closed'`)
	if got := EvalJS[string](t, ctx, `[...document.querySelectorAll('#words li')].map(li => li.textContent).join(' ')`); got != "The quick brown fox jumps over the lazy dog." {
		t.Errorf("words: %q", got)
	}
	WaitJS(t, ctx, `document.querySelectorAll('#stats .figures li').length === 5`)
	if got := EvalJS[bool](t, ctx, `/^\d+$/.test(document.querySelector('#stats .figures li b').textContent)`); !got {
		t.Errorf("stats template: %q", EvalJS[string](t, ctx, `document.querySelector('#stats').textContent`))
	}
}

// TestDemoPages_payment drives www/pay.html as a person would: pay, the
// provider's callback arrives, the message shows and the page closes its
// stream on finish.
func TestDemoPages_payment(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := loadPage(t, hub, "/pay.html")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#payid"), "4242"),
		chromedp.Click(chromedp.CSS("#open")),
	); err != nil {
		t.Fatal(err)
	}
	WaitJS(t, ctx, `document.getElementById('state').textContent === 'open'`)
	resp, err := http.Get(hub.URL + "/payback?payid=4242")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("payback: %d", resp.StatusCode)
	}
	WaitJS(t, ctx, `document.getElementById('result').textContent === 'payment 4242 finished' &&
		document.getElementById('state').textContent === 'closed'`)
	if got := EvalJS[string](t, ctx, `document.querySelector('#messages li').textContent`); got != "用户支付成功" {
		t.Errorf("message: %q", got)
	}
}
