package server

import (
	"errors"
	"net/http"
	"sync"
	"time"
)

// conn is one open stream. The hub fills its queue; the stream's own
// goroutine (serveStream) is the only writer to the socket.
type conn struct {
	clientID string
	topics   []string
	since    time.Time
	remote   string

	queue chan []byte   // frames, shared with other conns: never modified
	quit  chan struct{} // closed when the hub ends the stream
	pos   position      // where it stands in history; guarded by the hub's mu

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
}

func newConn(clientID string, topics []string, queueSize int, remote string, now time.Time) *conn {
	return &conn{
		clientID: clientID,
		topics:   topics,
		since:    now,
		remote:   remote,
		queue:    make(chan []byte, queueSize),
		quit:     make(chan struct{}),
		killed:   make(chan struct{}),
	}
}

// offer queues a frame without ever blocking. false means the queue is
// full: the caller drops the connection.
func (c *conn) offer(frame []byte) bool {
	select {
	case c.queue <- frame:
		return true
	default:
		return false
	}
}

// end asks the stream to write final (may be nil) and close. Safe to call
// more than once; the first call wins.
func (c *conn) end(reason string, final []byte) {
	c.endOnce.Do(func() {
		c.reason, c.final = reason, final
		close(c.quit)
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
