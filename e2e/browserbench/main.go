// Command browserbench measures the browser side of ssekit in one headless
// Chromium against one in-process hub on loopback:
//
//   - how fast the wasm SDK dispatches events and renders them into the DOM
//     (bind, text mode) against a plain page with EventSource and
//     textContent, interleaved runs, a fresh tab each;
//   - what ssekit.wasm weighs raw, gzip'd and brotli'd against a minimal Go
//     wasm that only opens an EventSource (./floor), both built with the
//     flags of the Makefile's wasm target.
//
// It writes a Markdown fragment for BENCHMARKS.md:
//
//	make wasm && go run ./e2e/browserbench -runs 5 -out e2e/bench/sections/20-browser.md
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cdpprofiler "github.com/chromedp/cdproto/profiler"

	"github.com/ssekit/ssekit/e2e"
)

func main() {
	runs := flag.Int("runs", 5, "interleaved repetitions of each page")
	n := flag.Int("n", 5000, "events per run")
	size := flag.Int("size", 64, "bytes of data per event (at least 9: a sequence number and a space)")
	out := flag.String("out", "", "write the Markdown fragment here (default: stdout only)")
	timeout := flag.Duration("timeout", 2*time.Minute, "longest one run may take")
	devtoolsNetwork := flag.Bool("devtools-network", false, "keep the DevTools Network domain on while measuring (chromedp's default: a protocol event per EventSource message)")
	flag.Parse()
	if *runs < 1 || *n < 2 || *size < 9 {
		fmt.Fprintln(os.Stderr, "browserbench: need -runs >= 1, -n >= 2, -size >= 9")
		os.Exit(2)
	}
	command := strings.TrimSpace("go run ./e2e/browserbench " + strings.Join(os.Args[1:], " "))
	if err := run(command, *runs, *n, *size, *timeout, *devtoolsNetwork, *out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(command string, runs, n, size int, timeout time.Duration, devtoolsNetwork bool, out string) error {
	rep := report{Command: command, Runs: runs, N: n, Size: size, Started: time.Now(), LoadStart: loadavg(), DevtoolsNetwork: devtoolsNetwork}
	rep.Commit, rep.Go, rep.Chromium = machine()

	dir, err := os.MkdirTemp("", "browserbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(os.Stderr, "building the floor and ssekit.wasm")
	if rep.Floor, err = buildWasm(dir, "floor.wasm", "./e2e/browserbench/floor"); err != nil {
		return err
	}
	if rep.SafeFloor, err = buildWasm(dir, "floor-safejs.wasm", "./e2e/browserbench/floor/safejs"); err != nil {
		return err
	}
	if rep.SDK, err = buildWasm(dir, "ssekit.wasm", "./wasm"); err != nil {
		return err
	}
	// The pages load www/ssekit.wasm: it must be the build just measured.
	served, err := os.ReadFile(filepath.Join(e2e.Root(), "www", "ssekit.wasm"))
	if err != nil {
		return fmt.Errorf("browserbench: %w (run make wasm first)", err)
	}
	built, err := os.ReadFile(filepath.Join(dir, "ssekit.wasm"))
	if err != nil {
		return err
	}
	if !bytes.Equal(served, built) {
		return fmt.Errorf("browserbench: www/ssekit.wasm is not a build of the current tree: run make wasm first")
	}

	browser, closeBrowser, err := e2e.NewBrowser(context.Background())
	if err != nil {
		return err
	}
	defer closeBrowser()
	b, err := startBench(n + 64)
	if err != nil {
		return err
	}
	defer b.close()
	b.devtoolsNetwork = devtoolsNetwork
	for i := range runs {
		for _, p := range []page{pageWasm, pagePlain} {
			r, err := b.run(browser, p, fmt.Sprintf("bench-%s-%d", p, i+1), n, size, timeout, nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "run %d %-5s %8.0f events/s (%d events in %.0f ms, first render at %.0f ms; published in %v)\n",
				i+1, p, r.PerSec, r.N, r.Millis, r.FirstMs, r.Publish.Round(time.Millisecond))
			rep.Results = append(rep.Results, r)
		}
	}
	// One more wasm run, not counted, with the symbols and the profiler on.
	b.symsWasm = filepath.Join(dir, "syms-ssekit.wasm")
	var prof *cdpprofiler.Profile
	if _, err := b.run(browser, pageWasm, "bench-wasm-profiled", n, size, timeout, &prof); err != nil {
		return err
	}
	rep.ProfFuncs, rep.ProfPkgs = selfTime(prof, 15)
	rep.LoadEnd = loadavg()
	md := rep.markdown()
	fmt.Print(md)
	if out == "" {
		return nil
	}
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		return err
	}
	return e2e.WriteGoals(strings.TrimSuffix(out, ".md")+".goals.json", rep.goals())
}
