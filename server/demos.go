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

// payID validates the payid query parameter: a positive integer of 1-18
// digits without a leading zero, so each payment has exactly one spelling.
func payID(r *http.Request) (string, error) {
	raw := r.URL.Query().Get("payid")
	if len(raw) == 0 || len(raw) > 18 || raw[0] == '0' {
		return "", ErrBadPayID
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return "", ErrBadPayID
		}
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
	h.serveSide(w, r, h.cfg.wordsInterval, func(s *streamWriter, _ time.Time) (bool, error) {
		if next == len(words) {
			return true, s.send(controlFrame("end", map[string]string{"reason": "done"}))
		}
		frame, _ := wire.AppendEvent(nil, wire.Event{ID: strconv.Itoa(next), Data: words[next]})
		next++
		return false, s.send(frame)
	})
}

// handleStats streams server figures every second until the client leaves.
func (h *Hub) handleStats(w http.ResponseWriter, r *http.Request) {
	lastCount, lastAt := h.publishedCount(), time.Now()
	h.serveSide(w, r, time.Second, func(s *streamWriter, now time.Time) (bool, error) {
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
		return false, s.send(frame)
	})
}

// serveSide runs a demo stream: admitted like any stream (503 when full or
// draining; HEAD answers without opening it), it calls tick every interval
// until tick reports done, the client leaves, or the hub drains (a reconnect
// event) or closes.
func (h *Hub) serveSide(w http.ResponseWriter, r *http.Request, interval time.Duration,
	tick func(s *streamWriter, now time.Time) (done bool, err error)) {
	if r.Method == http.MethodHead {
		h.serveHead(w, "")
		return
	}
	c, err := h.openSide(r.RemoteAddr)
	if err != nil {
		writeError(w, err)
		return
	}
	defer h.closeSide(c)
	rc := http.NewResponseController(w)
	c.attach(rc)
	defer c.detach()
	h.met.opened.Inc()
	setStreamHeaders(w)
	w.WriteHeader(http.StatusOK)
	s := &streamWriter{w: w, rc: rc, timeout: h.cfg.writeTimeout, killed: c.killed}
	reason := func() string {
		if s.send(wire.AppendRetry(nil, h.cfg.retry)) != nil {
			return "write-error"
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-r.Context().Done():
				return "client-gone"
			case <-h.ctx.Done():
				return "hub-closed"
			case <-c.quit:
				_ = s.send(c.final)
				return c.reason
			case now := <-t.C:
				done, err := tick(s, now)
				if err != nil {
					return "write-error"
				}
				if done {
					return "done"
				}
			}
		}
	}()
	h.met.closed.WithLabelValues(reason).Inc()
}

func (h *Hub) publishedCount() uint64 {
	return h.published.Load()
}
