// Command bench runs the side-by-side benchmarks and writes BENCHMARKS.md:
// it builds ssekit-server, the peers of e2e/peers and e2e/loadtest, then
// for each scenario runs every server in turn (A B C D A B C D ...), a
// fresh server process per run, each run measured by loadtest, and reports
// per scenario and server the median and min–max of the runs, and ssekit's
// ratios against each peer. With -micro it adds a summary of Go benchmark
// output (go test -bench) to the report.
//
// Run it from the repository root: go run ./e2e/bench [flags].
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ssekit/ssekit/e2e"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	runs      int
	out       string
	micro     string
	microCmd  string
	command   string
	servers   string
	scenarios string
	size      int
	settle    time.Duration
	timeout   time.Duration
	work      string
	sections  string
}

// readSections reads the *.md fragments of dir in name order. A missing
// directory is no fragments; an unreadable one is an error.
func readSections(dir string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("sections: %w", err)
		}
		out = append(out, string(b))
	}
	return out, nil
}

// Bounds, so a typo cannot start an hours-long run.
const (
	maxRuns     = 20
	maxScenario = 16
)

func run(ctx context.Context, args []string, log io.Writer) error {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(log)
	fs.IntVar(&o.runs, "runs", 3, fmt.Sprintf("runs of each server in each scenario (1..%d)", maxRuns))
	fs.StringVar(&o.out, "out", "BENCHMARKS.md", "report to write")
	fs.StringVar(&o.micro, "micro", "", "go test -bench output to summarise in the report (optional)")
	fs.StringVar(&o.microCmd, "micro-command", "", "the command that wrote -micro, to quote in the report")
	fs.StringVar(&o.command, "command", "", "the command that ran this one (e.g. make bench), to quote in the report")
	fs.StringVar(&o.servers, "servers", strings.Join(serverNames(), ","), "servers to run, in this order")
	fs.StringVar(&o.scenarios, "scenarios", defaultScenarios, "comma-separated broadcast:CONNSxEVENTS and idle:CONNS")
	fs.IntVar(&o.size, "size", 64, "data bytes per event")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "idle scenarios: how long the streams stay open before memory is sampled")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "bound of one run")
	fs.StringVar(&o.sections, "sections", "e2e/bench/sections", "directory of markdown fragments (*.md, in name order) appended to the report: figures of other benchmark commands and notes")
	fs.StringVar(&o.work, "work", "", "directory for binaries and server logs (default: a new temporary one, removed when all runs pass)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.runs < 1 || o.runs > maxRuns {
		return fmt.Errorf("-runs must be 1..%d", maxRuns)
	}
	scenarios, err := parseScenarios(o.scenarios, o.size)
	if err != nil {
		return err
	}
	servers, err := pickServers(o.servers)
	if err != nil {
		return err
	}
	invocation := shellQuote(append([]string{"go", "run", "./e2e/bench"}, args...))
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the repository root (no go.mod here)")
	}
	var micro []microBench
	if o.micro != "" {
		if micro, err = parseMicroFile(o.micro); err != nil {
			return err
		}
	}

	sections, err := readSections(o.sections)
	if err != nil {
		return err
	}
	var moreGoals []e2e.GoalRow
	if o.sections != "" {
		if moreGoals, err = e2e.ReadGoals(o.sections); err != nil {
			return err
		}
	}

	keep := o.work != ""
	if !keep {
		if o.work, err = os.MkdirTemp("", "ssekit-bench-"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(o.work, "logs"), 0o755); err != nil {
		return err
	}
	started := time.Now()
	fmt.Fprintf(log, "bench: building into %s\n", o.work)
	bins, err := build(ctx, o.work)
	if err != nil {
		return err
	}
	machine := describeMachine(ctx)
	results, err := runAll(ctx, log, o, bins, servers, scenarios)
	if err != nil {
		return fmt.Errorf("%w (binaries and logs kept in %s)", err, o.work)
	}
	machine.LoadEnd = loadAverage()
	rep := report{
		Command:    o.command,
		Invocation: invocation,
		Machine:    machine,
		Runs:       o.runs,
		Settle:     o.settle,
		Servers:    servers,
		Scenarios:  scenarios,
		Results:    results,
		Micro:      micro,
		Sections:   sections,
		MoreGoals:  moreGoals,
		MicroCmd:   o.microCmd,
		Took:       time.Since(started),
		bins:       bins,
	}
	if err := os.WriteFile(o.out, []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "bench: wrote %s in %v\n", o.out, time.Since(started).Round(time.Second))
	if failed := results.failed(); len(failed) > 0 {
		return fmt.Errorf("%d runs failed (reported in %s; server logs kept in %s): %s",
			len(failed), o.out, filepath.Join(o.work, "logs"), strings.Join(failed, "; "))
	}
	if !keep {
		os.RemoveAll(o.work)
	}
	return nil
}

// shellQuote joins argv as a shell would need to read it back.
func shellQuote(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%^", r))
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
