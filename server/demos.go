package server

import (
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// The payment demo: the page opens a stream for its payment id; the
// provider's callback (payback) pushes a message, then finish.

const paySuccess = "用户支付成功"

func payID(r *http.Request) (string, error) {
	raw := r.URL.Query().Get("payid")
	n, err := strconv.ParseUint(raw, 10, 63)
	if err != nil || n == 0 || raw[0] == '0' {
		return "", ErrBadPayID
	}
	return "pay-" + raw, nil
}

func (h *Hub) handleOrderPay(w http.ResponseWriter, r *http.Request) {
	id, err := payID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	h.serveStream(w, r, streamRequest{clientID: id, cursor: cursorOf(r)})
}

func cursorOf(r *http.Request) string {
	if c := r.Header.Get("Last-Event-ID"); c != "" {
		return c
	}
	return r.URL.Query().Get("lastEventId")
}

func (h *Hub) handlePayBack(w http.ResponseWriter, r *http.Request) {
	id, err := payID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	to := target{kind: toClient, name: id}
	msg, err := h.publish(to, wire.Event{Data: paySuccess})
	if err != nil {
		writeError(w, err)
		return
	}
	payload, _ := json.Marshal(map[string]string{"payid": strings.TrimPrefix(id, "pay-")})
	fin, err := h.publish(to, wire.Event{Type: "finish", Data: string(payload)})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"message": msg, "finish": fin})
}

// words is the finite-stream demo's text, one word per event.
var words = strings.Fields("The quick brown fox jumps over the lazy dog.")

// handleWords streams one word per interval, then end, then closes. Each
// word carries its index as id, so a browser that reconnects resumes.
func (h *Hub) handleWords(w http.ResponseWriter, r *http.Request) {
	next := 0
	if c, err := strconv.Atoi(cursorOf(r)); err == nil && c >= 0 && c < len(words) {
		next = c + 1
	}
	setStreamHeaders(w)
	w.WriteHeader(http.StatusOK)
	s := &streamWriter{w: w, rc: http.NewResponseController(w), timeout: h.cfg.writeTimeout}
	if s.send(wire.AppendRetry(nil, h.cfg.retry)) != nil {
		return
	}
	t := time.NewTicker(h.cfg.wordsInterval)
	defer t.Stop()
	for ; next < len(words); next++ {
		select {
		case <-r.Context().Done():
			return
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		frame, _ := wire.AppendEvent(nil, wire.Event{ID: strconv.Itoa(next), Data: words[next]})
		if s.send(frame) != nil {
			return
		}
	}
	_ = s.send(controlFrame("end", map[string]string{"reason": "done"}))
}

// handleStats streams server figures every second until the client leaves.
func (h *Hub) handleStats(w http.ResponseWriter, r *http.Request) {
	setStreamHeaders(w)
	w.WriteHeader(http.StatusOK)
	s := &streamWriter{w: w, rc: http.NewResponseController(w), timeout: h.cfg.writeTimeout}
	if s.send(wire.AppendRetry(nil, h.cfg.retry)) != nil {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastCount, lastAt := h.publishedCount(), time.Now()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.ctx.Done():
			return
		case now := <-t.C:
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			count := h.publishedCount()
			rate := float64(count-lastCount) / now.Sub(lastAt).Seconds()
			lastCount, lastAt = count, now
			data, _ := json.Marshal(map[string]any{
				"connections":  h.Conns(),
				"eventsPerSec": rate,
				"heapBytes":    ms.HeapAlloc,
				"goroutines":   runtime.NumGoroutine(),
				"time":         now.UTC().Format(time.RFC3339),
			})
			frame, _ := wire.AppendEvent(nil, wire.Event{Type: "stats", Data: string(data)})
			if s.send(frame) != nil {
				return
			}
		}
	}
}

func (h *Hub) publishedCount() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hist.last
}
