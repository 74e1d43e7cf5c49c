package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestMetrics_namesAndValues: /metrics exposes the ssekit_ figures the
// operations contract lists, plus the Go runtime collector, and they count.
func TestMetrics_namesAndValues(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	a1, a2 := th.open(t, "/api/sse/connect/m"), th.open(t, "/api/sse/connect/m")
	a1.connected(t)
	a2.connected(t)
	for range 3 {
		th.publishJSON(t, "/api/sse/send/m", `{"data":"x"}`)
	}
	resp, _ := th.do(t, http.MethodGet, "/api/nope", "", "")
	if resp.StatusCode != 404 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	resp, body := th.do(t, http.MethodGet, "/metrics", "", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, c := range []struct {
		name, labels string
		want         float64 // < 0: only present
	}{
		{"ssekit_connections", "", 2},
		{"ssekit_events_published_total", "", 3},
		{"ssekit_events_delivered_total", "", 6},
		{"ssekit_slow_client_drops_total", "", 0},
		{"ssekit_events_replayed_total", "", 0},
		{"ssekit_resets_total", `reason="cursor-too-old"`, 0},
		{"ssekit_queue_depth", "", -1},
		{"ssekit_streams_opened_total", "", 2},
		{"ssekit_streams_closed_total", `reason="slow"`, 0},
		{"ssekit_requests_refused_total", `code="404"`, 1},
		{"ssekit_request_duration_seconds_count", `route="send"`, 3},
		{"ssekit_request_duration_seconds_bucket", `route="send"`, -1},
		{"go_goroutines", "", -1},
		{"go_memstats_heap_alloc_bytes", "", -1},
	} {
		if !strings.Contains(body, "\n"+c.name+" ") && !strings.Contains(body, "\n"+c.name+"{") {
			t.Errorf("%s is not exposed", c.name)
			continue
		}
		if c.want < 0 {
			continue
		}
		if got := sumMetric(t, body, c.name, c.labels); got != c.want {
			t.Errorf("%s{%s} = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}
