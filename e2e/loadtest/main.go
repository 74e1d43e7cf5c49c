// Command loadtest measures an SSE hub on this machine: it opens N streams
// (GET {base}/api/sse/connect/{id}, one TCP connection each), publishes M
// numbered, timestamped events to everyone (POST {base}/api/sse/sendAll,
// form field message), reads every stream with the sdk/wire parser, and
// reports connect time, deliveries per second, publish→receive latency,
// lost, duplicate and out-of-order events, and the server's memory per
// connection and CPU per delivery from /proc.
//
//	loadtest [flags]                          # against a running server (-base, -pid)
//	loadtest [flags] -- SERVER [ARGS...]      # starts SERVER itself; {addr} in ARGS
//	                                          # becomes a free 127.0.0.1 port
//
// A stream counts as connected when its response status line and headers
// have arrived with 200 (the ssekit hub registers a stream before it
// answers; a server may not). Before measuring, warm-up events are
// published until every stream has received one, so every stream is known
// to be live; they are not counted. With -idle nothing is published: the
// streams stay open for -settle and the server's RSS per connection is
// reported.
//
// Exit status: 0 when every event reached every stream once and in order,
// 1 when any was lost, duplicated or out of order or the run failed,
// 2 for bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ssekit/ssekit/e2e/loadtest/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg load.Config
	var asJSON bool
	var serverLog string
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.BaseURL, "base", "http://127.0.0.1:8844", "server base URL, loopback only (ignored when the tool starts the server)")
	fs.IntVar(&cfg.Conns, "conns", 1000, fmt.Sprintf("streams to open, one TCP connection each (1..%d)", load.MaxConns))
	fs.IntVar(&cfg.Events, "events", 200, fmt.Sprintf("events to publish to everyone (1..%d; conns×events ≤ %d)", load.MaxEvents, load.MaxDeliveries))
	fs.IntVar(&cfg.Size, "size", 64, fmt.Sprintf("data bytes per event (≤ %d)", load.MaxSize))
	fs.DurationVar(&cfg.Interval, "interval", 0, fmt.Sprintf("publish one event every interval (≤ %v) instead of back to back", load.MaxInterval))
	fs.BoolVar(&cfg.Idle, "idle", false, "publish nothing: report the server's RSS per connection after -settle")
	fs.DurationVar(&cfg.Settle, "settle", 3*time.Second, "idle mode: how long the streams stay open before sampling memory")
	fs.DurationVar(&cfg.Drain, "drain", 30*time.Second, "how long to wait after the last publish for every delivery")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, fmt.Sprintf("bound of the whole run (≤ %v)", load.MaxTimeout))
	fs.IntVar(&cfg.Dialers, "dialers", 64, "streams between dial and response at once")
	fs.IntVar(&cfg.PID, "pid", 0, "server process to sample in /proc (set by the tool when it starts the server)")
	fs.StringVar(&cfg.IDPrefix, "id-prefix", "lt", "client id prefix (ids are prefix + index)")
	fs.StringVar(&cfg.Label, "label", "", "name of the server in the report")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.StringVar(&serverLog, "server-log", "", "file for the started server's output (default: discarded)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadtest [flags] [-- SERVER [ARGS...]]   ({addr} in ARGS: the port to listen on)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if cfg.Idle && !isSet(fs, "events") {
		cfg.Events = 0
	}

	var srv *load.Server
	if argv := fs.Args(); len(argv) > 0 {
		logTo := io.Discard
		if serverLog != "" {
			f, err := os.Create(serverLog)
			if err != nil {
				fmt.Fprintln(stderr, "loadtest:", err)
				return 2
			}
			defer f.Close()
			logTo = f
		}
		var err error
		if srv, err = load.StartServer(ctx, argv, logTo); err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 1
		}
		cfg.BaseURL, cfg.PID = srv.BaseURL, srv.PID
	}

	res, err := load.Run(ctx, cfg)
	if srv != nil {
		if serr := srv.Stop(); serr != nil && res != nil {
			res.Errors = append(res.Errors, serr.Error())
			res.OK = false
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		if errors.Is(err, load.ErrConfig) {
			return 2
		}
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = res.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	if !res.OK {
		return 1
	}
	return 0
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
