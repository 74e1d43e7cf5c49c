package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"
)

// wwwFixture writes a small www/ with a loader that carries the assets
// marker, a compressible stand-in for the wasm, and files that must never be
// served.
func wwwFixture(t *testing.T, withWasm bool) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"index.html":      "<!doctype html><title>x</title>" + strings.Repeat("<p>hello</p>", 200),
		"ssekit.js":       "var assets = " + assetsMarker + ";\n" + strings.Repeat("// loader\n", 200),
		"wasm_exec.js":    strings.Repeat("globalThis.Go = function () {};\n", 100),
		"csp.html":        "<!doctype html><script src=ssekit.js></script>",
		"ssekit.d.ts":     "export declare const x: number;\n",
		"demo.css":        "body{}",
		"tiny.txt":        "x",
		"sub/index.html":  "sub page",
		".secret":         "never served",
		".git/config":     "never served",
		"image.unknownxt": "\x89PNG\r\n\x1a\n",
	}
	if withWasm {
		files["ssekit.wasm"] = "\x00asm\x01\x00\x00\x00" + strings.Repeat("wasm code and data, compressible ", 4000)
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// serveStatic loads dir, waits for the compressed variants and serves the
// files on a loopback socket.
func serveStatic(t *testing.T, dir string, log *slog.Logger) (*staticFiles, *httptest.Server) {
	t.Helper()
	s := loadStatic(dir, log)
	s.compressAll()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// get fetches path with the given request headers (pairs), without the
// transport's own gzip handling.
func get(t *testing.T, base, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func decode(t *testing.T, encoding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch encoding {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		t.Fatalf("unexpected encoding %q", encoding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", encoding, err)
	}
	return out
}

func TestStatic_contentTypes(t *testing.T) {
	t.Parallel()
	_, srv := serveStatic(t, wwwFixture(t, true), discard())
	cases := []struct{ path, want string }{
		{"/", "text/html; charset=utf-8"},
		{"/index.html", "text/html; charset=utf-8"},
		{"/ssekit.js", "text/javascript; charset=utf-8"},
		{"/ssekit.wasm", "application/wasm"},
		{"/ssekit.d.ts", "text/plain; charset=utf-8"},
		{"/demo.css", "text/css; charset=utf-8"},
		{"/image.unknownxt", "image/png"},
		{"/sub/", "text/html; charset=utf-8"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			t.Parallel()
			resp, _ := get(t, srv.URL, c.path)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != c.want {
				t.Fatalf("%s: %d %q, want 200 %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.want)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("%s: no nosniff", c.path)
			}
		})
	}
}

func TestStatic_encodings(t *testing.T) {
	t.Parallel()
	dir := wwwFixture(t, true)
	_, srv := serveStatic(t, dir, discard())
	wasm, err := os.ReadFile(filepath.Join(dir, "ssekit.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ accept, want string }{
		{"", ""},
		{"identity", ""},
		{"gzip", "gzip"},
		{"x-gzip", "gzip"},
		{"gzip, deflate, br, zstd", "br"},
		{"br;q=0.5, gzip", "gzip"},
		{"br;q=0, gzip;q=0", ""},
		{"*", "br"},
		{"*;q=0.1, br;q=0", "gzip"},
		{"BR", "br"},
		{"br;q=bogus, gzip", "gzip"},
	}
	for _, c := range cases {
		t.Run(c.accept, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, srv.URL, "/ssekit.wasm", "Accept-Encoding", c.accept)
			if got := resp.Header.Get("Content-Encoding"); got != c.want {
				t.Fatalf("Accept-Encoding %q: Content-Encoding %q, want %q", c.accept, got, c.want)
			}
			if resp.Header.Get("Content-Type") != "application/wasm" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Fatalf("headers %v", resp.Header)
			}
			if !bytes.Equal(decode(t, c.want, body), wasm) {
				t.Fatal("decoded body differs from the file")
			}
			if c.want != "" && len(body) >= len(wasm)/2 {
				t.Fatalf("%s body is %d bytes for %d raw", c.want, len(body), len(wasm))
			}
		})
	}
}

func TestStatic_smallFilesStayIdentity(t *testing.T) {
	t.Parallel()
	_, srv := serveStatic(t, wwwFixture(t, true), discard())
	resp, body := get(t, srv.URL, "/tiny.txt", "Accept-Encoding", "br, gzip")
	if resp.Header.Get("Content-Encoding") != "" || string(body) != "x" {
		t.Fatalf("tiny file: encoding %q body %q", resp.Header.Get("Content-Encoding"), body)
	}
}

func TestStatic_etagAndRevalidation(t *testing.T) {
	t.Parallel()
	_, srv := serveStatic(t, wwwFixture(t, true), discard())
	for _, enc := range []string{"", "gzip", "br"} {
		t.Run("encoding="+enc, func(t *testing.T) {
			t.Parallel()
			resp, _ := get(t, srv.URL, "/ssekit.wasm", "Accept-Encoding", enc)
			etag := resp.Header.Get("ETag")
			if !regexp.MustCompile(`^"[0-9a-f]{16}(-br|-gz)?"$`).MatchString(etag) {
				t.Fatalf("ETag %q", etag)
			}
			if resp.Header.Get("Cache-Control") != "no-cache" {
				t.Fatalf("plain name: Cache-Control %q, want no-cache", resp.Header.Get("Cache-Control"))
			}
			again, body := get(t, srv.URL, "/ssekit.wasm", "Accept-Encoding", enc, "If-None-Match", etag)
			if again.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Fatalf("If-None-Match %s: %d with %d bytes, want 304 empty", etag, again.StatusCode, len(body))
			}
			other, _ := get(t, srv.URL, "/ssekit.wasm", "Accept-Encoding", enc, "If-None-Match", `"0000000000000000"`)
			if other.StatusCode != http.StatusOK {
				t.Fatalf("stale If-None-Match: %d, want 200", other.StatusCode)
			}
		})
	}
	// Each encoding is its own representation with its own tag.
	a, _ := get(t, srv.URL, "/ssekit.wasm")
	b, _ := get(t, srv.URL, "/ssekit.wasm", "Accept-Encoding", "br")
	if a.Header.Get("ETag") == b.Header.Get("ETag") {
		t.Fatalf("identity and br share ETag %s", a.Header.Get("ETag"))
	}
}

func TestStatic_hashedNames(t *testing.T) {
	t.Parallel()
	dir := wwwFixture(t, true)
	s, srv := serveStatic(t, dir, discard())
	resp, loader := get(t, srv.URL, "/ssekit.js")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("loader: %d", resp.StatusCode)
	}
	m := regexp.MustCompile(`/\*ssekit:assets\*/(\{[^}]*\})`).FindSubmatch(loader)
	if m == nil {
		t.Fatalf("loader has no rewritten marker:\n%.200s", loader)
	}
	var names map[string]string
	if err := json.Unmarshal(m[1], &names); err != nil {
		t.Fatalf("marker %s: %v", m[1], err)
	}
	wasmRaw, _ := os.ReadFile(filepath.Join(dir, "ssekit.wasm"))
	for _, a := range loaderAssets {
		hashed := names[a]
		if !regexp.MustCompile(`^[a-z_]+\.[0-9a-f]{16}\.(wasm|js)$`).MatchString(hashed) {
			t.Fatalf("hashed name of %s: %q", a, hashed)
		}
		resp, body := get(t, srv.URL, "/"+hashed)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != immutableCache {
			t.Fatalf("%s: %d, Cache-Control %q", hashed, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		if a == "ssekit.wasm" && (!bytes.Equal(body, wasmRaw) || resp.Header.Get("Content-Type") != "application/wasm") {
			t.Fatalf("hashed wasm serves other bytes or type %q", resp.Header.Get("Content-Type"))
		}
	}
	// A name with a hash the content no longer has is not found: an
	// immutable URL must never serve other bytes.
	stale := hashedName("/ssekit.wasm", "0123456789abcdef")
	if resp, body := get(t, srv.URL, stale); resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("stale hashed name: %d %s", resp.StatusCode, body)
	}
	// The rewritten loader is served with its own hash.
	if e := s.files["/ssekit.js"]; e.c.hash == "" || s.files[hashedName("/ssekit.js", e.c.hash)].c != e.c {
		t.Fatal("the rewritten loader has no hashed name of its own")
	}
}

func TestStatic_notServed(t *testing.T) {
	t.Parallel()
	_, srv := serveStatic(t, wwwFixture(t, true), discard())
	for _, p := range []string{"/.secret", "/.git/config", "/missing.js", "/../static.go", "/sub/../../etc/passwd", "/%2e%2e/static.go"} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, srv.URL, p)
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"error"`) {
				t.Fatalf("%s: %d %s, want 404 with a JSON error", p, resp.StatusCode, body)
			}
		})
	}
	resp, _ := get(t, srv.URL, "/sub")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/sub/" {
		t.Fatalf("/sub: %d Location %q, want a redirect to sub/", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestStatic_cspPage(t *testing.T) {
	t.Parallel()
	_, srv := serveStatic(t, wwwFixture(t, true), discard())
	resp, _ := get(t, srv.URL, "/csp.html")
	if got := resp.Header.Get("Content-Security-Policy"); got != strictCSP {
		t.Fatalf("csp.html: CSP %q", got)
	}
	if resp, _ := get(t, srv.URL, "/index.html"); resp.Header.Get("Content-Security-Policy") != "" {
		t.Fatal("index.html got the strict CSP")
	}
}

// syncBuffer is a log sink safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStatic_withoutWasm(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	th := startHub(t, WithStatic(wwwFixture(t, false)), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if !strings.Contains(logs.String(), "ssekit.wasm not built") {
		t.Fatalf("no warning about the missing wasm in %q", logs.String())
	}
	resp, body := get(t, th.URL, "/ssekit.wasm")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("/ssekit.wasm: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, th.URL, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/: %d", resp.StatusCode)
	}
	// The loader's marker names only what exists.
	_, loader := get(t, th.URL, "/ssekit.js")
	if !regexp.MustCompile(`/\*ssekit:assets\*/\{"wasm_exec\.js":"wasm_exec\.[0-9a-f]{16}\.js"\}`).Match(loader) {
		t.Fatalf("loader marker: %.120s", loader)
	}
	if resp, _ := get(t, th.URL, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
}

func TestStatic_throughHub(t *testing.T) {
	t.Parallel()
	dir := wwwFixture(t, true)
	th := startHub(t, WithStatic(dir))
	resp, body := get(t, th.URL, "/ssekit.wasm", "Accept-Encoding", "gzip, br")
	raw, _ := os.ReadFile(filepath.Join(dir, "ssekit.wasm"))
	// Variants may still be compressing: any encoding, same bytes.
	if resp.StatusCode != http.StatusOK || !bytes.Equal(decode(t, resp.Header.Get("Content-Encoding"), body), raw) {
		t.Fatalf("/ssekit.wasm through the hub: %d", resp.StatusCode)
	}
	if resp, _ := get(t, th.URL, "/api/sse/nope"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("API miss: %d", resp.StatusCode)
	}
}

func TestPickEncoding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		accept string
		br, gz bool
		want   string
	}{
		{"br, gzip", true, true, "br"},
		{"br, gzip", false, true, "gzip"},
		{"br, gzip", false, false, ""},
		{"br", false, true, ""},
		{"gzip;q=1, br;q=0.9", true, true, "gzip"},
		{"gzip;q=0.9, br;q=0.9", true, true, "br"},
		{" , ;q=1,", true, true, ""},
	}
	for _, c := range cases {
		if got := pickEncoding(c.accept, c.br, c.gz); got != c.want {
			t.Errorf("pickEncoding(%q, br=%v, gz=%v) = %q, want %q", c.accept, c.br, c.gz, got, c.want)
		}
	}
}

func TestHashedName(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"/ssekit.wasm":  "/ssekit.h.wasm",
		"/wasm_exec.js": "/wasm_exec.h.js",
		"/a/b.min.js":   "/a/b.min.h.js",
		"/LICENSE":      "/LICENSE.h",
	}
	for in, want := range cases {
		if got := hashedName(in, "h"); got != want {
			t.Errorf("hashedName(%q) = %q, want %q", in, got, want)
		}
	}
}
