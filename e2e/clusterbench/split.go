package main

import (
	"bufio"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// splitter is a TCP front for the load client, which dials one address for
// its streams and its publishes: each connection whose request starts with
// GET (a stream) goes to the next of streams in turn, any other (the
// publisher's POSTs) to publish. Every broker is measured through it, so
// the figures carry the same extra hop.
type splitter struct {
	addr    string
	ln      net.Listener
	streams []string
	publish string
	next    atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startSplitter(streams []string, publish string) (*splitter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &splitter{addr: ln.Addr().String(), ln: ln, streams: streams, publish: publish, conns: map[net.Conn]struct{}{}}
	s.wg.Go(s.serve)
	return s, nil
}

func (s *splitter) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.track(c, true)
		s.wg.Go(func() { s.pipe(c) })
	}
}

func (s *splitter) track(c net.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
}

// pipe picks the upstream from the first bytes and copies both ways until
// either side ends.
func (s *splitter) pipe(c net.Conn) {
	defer func() { c.Close(); s.track(c, false) }()
	br := bufio.NewReader(c)
	head, err := br.Peek(4)
	if err != nil {
		return
	}
	to := s.publish
	if string(head) == "GET " {
		to = s.streams[int(s.next.Add(1)-1)%len(s.streams)]
	}
	up, err := net.Dial("tcp", to)
	if err != nil {
		return
	}
	s.track(up, true)
	defer func() { up.Close(); s.track(up, false) }()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, br)
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(c, up)
	c.Close()
	<-done
}

// close stops accepting, ends every connection and waits for the pipes.
func (s *splitter) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
