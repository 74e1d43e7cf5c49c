package server

import (
	"errors"
	"net/http"

	"github.com/gorilla/handlers"

	"github.com/ssekit/ssekit/sdk/wire"
)

// Handler returns the hub's HTTP API, demos, operations endpoints and (with
// WithStatic) the static files, behind CORS.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern, route string, fn http.HandlerFunc) {
		mux.HandleFunc(pattern, h.met.observe(route, fn))
	}
	mux.HandleFunc("GET /api/sse/connect", h.handleConnect)
	mux.HandleFunc("GET /api/sse/connect/{clientId}", h.handleConnect)
	api("POST /api/sse/send/{clientId}", "send", h.handleSend)
	api("POST /api/sse/sendAll", "sendAll", h.handleSendAll)
	api("POST /api/sse/topics/{topic}", "topics", h.handleTopic)
	api("DELETE /api/sse/disconnect/{clientId}", "disconnect", h.handleDisconnect)
	api("GET /api/sse/clients", "clients", h.handleClients)
	mux.HandleFunc("GET /orderpay", h.handleOrderPay)
	api("GET /payback", "payback", h.handlePayBack)
	mux.HandleFunc("GET /sse/words", h.handleWords)
	mux.HandleFunc("GET /sse/stats", h.handleStats)
	mux.HandleFunc("GET /healthz", h.handleHealth)
	mux.HandleFunc("GET /readyz", h.handleReady)
	mux.Handle("GET /metrics", h.met.handler())
	if h.cfg.wwwDir != "" {
		mux.Handle("GET /", newStatic(h.cfg.wwwDir, h.log))
	}
	var root http.Handler = jsonMisses(mux)
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

// jsonMisses answers unknown routes (404) and wrong methods (405) with a
// JSON error instead of the mux's plain text.
func jsonMisses(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &missProbe{header: http.Header{}}
		mux.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, ErrMethod)
			return
		}
		writeError(w, ErrNotFound)
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
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *Hub) handleReady(w http.ResponseWriter, _ *http.Request) {
	if err := h.Ready(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
