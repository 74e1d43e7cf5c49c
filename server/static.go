package server

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
)

// newStatic serves the demo pages and the SDK from dir. The wasm is served
// as is; a missing build is a warning, not a failure, so the API still runs.
func newStatic(dir string, log *slog.Logger) http.Handler {
	if _, err := os.Stat(filepath.Join(dir, "ssekit.wasm")); err != nil {
		log.Warn("ssekit.wasm not built: the demo pages will not load the SDK (run make wasm)", slog.String("dir", dir))
	}
	fs := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		fs.ServeHTTP(w, r)
	})
}
