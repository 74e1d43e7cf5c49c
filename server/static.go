package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
)

// The static files: www/ as committed plus the built ssekit.wasm and the
// copied wasm_exec.js. Everything derived is computed here at startup,
// nothing generated is committed:
//   - a content hash per file: the ETag ("<hash>", "<hash>-br", "<hash>-gz"
//     per encoding), and a second URL "name.<hash>.ext" served with
//     immutable caching; the plain names are served with no-cache, so a
//     browser revalidates them (304 on If-None-Match);
//   - gzip and brotli variants of text files and the wasm, picked by
//     Accept-Encoding. They are compressed in the background (brotli's best
//     level takes seconds on the wasm), so the server starts at once and
//     serves the identity until they are ready;
//   - the loader (ssekit.js) with the hashed names of ssekit.wasm and
//     wasm_exec.js written into its assets marker, so the browser fetches
//     them from their immutable URLs without a revalidation round trip.
// Files are read once: restart the server after rebuilding the wasm.

// assetsMarker in a .js or .mjs file is rewritten with a JSON object that
// maps the loader's assets to their hashed names.
const assetsMarker = "/*ssekit:assets*/{}"

// loaderAssets are the files whose hashed names the loader learns.
var loaderAssets = []string{"ssekit.wasm", "wasm_exec.js"}

// strictCSP is the policy www/csp.html is served with: the SDK must work
// without inline scripts, eval or markup sinks.
const strictCSP = "script-src 'self' 'wasm-unsafe-eval'; require-trusted-types-for 'script'; trusted-types ssekit; object-src 'none'; base-uri 'none'"

// pageHeaders are extra response headers of single pages.
var pageHeaders = map[string]http.Header{
	"/csp.html": {"Content-Security-Policy": {strictCSP}},
}

const (
	immutableCache = "public, max-age=31536000, immutable"
	maxStaticBytes = 256 << 20 // in memory; files past it are skipped with a warning
	hashLen        = 16        // hex characters of the SHA-256 used in names and ETags
)

// compressible lists the extensions that get gzip and brotli variants.
var compressible = map[string]bool{
	".html": true, ".htm": true, ".js": true, ".mjs": true, ".css": true, ".wasm": true,
	".json": true, ".map": true, ".svg": true, ".txt": true, ".md": true, ".ts": true, ".xml": true,
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8", ".wasm": "application/wasm",
	".json": "application/json", ".map": "application/json", ".svg": "image/svg+xml",
	".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
	".ts": "text/plain; charset=utf-8", ".xml": "application/xml",
}

// content is one file's bytes and what is derived from them.
type content struct {
	typ    string
	hash   string // hashLen hex characters
	raw    []byte
	pack   bool // gets compressed variants
	br, gz atomic.Pointer[[]byte]
}

// entry is what one URL path serves.
type entry struct {
	c         *content
	immutable bool
	header    http.Header
}

type staticFiles struct {
	files map[string]entry // by URL path, plain and hashed
	ready chan struct{}    // closed once the compressed variants are in place
}

// newStatic loads dir and serves it. A missing wasm build is a warning, not
// a failure, so the API still runs.
func newStatic(dir string, log *slog.Logger) http.Handler {
	s := loadStatic(dir, log)
	go s.compressAll()
	return s
}

func loadStatic(dir string, log *slog.Logger) *staticFiles {
	s := &staticFiles{files: make(map[string]entry), ready: make(chan struct{})}
	byPath := map[string]*content{}
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(p) // follows a symlink
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		if total+info.Size() > maxStaticBytes {
			log.Warn("static files: over the in-memory limit, file skipped", slog.String("file", p), slog.Int64("limit", maxStaticBytes))
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			log.Warn("static files: unreadable, skipped", slog.String("file", p), slog.String("error", err.Error()))
			return nil
		}
		total += int64(len(raw))
		rel, _ := filepath.Rel(dir, p)
		byPath["/"+filepath.ToSlash(rel)] = newContent(rel, raw)
		return nil
	})
	if err != nil {
		log.Warn("static files: cannot read the directory", slog.String("dir", dir), slog.String("error", err.Error()))
	}
	// The loader's marker needs the other files' hashes first.
	for name, c := range byPath {
		if compressible[path.Ext(name)] && bytes.Contains(c.raw, []byte(assetsMarker)) {
			byPath[name] = newContent(name, rewriteAssets(c.raw, name, byPath))
		}
	}
	for name, c := range byPath {
		s.files[name] = entry{c: c, header: pageHeaders[name]}
	}
	for name, c := range byPath {
		if h := hashedName(name, c.hash); s.files[h].c == nil {
			s.files[h] = entry{c: c, immutable: true, header: pageHeaders[name]}
		}
	}
	if wasm := byPath["/ssekit.wasm"]; wasm != nil {
		log.Info("static files loaded", slog.String("dir", dir), slog.Int("files", len(byPath)),
			slog.String("wasm", hashedName("/ssekit.wasm", wasm.hash)), slog.Int("wasmBytes", len(wasm.raw)))
	} else {
		log.Warn("ssekit.wasm not built: the demo pages will not load the SDK (run make wasm)", slog.String("dir", dir))
	}
	return s
}

func newContent(name string, raw []byte) *content {
	sum := sha256.Sum256(raw)
	ext := path.Ext(name)
	typ := contentTypes[ext]
	if typ == "" {
		typ = mime.TypeByExtension(ext)
	}
	if typ == "" {
		typ = http.DetectContentType(raw)
	}
	return &content{typ: typ, hash: hex.EncodeToString(sum[:])[:hashLen], raw: raw, pack: compressible[ext]}
}

// hashedName turns "/dir/name.ext" into "/dir/name.<hash>.ext".
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	if ext == "" || strings.HasPrefix(path.Base(name), ".") {
		return name + "." + hash
	}
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// rewriteAssets writes the hashed names of the loader's assets found in the
// same directory as file into its marker.
func rewriteAssets(raw []byte, file string, byPath map[string]*content) []byte {
	dir := path.Dir(file)
	names := map[string]string{}
	for _, a := range loaderAssets {
		if c := byPath[path.Join(dir, a)]; c != nil {
			names[a] = path.Base(hashedName(a, c.hash))
		}
	}
	js, _ := json.Marshal(names) // escapes <, > and & as \u003c...: safe inside a script
	return bytes.ReplaceAll(raw, []byte(assetsMarker), []byte("/*ssekit:assets*/"+string(js)))
}

// compressAll computes the variants, smallest files first, sharing results
// between the handlers of one process (tests start many hubs).
func (s *staticFiles) compressAll() {
	defer close(s.ready)
	var list []*content
	seen := map[*content]bool{}
	for _, e := range s.files {
		if e.c.pack && !seen[e.c] {
			seen[e.c] = true
			list = append(list, e.c)
		}
	}
	slices.SortFunc(list, func(a, b *content) int { return len(a.raw) - len(b.raw) })
	for _, c := range list {
		v := variantsOf(c.raw, c.hash)
		if v.gz != nil {
			c.gz.Store(&v.gz)
		}
		if v.br != nil {
			c.br.Store(&v.br)
		}
	}
}

type variants struct {
	once   sync.Once
	br, gz []byte // nil when compression does not pay
}

var variantCache sync.Map // full SHA-256 of the raw bytes -> *variants

func variantsOf(raw []byte, hash string) *variants {
	sum := sha256.Sum256(raw)
	v, _ := variantCache.LoadOrStore(string(sum[:]), &variants{})
	vs := v.(*variants)
	vs.once.Do(func() {
		vs.gz = worthIt(raw, gzipBytes(raw))
		vs.br = worthIt(raw, brotliBytes(raw))
	})
	return vs
}

// worthIt keeps a variant that saves at least a tenth.
func worthIt(raw, packed []byte) []byte {
	if packed == nil || len(packed) > len(raw)*9/10 {
		return nil
	}
	return packed
}

func gzipBytes(raw []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := w.Write(raw); err != nil || w.Close() != nil {
		return nil
	}
	return b.Bytes()
}

// brotliLevel is brotli's best level, except under the race detector, where
// the instrumented encoder is about ten times slower (about a minute for the
// wasm) and a fast level keeps test suites quick.
var brotliLevel = sync.OnceValue(func() int {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				return 5
			}
		}
	}
	return brotli.BestCompression
})

func brotliBytes(raw []byte) []byte {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, brotliLevel())
	if _, err := w.Write(raw); err != nil || w.Close() != nil {
		return nil
	}
	return b.Bytes()
}

func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Path
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	dirLike := strings.HasSuffix(name, "/")
	name = path.Clean(name)
	if dirLike {
		name = path.Join(name, "index.html")
	}
	e, ok := s.files[name]
	if !ok {
		if _, isDir := s.files[path.Join(name, "index.html")]; isDir && !dirLike {
			http.Redirect(w, r, path.Base(name)+"/", http.StatusMovedPermanently)
			return
		}
		writeError(w, ErrNotFound)
		return
	}
	h := w.Header()
	for k, v := range e.header {
		h[k] = v
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", e.c.typ)
	if e.immutable {
		h.Set("Cache-Control", immutableCache)
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, tag := e.c.raw, e.c.hash
	if e.c.pack {
		h.Add("Vary", "Accept-Encoding")
		switch pickEncoding(r.Header.Get("Accept-Encoding"), e.c.br.Load() != nil, e.c.gz.Load() != nil) {
		case "br":
			body, tag = *e.c.br.Load(), tag+"-br"
			h.Set("Content-Encoding", "br")
		case "gzip":
			body, tag = *e.c.gz.Load(), tag+"-gz"
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", `"`+tag+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// pickEncoding chooses br, gzip or "" (identity) from an Accept-Encoding
// header: the available coding with the highest q, br on a tie.
func pickEncoding(accept string, haveBr, haveGzip bool) string {
	q := map[string]float64{}
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding == "" {
			continue
		}
		weight := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			weight = f
		}
		if coding == "x-gzip" {
			coding = "gzip"
		}
		q[coding] = weight
	}
	weight := func(c string) float64 {
		if w, ok := q[c]; ok {
			return w
		}
		return q["*"]
	}
	best, bestQ := "", 0.0
	if haveBr && weight("br") > bestQ {
		best, bestQ = "br", weight("br")
	}
	if haveGzip && weight("gzip") > bestQ {
		best = "gzip"
	}
	return best
}
