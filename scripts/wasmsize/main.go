// Command wasmsize reports the size of a wasm file raw, gzip-compressed and
// brotli-compressed with the settings the ssekit server serves it with
// (gzip best, brotli best), and fails when the brotli size is over a budget,
// or, given a floor wasm (e2e/browserbench/floor), when it weighs more than
// -max-over bytes brotli'd over that floor.
//
//	go run ./scripts/wasmsize -max-br 672000 www/ssekit.wasm
//	go run ./scripts/wasmsize -floor /tmp/floor.wasm -max-over 229700 www/ssekit.wasm
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"

	"github.com/andybalholm/brotli"
)

func main() {
	maxBr := flag.Int("max-br", 0, "fail when the brotli size exceeds this many bytes (0: no budget)")
	floor := flag.String("floor", "", "a wasm to measure FILE against (e.g. the build of e2e/browserbench/floor)")
	maxOver := flag.Int("max-over", 0, "with -floor: fail when FILE's brotli size exceeds the floor's by more than this many bytes (0: no budget)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: wasmsize [-max-br N] [-floor FLOOR -max-over N] FILE")
		os.Exit(2)
	}
	raw, gz, br := measure(flag.Arg(0))
	kb := func(n int) string { return fmt.Sprintf("%d bytes (%.0f KiB)", n, float64(n)/1024) }
	fmt.Printf("%s: raw %s, gzip %s, brotli %s\n", flag.Arg(0), kb(raw), kb(gz), kb(br))
	if *maxBr > 0 && br > *maxBr {
		fmt.Fprintf(os.Stderr, "wasmsize: brotli size %s is over the budget of %s\n", kb(br), kb(*maxBr))
		os.Exit(1)
	}
	if *floor == "" {
		return
	}
	fRaw, fGz, fBr := measure(*floor)
	fmt.Printf("%s: raw %s, gzip %s, brotli %s; %s adds %s brotli\n", *floor, kb(fRaw), kb(fGz), kb(fBr), flag.Arg(0), kb(br-fBr))
	if *maxOver > 0 && br-fBr > *maxOver {
		fmt.Fprintf(os.Stderr, "wasmsize: %s adds %s brotli over %s, more than the budget of %s\n", flag.Arg(0), kb(br-fBr), *floor, kb(*maxOver))
		os.Exit(1)
	}
}

// measure returns the raw, gzip'd and brotli'd sizes of the file at path.
func measure(path string) (raw, gzipped, brotlied int) {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
	var gz, br bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	for _, w := range []interface {
		Write([]byte) (int, error)
		Close() error
	}{zw, bw} {
		if _, err := w.Write(b); err != nil || w.Close() != nil {
			fmt.Fprintln(os.Stderr, "wasmsize: compress failed")
			os.Exit(1)
		}
	}
	return len(b), gz.Len(), br.Len()
}
