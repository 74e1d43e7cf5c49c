package server

import (
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

	endOnce sync.Once
	final   []byte // written before closing; set before quit is closed
	reason  string // why the hub ended the stream, for logs and metrics
}

func newConn(clientID string, topics []string, queueSize int, remote string, now time.Time) *conn {
	return &conn{
		clientID: clientID,
		topics:   topics,
		since:    now,
		remote:   remote,
		queue:    make(chan []byte, queueSize),
		quit:     make(chan struct{}),
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
