package main

import (
	"cmp"
	"slices"
	"strings"

	cdpprofiler "github.com/chromedp/cdproto/profiler"
)

// share is a name and its part of a profile's busy samples.
type share struct {
	Name string
	Frac float64
}

// selfTime sums a DevTools CPU profile's samples per function where they
// were on top of the stack, leaving out idle time, and returns the top
// functions and the same grouped by Go package for wasm functions (named
// as in the wasm's name section: see pkgOf), by
// script for JS ones, by name for the engine's own buckets.
func selfTime(p *cdpprofiler.Profile, top int) (funcs, pkgs []share) {
	byFunc, byPkg := map[string]int64{}, map[string]int64{}
	var total int64
	for _, n := range p.Nodes {
		name := "(anonymous)"
		if n.CallFrame != nil && n.CallFrame.FunctionName != "" {
			name = n.CallFrame.FunctionName
		}
		if name == "(idle)" || n.HitCount == 0 {
			continue
		}
		total += n.HitCount
		byFunc[name] += n.HitCount
		pkg := "engine: " + name
		if n.CallFrame != nil && n.CallFrame.URL != "" {
			file, _, _ := strings.Cut(n.CallFrame.URL[strings.LastIndexByte(n.CallFrame.URL, '/')+1:], "?")
			pkg = "JS: " + file
			if strings.HasSuffix(file, ".wasm") {
				pkg = "Go: " + pkgOf(name)
			}
		}
		byPkg[pkg] += n.HitCount
	}
	rank := func(m map[string]int64) []share {
		out := make([]share, 0, len(m))
		for k, v := range m {
			out = append(out, share{k, float64(v) / float64(max(total, 1))})
		}
		slices.SortFunc(out, func(a, b share) int { return cmp.Or(cmp.Compare(b.Frac, a.Frac), strings.Compare(a.Name, b.Name)) })
		return out[:min(top, len(out))]
	}
	return rank(byFunc), rank(byPkg)
}
