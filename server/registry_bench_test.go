package server

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// BenchmarkHub_connectDuringBroadcast: streams connect and leave (register
// and unregister, no sockets) while events are broadcast back to back to
// 10,000 other streams. The op is one connect + leave; a registry behind
// one lock makes each wait for a broadcast's whole fan-out.
func BenchmarkHub_connectDuringBroadcast(b *testing.B) {
	const listeners = 10000
	h, err := New(WithMaxConns(listeners+1000), WithQueueSize(1<<20), WithHistory(16, 0))
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	conns := make([]*conn, listeners)
	for i := range conns {
		conns[i] = newConn(fmt.Sprintf("l%d", i), nil, 1<<20, "bench", time.Now())
		if _, _, err := h.register(conns[i], ""); err != nil {
			b.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var broadcasts atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := h.SendAll(wire.Event{Data: "x"}); err != nil {
				panic(err)
			}
			if broadcasts.Add(1)%64 == 0 {
				for _, c := range conns {
					c.queue.take() // keep the queues short
				}
			}
		}
	})
	var worst atomic.Int64
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := n.Add(1) << 32
		for pb.Next() {
			i++
			c := newConn(fmt.Sprintf("c%d", i), nil, 16, "bench", time.Now())
			t0 := time.Now()
			if _, _, err := h.register(c, ""); err != nil {
				panic(err)
			}
			h.unregister(c)
			if d := int64(time.Since(t0)); d > worst.Load() {
				worst.Store(d)
			}
			h.streams.Done()
		}
	})
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(broadcasts.Load())/b.Elapsed().Seconds(), "broadcasts/s")
	b.ReportMetric(float64(worst.Load())/1e3, "worst-µs")
}
