package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssekit/ssekit/e2e"
	"github.com/ssekit/ssekit/e2e/loadtest/load"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []float64
		want summary
	}{
		{"empty", nil, summary{}},
		{"one", []float64{3}, summary{1, 3, 3, 3}},
		{"odd", []float64{5, 1, 3}, summary{3, 3, 1, 5}},
		{"even", []float64{4, 1, 2, 10}, summary{4, 3, 1, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := summarize(tt.in); got != tt.want {
				t.Errorf("summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseScenarios(t *testing.T) {
	t.Parallel()
	got, err := parseScenarios(defaultScenarios, 64)
	if err != nil {
		t.Fatal(err)
	}
	want := []scenario{
		{conns: 1000, events: 200, size: 64, name: "broadcast-1000x200", headline: "Broadcast: 1000 streams × 200 events of 64 bytes"},
		{conns: 5000, events: 50, size: 64, name: "broadcast-5000x50", headline: "Broadcast: 5000 streams × 50 events of 64 bytes"},
		{conns: 1000, events: 100, size: 64, interval: 20 * time.Millisecond, name: "paced-1000x100-20ms", headline: "Paced: 1000 streams × 100 events of 64 bytes, one every 20ms"},
		{idle: true, conns: 10000, name: "idle-10000", headline: "Idle: 10000 streams"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d scenarios, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("scenario %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "broadcast:10", "broadcast:0x5", "idle:x", "storm:5", "idle:1000000", "broadcast:10x0", "paced:10x5", "paced:10x5@0s", "paced:10x5@1m", "paced:10x5@soon"} {
		if _, err := parseScenarios(bad, 64); err == nil {
			t.Errorf("parseScenarios(%q) accepted", bad)
		}
	}
}

func TestPickServers(t *testing.T) {
	t.Parallel()
	got, err := pickServers("r3labs, ssekit")
	if err != nil || len(got) != 2 || got[0].name != "r3labs" || got[1].name != "ssekit" {
		t.Errorf("pickServers = %v, %v", got, err)
	}
	for _, bad := range []string{"nginx", "ssekit,ssekit", ""} {
		if _, err := pickServers(bad); err == nil {
			t.Errorf("pickServers(%q) accepted", bad)
		}
	}
}

func TestParseMicroFile(t *testing.T) {
	t.Parallel()
	out := `goos: linux
pkg: github.com/ssekit/ssekit/sdk/wire
BenchmarkParser-2   	    4542	    261343 ns/op	 371.16 MB/s	   81537 B/op	    2010 allocs/op
BenchmarkParser-2   	    3867	    297397 ns/op	 326.16 MB/s	   81536 B/op	    2010 allocs/op
PASS
pkg: github.com/ssekit/ssekit/e2e
BenchmarkHub_fanOut/subscribers=10-2 	 243	 6194097 ns/op	 161444 deliveries/s	 6194 ns/delivery	 955982 B/op	 6156 allocs/op
ok  	github.com/ssekit/ssekit/e2e	13.173s
`
	path := filepath.Join(t.TempDir(), "micro.txt")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := parseMicroFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d benchmarks, want 2: %+v", len(got), got)
	}
	p := got[0]
	if p.pkg != "github.com/ssekit/ssekit/sdk/wire" || p.name != "BenchmarkParser-2" ||
		len(p.values["ns/op"]) != 2 || p.values["MB/s"][1] != 326.16 || strings.Join(p.units, ",") != "ns/op,MB/s,B/op,allocs/op" {
		t.Errorf("parser benchmark = %+v", p)
	}
	if h := got[1]; h.pkg != "github.com/ssekit/ssekit/e2e" || h.values["ns/delivery"][0] != 6194 {
		t.Errorf("hub benchmark = %+v", h)
	}
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte("PASS\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parseMicroFile(empty); err == nil {
		t.Error("a file without results accepted")
	}
}

// fakeRun is a passing broadcast or idle run with the given figures.
func fakeRun(name string, perSec, p99, cpu, rss float64) load.Result {
	return load.Result{Label: name, Mode: "broadcast", OK: true, DeliveriesPerSec: perSec, LatencyP99Ms: p99,
		Server: &load.ServerFigures{CPUPerDeliveryUs: cpu, RSSPerConnKiB: rss}}
}

func TestReport_markdown(t *testing.T) {
	t.Parallel()
	scenarios, err := parseScenarios("broadcast:1000x200,idle:10000", 64)
	if err != nil {
		t.Fatal(err)
	}
	servers, err := pickServers("ssekit,handwritten,go-sse")
	if err != nil {
		t.Fatal(err)
	}
	res := results{}
	for _, r := range []load.Result{
		fakeRun("ssekit", 300000, 10, 3.2, 40), fakeRun("ssekit", 310000, 12, 3.2, 41), fakeRun("ssekit", 320000, 11, 3.2, 42),
		fakeRun("handwritten", 100000, 30, 9, 30), fakeRun("handwritten", 150000, 30, 9, 30), fakeRun("handwritten", 140000, 30, 9, 30),
		fakeRun("go-sse", 80000, 20, 8, 25), fakeRun("go-sse", 80000, 25, 8, 25),
	} {
		res.add("broadcast-1000x200", r.Label, r)
	}
	failed := fakeRun("go-sse", 1, 1, 1, 1)
	failed.OK, failed.Lost, failed.Errors = false, 3, []string{"deliver: 999 of 1000 streams"}
	res.add("broadcast-1000x200", "go-sse", failed)
	for _, srv := range []string{"ssekit", "handwritten", "go-sse"} {
		r := load.Result{Label: srv, Mode: "idle", OK: true, Server: &load.ServerFigures{RSSPerConnKiB: map[string]float64{"ssekit": 12, "handwritten": 29, "go-sse": 21}[srv]}}
		res.add("idle-10000", srv, r)
	}
	bins := &binaries{dir: "/tmp/x", versions: map[string]string{"github.com/tmaxmax/go-sse": "v0.11.0"}}
	rep := report{Command: "make bench", Invocation: "go run ./e2e/bench -runs 3", Runs: 3, Settle: 3 * time.Second,
		Machine: machine{Cores: "2", Load: "0.50 0.40 0.30", LoadEnd: "2.50 1.00 0.50"},
		Servers: servers, Scenarios: scenarios, Results: res, bins: bins,
		MoreGoals: []e2e.GoalRow{{Goal: "browser rate", Target: "≥ 0.50", Ours: "0.40", Peer: "9 events/s", Missed: "by 0.10"},
			{Goal: "wasm size", Target: "≤ 9 B", Ours: "8 B", Peer: "—", Met: true}}}
	md := rep.markdown()
	for _, want := range []string{
		"**median of 3 interleaved runs**",
		"The machine was busy with other work during this run (load average above its 2 cores",
		"make bench\n```\n\nwhich ran:\n\n```sh\ngo run ./e2e/bench -runs 3\n```",
		"| go-sse | `e2e/peers/cmd/gosse`: github.com/tmaxmax/go-sse v0.11.0, its default provider (Joe) | `gosse -addr {addr}` |",
		"| deliveries/s | 310000 (300000–320000) | 140000 (100000–150000) | 80000 (80000–80000) |",
		"| latency p99 (ms) | 11.0 (10.0–12.0) | 30.0 (30.0–30.0) | 22.5 (20.0–25.0) |",
		"| runs passed | 3/3 | 3/3 | 2/3 |",
		"| handwritten | 2.21× | 0.37× | 0.36× | 1.37× |",
		"| deliveries/s, 1000 × 200 | ≥ 1.5 × best peer | 310000 | 140000 (handwritten) | met |",
		"| latency p99, 1000 × 200 | ≤ best peer | 11.0 ms | 22.5 ms (go-sse) | met |",
		"| server CPU per delivery, 1000 × 200 | ≤ ⅓ × best peer | 3.20 µs | 8.00 µs (go-sse) | **missed**: 0.40× best peer |",
		"| RSS per idle stream at 10000 streams | ≤ 16 KiB | 12.0 KiB | 21.0 KiB (go-sse) | met |",
		"| interleaved runs per figure | ≥ 5 | 3 |  | **missed** |\n| browser rate | ≥ 0.50 | 0.40 | 9 events/s | **missed** by 0.10 |\n| wasm size | ≤ 9 B | 8 B | — | met |",
		"- broadcast-1000x200, go-sse, run 3: lost 3, duplicates 0, out of order 0; deliver: 999 of 1000 streams",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	got := shellQuote([]string{"go", "run", "./e2e/bench", "-command", "make bench", "-x", "it's", ""})
	if want := `go run ./e2e/bench -command 'make bench' -x 'it'\''s' ''`; got != want {
		t.Errorf("shellQuote = %s, want %s", got, want)
	}
}

func TestBusy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		load, cores string
		want        bool
	}{
		{"0.50 0.40 0.30", "2", false},
		{"2.00 0.40 0.30", "2", false},
		{"2.01 0.40 0.30", "2", true},
		{"unknown", "2", false},
	}
	for _, tt := range tests {
		if got := busy(tt.load, tt.cores); got != tt.want {
			t.Errorf("busy(%q, %q) = %v, want %v", tt.load, tt.cores, got, tt.want)
		}
	}
}
