package sdk

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
)

// NewDroppableServer is httptest.NewServer with a drop function that
// closes every connection it accepted, streams the hub took over from
// net/http included (httptest's CloseClientConnections no longer sees
// those). For the tests of this package and its examples.
func NewDroppableServer(h http.Handler) (ts *httptest.Server, drop func()) {
	ts = httptest.NewUnstartedServer(h)
	l := &trackingListener{Listener: ts.Listener}
	ts.Listener = l
	ts.Start()
	return ts, l.closeAll
}

type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		_ = c.Close()
	}
	l.conns = nil
}
