// Command clusterbench measures the real ssekit-server binary with each
// history broker side by side, and a reconnect storm across two nodes
// sharing Redis, and writes the figures as a Markdown fragment of
// BENCHMARKS.md:
//
//	go run ./e2e/clusterbench -runs 5 -out e2e/bench/sections/30-cluster.md
//
// Brokers: memory, -data-dir (bbolt), -redis-url on one node, and -redis-url
// on two nodes with the streams split over both and every publish sent to
// the first. Each is loaded by the e2e/loadtest/load client (N streams, M
// events broadcast, publish → receive latency and deliveries/s), the
// brokers interleaved in each repetition, a fresh server (and redis-server)
// each time.
//
// Storm: N clients on node A, publishing on node B every 20 ms; node A is
// killed (-9) and every client reconnects to node B with its Last-Event-ID
// after the SDK's jittered delay. The command fails (exit 1) when a client
// lost or received twice any event.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ssekit/ssekit/e2e/cluster"
	"github.com/ssekit/ssekit/e2e/loadtest/load"
)

func main() {
	runs := flag.Int("runs", 5, "interleaved repetitions")
	conns := flag.Int("conns", 1000, "streams of each broker run")
	events := flag.Int("events", 100, "events broadcast in each broker run")
	storm := flag.Int("storm", 1000, "clients of the reconnect storm")
	out := flag.String("out", "", "write the Markdown fragment to this file (else stdout)")
	verbose := flag.Bool("v", false, "print each run's figures to stderr")
	flag.Parse()
	if *runs < 1 || *conns < 1 || *events < 1 || *storm < 1 {
		fmt.Fprintln(os.Stderr, "clusterbench: -runs, -conns, -events and -storm must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{runs: *runs, conns: *conns, events: *events, storm: *storm, log: io.Discard,
		command: commandLine()}
	if *verbose {
		b.log = os.Stderr
	}
	code := 0
	if err := b.run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "clusterbench:", err)
		code = 1
	}
	if b.anyFigures() {
		md := b.markdown()
		if *out == "" {
			fmt.Print(md)
		} else if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "clusterbench:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// commandLine is how the command was run, for the report.
func commandLine() string {
	args := []string{"go run ./e2e/clusterbench"}
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, " '\"") {
			a = "'" + a + "'"
		}
		args = append(args, a)
	}
	return strings.Join(args, " ")
}

// bench holds the settings and the figures of every run.
type bench struct {
	runs, conns, events, storm int
	command                    string
	log                        io.Writer

	bin     string
	tmp     string
	started time.Time
	took    time.Duration

	loads  map[string][]*load.Result // by broker, one per repetition
	storms []*stormResult
}

// brokers in report order.
var brokers = []string{"memory", "bbolt", "redis", "redis-2nodes"}

func (b *bench) run(ctx context.Context) error {
	b.started = time.Now()
	defer func() { b.took = time.Since(b.started) }()
	tmp, err := os.MkdirTemp("", "ssekit-clusterbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b.tmp = tmp
	if b.bin, err = cluster.BuildServer(tmp, false); err != nil {
		return err
	}
	b.loads = map[string][]*load.Result{}
	var failures []string
	for rep := range b.runs {
		// Interleaved, and the order rotates so no broker always runs first.
		for i := range brokers {
			name := brokers[(i+rep)%len(brokers)]
			res, err := b.loadRun(ctx, name, rep)
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", name, rep+1, err)
			}
			fmt.Fprintf(b.log, "%s run %d: p50 %.2f ms p99 %.2f ms %.0f deliveries/s ok=%v\n",
				name, rep+1, res.LatencyP50Ms, res.LatencyP99Ms, res.DeliveriesPerSec, res.OK)
			if !res.OK {
				failures = append(failures, fmt.Sprintf("%s run %d: %d lost, %d duplicates, %d out of order: %s",
					name, rep+1, res.Lost, res.Duplicates, res.OutOfOrder, strings.Join(res.Errors, "; ")))
			}
			b.loads[name] = append(b.loads[name], res)
		}
		sr, err := b.stormRun(ctx, rep)
		if err != nil {
			return fmt.Errorf("storm, run %d: %w", rep+1, err)
		}
		fmt.Fprintf(b.log, "storm run %d: %+v\n", rep+1, *sr)
		if sr.lost > 0 || sr.dups > 0 || sr.outOfOrder > 0 {
			failures = append(failures, fmt.Sprintf("storm run %d: %d lost, %d duplicates, %d out of order", rep+1, sr.lost, sr.dups, sr.outOfOrder))
		}
		b.storms = append(b.storms, sr)
	}
	if len(failures) > 0 {
		return fmt.Errorf("events lost or duplicated:\n  %s", strings.Join(failures, "\n  "))
	}
	return nil
}

func (b *bench) anyFigures() bool { return len(b.storms) > 0 }

// loadRun starts the broker's server(s), loads them through a splitter and
// stops everything.
func (b *bench) loadRun(ctx context.Context, name string, rep int) (*load.Result, error) {
	dir, err := os.MkdirTemp(b.tmp, name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	args := []string{"-www", "", "-log-level", "warn"}
	nodes := 1
	var redis *cluster.Redis
	switch name {
	case "bbolt":
		args = append(args, "-data-dir", dir)
	case "redis", "redis-2nodes":
		if redis, err = cluster.StartRedis(dir); err != nil {
			return nil, err
		}
		defer redis.Stop()
		args = append(args, "-redis-url", redis.URL())
		if name == "redis-2nodes" {
			nodes = 2
		}
	}
	var servers []*load.Server
	defer func() {
		for _, s := range servers {
			_ = s.Stop()
		}
	}()
	var addrs []string
	for range nodes {
		s, err := b.startServer(ctx, args...)
		if err != nil {
			return nil, err
		}
		servers = append(servers, s)
		addrs = append(addrs, s.Addr)
	}
	sp, err := startSplitter(addrs, addrs[0])
	if err != nil {
		return nil, err
	}
	defer sp.close()
	return load.Run(ctx, load.Config{
		BaseURL:  "http://" + sp.addr,
		Conns:    b.conns,
		Events:   b.events,
		PID:      servers[0].PID,
		IDPrefix: fmt.Sprintf("%s-%d-", name, rep),
		Label:    name,
		Timeout:  2 * time.Minute,
	})
}

// startServer runs the binary on a free loopback port with args.
func (b *bench) startServer(ctx context.Context, args ...string) (*load.Server, error) {
	argv := append([]string{b.bin, "-addr", load.AddrPlaceholder}, args...)
	return load.StartServer(ctx, argv, b.log)
}

// kill9 ends s with SIGKILL, as in a crash, and waits until it is gone.
func kill9(s *load.Server) {
	_ = syscall.Kill(s.PID, syscall.SIGKILL)
	for !s.Exited() {
		time.Sleep(5 * time.Millisecond)
	}
}
