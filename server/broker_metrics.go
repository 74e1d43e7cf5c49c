package server

import "github.com/prometheus/client_golang/prometheus"

// brokerCollectors are the broker's figures: whether it answers, and for
// Redis what this node exchanged with it (0 for the other brokers).
func brokerCollectors(h *Hub) []prometheus.Collector {
	traffic := func(pick func(redisTraffic) uint64) func() float64 {
		return func() float64 {
			if rb, ok := h.broker.(*redisBroker); ok {
				return float64(pick(rb.traffic()))
			}
			return 0
		}
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ssekit_broker_up", Help: "1 while the event broker answers (always for memory and -data-dir), 0 while Redis is down.",
		}, func() float64 {
			if h.broker == nil || h.BrokerHealth() != nil {
				return 0
			}
			return 1
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ssekit_redis_received_bytes_total", Help: "Bytes this node read from Redis.",
		}, traffic(func(t redisTraffic) uint64 { return t.BytesIn })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ssekit_redis_sent_bytes_total", Help: "Bytes this node wrote to Redis.",
		}, traffic(func(t redisTraffic) uint64 { return t.BytesOut })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ssekit_redis_commands_total", Help: "Commands this node sent to Redis (pipelined ones each).",
		}, traffic(func(t redisTraffic) uint64 { return t.Commands })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ssekit_redis_resubscribes_total", Help: "Times this node resumed its Redis subscription after losing it.",
		}, traffic(func(t redisTraffic) uint64 { return t.Reconnects })),
	}
}
