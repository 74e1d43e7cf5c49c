package load

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the report of one run; its JSON form is what the benchmark
// runner reads.
type Result struct {
	Label  string `json:"label,omitempty"`
	Mode   string `json:"mode"` // "broadcast" or "idle"
	Conns  int    `json:"conns"`
	Events int    `json:"events"`
	Size   int    `json:"size"` // data bytes of a measured event, as sent
	// IntervalMs is the pace of the measured publishes; 0 = back to back.
	IntervalMs float64 `json:"interval_ms,omitempty"`

	ConnectSeconds float64 `json:"connect_s"` // first dial → every response answered
	WarmupEvents   int     `json:"warmup_events"`
	PublishSeconds float64 `json:"publish_s"` // first → last publish request done
	DeliverSeconds float64 `json:"deliver_s"` // first publish → last new event received

	Expected         int64   `json:"expected"`
	Delivered        int64   `json:"delivered"` // distinct (stream, seq) pairs received
	DeliveriesPerSec float64 `json:"deliveries_per_s"`
	LatencyP50Ms     float64 `json:"latency_p50_ms"`
	LatencyP99Ms     float64 `json:"latency_p99_ms"`
	LatencyMaxMs     float64 `json:"latency_max_ms"`
	Lost             int64   `json:"lost"`
	Duplicates       int64   `json:"duplicates"`
	OutOfOrder       int64   `json:"out_of_order"`
	OtherEvents      int64   `json:"other_events"` // events not from this tool (e.g. a connected event)

	Server *ServerFigures `json:"server,omitempty"`
	Kernel *KernelTCP     `json:"kernel_tcp,omitempty"` // whole machine, first dial → end

	Errors []string `json:"errors,omitempty"`
	OK     bool     `json:"ok"`
}

// ServerFigures come from /proc of the server process.
type ServerFigures struct {
	PID              int     `json:"pid"`
	RSSBaseKiB       int64   `json:"rss_base_kib"`      // before the first connection
	RSSConnectedKiB  int64   `json:"rss_connected_kib"` // every stream open (after settling when idle)
	RSSEndKiB        int64   `json:"rss_end_kib"`       // after the last delivery
	RSSPerConnKiB    float64 `json:"rss_per_conn_kib"`  // (connected − base) / conns
	CPUSeconds       float64 `json:"cpu_s"`             // user + system during the deliveries
	CPUPerDeliveryUs float64 `json:"cpu_per_delivery_us"`
}

// latencyStats returns the 50th and 99th percentiles and the maximum of
// samples (nanoseconds), in milliseconds, sorting samples.
func latencyStats(samples []int64) (p50, p99, maxMs float64) {
	if len(samples) == 0 {
		return 0, 0, 0
	}
	slices.Sort(samples)
	ms := func(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }
	return ms(percentile(samples, 50)), ms(percentile(samples, 99)), ms(samples[len(samples)-1])
}

// percentile returns the nearest-rank percentile p (0 < p ≤ 100) of sorted.
func percentile(sorted []int64, p float64) int64 {
	rank := int(float64(len(sorted))*p/100+0.999999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// WriteTable writes the result for people.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	if r.Label != "" {
		row("server", "%s", r.Label)
	}
	row("mode", "%s", r.Mode)
	row("streams", "%d", r.Conns)
	row("connect", "%.3f s (%.0f streams/s)", r.ConnectSeconds, float64(r.Conns)/max(r.ConnectSeconds, 1e-9))
	if r.Mode == "broadcast" {
		row("events", "%d × %d bytes (+%d warm-up)", r.Events, r.Size, r.WarmupEvents)
		if r.IntervalMs > 0 {
			row("interval", "one publish every %g ms", r.IntervalMs)
		}
		row("publish", "%.3f s", r.PublishSeconds)
		row("deliveries", "%d of %d in %.3f s", r.Delivered, r.Expected, r.DeliverSeconds)
		row("deliveries/s", "%.0f", r.DeliveriesPerSec)
		row("latency", "p50 %.2f ms, p99 %.2f ms, max %.2f ms", r.LatencyP50Ms, r.LatencyP99Ms, r.LatencyMaxMs)
		row("lost/dup/out-of-order", "%d / %d / %d", r.Lost, r.Duplicates, r.OutOfOrder)
	}
	if s := r.Server; s != nil {
		row("server pid", "%d", s.PID)
		row("server RSS", "base %d KiB, connected %d KiB, end %d KiB", s.RSSBaseKiB, s.RSSConnectedKiB, s.RSSEndKiB)
		row("server RSS/stream", "%.2f KiB", s.RSSPerConnKiB)
		if r.Mode == "broadcast" {
			row("server CPU", "%.3f s, %.2f µs/delivery", s.CPUSeconds, s.CPUPerDeliveryUs)
		}
	}
	if k := r.Kernel; k != nil {
		row("kernel TCP (machine)", "%d RTO timeouts, %d receive-queue drops, %d listen drops, %d SYN resends, %d segments resent, %d zero windows",
			k.Timeouts, k.RcvQDrops, k.ListenDrops, k.SYNRetrans, k.RetransSegs, k.ZeroWindowTo)
	}
	status := "ok"
	if !r.OK {
		status = "FAILED"
	}
	row("result", "%s", status)
	for _, e := range r.Errors {
		row("error", "%s", strings.ReplaceAll(e, "\n", " "))
	}
	return tw.Flush()
}
