// Package e2e holds the end-to-end proof of ssekit: helpers that start a
// real hub on a loopback socket and a real headless Chromium, and the tests
// that drive the SDK in it.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ssekit/ssekit/server"
)

// Root returns the repository root, found from this file's location.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// Hub is a running hub on a loopback socket.
type Hub struct {
	*server.Hub
	URL string
	srv *http.Server
}

// StartHub runs a hub serving www/ on 127.0.0.1 with a random port; it is
// drained and closed when the test ends.
func StartHub(t testing.TB, opts ...server.Option) *Hub {
	t.Helper()
	opts = append([]server.Option{server.WithStatic(filepath.Join(Root(), "www"))}, opts...)
	h, err := server.New(opts...)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	hub := &Hub{Hub: h, URL: "http://" + ln.Addr().String(), srv: srv}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Drain(ctx)
		_ = srv.Shutdown(ctx)
	})
	return hub
}

// Post sends a publish request and returns the status and body.
func (h *Hub) Post(t testing.TB, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// ErrNoChromium says the browser binary is missing.
var ErrNoChromium = errors.New("e2e: Chromium not found: install it (apt-get install -y chromium) or set SSEKIT_CHROMIUM")

// ChromiumPath finds the browser: $SSEKIT_CHROMIUM, else chromium on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv("SSEKIT_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// NewBrowser starts one headless Chromium for a test binary. Tabs come from
// NewTab. The flags keep it off the network and working as root.
// Extra options (e.g. chromedp.IgnoreCertErrors) are added to the defaults.
func NewBrowser(ctx context.Context, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc, error) {
	path, err := ChromiumPath()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "ssekit-chromium-")
	if err != nil {
		return nil, nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-features", "LocalNetworkAccessChecks"),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(opts, extra...)...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// Start the browser now, so a broken install fails here with its reason.
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("e2e: start Chromium %s: %w", path, err)
	}
	return bctx, func() { cancelBrowser(); cancelAlloc(); os.RemoveAll(dir) }, nil
}

// NewTab opens a tab in the browser of ctx, closed when the test ends.
func NewTab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("new tab: %v", err)
	}
	return ctx
}

// Eventually polls cond every few milliseconds until it holds or within
// passes, and fails the test with what otherwise.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitJS polls a JS expression until it is truthy.
func WaitJS(t testing.TB, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(10*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// EvalJS evaluates expr (awaiting a promise) and returns its value.
func EvalJS[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}
