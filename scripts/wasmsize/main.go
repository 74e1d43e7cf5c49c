// Command wasmsize reports the size of a wasm file raw, gzip-compressed and
// brotli-compressed with the settings the ssekit server serves it with
// (gzip best, brotli best), and fails when the brotli size is over a budget.
//
//	go run ./scripts/wasmsize -max-br 716800 www/ssekit.wasm
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
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: wasmsize [-max-br N] FILE")
		os.Exit(2)
	}
	raw, err := os.ReadFile(flag.Arg(0))
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
		if _, err := w.Write(raw); err != nil || w.Close() != nil {
			fmt.Fprintln(os.Stderr, "wasmsize: compress failed")
			os.Exit(1)
		}
	}
	kb := func(n int) string { return fmt.Sprintf("%d bytes (%.0f KiB)", n, float64(n)/1024) }
	fmt.Printf("%s: raw %s, gzip %s, brotli %s\n", flag.Arg(0), kb(len(raw)), kb(gz.Len()), kb(br.Len()))
	if *maxBr > 0 && br.Len() > *maxBr {
		fmt.Fprintf(os.Stderr, "wasmsize: brotli size %s is over the budget of %s\n", kb(br.Len()), kb(*maxBr))
		os.Exit(1)
	}
}
