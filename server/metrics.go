package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the hub's Prometheus figures, on a registry of its own so
// several hubs in one process (tests) never collide.
type metrics struct {
	hub       *Hub
	reg       *prometheus.Registry
	conns     prometheus.Gauge
	published prometheus.Counter
	delivered prometheus.Counter
	slowDrops prometheus.Counter
	replayed  prometheus.Counter
	resets    prometheus.Counter
	refused   *prometheus.CounterVec
	latency   *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.conns = prometheus.NewGauge(prometheus.GaugeOpts{Name: "ssekit_connections", Help: "Open SSE streams."})
	m.published = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_events_published_total", Help: "Events accepted for publishing."})
	m.delivered = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_events_delivered_total", Help: "Events queued to streams (one per stream per event)."})
	m.slowDrops = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_slow_client_drops_total", Help: "Streams dropped because their queue was full."})
	m.replayed = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_events_replayed_total", Help: "Events replayed from history on resume."})
	m.resets = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_resets_total", Help: "Resumes that could not be honoured (reset events sent)."})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ssekit_requests_refused_total", Help: "Requests answered with an error status."}, []string{"code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ssekit_request_duration_seconds", Help: "Latency of non-stream API requests.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8),
	}, []string{"route"})
	m.reg.MustRegister(m.conns, m.published, m.delivered, m.slowDrops, m.replayed, m.resets, m.refused, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ssekit_queue_depth", Help: "Frames queued across all streams, not yet written.",
	}, func() float64 { return float64(m.hub.queueDepth()) }))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// observe wraps an API handler with latency and refusal counting.
func (m *metrics) observe(route string, next http.HandlerFunc) http.HandlerFunc {
	hist := m.latency.WithLabelValues(route)
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next(sw, r)
		hist.Observe(time.Since(start).Seconds())
		if sw.status >= 400 {
			m.refused.WithLabelValues(strconv.Itoa(sw.status)).Inc()
		}
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (h *Hub) queueDepth() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for c := range h.all {
		n += len(c.queue)
	}
	return n
}
