package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// machine describes where the figures were taken.
type machine struct {
	CPU, Cores, Memory, Kernel, Go, Commit, Load, LoadEnd, Date string
}

func describeMachine(ctx context.Context) machine {
	m := machine{
		CPU:    procField("/proc/cpuinfo", "model name"),
		Cores:  fmt.Sprint(runtime.NumCPU()),
		Memory: memTotal(),
		Kernel: readTrim("/proc/sys/kernel/osrelease"),
		Date:   time.Now().UTC().Format("2006-01-02 15:04 MST"),
	}
	if v, err := command(ctx, "go", "version"); err == nil {
		m.Go = strings.TrimSpace(v)
	}
	if c, err := command(ctx, "git", "rev-parse", "--short", "HEAD"); err == nil {
		m.Commit = strings.TrimSpace(c)
		if st, err := command(ctx, "git", "status", "--porcelain", "--untracked-files=no"); err == nil && strings.TrimSpace(st) != "" {
			m.Commit += " with uncommitted changes"
		}
	}
	m.Load = loadAverage()
	return m
}

// loadAverage is the 1, 5 and 15 minute load average of /proc/loadavg.
func loadAverage() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// memTotal is MemTotal of /proc/meminfo in GiB.
func memTotal() string {
	f := strings.Fields(procField("/proc/meminfo", "MemTotal"))
	var kib float64
	if len(f) == 2 && f[1] == "kB" {
		if _, err := fmt.Sscan(f[0], &kib); err == nil {
			return fmt.Sprintf("%.1f GiB", kib/(1<<20))
		}
	}
	return "unknown"
}
