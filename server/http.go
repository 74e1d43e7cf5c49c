package server

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/handlers"

	"github.com/ssekit/ssekit/sdk/wire"
)

// Handler returns the hub's HTTP API, demos, operations endpoints and (with
// WithStatic) the static files, behind CORS. The hub's own paths (/api/...,
// /sse/..., /healthz, ...) always answer JSON 404/405 for unknown routes and
// wrong methods; every other path goes to the static files.
func (h *Hub) Handler() http.Handler {
	routes := h.routes()
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle(rt.pattern(), h.instrument(rt))
	}
	api := h.jsonMisses(mux)
	var root http.Handler = api
	if h.cfg.wwwDir != "" {
		static := newStatic(h.cfg.wwwDir, h.log)
		paths := newAPIPaths(routes)
		root = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case paths.match(r.URL.Path):
				api.ServeHTTP(w, r)
			case r.Method == http.MethodGet || r.Method == http.MethodHead:
				static.ServeHTTP(w, r)
			default:
				w.Header().Set("Allow", "GET, HEAD")
				h.refuse(w, r, ErrMethod)
			}
		})
	}
	if len(h.cfg.corsOrigins) > 0 {
		root = handlers.CORS(
			handlers.AllowedOrigins(h.cfg.corsOrigins),
			handlers.AllowedMethods([]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete}),
			handlers.AllowedHeaders([]string{"Content-Type", "Authorization", "Last-Event-ID", "Idempotency-Key"}),
			handlers.ExposedHeaders([]string{"Retry-After"}),
			handlers.AllowCredentials(),
		)(root)
	}
	return root
}

// instrument wraps a route with its log line and metrics: latency for
// requests that end (streams do not), refusals by status for all.
func (h *Hub) instrument(rt route) http.Handler {
	hist := h.met.latency.WithLabelValues(rt.name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		rt.handle(sw, r)
		elapsed := time.Since(start)
		if !rt.stream || sw.status != http.StatusOK || r.Method == http.MethodHead {
			hist.Observe(elapsed.Seconds())
		}
		level := slog.LevelDebug
		if sw.status >= 400 {
			h.met.refused.WithLabelValues(rt.name, itoa(sw.status)).Inc()
			level = slog.LevelInfo
		}
		h.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("route", rt.name), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("elapsed", elapsed), slog.String("remote", r.RemoteAddr))
	})
}

// refuse answers err for a request no route took (404, 405).
func (h *Hub) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	h.met.refused.WithLabelValues("none", itoa(status)).Inc()
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.String("remote", r.RemoteAddr))
	writeError(w, err)
}

// jsonMisses answers unknown routes (404) and wrong methods (405) with a
// JSON error instead of the mux's plain text.
func (h *Hub) jsonMisses(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &missProbe{header: http.Header{}}
		mux.ServeHTTP(probe, r)
		switch probe.status {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", probe.header.Get("Allow"))
			h.refuse(w, r, ErrMethod)
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			mux.ServeHTTP(w, r) // the mux cleans the path: let it redirect
		default:
			h.refuse(w, r, ErrNotFound)
		}
	})
}

// missProbe records what the mux's own 404/405 handler would answer.
type missProbe struct {
	header http.Header
	status int
}

func (p *missProbe) Header() http.Header         { return p.header }
func (p *missProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *missProbe) WriteHeader(code int)        { p.status = code }

func (h *Hub) handleConnect(w http.ResponseWriter, r *http.Request) {
	req, err := h.parseStream(r, r.PathValue("clientId"))
	if err != nil {
		writeError(w, err)
		return
	}
	h.serveStream(w, r, req)
}

func (h *Hub) handleSend(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("clientId")
	if !validName(id) {
		writeError(w, ErrBadClientID)
		return
	}
	h.handlePublish(w, r, target{kind: toClient, name: id})
}

func (h *Hub) handleSendAll(w http.ResponseWriter, r *http.Request) {
	h.handlePublish(w, r, target{kind: toAll})
}

func (h *Hub) handleTopic(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	if !validName(topic) {
		writeError(w, ErrBadTopic)
		return
	}
	h.handlePublish(w, r, target{kind: toTopic, name: topic})
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 128

func (h *Hub) handlePublish(w http.ResponseWriter, r *http.Request, to target) {
	ev, err := h.decodePublish(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	publish := func() (Published, error) { return h.publish(to, ev) }
	var res Published
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > maxIdempotencyKey || !wire.ValidField(key) {
			writeError(w, errors.Join(ErrBadBody, errors.New("Idempotency-Key must be 1-128 bytes without CR, LF or NUL")))
			return
		}
		res, err = h.idem.do(targetKey(to)+"\x00"+key, publish)
	} else {
		res, err = publish()
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, res)
}

func targetKey(t target) string {
	return string(rune('0'+t.kind)) + t.name
}

func (h *Hub) handleDisconnect(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("clientId")
	if !validName(id) {
		writeError(w, ErrBadClientID)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"clientId": id, "disconnected": h.Disconnect(id)})
}

func (h *Hub) handleClients(w http.ResponseWriter, _ *http.Request) {
	list := h.Clients()
	writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "clients": list})
}

func (h *Hub) handleHealth(w http.ResponseWriter, _ *http.Request) {
	if err := h.BrokerHealth(); err != nil {
		writeJSON(w, http.StatusOK, map[string]string{"status": "degraded", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *Hub) handleReady(w http.ResponseWriter, _ *http.Request) {
	if err := h.Ready(); err != nil {
		status := "draining"
		if errors.Is(err, ErrBrokerDown) {
			status = "degraded"
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": status, "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
