package server

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one open stream. The hub fills its queue; one writer at a time
// drains it to the socket: the stream's own goroutine (streamLoop), or for a
// connection the hub took over (rawOut) whoever holds the queue armed.
type conn struct {
	clientID string
	topics   []string
	since    time.Time
	remote   string

	queue frameQueue    // frames, shared with other conns: never modified
	quit  chan struct{} // closed when the hub ends the stream
	pos   position      // where it stands in history; guarded by its shard's mu

	endOnce sync.Once
	final   []byte // written before closing; set before quit is closed
	reason  string // why the hub ended the stream, for logs and metrics

	// rc reaches the socket's write deadline, so kill can abort a write
	// that is blocked on a client that does not read. nil in unit tests and
	// once the handler has returned (the connection may serve another
	// request then).
	rcMu     sync.Mutex
	rc       *http.ResponseController
	killed   chan struct{}
	killOnce sync.Once

	out atomic.Pointer[rawOut] // the taken-over connection; nil on the goroutine path
}

func newConn(clientID string, topics []string, queueSize int, remote string, now time.Time) *conn {
	return &conn{
		clientID: clientID,
		topics:   topics,
		since:    now,
		remote:   remote,
		queue:    frameQueue{max: queueSize, wake: make(chan struct{}, 1)},
		quit:     make(chan struct{}),
		killed:   make(chan struct{}),
	}
}

// offer queues a frame without ever blocking. false means the queue is
// full: the caller drops the connection.
func (c *conn) offer(frame []byte) bool {
	ok, arm := c.queue.push(frame)
	if arm {
		c.schedule()
	}
	return ok
}

// schedule hands a taken-over stream whose queue was just armed to its
// flusher. A queue is armed from the start until the stream's setup has
// set out, so out is never nil here when it matters.
func (c *conn) schedule() {
	if o := c.out.Load(); o != nil {
		o.fl.mark(o)
	}
}

// frameQueue holds the frames waiting for one stream: at most max, in
// order. It starts empty and grows with what is queued, so an idle stream
// holds no buffer; wake (capacity 1) tells the writer there is something to
// take. push never blocks.
type frameQueue struct {
	mu    sync.Mutex
	buf   [][]byte
	spare [][]byte // a small drained buffer kept for the next batch
	max   int
	wake  chan struct{}

	// A raw queue belongs to a taken-over connection (rawOut): no wake
	// channel, and exactly one writer at a time, the one that holds it
	// armed. push arms an idle queue and says so, so that its caller hands
	// the stream to a flusher; next disarms it once it is empty. close
	// queues the final frame last and makes next report the end.
	raw     bool
	armed   bool
	closing bool
}

// takeState is what next found.
type takeState uint8

const (
	takeFrames takeState = iota // frames to write; the queue stays armed
	takeIdle                    // nothing queued: the queue is disarmed
	takeClosed                  // the stream ended and everything was taken
)

// keepSpare is the largest drained buffer a queue keeps for reuse; bigger
// ones, grown by a burst, go back to the garbage collector.
const keepSpare = 16

// push queues frame; ok is false when the queue is full. arm is true when
// a raw queue was idle and its caller must schedule the stream.
func (q *frameQueue) push(frame []byte) (ok, arm bool) {
	q.mu.Lock()
	if q.raw && q.closing {
		q.mu.Unlock()
		return true, false // ended: nothing more goes out
	}
	if len(q.buf) >= q.max {
		q.mu.Unlock()
		return false, false
	}
	if q.buf == nil && q.spare != nil {
		q.buf, q.spare = q.spare, nil
	}
	q.buf = append(q.buf, frame)
	if q.raw {
		arm = !q.armed
		q.armed = true
		q.mu.Unlock()
		return true, arm
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true, false
}

// next is take for the writer that holds a raw queue armed.
func (q *frameQueue) next() ([][]byte, takeState) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case len(q.buf) > 0:
		b := q.buf
		q.buf = nil
		return b, takeFrames
	case q.closing:
		return nil, takeClosed
	default:
		q.armed = false
		return nil, takeIdle
	}
}

// idleIfEmpty disarms a raw queue that has nothing queued and has not
// ended, and says whether it did.
func (q *frameQueue) idleIfEmpty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.buf) > 0 || q.closing {
		return false
	}
	q.armed = false
	return true
}

// close ends a raw queue: final (if any) after what is queued, then the
// end. arm is true when the caller must schedule the stream.
func (q *frameQueue) close(final []byte) (arm bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.raw || q.closing {
		return false
	}
	q.closing = true
	if final != nil {
		q.buf = append(q.buf, final)
	}
	arm = !q.armed
	q.armed = true
	return arm
}

// unraw turns a raw queue back into one that a stream goroutine reads, for
// a connection that could not be taken over after all.
func (q *frameQueue) unraw() {
	q.mu.Lock()
	q.raw, q.armed, q.closing = false, false, false
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take returns every queued frame, oldest first, and empties the queue.
// Hand the batch back with done once written.
func (q *frameQueue) take() [][]byte {
	q.mu.Lock()
	b := q.buf
	q.buf = nil
	q.mu.Unlock()
	return b
}

// done recycles a batch from take: small buffers are kept for the next
// one, large ones released.
func (q *frameQueue) done(b [][]byte) {
	if cap(b) > keepSpare {
		return
	}
	clear(b[:cap(b)])
	q.mu.Lock()
	if q.spare == nil {
		q.spare = b[:0]
	}
	q.mu.Unlock()
}

// len is the number of frames waiting.
func (q *frameQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf)
}

// end asks the stream to write final (may be nil) and close. Safe to call
// more than once; the first call wins.
func (c *conn) end(reason string, final []byte) {
	c.endOnce.Do(func() {
		c.reason, c.final = reason, final
		close(c.quit)
		if c.queue.close(final) {
			c.schedule()
		}
	})
}

// errKilled ends a stream the hub dropped as slow.
var errKilled = errors.New("ssekit/server: stream dropped")

// kill ends a slow stream at once: no final frame, and a write blocked on
// the socket fails now instead of at its deadline, which closes the
// connection. The writer sets its deadline before checking killed, and kill
// closes killed before moving the deadline into the past, so whichever runs
// second wins and no write can outlive a kill.
func (c *conn) kill(reason string) {
	c.end(reason, nil)
	c.killOnce.Do(func() {
		close(c.killed)
		if o := c.out.Load(); o != nil {
			_ = o.nc.Close() // a blocked write fails now; the watcher finishes the stream
		}
		c.rcMu.Lock()
		defer c.rcMu.Unlock()
		if c.rc != nil {
			_ = c.rc.SetWriteDeadline(time.Unix(1, 0))
		}
	})
}

// attach lets kill reach the response; detach, when the handler returns,
// stops it.
func (c *conn) attach(rc *http.ResponseController) {
	c.rcMu.Lock()
	c.rc = rc
	c.rcMu.Unlock()
}

func (c *conn) detach() { c.attach(nil) }

// wants reports whether an event for t goes to this stream.
func (c *conn) wants(t target) bool {
	switch t.kind {
	case toAll:
		return true
	case toClient:
		return t.name == c.clientID
	default:
		for _, tp := range c.topics {
			if tp == t.name {
				return true
			}
		}
		return false
	}
}
