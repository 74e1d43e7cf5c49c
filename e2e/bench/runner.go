package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ssekit/ssekit/e2e/loadtest/load"
)

// defaultScenarios: two broadcast shapes (many events to a thousand
// streams, fewer events to five thousand), a light load (a thousand
// streams, an event every 20ms: 2s a run) and memory at ten thousand idle
// streams.
const defaultScenarios = "broadcast:1000x200,broadcast:5000x50,paced:1000x100@20ms,idle:10000"

// scenario is one load shape.
type scenario struct {
	idle           bool
	conns, events  int
	size           int
	interval       time.Duration // paced: one publish every interval; 0 = back to back
	name, headline string
}

// parseScenarios reads "broadcast:CONNSxEVENTS", "paced:CONNSxEVENTS@INTERVAL"
// and "idle:CONNS" items.
func parseScenarios(list string, size int) ([]scenario, error) {
	var out []scenario
	for _, item := range strings.Split(list, ",") {
		kind, shape, _ := strings.Cut(strings.TrimSpace(item), ":")
		var s scenario
		var err error
		switch kind {
		case "broadcast", "paced":
			every := ""
			if kind == "paced" {
				var ok bool
				if shape, every, ok = strings.Cut(shape, "@"); !ok {
					return nil, fmt.Errorf("scenario %q: want paced:CONNSxEVENTS@INTERVAL", item)
				}
			}
			c, e, ok := strings.Cut(shape, "x")
			if !ok {
				return nil, fmt.Errorf("scenario %q: want %s:CONNSxEVENTS", item, kind)
			}
			s.conns, err = strconv.Atoi(c)
			if err == nil {
				s.events, err = strconv.Atoi(e)
			}
			s.size = size
			s.name = fmt.Sprintf("broadcast-%dx%d", s.conns, s.events)
			s.headline = fmt.Sprintf("Broadcast: %d streams × %d events of %d bytes", s.conns, s.events, size)
			if kind == "paced" {
				if err == nil {
					s.interval, err = time.ParseDuration(every)
				}
				if err == nil && (s.interval <= 0 || s.interval > load.MaxInterval) {
					err = fmt.Errorf("interval %v", s.interval)
				}
				s.name = fmt.Sprintf("paced-%dx%d-%v", s.conns, s.events, s.interval)
				s.headline = fmt.Sprintf("Paced: %d streams × %d events of %d bytes, one every %v", s.conns, s.events, size, s.interval)
			}
		case "idle":
			s.idle = true
			s.conns, err = strconv.Atoi(shape)
			s.name = fmt.Sprintf("idle-%d", s.conns)
			s.headline = fmt.Sprintf("Idle: %d streams", s.conns)
		default:
			return nil, fmt.Errorf("scenario %q: want broadcast:CONNSxEVENTS, paced:CONNSxEVENTS@INTERVAL or idle:CONNS", item)
		}
		if err != nil || s.conns < 1 || s.conns > load.MaxConns || (!s.idle && (s.events < 1 || s.events > load.MaxEvents)) {
			return nil, fmt.Errorf("scenario %q: bad numbers", item)
		}
		out = append(out, s)
	}
	if len(out) == 0 || len(out) > maxScenario {
		return nil, fmt.Errorf("1..%d scenarios, got %d", maxScenario, len(out))
	}
	return out, nil
}

// results holds every run: scenario name → server name → runs in order.
type results map[string]map[string][]load.Result

func (r results) add(sc, srv string, res load.Result) {
	if r[sc] == nil {
		r[sc] = map[string][]load.Result{}
	}
	r[sc][srv] = append(r[sc][srv], res)
}

// failed lists the runs that did not pass.
func (r results) failed() []string {
	var out []string
	for sc, bySrv := range r {
		for srv, runs := range bySrv {
			for i, res := range runs {
				if !res.OK {
					out = append(out, fmt.Sprintf("%s %s run %d: %s", sc, srv, i+1, strings.Join(res.Errors, "; ")))
				}
			}
		}
	}
	return out
}

// runAll runs every scenario: rounds of every server in order, a fresh
// server process per run.
func runAll(ctx context.Context, log io.Writer, o options, bins *binaries, servers []server, scenarios []scenario) (results, error) {
	res := results{}
	total := len(scenarios) * o.runs * len(servers)
	n := 0
	for _, sc := range scenarios {
		for round := 1; round <= o.runs; round++ {
			for _, srv := range servers {
				n++
				t0 := time.Now()
				r, err := runOne(ctx, o, bins, srv, sc, round)
				if err != nil {
					return nil, fmt.Errorf("%s %s run %d: %w", sc.name, srv.name, round, err)
				}
				res.add(sc.name, srv.name, r)
				fmt.Fprintf(log, "bench: [%d/%d] %-22s %-12s run %d  %s  (%.1fs)\n",
					n, total, sc.name, srv.name, round, brief(r), time.Since(t0).Seconds())
			}
		}
	}
	return res, nil
}

// runOne has loadtest start srv and measure one run of sc. A run that
// fails (exit status 1) is a result; a refused command line is an error.
func runOne(ctx context.Context, o options, bins *binaries, srv server, sc scenario, round int) (load.Result, error) {
	logFile := filepath.Join(bins.dir, "logs", fmt.Sprintf("%s-%s-%d.log", sc.name, srv.name, round))
	args := []string{
		"-json", "-label", srv.name, "-conns", strconv.Itoa(sc.conns),
		"-timeout", o.timeout.String(), "-id-prefix", fmt.Sprintf("r%d-", round), "-server-log", logFile,
	}
	if sc.idle {
		args = append(args, "-idle", "-settle", o.settle.String())
	} else {
		args = append(args, "-events", strconv.Itoa(sc.events), "-size", strconv.Itoa(sc.size))
		if sc.interval > 0 {
			args = append(args, "-interval", sc.interval.String())
		}
	}
	args = append(append(args, "--"), bins.argv(srv)...)
	cmd := exec.CommandContext(ctx, bins.loadtest, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() == 1:
	default:
		return load.Result{}, fmt.Errorf("loadtest: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var r load.Result
	if jerr := json.Unmarshal(stdout.Bytes(), &r); jerr != nil {
		// No report: the run failed before measuring (e.g. the server did
		// not start). Keep the reason.
		r = load.Result{Label: srv.name, Conns: sc.conns, Events: sc.events,
			Errors: []string{strings.TrimSpace(stderr.String())}}
	}
	if err != nil {
		r.OK = false
	}
	return r, nil
}

// brief is a progress line's summary of a run.
func brief(r load.Result) string {
	if !r.OK {
		return "FAILED: " + strings.Join(r.Errors, "; ")
	}
	var rss float64
	if r.Server != nil {
		rss = r.Server.RSSPerConnKiB
	}
	if r.Mode == "idle" {
		return fmt.Sprintf("%.1f KiB/stream, connect %.2fs", rss, r.ConnectSeconds)
	}
	cpu := 0.0
	if r.Server != nil {
		cpu = r.Server.CPUPerDeliveryUs
	}
	return fmt.Sprintf("%.0f deliveries/s, p99 %.1f ms, %.2f µs CPU/delivery, %.1f KiB/stream", r.DeliveriesPerSec, r.LatencyP99Ms, cpu, rss)
}
