package server

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the hub's Prometheus figures, on a registry of its own so
// several hubs in one process (tests) never collide.
type metrics struct {
	reg       *prometheus.Registry
	published prometheus.Counter
	delivered prometheus.Counter
	slowDrops prometheus.Counter
	writes    prometheus.Counter
	replayed  prometheus.Counter
	resets    *prometheus.CounterVec
	opened    prometheus.Counter
	closed    *prometheus.CounterVec
	refused   *prometheus.CounterVec
	latency   *prometheus.HistogramVec
}

// closeReasons are why streams end, the label of ssekit_streams_closed_total.
var closeReasons = []string{"client-gone", "slow", "disconnected", "drain", "rotation", "write-error", "hub-closed", "done"}

func newMetrics(h *Hub) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.published = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_events_published_total", Help: "Events accepted for publishing."})
	m.delivered = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_events_delivered_total", Help: "Events queued to streams (one per stream per event)."})
	m.slowDrops = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_slow_client_drops_total", Help: "Streams dropped because their queue was full."})
	m.writes = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_stream_writes_total", Help: "Write calls to taken-over HTTP/1.x streams; delivered events over writes is the frames per write."})
	m.replayed = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_events_replayed_total", Help: "Events replayed from history on resume."})
	m.resets = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ssekit_resets_total", Help: "Resumes that could not be honoured (reset events sent), by reason."}, []string{"reason"})
	m.opened = prometheus.NewCounter(prometheus.CounterOpts{Name: "ssekit_streams_opened_total", Help: "Streams opened."})
	m.closed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ssekit_streams_closed_total", Help: "Streams closed, by reason."}, []string{"reason"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ssekit_requests_refused_total", Help: "Requests answered with an error status, by route and status."}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ssekit_request_duration_seconds", Help: "Latency of API requests (streams: only when refused or HEAD).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8),
	}, []string{"route"})
	conns := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ssekit_connections", Help: "Open SSE streams, demo streams included.",
	}, func() float64 { return float64(h.Conns()) })
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ssekit_queue_depth", Help: "Frames queued across all streams, not yet written.",
	}, func() float64 { return float64(h.queueDepth()) })
	// Known label values start at 0, so dashboards see them before the first event.
	for _, r := range []string{resetMalformed, resetEpoch, resetTooOld, resetUnknown} {
		m.resets.WithLabelValues(r)
	}
	for _, r := range closeReasons {
		m.closed.WithLabelValues(r)
	}
	m.reg.MustRegister(conns, depth, m.published, m.delivered, m.slowDrops, m.writes, m.replayed, m.resets,
		m.opened, m.closed, m.refused, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(brokerCollectors(h)...)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// statusWriter records the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func itoa(n int) string { return strconv.Itoa(n) }

func (h *Hub) queueDepth() int {
	n := 0
	h.eachConn(func(c *conn) { n += c.queue.len() })
	return n
}
