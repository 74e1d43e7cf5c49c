package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// microBench is one Go benchmark over its repetitions (-count).
type microBench struct {
	pkg, name string
	units     []string             // in order of first appearance
	values    map[string][]float64 // unit → one value per repetition
}

// parseMicroFile reads go test -bench output.
func parseMicroFile(path string) ([]microBench, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []microBench
	index := map[string]int{}
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue // a benchmark's log line, not a result
		}
		key := pkg + " " + fields[0]
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, microBench{pkg: pkg, name: fields[0], values: map[string][]float64{}})
		}
		b := &out[i]
		for j := 2; j+1 < len(fields); j += 2 {
			v, err := strconv.ParseFloat(fields[j], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: bad value %q in %q", path, fields[j], line)
			}
			unit := fields[j+1]
			if _, seen := b.values[unit]; !seen {
				b.units = append(b.units, unit)
			}
			b.values[unit] = append(b.values[unit], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", path)
	}
	return out, nil
}
