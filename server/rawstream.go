package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A stream over HTTP/1.x without TLS is taken over from net/http (Hijack):
// the request's buffers and the handler's goroutine go away, and what stays
// per stream is its conn, a rawOut and one small goroutine blocked in Read,
// which notices at once when the client leaves. Writing is done by a few
// flushers shared by all streams (one per CPU): a publish queues the
// encoded frame on each stream and hands the streams that were idle to
// their flusher, which writes everything queued for a stream in one
// non-blocking writev. Frames published while a flusher works through its
// list pile up and go out together in its next round, so the busier the
// hub, the fewer write calls per event. A client whose socket buffer is
// full gets a goroutine of its own that waits, under the write timeout, for
// the socket to drain; its queue's bound drops it as slow otherwise.
//
// HTTP/2 and TLS streams keep the goroutine per stream of streamLoop.

// rawOut is the writing side of a taken-over stream.
type rawOut struct {
	h       *Hub
	c       *conn
	nc      net.Conn
	fd      syscall.RawConn // nil: every write waits in its own goroutine
	fl      *flusher
	release func() // gives back the per-address slot; may be nil

	timers   []*time.Timer // rotation and token expiry; set before the stream starts
	finished sync.Once
}

// takeOver reports whether serveStream can take r's connection over:
// HTTP/1.x, no TLS, and a ResponseWriter that can hijack.
func takeOver(w http.ResponseWriter, r *http.Request) bool {
	if r.ProtoMajor != 1 || r.TLS != nil {
		return false
	}
	for {
		if _, ok := w.(http.Hijacker); ok {
			return true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
}

// serveRaw is serveStream for a connection it takes over. The conn is
// registered first (its queue armed, so nothing is written before the
// head), then the connection is hijacked and the head, the first frames
// and the replay written from this goroutine, which then leaves the stream
// to its flusher.
func (h *Hub) serveRaw(w http.ResponseWriter, r *http.Request, req streamRequest) {
	c := newConn(req.clientID, req.topics, h.cfg.queueSize, r.RemoteAddr, time.Now())
	c.queue.raw, c.queue.armed = true, true
	replay, reset, err := h.register(c, req.cursor)
	if err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "stream refused",
			slog.String("client", req.clientID), slog.String("remote", r.RemoteAddr), slog.String("error", err.Error()))
		writeError(w, err)
		return
	}
	setStreamHeaders(w)
	head := streamHead(w.Header())
	nc, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not expected (takeOver checked): write through net/http instead.
		c.queue.unraw()
		h.runStream(w, r, c, req, replay, reset)
		return
	}
	// net/http may have left its read and write deadlines on the socket.
	_ = nc.SetDeadline(time.Time{})

	o := &rawOut{h: h, c: c, nc: nc, fl: h.flusherFor(), release: keepSlot(r.Context())}
	if sc, ok := nc.(syscall.Conn); ok && rawWrites {
		if fd, err := sc.SyscallConn(); err == nil {
			o.fd = fd
		}
	}
	o.timers = h.streamTimers(r.Context(), c)
	h.met.opened.Inc()
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "stream open",
		slog.String("client", c.clientID), slog.Any("topics", c.topics), slog.String("remote", c.remote),
		slog.Bool("resumed", req.cursor != "" && reset == ""), slog.String("reset", reset), slog.Int("replayed", len(replay)))

	first := append(head, h.firstFrame(c.clientID)...)
	if reset != "" {
		h.met.resets.WithLabelValues(reset).Inc()
		first = append(first, controlFrame("reset", map[string]string{"reason": reset})...)
	}
	h.met.replayed.Add(float64(len(replay)))
	pending := append(make([][]byte, 0, 1+len(replay)), first)
	pending = append(pending, replay...)

	c.out.Store(o)
	if !h.addOut(o) {
		o.finish("hub-closed")
		return
	}
	select {
	case <-c.killed: // dropped before it could be reached by kill
		o.finish(o.why("write-error"))
		return
	default:
	}
	go o.watch()
	o.own(pending, nil)
}

// streamHead is the response head of a taken-over stream. Without a length
// or chunked coding the body runs until the connection closes.
func streamHead(hd http.Header) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	_ = hd.Write(&b)
	b.WriteString("Connection: close\r\n\r\n")
	return b.Bytes()
}

// streamTimers arms the stream's rotation and its token's expiry as
// runtime timers (no goroutine until they fire); each ends the stream with
// its frame after what is queued.
func (h *Hub) streamTimers(ctx context.Context, c *conn) []*time.Timer {
	var ts []*time.Timer
	if h.cfg.maxStreamLife > 0 {
		ts = append(ts, time.AfterFunc(h.cfg.maxStreamLife, func() {
			h.unregister(c)
			c.end("rotation", h.reconnectFrame("rotation"))
		}))
	}
	if at, ok := tokenDeadline(ctx); ok {
		ts = append(ts, time.AfterFunc(time.Until(at), func() {
			h.unregister(c)
			c.end("token-expired", controlFrame("end", map[string]string{"reason": "token-expired"}))
		}))
	}
	return ts
}

// watch blocks in Read for the life of the stream: a client that leaves
// (EOF or reset) ends it at once, and so does closing nc, which is how
// kill and Close reach a stream.
func (o *rawOut) watch() {
	var b [64]byte
	for {
		if _, err := o.nc.Read(b[:]); err != nil {
			o.finish(o.why("client-gone"))
			return
		}
		// Bytes after the request (a pipelined request) are ignored.
	}
}

// why names the end of a stream: the hub's reason when it ended or
// dropped the stream, else otherwise.
func (o *rawOut) why(otherwise string) string {
	select {
	case <-o.c.quit:
		return o.c.reason
	default:
	}
	if o.h.ctx.Err() != nil {
		return "hub-closed"
	}
	return otherwise
}

// finish tears the stream down once: timers stopped, unregistered,
// counted and logged, connection closed, slot given back.
func (o *rawOut) finish(reason string) {
	o.finished.Do(func() {
		for _, t := range o.timers {
			t.Stop()
		}
		o.h.unregister(o.c)
		// Counted before the close, so a client that sees the end of its
		// stream also sees it in the metrics, as on the goroutine path.
		o.h.met.closed.WithLabelValues(reason).Inc()
		o.h.log.LogAttrs(o.h.ctx, slog.LevelInfo, "stream closed",
			slog.String("client", o.c.clientID), slog.String("remote", o.c.remote), slog.String("reason", reason))
		_ = o.nc.Close()
		o.h.removeOut(o)
		if o.release != nil {
			o.release()
		}
		o.h.streams.Done()
	})
}

// own writes pending (and gives batch back to the queue once written),
// then whatever is queued meanwhile, waiting on the socket under the write
// timeout, until the queue is empty and disarmed or the stream ends. It
// runs on the goroutine that set the stream up, or on one of its own when a
// flusher found the socket full.
func (o *rawOut) own(pending, batch [][]byte) {
	q := &o.c.queue
	for {
		err := o.writeWaiting(pending)
		if batch != nil {
			q.done(batch)
		}
		if err != nil {
			o.finish(o.why("write-error"))
			return
		}
		b, ok := o.next()
		if !ok {
			return
		}
		pending, batch = b, b
	}
}

// next takes what is queued for the writer that holds o's queue armed.
// false means there is nothing to write: the queue is disarmed, or the
// stream ended after its last frame and has been finished.
func (o *rawOut) next() ([][]byte, bool) {
	b, st := o.c.queue.next()
	switch st {
	case takeIdle:
		return nil, false
	case takeClosed:
		o.finish(o.c.reason)
		return nil, false
	}
	return b, true
}

// writeWaiting writes frames, waiting for the socket, with a fresh write
// deadline for each batchDeadlineBytes, then clears the deadline so the
// flusher's non-blocking writes are not cut by it.
func (o *rawOut) writeWaiting(frames [][]byte) error {
	for len(frames) > 0 {
		n, size := 0, 0
		for n < len(frames) && size < batchDeadlineBytes {
			size += len(frames[n])
			n++
		}
		if err := o.nc.SetWriteDeadline(time.Now().Add(o.h.cfg.writeTimeout)); err != nil {
			return err
		}
		bufs := net.Buffers(frames[:n])
		o.h.met.writes.Inc()
		if _, err := bufs.WriteTo(o.nc); err != nil {
			return err
		}
		frames = frames[n:]
	}
	return o.nc.SetWriteDeadline(time.Time{})
}

// flusher writes the taken-over streams handed to it, in rounds.
type flusher struct {
	idx   int // in Hub.flushers
	mu    sync.Mutex
	dirty []*rawOut
	wake  chan struct{}

	writes prometheus.Counter // one per write call, counted before it

	// used by run's goroutine only
	iov   []iovec
	n     int
	errno syscall.Errno
	write func(fd uintptr) bool // writev of iov, bound once
}

func newFlusher(idx int, writes prometheus.Counter) *flusher {
	f := &flusher{idx: idx, wake: make(chan struct{}, 1), writes: writes}
	f.write = f.writev
	return f
}

// startFlushers starts one flusher per CPU; they stop with the hub.
func (h *Hub) startFlushers() {
	n := runtime.GOMAXPROCS(0)
	h.flushers = make([]*flusher, n)
	for i := range h.flushers {
		h.flushers[i] = newFlusher(i, h.met.writes)
		go h.flushers[i].run(h.ctx.Done(), h.cfg.writeDelay, h.cfg.flushEvery)
	}
	h.armedPool.New = func() any { return &armedSet{lists: make([][]*rawOut, n)} }
}

// flusherFor picks the flusher of a new stream, round robin.
func (h *Hub) flusherFor() *flusher {
	return h.flushers[int(h.nextFlusher.Add(1)%uint64(len(h.flushers)))]
}

// mark hands o, whose queue was just armed, to the flusher.
func (f *flusher) mark(o *rawOut) {
	f.mu.Lock()
	f.dirty = append(f.dirty, o)
	first := len(f.dirty) == 1
	f.mu.Unlock()
	if first {
		f.poke()
	}
}

// markAll hands f the streams of outs, all f's, with one wake.
func (f *flusher) markAll(outs []*rawOut) {
	if len(outs) == 0 {
		return
	}
	f.mu.Lock()
	first := len(f.dirty) == 0
	f.dirty = append(f.dirty, outs...)
	f.mu.Unlock()
	if first {
		f.poke()
	}
}

// poke wakes run if it is not awake already.
func (f *flusher) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// armedSet collects, during one fan-out, the taken-over streams whose
// queue it armed, one list per flusher, so that each flusher is handed
// the whole fan-out at once (handOver) rather than stream by stream: a
// flusher woken by an event then finds every stream of it in one round.
type armedSet struct {
	lists [][]*rawOut // by flusher index
}

// offer is conn.offer for a fan-out: an armed taken-over stream goes into
// a instead of straight to its flusher.
func (a *armedSet) offer(c *conn, frame []byte) bool {
	ok, arm := c.queue.push(frame)
	if arm {
		if o := c.out.Load(); o != nil {
			a.lists[o.fl.idx] = append(a.lists[o.fl.idx], o)
		}
	}
	return ok
}

// armed gives an empty armedSet; hand it back with handOver.
func (h *Hub) armed() *armedSet {
	return h.armedPool.Get().(*armedSet)
}

// handOver gives each flusher its streams of a and recycles a.
func (h *Hub) handOver(a *armedSet) {
	for i, f := range h.flushers {
		f.markAll(a.lists[i])
		clear(a.lists[i])
		a.lists[i] = a.lists[i][:0]
	}
	h.armedPool.Put(a)
}

// run writes the streams marked dirty in rounds. A round begins at most
// every `every` and at most every 1.5 × the previous round's length, so a
// flusher writes at most two thirds of the time and leaves the CPU to
// publishers and readers; a woken flusher also waits delay. The first
// frame after a quiet spell goes out at once; frames that follow close
// behind pile up and share the next round's one write per stream, so the
// busier the hub, the fewer write calls per event.
func (f *flusher) run(done <-chan struct{}, delay, every time.Duration) {
	var list []*rawOut
	wait := time.NewTimer(time.Hour)
	wait.Stop()
	var began time.Time    // the previous round's start
	var took time.Duration // and its length
	for {
		select {
		case <-done:
			return
		case <-f.wake:
		}
		if d := roundPause(time.Since(began), took, delay, every); d > 0 {
			wait.Reset(d)
			select {
			case <-done:
				return
			case <-wait.C:
			}
		}
		began = time.Now()
		f.mu.Lock()
		list, f.dirty = f.dirty, list[:0]
		f.mu.Unlock()
		for i, o := range list {
			f.flush(o)
			list[i] = nil
		}
		took = time.Since(began)
	}
}

// roundPause is how long a woken flusher waits before its next round:
// delay, and at least until max(every, 1.5 × took) has passed since the
// previous round began (sinceBegan ago) and took that long. After a quiet
// spell it is delay alone.
func roundPause(sinceBegan, took, delay, every time.Duration) time.Duration {
	return max(delay, max(every, took+took/2)-sinceBegan)
}

// flush writes what is queued for o without waiting. A stream it could
// not write entirely gets a goroutine that waits for the socket; one that
// gained frames meanwhile goes back on the list for the next round.
func (f *flusher) flush(o *rawOut) {
	q := &o.c.queue
	b, ok := o.next()
	if !ok {
		return
	}
	rest, err := f.tryWrite(o, b)
	switch {
	case err != nil:
		q.done(b)
		o.finish(o.why("write-error"))
	case rest != nil:
		go o.own(rest, b)
	default:
		q.done(b)
		if !q.idleIfEmpty() {
			f.mark(o)
		}
	}
}

// maxIovecs bounds one writev (IOV_MAX on Linux).
const maxIovecs = 1024

// tryWrite writes frames with non-blocking writev calls. rest is what the
// socket did not take (nil when everything went out); it shares no slice
// with frames, so frames can go back to the queue.
func (f *flusher) tryWrite(o *rawOut, frames [][]byte) (rest [][]byte, err error) {
	if o.fd == nil {
		return append([][]byte(nil), frames...), nil
	}
	for start := 0; start < len(frames); {
		end := min(start+maxIovecs, len(frames))
		f.iov = f.iov[:0]
		want := 0
		for _, fr := range frames[start:end] {
			if len(fr) == 0 {
				continue
			}
			v := iovec{Base: &fr[0]}
			v.SetLen(len(fr))
			f.iov = append(f.iov, v)
			want += len(fr)
		}
		wrote := 0
		if want > 0 {
			f.writes.Inc()
			if err := o.fd.Write(f.write); err != nil {
				return nil, err
			}
			switch {
			case f.errno == syscall.EAGAIN:
			case f.errno == syscall.EINTR:
			case f.errno != 0:
				return nil, f.errno
			default:
				wrote = f.n
			}
		}
		clear(f.iov) // no frame kept alive by the scratch
		if wrote < want {
			return remainder(frames[start:], wrote), nil
		}
		start = end
	}
	return nil, nil
}

// writev is the raw write callback: one writev of f.iov, never waiting.
func (f *flusher) writev(fd uintptr) bool {
	f.n, f.errno = writevFD(fd, f.iov)
	return true
}

// remainder is frames after the first n bytes, in a new slice.
func remainder(frames [][]byte, n int) [][]byte {
	i := 0
	for i < len(frames) && n >= len(frames[i]) {
		n -= len(frames[i])
		i++
	}
	rest := make([][]byte, 0, len(frames)-i)
	if i < len(frames) {
		rest = append(rest, frames[i][n:])
		rest = append(rest, frames[i+1:]...)
	}
	return rest
}

// addOut records a taken-over stream so Close can reach it; false when the
// hub has closed already.
func (h *Hub) addOut(o *rawOut) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return false
	}
	h.outs[o] = struct{}{}
	return true
}

func (h *Hub) removeOut(o *rawOut) {
	h.mu.Lock()
	delete(h.outs, o)
	h.mu.Unlock()
}

// closeOuts closes every taken-over connection; their watchers finish
// them.
func (h *Hub) closeOuts() {
	h.mu.Lock()
	outs := make([]*rawOut, 0, len(h.outs))
	for o := range h.outs {
		outs = append(outs, o)
	}
	h.mu.Unlock()
	for _, o := range outs {
		_ = o.nc.Close()
	}
}

// ipSlot carries a stream's per-address slot from guardStream to the
// stream: a taken-over stream outlives its handler and gives the slot back
// when it ends.
type ipSlot struct {
	release func()
	kept    bool
}

type ipSlotKey struct{}

// keepSlot takes the slot of ctx's request over from guardStream; the
// caller must call the result once. nil when there is none.
func keepSlot(ctx context.Context) func() {
	s, ok := ctx.Value(ipSlotKey{}).(*ipSlot)
	if !ok {
		return nil
	}
	s.kept = true
	return s.release
}
