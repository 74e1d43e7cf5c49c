package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
)

// goAppPage loads ssekit.js for its helpers only, then the app's own wasm.
const goAppPage = `<!doctype html><meta charset="utf-8"><title>Go app</title>
<div id="msgs"></div>
<script>window.__goStates = []; window.__goErrors = []; window.__goOrders = [];</script>
<script src="/ssekit.js" data-wasm="none"></script>
<script src="/wasm_exec.js"></script>
<script>
const go = new Go();
WebAssembly.instantiateStreaming(fetch('/goapp/app.wasm'), go.importObject).then(r => go.run(r.instance));
</script>`

// TestGoApp_sdkPackageInTheBrowser: a Go app compiled to wasm with the SDK
// package (e2e/testdata/goapp) connects, decodes typed events with sdk.On
// and binds messages as text, on a page that loads ssekit.js with
// data-wasm="none": the helpers are there, ssekit.wasm is never fetched,
// and the JS API says why it is unavailable.
func TestGoApp_sdkPackageInTheBrowser(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "app.wasm"), "./e2e/testdata/goapp")
	build.Dir = Root()
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the Go app: %v\n%s", err, out)
	}
	hub := StartHub(t)
	var sdkWasm atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/goapp/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/goapp/app.wasm" {
			w.Header().Set("Content-Type", "application/wasm")
			http.ServeFile(w, r, filepath.Join(dir, "app.wasm"))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(goAppPage))
	})
	api := hub.Hub.Handler()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/ssekit") && strings.HasSuffix(r.URL.Path, ".wasm") {
			sdkWasm.Add(1)
		}
		api.ServeHTTP(w, r)
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)

	ctx := NewTab(t, browser)
	watchPage(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/goapp/")); err != nil {
		t.Fatal(err)
	}
	WaitJS(t, ctx, `window.__goStates.includes('open') || window.__goErrors.length > 0`)
	if errs := EvalJS[[]string](t, ctx, `window.__goErrors`); len(errs) > 0 {
		t.Fatalf("the Go app reported %v", errs)
	}
	if msg := EvalJS[string](t, ctx, `(() => { try { SSEKit.connect('/x'); return 'no error' } catch (e) { return e.message } })()`); !strings.Contains(msg, `data-wasm="none"`) {
		t.Errorf("SSEKit.connect on a helpers-only page: %q", msg)
	}

	const xss = `<img src=x onerror="window.__pwned=1">`
	publish(t, hub, "goapp", "message", "hello from the hub")
	publish(t, hub, "goapp", "message", xss)
	publish(t, hub, "goapp", "order", map[string]any{"sku": "A-1", "qty": 3})
	WaitJS(t, ctx, `window.__goOrders.length === 2`)
	if got := EvalJS[[]any](t, ctx, `window.__goOrders`); got[0] != "A-1" || got[1] != float64(3) {
		t.Errorf("sdk.On decoded %v, want A-1 3", got)
	}
	texts := EvalJS[[]string](t, ctx, `[...document.querySelectorAll('#msgs > *')].map(e => e.textContent)`)
	if len(texts) != 2 || texts[0] != "hello from the hub" || texts[1] != xss {
		t.Errorf("bound messages %q", texts)
	}
	if EvalJS[bool](t, ctx, `document.querySelector('#msgs img') !== null || window.__pwned === 1`) {
		t.Error("the payload became markup")
	}
	if n := sdkWasm.Load(); n != 0 {
		t.Errorf("ssekit.wasm fetched %d times on a helpers-only page", n)
	}
}
