package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
	"github.com/ssekit/ssekit/server"
)

// fanOutBatch is the events one benchmark op publishes. It stays well under
// the hub's per-stream queue (1024 frames), so no subscriber is ever
// dropped as slow while a batch is in flight.
const fanOutBatch = 100

// BenchmarkHub_fanOut measures the hub's broadcast path end to end: N real
// subscribers on loopback sockets, each read by the wire parser, and events
// published in-process through the hub's HTTP handler (POST
// /api/sse/sendAll, 64-byte form message). One op publishes fanOutBatch
// events and waits until every subscriber has received all of them; the
// custom metrics give the cost per delivery.
func BenchmarkHub_fanOut(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			f := startFanOut(b, n)
			body := "message=" + url.QueryEscape(strings.Repeat("x", 64))
			var published int64
			b.ReportAllocs()
			for b.Loop() {
				published += fanOutBatch
				f.want.Store(published * int64(n))
				for range fanOutBatch {
					req := httptest.NewRequest(http.MethodPost, "/api/sse/sendAll", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					rec := httptest.NewRecorder()
					f.handler.ServeHTTP(rec, req)
					if rec.Code != http.StatusAccepted {
						b.Fatalf("publish: %d %s", rec.Code, rec.Body)
					}
				}
				f.waitDelivered(b)
			}
			deliveries := float64(published) * float64(n)
			elapsed := b.Elapsed()
			b.ReportMetric(float64(elapsed.Nanoseconds())/deliveries, "ns/delivery")
			b.ReportMetric(deliveries/elapsed.Seconds(), "deliveries/s")
		})
	}
}

// fanOut is a hub on a loopback socket with n subscribers reading it.
type fanOut struct {
	handler   http.Handler
	delivered atomic.Int64 // message events received, all subscribers together
	want      atomic.Int64 // the count whose arrival fires done
	done      chan struct{}
}

func startFanOut(b *testing.B, n int) *fanOut {
	b.Helper()
	h, err := server.New(server.WithMaxConns(n + 16))
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	f := &fanOut{handler: h.Handler(), done: make(chan struct{}, 1)}
	srv := &http.Server{Handler: f.handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	var readers sync.WaitGroup
	conns := make([]net.Conn, 0, n)
	connected := make(chan error, n)
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		readers.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Drain(ctx)
		_ = srv.Shutdown(ctx)
	})
	addr := ln.Addr().String()
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatalf("dial subscriber %d: %v", i, err)
		}
		conns = append(conns, c)
		req := fmt.Sprintf("GET /api/sse/connect/bench%d HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", i, addr)
		if _, err := c.Write([]byte(req)); err != nil {
			b.Fatalf("subscriber %d: %v", i, err)
		}
		readers.Go(func() { f.read(c, connected) })
	}
	timeout := time.After(30 * time.Second)
	for i := range n {
		select {
		case err := <-connected:
			if err != nil {
				b.Fatalf("subscriber: %v", err)
			}
		case <-timeout:
			b.Fatalf("%d of %d subscribers connected within 30s", i, n)
		}
	}
	return f
}

// read follows one stream: the connected event says it is registered;
// every message event after that counts as a delivery.
func (f *fanOut) read(c net.Conn, connected chan<- error) {
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		connected <- fmt.Errorf("response: %v %v", resp, err)
		return
	}
	defer resp.Body.Close()
	p := wire.NewParser(resp.Body)
	for {
		ev, err := p.Next()
		if err != nil {
			return
		}
		switch ev.Type {
		case "connected":
			connected <- nil
		case wire.DefaultEventType:
			if f.delivered.Add(1) == f.want.Load() {
				f.done <- struct{}{}
			}
		}
	}
}

// waitDelivered waits until the deliveries reach want, which the caller
// stores before publishing: exactly one reader sees the counter reach it,
// so done fires once per batch.
func (f *fanOut) waitDelivered(b *testing.B) {
	select {
	case <-f.done:
	case <-time.After(30 * time.Second):
		b.Fatalf("delivered %d of %d within 30s", f.delivered.Load(), f.want.Load())
	}
}
