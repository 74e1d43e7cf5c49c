package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/andybalholm/brotli"

	"github.com/ssekit/ssekit/e2e"
)

// wasmFlags are the build flags of the Makefile's wasm target (WASM_GCFLAGS
// and the ldflags), so both wasms are built as ssekit.wasm is shipped.
var wasmFlags = []string{"-trimpath", "-tags=ssekit_jsapi", "-gcflags=all=-l", "-gcflags=runtime=", "-ldflags=-s -w"}

// sizes of one wasm file.
type sizes struct {
	Raw, Gzip, Brotli int
}

// wasmSize is one built wasm: its sizes as shipped and, from a build that
// keeps the symbols, its function bodies' bytes per Go package.
type wasmSize struct {
	Name  string
	Pkg   string
	sizes sizes
	Code  map[string]int // package -> bytes of function bodies (symbols kept)
	Data  int            // bytes of the data section (symbols kept)
}

// buildWasm builds pkg for js/wasm twice into dir: as shipped, and with the
// symbols kept for the breakdown.
func buildWasm(dir, name, pkg string) (wasmSize, error) {
	w := wasmSize{Name: name, Pkg: pkg}
	shipped := filepath.Join(dir, name)
	withSyms := filepath.Join(dir, "syms-"+name)
	symFlags := slices.DeleteFunc(slices.Clone(wasmFlags), func(f string) bool { return strings.HasPrefix(f, "-ldflags") })
	for _, b := range []struct {
		out   string
		flags []string
	}{{shipped, wasmFlags}, {withSyms, symFlags}} {
		args := append(append([]string{"build"}, b.flags...), "-o", b.out, pkg)
		cmd := exec.Command("go", args...)
		cmd.Dir = e2e.Root()
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			return w, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	raw, err := os.ReadFile(shipped)
	if err != nil {
		return w, err
	}
	if w.sizes, err = measure(raw); err != nil {
		return w, err
	}
	syms, err := os.ReadFile(withSyms)
	if err != nil {
		return w, err
	}
	w.Code, w.Data, err = breakdown(syms)
	return w, err
}

// measure compresses raw with the settings of scripts/wasmsize, which are
// those the ssekit server serves the wasm with: gzip and brotli at their
// best compression.
func measure(raw []byte) (sizes, error) {
	var gz, br bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return sizes{}, err
	}
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	for _, w := range []interface {
		Write([]byte) (int, error)
		Close() error
	}{zw, bw} {
		if _, err := w.Write(raw); err != nil {
			return sizes{}, err
		}
		if err := w.Close(); err != nil {
			return sizes{}, err
		}
	}
	return sizes{Raw: len(raw), Gzip: gz.Len(), Brotli: br.Len()}, nil
}

var errWasm = errors.New("browserbench: malformed wasm")

// breakdown reads a wasm module with its name section and sums the bytes of
// its function bodies per Go package, plus the size of its data section.
func breakdown(mod []byte) (code map[string]int, data int, err error) {
	if len(mod) < 8 || string(mod[:4]) != "\x00asm" {
		return nil, 0, errWasm
	}
	r := &reader{b: mod[8:]}
	var imported int
	var bodies []int
	names := map[int]string{}
	for !r.done() {
		id := r.byte()
		sec := &reader{b: r.bytes(int(r.uleb()))}
		switch id {
		case 2: // imports: functions among them come first in the index space
			for range items(sec) {
				sec.bytes(int(sec.uleb())) // module
				sec.bytes(int(sec.uleb())) // name
				switch kind := sec.byte(); kind {
				case 0:
					sec.uleb()
					imported++
				case 1: // table: reftype, limits
					sec.byte()
					limits(sec)
				case 2:
					limits(sec)
				case 3: // global: valtype, mut
					sec.byte()
					sec.byte()
				default:
					return nil, 0, fmt.Errorf("%w: import kind %d", errWasm, kind)
				}
			}
		case 10:
			for range items(sec) {
				n := int(sec.uleb())
				sec.bytes(n)
				bodies = append(bodies, n)
			}
		case 11:
			data = len(sec.b)
		case 0:
			if string(sec.bytes(int(sec.uleb()))) != "name" {
				continue
			}
			for !sec.done() {
				sub := sec.byte()
				body := &reader{b: sec.bytes(int(sec.uleb()))}
				if sub != 1 {
					continue
				}
				for range items(body) {
					idx := int(body.uleb())
					names[idx] = string(body.bytes(int(body.uleb())))
				}
			}
		}
		if sec.err != nil {
			return nil, 0, sec.err
		}
	}
	if r.err != nil {
		return nil, 0, r.err
	}
	code = map[string]int{}
	for i, n := range bodies {
		code[pkgOf(names[imported+i])] += n
	}
	return code, data, nil
}

// items reads a vector's length; a length longer than what is left (each
// item takes at least a byte) is cut, and the reads past the end fail.
func items(r *reader) []struct{} {
	return make([]struct{}, min(r.uleb(), uint64(len(r.b))))
}

func limits(r *reader) {
	if r.byte()&1 != 0 {
		r.uleb()
	}
	r.uleb()
}

// pkgOf returns the Go package of a function's name as the linker writes
// it in the name section, where '/' and '-' in import paths are '_' (a
// host's dots stay), e.g. "encoding_json" for
// "encoding_json.__decodeState_.object" and "github.com_hack_pad_safejs"
// for "github.com_hack_pad_safejs.Value.Call".
func pkgOf(sym string) string {
	if sym == "" {
		return "(unnamed)"
	}
	from := 0
	if u := strings.IndexByte(sym, '_'); u > 0 && strings.Contains(sym[:u], ".") {
		from = u // skip the dots of a host name
	}
	if dot := strings.IndexByte(sym[from:], '.'); dot >= 0 {
		return sym[:from+dot]
	}
	return sym
}

// reader reads a wasm byte stream; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) done() bool { return len(r.b) == 0 || r.err != nil }

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.err = errWasm
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uleb() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errWasm
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.err = errWasm
		r.b = nil
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}
