package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// summary is the median and range of one figure over the runs.
type summary struct{ med, min, max float64 }

func summarize(vals []float64) summary {
	if len(vals) == 0 {
		return summary{}
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{med, s[0], s[len(s)-1]}
}

func (s summary) fmt(format string) string {
	return fmt.Sprintf(format+" ("+format+"–"+format+")", s.med, s.min, s.max)
}

var brokerLabel = map[string]string{
	"memory":       "memory (default)",
	"bbolt":        "`-data-dir` (bbolt)",
	"redis":        "`-redis-url`, one node",
	"redis-2nodes": "`-redis-url`, two nodes",
}

// markdown is the fragment of BENCHMARKS.md.
func (b *bench) markdown() string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p("## Cluster: brokers side by side, and a reconnect storm across nodes\n\n")
	p("Produced by `%s` on %s (%d CPUs, %s), %s, in %s. ", b.command, cpuModel(), runtime.NumCPU(),
		time.Now().UTC().Format("2006-01-02"), loadNote(), b.took.Round(time.Second))
	p("The machine is shared and noisy and load client, proxy, server(s) and redis-server share its cores: "+
		"read the medians and the ratios, not single figures. Each figure is the median (min–max) of %d interleaved repetitions, "+
		"the order of the brokers rotating, a fresh `ssekit-server` (built without `-race`) and a fresh `redis-server` for each.\n\n", b.runs)

	p("### Publish → receive, by broker\n\n")
	p("%d streams, %d events broadcast back to back (`e2e/loadtest/load`: every event accounted for, latency from the publish request to the parse in the client). "+
		"Every broker is measured through the same small TCP splitter in front of the server(s); with two nodes it sends the streams to both in turn "+
		"and every publish to the first, so half the deliveries cross Redis to the other node. Ratios are taken within each repetition, then the median.\n\n", b.conns, b.events)
	p("| broker | latency p50 ms | latency p99 ms | deliveries/s | p50 × memory | deliveries/s × memory | lost / dup |\n|---|---|---|---|---|---|---|\n")
	mem := b.loads["memory"]
	for _, name := range brokers {
		rs := b.loads[name]
		if len(rs) == 0 {
			continue
		}
		var p50, p99, dps, rp50, rdps []float64
		var lost, dups int64
		for i, r := range rs {
			p50 = append(p50, r.LatencyP50Ms)
			p99 = append(p99, r.LatencyP99Ms)
			dps = append(dps, r.DeliveriesPerSec)
			if i < len(mem) && mem[i].LatencyP50Ms > 0 && mem[i].DeliveriesPerSec > 0 {
				rp50 = append(rp50, r.LatencyP50Ms/mem[i].LatencyP50Ms)
				rdps = append(rdps, r.DeliveriesPerSec/mem[i].DeliveriesPerSec)
			}
			lost += r.Lost
			dups += r.Duplicates
		}
		p("| %s | %s | %s | %s | %.2f | %.2f | %d / %d |\n", brokerLabel[name],
			summarize(p50).fmt("%.2f"), summarize(p99).fmt("%.2f"), summarize(dps).fmt("%.0f"),
			summarize(rp50).med, summarize(rdps).med, lost, dups)
	}
	p("\n")

	if len(b.storms) > 0 {
		p("### Reconnect storm: node A killed under %d clients\n\n", b.storm)
		p("%d clients hold a stream on node A; events are published on node B every %v (they reach A's clients through Redis). "+
			"Node A is killed with SIGKILL; every client then reconnects to node B with its `Last-Event-ID` after the SDK's jittered delay "+
			"(`sdk.Backoff` defaults: uniform in [0, 500 ms], at least the server's `-retry %v`), as browsers behind a load balancer would. "+
			"*Reconnected*: kill → the last client's stream answered on node B; *caught up*: kill → the last client had every event accepted before its reconnect. "+
			"CPU and RSS are node B's, from the kill to caught up; Redis commands are all Redis processed meanwhile (the publishes every %v included). "+
			"The command fails when any client lost an event or received one twice.\n\n", b.storm, stormPublish, stormRetry, stormPublish)
		col := func(f func(*stormResult) float64) summary {
			var v []float64
			for _, s := range b.storms {
				v = append(v, f(s))
			}
			return summarize(v)
		}
		var lost, dups int64
		for _, s := range b.storms {
			lost += s.lost
			dups += s.dups
		}
		p("| figure | median (min–max) |\n|---|---|\n")
		p("| all %d reconnected, s | %s |\n", b.storm, col(func(s *stormResult) float64 { return s.ReconnectedS }).fmt("%.2f"))
		p("| all %d caught up, s | %s |\n", b.storm, col(func(s *stormResult) float64 { return s.CaughtUpS }).fmt("%.2f"))
		p("| stream requests to node B | %s |\n", col(func(s *stormResult) float64 { return float64(s.Attempts) }).fmt("%.0f"))
		p("| of which refused (not 200) | %s |\n", col(func(s *stormResult) float64 { return float64(s.Refused) }).fmt("%.0f"))
		p("| node B CPU, s | %s |\n", col(func(s *stormResult) float64 { return s.CPUS }).fmt("%.2f"))
		p("| node B RSS before, MiB | %s |\n", col(func(s *stormResult) float64 { return float64(s.RSSBeforeKiB) / 1024 }).fmt("%.1f"))
		p("| node B RSS peak, MiB | %s |\n", col(func(s *stormResult) float64 { return float64(s.RSSPeakKiB) / 1024 }).fmt("%.1f"))
		p("| Redis commands, kill → caught up | %s |\n", col(func(s *stormResult) float64 { return float64(s.RedisCommands) }).fmt("%.0f"))
		p("| events published per run | %s |\n", col(func(s *stormResult) float64 { return float64(s.Published) }).fmt("%.0f"))
		p("| events lost / duplicated, all runs | %d / %d |\n", lost, dups)
		p("\n")
	}
	return w.String()
}

// cpuModel is the first model name of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// loadNote is the load average when the report is written.
func loadNote() string {
	b, err := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if err != nil || len(f) < 3 {
		return "load average unknown"
	}
	return "load average " + strings.Join(f[:3], " ") + " at the end"
}
