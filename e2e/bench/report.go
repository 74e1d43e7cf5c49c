package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ssekit/ssekit/e2e"
	"github.com/ssekit/ssekit/e2e/loadtest/load"
)

// report is everything BENCHMARKS.md is written from.
type report struct {
	Command    string // what the person ran, e.g. make bench
	Invocation string // this command's own command line
	Machine    machine
	Runs       int
	Settle     time.Duration
	Servers    []server
	Scenarios  []scenario
	Results    results
	Micro      []microBench
	Sections   []string      // markdown fragments appended as they are (e2e/bench/sections/*.md)
	MoreGoals  []e2e.GoalRow // the fragments' goals (sections/*.goals.json), added to the table
	MicroCmd   string
	Took       time.Duration
	bins       *binaries
}

// Goals of the hub against its peers.
const (
	goalDeliveries = 1.5       // × the best peer's deliveries/s
	goalCPU        = 1.0 / 3.0 // × the best peer's CPU per delivery
	goalIdleKiB    = 16.0      // RSS per idle stream
	goalIdleConns  = 10000     // ... at this many streams
	goalRuns       = 5         // interleaved repetitions behind each figure
)

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Benchmarks")
	p("")
	p("<!-- Written by e2e/bench (make bench); regenerate rather than edit. -->")
	p("")
	p("The ssekit hub side by side with three Go SSE servers on one machine, in one run of the")
	p("command below. Every figure is the **median of %d interleaved runs** with the range", r.Runs)
	p("(min–max) in brackets, and the ratios compare medians of that same run. The load client")
	p("shares the cores with the server, so compare figures taken side by side in one run only,")
	p("never with figures from another machine or another day.")
	p("")
	if busy(r.Machine.Load, r.Machine.Cores) || busy(r.Machine.LoadEnd, r.Machine.Cores) {
		p("The machine was busy with other work during this run (load average above its %s cores, see", r.Machine.Cores)
		p("below), so the ranges are wide: read the medians, and re-run on a quiet machine for tighter")
		p("figures.")
		p("")
	}
	r.machine(p)
	r.servers(p)
	r.method(p)
	r.goals(p)
	for _, sc := range r.Scenarios {
		r.scenario(p, sc)
	}
	r.failures(p)
	r.micro(p)
	for _, sec := range r.Sections {
		p("")
		b.WriteString(strings.TrimSpace(sec))
		p("")
	}
	return b.String()
}

type printer func(format string, args ...any)

func (r *report) machine(p printer) {
	m := r.Machine
	p("## Machine and command")
	p("")
	p("| | |")
	p("|---|---|")
	p("| CPU | %s, %s logical cores |", m.CPU, m.Cores)
	p("| memory | %s |", m.Memory)
	p("| kernel | Linux %s |", m.Kernel)
	p("| Go | %s |", m.Go)
	p("| commit | %s |", m.Commit)
	p("| date | %s |", m.Date)
	p("| load average (1, 5, 15 min) at start / end | %s / %s |", m.Load, m.LoadEnd)
	p("| duration | %s |", r.Took.Round(time.Second))
	p("")
	p("```sh")
	if r.Command != "" {
		p("%s", r.Command)
		p("```")
		p("")
		p("which ran:")
		p("")
		p("```sh")
		if r.MicroCmd != "" {
			p("%s", r.MicroCmd)
		}
	}
	p("%s", r.Invocation)
	p("```")
	p("")
}

func (r *report) servers(p printer) {
	p("## Servers")
	p("")
	p("Each serves `GET /api/sse/connect/{id}` and `POST /api/sse/sendAll` (form field `message`),")
	p("sends each event as `id: N` + `data: ...`, and answers a stream's request once the stream")
	p("is registered. The peers live in the nested module `e2e/peers` (its own `go.mod`).")
	p("")
	p("| server | what | command line (`{addr}`: a free 127.0.0.1 port) |")
	p("|---|---|---|")
	for _, s := range r.Servers {
		p("| %s | %s | `%s` |", s.name, s.describe(r.bins), s.display(r.bins))
	}
	p("")
}

func (r *report) method(p printer) {
	p("## Method")
	p("")
	p("- `e2e/loadtest` starts a fresh server process for every run, opens the streams (one TCP")
	p("  connection each, at most 64 being opened at once), and waits until every response has")
	p("  arrived with status 200. It then publishes warm-up events until every stream has received")
	p("  one (not counted), and publishes the measured events back to back, one")
	p("  `POST /api/sse/sendAll` at a time, each carrying a sequence number and its send time")
	p("  (JSON padded to the event size). Every stream is read with the `sdk/wire` parser until it")
	p("  has every event. *Paced* scenarios publish one event per interval instead (a light,")
	p("  steady load: what an event costs in latency and CPU when nothing else is queued); they")
	p("  are not part of the goals.")
	p("- Interleaved: for each scenario, every server runs once in the order of the tables, then")
	p("  again, %d rounds.", r.Runs)
	p("- **deliveries/s**: distinct (stream, event) pairs received ÷ the time from the first publish")
	p("  to the last receipt.")
	p("- **latency**: publish → receipt of each delivery, the publish request included;")
	p("  nearest-rank percentiles over every delivery of a run.")
	p("- **server CPU per delivery**: user + system time of the server process (`/proc/PID/stat`)")
	p("  from the first publish to the last delivery, publish requests included, ÷ deliveries.")
	p("- **server RSS per stream**: (VmRSS of `/proc/PID/status` with every stream open − VmRSS")
	p("  before the first connection) ÷ streams; broadcast runs sample after the warm-up, idle runs")
	p("  after %v with every stream open and nothing published.", r.Settle)
	p("- **kernel TCP timeouts / drops**: retransmission timeouts, and segments or connections the")
	p("  kernel dropped (receive queue full, accept queue full), counted in `/proc/net` over the run")
	p("  for the whole machine (other processes included). Each stalls a stream for 200 ms or more")
	p("  (a connect for 1 s): runs with latencies of seconds come with them.")
	p("- A run passes when every stream received every event exactly once and in order (the tool")
	p("  exits 1 otherwise); medians are over passing runs.")
	p("")
}

// best returns the best median of m among the peers, and which peer.
func (r *report) best(sc scenario, m metric) (float64, string) {
	best, who := math.NaN(), ""
	for _, s := range r.Servers {
		if s.name == "ssekit" {
			continue
		}
		v := m.over(r.Results[sc.name][s.name])
		if v.n == 0 {
			continue
		}
		if who == "" || (m.higher && v.med > best) || (!m.higher && v.med < best) {
			best, who = v.med, s.name
		}
	}
	return best, who
}

func (r *report) goals(p printer) {
	type row struct{ goal, target, ours, peer, status string }
	var rows []row
	hub := func(sc scenario, m metric) (summary, bool) {
		s := m.over(r.Results[sc.name]["ssekit"])
		return s, s.n > 0
	}
	for _, sc := range r.Scenarios {
		shape := fmt.Sprintf("%d × %d", sc.conns, sc.events)
		if sc.interval > 0 {
			continue // paced runs show the light-load cost; the goals are for full load
		}
		if sc.idle {
			if sc.conns != goalIdleConns {
				continue
			}
			s, ok := hub(sc, mIdleRSS)
			if !ok {
				continue
			}
			best, who := r.best(sc, mIdleRSS)
			rows = append(rows, row{
				fmt.Sprintf("RSS per idle stream at %d streams", sc.conns), fmt.Sprintf("≤ %.0f KiB", goalIdleKiB),
				fmt.Sprintf("%.1f KiB", s.med), peerCell(best, who, "%.1f KiB"), status(s.med <= goalIdleKiB, s.med/goalIdleKiB, "× the target"),
			})
			continue
		}
		if s, ok := hub(sc, mDeliveries); ok {
			if best, who := r.best(sc, mDeliveries); who != "" {
				rows = append(rows, row{"deliveries/s, " + shape, fmt.Sprintf("≥ %.1f × best peer", goalDeliveries),
					fmt.Sprintf("%.0f", s.med), peerCell(best, who, "%.0f"), status(s.med >= goalDeliveries*best, s.med/best, "× best peer")})
			}
		}
		if s, ok := hub(sc, mP99); ok {
			if best, who := r.best(sc, mP99); who != "" {
				rows = append(rows, row{"latency p99, " + shape, "≤ best peer",
					fmt.Sprintf("%.1f ms", s.med), peerCell(best, who, "%.1f ms"), status(s.med <= best, s.med/best, "× best peer")})
			}
		}
		if s, ok := hub(sc, mCPU); ok {
			if best, who := r.best(sc, mCPU); who != "" {
				rows = append(rows, row{"server CPU per delivery, " + shape, "≤ ⅓ × best peer",
					fmt.Sprintf("%.2f µs", s.med), peerCell(best, who, "%.2f µs"), status(s.med <= goalCPU*best, s.med/best, "× best peer")})
			}
		}
	}
	lossless, runs := 0, 0
	for _, sc := range r.Scenarios {
		for _, res := range r.Results[sc.name]["ssekit"] {
			runs++
			if res.OK {
				lossless++
			}
		}
	}
	if runs == 0 {
		return
	}
	rows = append(rows,
		row{"runs without loss, duplicate or reordering", "all", fmt.Sprintf("%d of %d", lossless, runs), "", status(lossless == runs, 0, "")},
		row{"interleaved runs per figure", fmt.Sprintf("≥ %d", goalRuns), fmt.Sprint(r.Runs), "", status(r.Runs >= goalRuns, 0, "")},
	)
	for _, g := range r.MoreGoals {
		st := "met"
		if !g.Met {
			st = strings.TrimSpace("**missed** " + g.Missed)
		}
		rows = append(rows, row{g.Goal, g.Target, g.Ours, g.Peer, st})
	}
	p("## Goals")
	p("")
	p("| goal | target | ssekit | best peer | status |")
	p("|---|---|---|---|---|")
	for _, g := range rows {
		p("| %s | %s | %s | %s | %s |", g.goal, g.target, g.ours, g.peer, g.status)
	}
	p("")
}

func peerCell(v float64, who, format string) string {
	if who == "" {
		return "—"
	}
	return fmt.Sprintf(format+" (%s)", v, who)
}

func status(met bool, ratio float64, what string) string {
	switch {
	case met:
		return "met"
	case what == "":
		return "**missed**"
	}
	return fmt.Sprintf("**missed**: %.2f%s", ratio, what)
}

func (r *report) scenario(p printer, sc scenario) {
	p("## %s", sc.headline)
	p("")
	metrics, ratios := broadcastMetrics, broadcastRatios
	if sc.idle {
		metrics, ratios = idleMetrics, idleRatios
	}
	head, rule := "| |", "|---|"
	for _, s := range r.Servers {
		head += " " + s.name + " |"
		rule += "---|"
	}
	p("%s", head)
	p("%s", rule)
	runs := r.Results[sc.name]
	for _, m := range metrics {
		line := "| " + m.name + " |"
		for _, s := range r.Servers {
			line += " " + m.cell(m.over(runs[s.name])) + " |"
		}
		p("%s", line)
	}
	line := "| runs passed |"
	for _, s := range r.Servers {
		line += " " + passed(runs[s.name]) + " |"
	}
	p("%s", line)
	p("")

	if len(runs["ssekit"]) == 0 || len(r.Servers) < 2 {
		return
	}
	p("ssekit ÷ peer, medians (for deliveries/s above 1 is better, for the others below 1):")
	p("")
	head, rule = "| peer |", "|---|"
	for _, m := range ratios {
		head += " " + m.name + " |"
		rule += "---|"
	}
	p("%s", head)
	p("%s", rule)
	for _, s := range r.Servers {
		if s.name == "ssekit" {
			continue
		}
		line := "| " + s.name + " |"
		for _, m := range ratios {
			a, b := m.over(runs["ssekit"]), m.over(runs[s.name])
			if a.n == 0 || b.n == 0 || b.med == 0 {
				line += " — |"
				continue
			}
			line += fmt.Sprintf(" %.2f× |", a.med/b.med)
		}
		p("%s", line)
	}
	p("")
}

func passed(runs []load.Result) string {
	ok := 0
	for _, r := range runs {
		if r.OK {
			ok++
		}
	}
	return fmt.Sprintf("%d/%d", ok, len(runs))
}

func (r *report) failures(p printer) {
	var lines []string
	for _, sc := range r.Scenarios {
		for _, s := range r.Servers {
			for i, res := range r.Results[sc.name][s.name] {
				if !res.OK {
					lines = append(lines, fmt.Sprintf("- %s, %s, run %d: lost %d, duplicates %d, out of order %d; %s",
						sc.name, s.name, i+1, res.Lost, res.Duplicates, res.OutOfOrder, strings.Join(res.Errors, "; ")))
				}
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	p("## Failed runs")
	p("")
	for _, l := range lines {
		p("%s", l)
	}
	p("")
}

func (r *report) micro(p printer) {
	if len(r.Micro) == 0 {
		return
	}
	p("## Go micro-benchmarks")
	p("")
	if r.MicroCmd != "" {
		p("From `%s`.", r.MicroCmd)
	}
	p("Medians (min–max) over the repetitions. `BenchmarkHub_fanOut` publishes through the hub's")
	p("handler in process to N subscribers on loopback sockets read by the wire parser; one op is")
	p("100 events delivered to every subscriber, and its B/op and allocs/op count the whole process")
	p("(hub and readers).")
	p("")
	p("| package | benchmark | runs | ns/op | B/op | allocs/op | other |")
	p("|---|---|---|---|---|---|---|")
	for _, mb := range r.Micro {
		cell := func(unit string) string {
			v, ok := mb.values[unit]
			if !ok {
				return "—"
			}
			return microCell(summarize(v))
		}
		var other []string
		for _, u := range mb.units {
			switch u {
			case "ns/op", "B/op", "allocs/op":
			default:
				other = append(other, microCell(summarize(mb.values[u]))+" "+u)
			}
		}
		n := len(mb.values["ns/op"])
		p("| %s | %s | %d | %s | %s | %s | %s |", strings.TrimPrefix(mb.pkg, "github.com/ssekit/ssekit/"), mb.name, n,
			cell("ns/op"), cell("B/op"), cell("allocs/op"), strings.Join(other, "; "))
	}
	p("")
}

// microCell formats a benchmark figure with a precision that suits its size.
func microCell(s summary) string {
	f := func(v float64) string {
		switch {
		case v >= 100:
			return fmt.Sprintf("%.0f", v)
		case v >= 10:
			return fmt.Sprintf("%.1f", v)
		}
		return fmt.Sprintf("%.2f", v)
	}
	if s.n <= 1 || s.min == s.max {
		return f(s.med)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.med), f(s.min), f(s.max))
}

// busy reports whether a "1 5 15" load average's first figure exceeds the
// number of cores.
func busy(load, cores string) bool {
	var l1 float64
	var n int
	if _, err := fmt.Sscan(load, &l1); err != nil {
		return false
	}
	if _, err := fmt.Sscan(cores, &n); err != nil {
		return false
	}
	return l1 > float64(n)
}
