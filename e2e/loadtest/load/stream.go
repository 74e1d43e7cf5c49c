package load

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// maxEventBytes bounds what one event may take in a reader, so a broken
// server cannot make the tool buffer without limit.
const maxEventBytes = 1 << 20

// answerTimeout bounds the wait for a stream's response: a server must
// answer a stream request without waiting for an event to send.
const answerTimeout = 30 * time.Second

// stream is one SSE connection and what its reader saw. The reader
// goroutine owns every field but conn and answered until it returns;
// the run reads them after that.
type stream struct {
	run  *runState
	id   string
	conn net.Conn

	answered atomic.Bool // the response status line and headers arrived
	warm     bool        // a warm-up event arrived
	seen     []uint64    // bitmap of the sequence numbers received
	unique   int64
	maxSeq   int64
	dups     int64
	ooo      int64
	other    int64
	lat      []int64 // publish→receive latencies in ns, in arrival order
	lastRecv int64   // ns since the run's start of the last new event
	err      error
}

// runState is what the readers share with the run.
type runState struct {
	start  time.Time
	events int64

	answered atomic.Int64 // streams whose response headers arrived
	failed   atomic.Int64 // streams that ended before completing
	warmed   atomic.Int64 // streams that saw a warm-up event
	complete atomic.Int64 // streams that received every event
	closing  atomic.Bool  // the run is closing the connections: read errors are expected
	nudge    chan struct{}
	readers  sync.WaitGroup
}

func (r *runState) now() int64 { return int64(time.Since(r.start)) }

// poke wakes the run up to look at the counters again.
func (r *runState) poke() {
	select {
	case r.nudge <- struct{}{}:
	default:
	}
}

// dial opens the TCP connection and writes the request line. The reader
// goroutine (read) takes it from there.
func (s *stream) dial(ctx context.Context, addr, path string) error {
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nUser-Agent: ssekit-loadtest\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		c.Close()
		return err
	}
	s.conn = c
	return nil
}

// read parses the response and every event of the stream until the
// connection ends, keeping the counts of the run's accounting. It is the
// stream's goroutine.
//
// answered is called once, when the response has arrived or the stream has
// failed before that: it frees the stream's connecting slot.
func (s *stream) read(answered func()) {
	defer s.conn.Close()
	once := sync.OnceFunc(answered)
	defer once()
	done := false
	defer func() {
		if !done {
			s.run.failed.Add(1)
			s.run.poke()
		}
	}()
	br := bufio.NewReader(s.conn)
	_ = s.conn.SetReadDeadline(time.Now().Add(answerTimeout))
	resp, err := http.ReadResponse(br, nil)
	_ = s.conn.SetReadDeadline(time.Time{})
	once()
	if err != nil {
		s.fail(fmt.Errorf("response: %w", err))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.fail(fmt.Errorf("status %s", resp.Status))
		return
	}
	s.answered.Store(true)
	s.run.answered.Add(1)
	s.run.poke()

	p := wire.NewParser(resp.Body)
	p.MaxEventBytes = maxEventBytes
	for {
		ev, err := p.Next()
		if err != nil {
			if !done {
				s.fail(err)
			}
			return
		}
		now := s.run.now()
		kind, n, ts := decodePayload(ev.Data)
		switch kind {
		case kindWarm:
			if !s.warm {
				s.warm = true
				s.run.warmed.Add(1)
				s.run.poke()
			}
		case kindSeq:
			if s.record(n, ts, now) && s.unique == s.run.events {
				done = true
				s.run.complete.Add(1)
				s.run.poke()
			}
		default:
			s.other++
		}
	}
}

// record counts event n sent at ts and received at now; it reports whether
// the event was new.
func (s *stream) record(n, ts, now int64) bool {
	if n < 0 || n >= s.run.events {
		s.other++
		return false
	}
	word, bit := n/64, uint64(1)<<(n%64)
	if s.seen[word]&bit != 0 {
		s.dups++
		return false
	}
	s.seen[word] |= bit
	s.unique++
	if n < s.maxSeq {
		s.ooo++
	} else {
		s.maxSeq = n
	}
	s.lat = append(s.lat, now-ts)
	s.lastRecv = now
	return true
}

func (s *stream) fail(err error) {
	if s.run.closing.Load() {
		return
	}
	s.err = err
}
