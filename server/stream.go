package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ssekit/ssekit/sdk/wire"
)

// maxCursor bounds the Last-Event-ID the hub tries to resolve; longer
// cursors are treated as unknown (a reset), never as an error.
const maxCursor = 256

// streamRequest is a validated request to open a stream.
type streamRequest struct {
	clientID string
	topics   []string
	cursor   string
}

// parseStream validates a connect request. An empty id gets a fresh UUID.
func (h *Hub) parseStream(r *http.Request, clientID string) (streamRequest, error) {
	if clientID == "" {
		clientID = uuid.NewString()
	}
	if !validName(clientID) {
		return streamRequest{}, ErrBadClientID
	}
	topics, err := h.parseTopics(r.URL.Query().Get("topics"))
	if err != nil {
		return streamRequest{}, err
	}
	cursor := r.Header.Get("Last-Event-ID")
	if cursor == "" {
		cursor = r.URL.Query().Get("lastEventId")
	}
	return streamRequest{clientID: clientID, topics: topics, cursor: cursor}, nil
}

func (h *Hub) parseTopics(raw string) ([]string, error) {
	if raw == "" {
		return nil, nil
	}
	parts := strings.Split(raw, ",")
	if len(parts) > h.cfg.maxTopics {
		return nil, ErrTooManyTopics
	}
	seen := make(map[string]bool, len(parts))
	topics := make([]string, 0, len(parts))
	for _, t := range parts {
		if !validName(t) {
			return nil, ErrBadTopic
		}
		if !seen[t] {
			seen[t] = true
			topics = append(topics, t)
		}
	}
	return topics, nil
}

// validName checks client ids and topics: 1-128 of [A-Za-z0-9._:@-].
func validName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == ':', c == '@', c == '-':
		default:
			return false
		}
	}
	return true
}

func setStreamHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	hd.Set("X-Content-Type-Options", "nosniff")
}

// serveStream opens a stream for req: registers it (before any byte is
// written), sends retry + connected (+ reset or the missed events), then
// delivers until it ends: on a taken-over connection (serveRaw) for
// HTTP/1.x, else with a goroutine of its own (runStream).
func (h *Hub) serveStream(w http.ResponseWriter, r *http.Request, req streamRequest) {
	if r.Method == http.MethodHead {
		h.serveHead(w, req.clientID)
		return
	}
	if takeOver(w, r) {
		h.serveRaw(w, r, req)
		return
	}
	c := newConn(req.clientID, req.topics, h.cfg.queueSize, r.RemoteAddr, time.Now())
	replay, reset, err := h.register(c, req.cursor)
	if err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "stream refused",
			slog.String("client", req.clientID), slog.String("remote", r.RemoteAddr), slog.String("error", err.Error()))
		writeError(w, err)
		return
	}
	h.runStream(w, r, c, req, replay, reset)
}

// runStream serves a registered stream through net/http with a goroutine
// of its own (streamLoop) until it ends.
func (h *Hub) runStream(w http.ResponseWriter, r *http.Request, c *conn, req streamRequest, replay [][]byte, reset string) {
	rc := http.NewResponseController(w)
	c.attach(rc)
	defer c.detach()
	select {
	case <-c.killed: // dropped before attach: fail its writes as kill would have
		_ = rc.SetWriteDeadline(time.Unix(1, 0))
	default:
	}
	defer h.streams.Done()
	defer h.unregister(c)
	h.met.opened.Inc()
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "stream open",
		slog.String("client", c.clientID), slog.Any("topics", c.topics), slog.String("remote", c.remote),
		slog.Bool("resumed", req.cursor != "" && reset == ""), slog.String("reset", reset), slog.Int("replayed", len(replay)))

	setStreamHeaders(w)
	w.WriteHeader(http.StatusOK)
	s := &streamWriter{w: w, rc: rc, timeout: h.cfg.writeTimeout, killed: c.killed}

	first := h.firstFrame(c.clientID)
	if reset != "" {
		h.met.resets.WithLabelValues(reset).Inc()
		first = append(first, controlFrame("reset", map[string]string{"reason": reset})...)
	}
	h.met.replayed.Add(float64(len(replay)))

	reason := h.streamLoop(r, c, s, first, replay)
	h.met.closed.WithLabelValues(reason).Inc()
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "stream closed",
		slog.String("client", c.clientID), slog.String("remote", c.remote), slog.String("reason", reason))
}

// serveHead answers a HEAD on a stream path with the status and headers a
// GET would get now, without opening a stream.
func (h *Hub) serveHead(w http.ResponseWriter, clientID string) {
	if err := h.check(clientID); err != nil {
		writeError(w, err)
		return
	}
	setStreamHeaders(w)
	w.WriteHeader(http.StatusOK)
}

// streamLoop writes first and the replayed frames (shared with history, so
// written one by one rather than copied into one buffer), then runs the
// connection's one select loop until the stream ends, and says why it
// ended.
func (h *Hub) streamLoop(r *http.Request, c *conn, s *streamWriter, first []byte, replay [][]byte) string {
	writeFailed := func() string {
		select {
		case <-c.killed:
			return c.reason
		default:
			return "write-error"
		}
	}
	if err := s.write(first); err != nil {
		return writeFailed()
	}
	for _, f := range replay {
		if err := s.write(f); err != nil {
			return writeFailed()
		}
	}
	if err := s.flush(); err != nil {
		return writeFailed()
	}
	var rotate <-chan time.Time
	if h.cfg.maxStreamLife > 0 {
		t := time.NewTimer(h.cfg.maxStreamLife)
		defer t.Stop()
		rotate = t.C
	}
	// A runtime timer, like rotation's: no goroutine per stream.
	var expire <-chan time.Time
	if at, ok := tokenDeadline(r.Context()); ok {
		t := time.NewTimer(time.Until(at))
		defer t.Stop()
		expire = t.C
	}
	for {
		select {
		case <-r.Context().Done():
			// net/http cancels the request context as soon as it reads EOF on
			// the connection, so a client that leaves is noticed at once,
			// not at the next heartbeat write.
			return "client-gone"
		case <-h.ctx.Done():
			return "hub-closed"
		case <-rotate:
			h.unregister(c)
			s.drain(&c.queue)
			_ = s.send(h.reconnectFrame("rotation"))
			return "rotation"
		case <-expire:
			h.unregister(c)
			s.drain(&c.queue)
			_ = s.send(controlFrame("end", map[string]string{"reason": "token-expired"}))
			return "token-expired"
		case <-c.quit:
			if c.final != nil {
				s.drain(&c.queue)
				_ = s.send(c.final)
			}
			return c.reason
		case <-c.queue.wake:
			if err := s.batch(&c.queue); err != nil {
				return writeFailed()
			}
		}
	}
}

// firstFrame sets the client's retry and announces its id and the retry
// (which the browser hides from scripts).
func (h *Hub) firstFrame(clientID string) []byte {
	ms := h.cfg.retry.Milliseconds()
	f := wire.AppendRetry(nil, h.cfg.retry)
	return append(f, controlFrame("connected", map[string]any{"clientId": clientID, "retry": ms})...)
}

// streamWriter writes frames with a deadline on each write and flush.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	killed  <-chan struct{} // nil: never killed
	set     time.Time       // when the deadline was last moved
}

// deadlineSlack is the share of the write timeout a stream may have used
// up before its deadline is moved again: frames that follow each other
// closely share one deadline (moving it costs a runtime timer update per
// write), and no write gets less than 99% of the timeout.
const deadlineSlack = 100

func (s *streamWriter) deadline() error {
	if now := time.Now(); now.Sub(s.set) >= s.timeout/deadlineSlack {
		err := s.rc.SetWriteDeadline(now.Add(s.timeout))
		if err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		s.set = now
	}
	// After setting the deadline, so a concurrent kill always wins.
	select {
	case <-s.killed:
		return errKilled
	default:
		return nil
	}
}

func (s *streamWriter) write(frame []byte) error {
	if err := s.deadline(); err != nil {
		return err
	}
	_, err := s.w.Write(frame)
	return err
}

func (s *streamWriter) flush() error {
	if err := s.deadline(); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *streamWriter) send(frame []byte) error {
	if err := s.write(frame); err != nil {
		return err
	}
	return s.flush()
}

// batch writes everything queued and flushes it once, under one write
// deadline: a write+flush, as WithWriteTimeout bounds. The deadline is
// renewed after each batchDeadlineBytes written, so a large batch to a
// client that reads gets the same time per byte as single writes would.
func (s *streamWriter) batch(q *frameQueue) error {
	b := q.take()
	if len(b) == 0 {
		q.done(b)
		return nil
	}
	since, err := s.writeAll(b)
	q.done(b)
	if err != nil {
		return err
	}
	if since >= batchDeadlineBytes {
		return s.flush()
	}
	return s.rc.Flush()
}

// batchDeadlineBytes is how much a batch writes under one deadline.
const batchDeadlineBytes = 64 << 10

// writeAll writes b and says how many bytes went out under the last
// deadline it set.
func (s *streamWriter) writeAll(b [][]byte) (int, error) {
	since := batchDeadlineBytes
	for _, f := range b {
		if since >= batchDeadlineBytes {
			if err := s.deadline(); err != nil {
				return 0, err
			}
			since = 0
		}
		if _, err := s.w.Write(f); err != nil {
			return 0, err
		}
		since += len(f)
	}
	return since, nil
}

// drain writes what is already queued, without waiting for more.
func (s *streamWriter) drain(q *frameQueue) {
	b := q.take()
	_, _ = s.writeAll(b)
	q.done(b)
}
