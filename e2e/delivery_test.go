package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/chromedp/chromedp"
)

// fetch GETs url with the given headers (pairs), without the transport's
// own decompression.
func fetch(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestDelivery_wasmServedAndCached checks the real build as the server
// delivers it: application/wasm, an ETag with 304 on revalidation, a brotli
// variant that decodes to the file, and a content-hashed URL that the loader
// uses and the browser then takes from its cache without asking again.
func TestDelivery_wasmServedAndCached(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(Root(), "www", "ssekit.wasm"))
	if err != nil {
		t.Fatalf("the wasm must be built first (make wasm): %v", err)
	}
	hub := StartHub(t)

	// The plain name: as is, no-cache, revalidated with 304.
	resp, body := fetch(t, hub.URL+"/ssekit.wasm")
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/wasm" ||
		resp.Header.Get("Cache-Control") != "no-cache" || etag == "" || !bytes.Equal(body, raw) {
		t.Fatalf("/ssekit.wasm: %d %v (%d bytes, want %d)", resp.StatusCode, resp.Header, len(body), len(raw))
	}
	if again, _ := fetch(t, hub.URL+"/ssekit.wasm", "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation with %s: %d, want 304", etag, again.StatusCode)
	}

	// Brotli once the background compression is done (it starts with the
	// server; the identity is served meanwhile).
	var br []byte
	Eventually(t, 90*time.Second, "a brotli variant of the wasm", func() bool {
		resp, body := fetch(t, hub.URL+"/ssekit.wasm", "Accept-Encoding", "br, gzip")
		if resp.Header.Get("Content-Encoding") == "br" {
			br = body
			return true
		}
		return false
	})
	decoded, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
	if err != nil || !bytes.Equal(decoded, raw) {
		t.Fatalf("brotli variant does not decode to the wasm (%v)", err)
	}
	t.Logf("wasm: %d bytes, %d brotli as served", len(raw), len(br))

	// The browser loads the hashed URLs the server wrote into ssekit.js.
	ctx := loadPage(t, hub, "/")
	hashed := regexp.MustCompile(`/ssekit\.[0-9a-f]{16}\.wasm$`)
	names := EvalJS[[]string](t, ctx, `performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)`)
	var wasmPath string
	for _, n := range names {
		if hashed.MatchString(n) {
			wasmPath = n
		}
		if n == "/ssekit.wasm" {
			t.Errorf("the loader fetched the plain name: %v", names)
		}
	}
	if wasmPath == "" {
		t.Fatalf("no hashed wasm among the page's resources %v", names)
	}
	if !regexp.MustCompile(`/wasm_exec\.[0-9a-f]{16}\.js`).MatchString(EvalJS[string](t, ctx, `performance.getEntriesByType('resource').map(e => e.name).join(' ')`)) {
		t.Errorf("wasm_exec.js not loaded from its hashed URL: %v", names)
	}
	resp, _ = fetch(t, hub.URL+wasmPath)
	if resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("%s: Cache-Control %q", wasmPath, resp.Header.Get("Cache-Control"))
	}
	// The browser got it compressed (gzip or brotli, whatever it asked for).
	sizes := EvalJS[[]float64](t, ctx, `(e => [e.encodedBodySize, e.decodedBodySize])(performance.getEntriesByType('resource')
		.find(e => new URL(e.name).pathname === `+jsLiteral(t, wasmPath)+`))`)
	if len(sizes) != 2 || sizes[1] != float64(len(raw)) || sizes[0]*2 > sizes[1] {
		t.Fatalf("wasm sizes in the browser (encoded, decoded) = %v, want it compressed to under half of %d", sizes, len(raw))
	}
	t.Logf("wasm in Chromium: %.0f bytes on the wire for %.0f", sizes[0], sizes[1])

	// A second visit takes the immutable wasm from the cache: nothing is
	// transferred for it.
	if err := chromedp.Do(ctx, chromedp.Navigate(hub.URL+"/?again")); err != nil {
		t.Fatal(err)
	}
	EvalJS[bool](t, ctx, `SSEKit.ready.then(() => true)`)
	transfer := EvalJS[[]float64](t, ctx, `performance.getEntriesByType('resource')
		.filter(e => new URL(e.name).pathname === `+jsLiteral(t, wasmPath)+`).map(e => e.transferSize)`)
	if len(transfer) != 1 || transfer[0] != 0 {
		t.Fatalf("second visit transferred %v bytes for the wasm, want it from the cache (0)", transfer)
	}
}

// TestDelivery_esModule loads a page that only imports ssekit.mjs: the
// module brings the classic loader, the wasm is found beside the module,
// and its exports are the SSEKit API.
func TestDelivery_esModule(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := NewTab(t, browser)
	watchPage(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(hub.URL+"/module.html")); err != nil {
		t.Fatal(err)
	}
	WaitJS(t, ctx, `window.moduleDemo !== undefined && window.moduleDemo.client.state().state === 'open'`)
	if got := EvalJS[bool](t, ctx, `window.moduleDemo.SSEKit === globalThis.SSEKit && document.querySelectorAll('script:not([type=module])').length === 1`); !got {
		t.Fatal("the module's default export is not globalThis.SSEKit, or scripts other than wasm_exec.js were added")
	}
	status, body := hub.Post(t, "/api/sse/sendAll", "application/x-www-form-urlencoded", "message=via+module")
	if status != http.StatusAccepted {
		t.Fatalf("sendAll: %d %s", status, body)
	}
	WaitJS(t, ctx, `[...document.querySelectorAll('#messages li')].some(d => d.textContent === 'via module')`)
}
