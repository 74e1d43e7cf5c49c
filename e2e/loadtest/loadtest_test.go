package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ssekit/ssekit/e2e"
	"github.com/ssekit/ssekit/e2e/loadtest/load"
	"github.com/ssekit/ssekit/server"
)

// serveHubArg makes the test binary a hub server, so a test can have the
// tool start a real server process: test-binary serve-hub -addr ADDR.
const serveHubArg = "serve-hub"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == serveHubArg {
		os.Exit(serveHub(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func serveHub(args []string) int {
	if len(args) != 2 || args[0] != "-addr" {
		fmt.Fprintln(os.Stderr, "usage: serve-hub -addr ADDR")
		return 2
	}
	h, err := server.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	<-ctx.Done()
	dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.Drain(dctx)
	_ = srv.Shutdown(dctx)
	return 0
}

// runJSON runs the command with -json and returns its status and report.
func runJSON(t *testing.T, args ...string) (int, load.Result) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), append([]string{"-json", "-timeout", "1m"}, args...), &stdout, &stderr)
	var res load.Result
	if code != 2 {
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("status %d, report %q: %v; stderr: %s", code, stdout.String(), err, stderr.String())
		}
	}
	if code != 0 {
		t.Logf("status %d; report %+v; stderr: %s", code, res, stderr.String())
	}
	return code, res
}

func TestLoadtest_hub(t *testing.T) {
	t.Parallel()
	hub := e2e.StartHub(t)
	code, res := runJSON(t, "-base", hub.URL, "-conns", "50", "-events", "20", "-pid", fmt.Sprint(os.Getpid()), "-label", "ssekit")
	if code != 0 || !res.OK {
		t.Fatalf("status %d, ok %v, errors %v", code, res.OK, res.Errors)
	}
	if res.Expected != 1000 || res.Delivered != 1000 || res.Lost != 0 || res.Duplicates != 0 || res.OutOfOrder != 0 {
		t.Errorf("expected %d, delivered %d, lost %d, dup %d, ooo %d; want 1000 delivered once in order",
			res.Expected, res.Delivered, res.Lost, res.Duplicates, res.OutOfOrder)
	}
	if res.Size != 64 || res.WarmupEvents < 1 || res.OtherEvents != 50 {
		t.Errorf("size %d, warm-ups %d, other events %d; want 64, ≥ 1, 50 (one connected event per stream)", res.Size, res.WarmupEvents, res.OtherEvents)
	}
	if res.DeliveriesPerSec <= 0 || res.LatencyP50Ms <= 0 || res.LatencyP50Ms > res.LatencyP99Ms || res.LatencyP99Ms > res.LatencyMaxMs {
		t.Errorf("deliveries/s %v, latency p50 %v p99 %v max %v: want positive and ordered", res.DeliveriesPerSec, res.LatencyP50Ms, res.LatencyP99Ms, res.LatencyMaxMs)
	}
	if s := res.Server; s == nil || s.PID != os.Getpid() || s.RSSBaseKiB <= 0 || s.RSSConnectedKiB <= 0 {
		t.Errorf("server figures %+v, want this process's RSS", s)
	}
}

// TestLoadtest_paced: with -interval the measured publishes are spread on
// a schedule, so publishing 10 events 30ms apart takes at least 270ms,
// and every event still reaches every stream once, in order.
func TestLoadtest_paced(t *testing.T) {
	t.Parallel()
	hub := e2e.StartHub(t)
	code, res := runJSON(t, "-base", hub.URL, "-conns", "20", "-events", "10", "-interval", "30ms")
	if code != 0 || !res.OK || res.Delivered != 200 {
		t.Fatalf("status %d, ok %v, delivered %d, errors %v", code, res.OK, res.Delivered, res.Errors)
	}
	if res.IntervalMs != 30 || res.PublishSeconds < 0.27 {
		t.Errorf("interval %v ms, publishing took %.3fs: want 30 ms and ≥ 0.27s", res.IntervalMs, res.PublishSeconds)
	}
}

func TestLoadtest_startsServer(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	log := t.TempDir() + "/server.log"
	for _, mode := range []string{"broadcast", "idle"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			args := []string{"-conns", "20", "-events", "10", "-server-log", log + mode}
			if mode == "idle" {
				args = []string{"-idle", "-conns", "20", "-settle", "50ms"}
			}
			code, res := runJSON(t, append(args, "--", self, serveHubArg, "-addr", "{addr}")...)
			if code != 0 || !res.OK || res.Mode != mode {
				t.Fatalf("status %d, ok %v, mode %q, errors %v", code, res.OK, res.Mode, res.Errors)
			}
			s := res.Server
			if s == nil || s.PID == os.Getpid() || s.RSSBaseKiB <= 0 || s.RSSConnectedKiB < s.RSSBaseKiB {
				t.Fatalf("server figures %+v: want the started process's", s)
			}
			if _, err := load.ReadProc(s.PID); err == nil {
				t.Errorf("server process %d still there after the run", s.PID)
			}
		})
	}
}

func TestLoadtest_usage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"not loopback", []string{"-base", "http://192.0.2.1:80"}},
		{"too many streams", []string{"-conns", "1000000"}},
		{"unknown flag", []string{"-nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := run(t.Context(), tt.args, &stdout, &stderr); code != 2 {
				t.Errorf("status %d, want 2; stderr: %s", code, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("report printed for bad usage: %s", stdout.String())
			}
		})
	}
}

// TestLoadtest_faultyServer proves the accounting: a broadcaster that
// mangles the events of one stream makes the tool count it and exit 1.
func TestLoadtest_faultyServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		fault         fault
		lost, dup, oo int64
	}{
		{"drops one event", dropSeq7, 1, 0, 0},
		{"repeats one event", repeatSeq3, 0, 1, 0},
		{"swaps two events", swapSeq4And5, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(newFaulty("lt3", tt.fault))
			t.Cleanup(srv.Close)
			code, res := runJSON(t, "-base", srv.URL, "-conns", "8", "-events", "12", "-drain", "2s")
			if code != 1 || res.OK {
				t.Errorf("status %d, ok %v; want 1, false", code, res.OK)
			}
			if res.Lost != tt.lost || res.Duplicates != tt.dup || res.OutOfOrder != tt.oo {
				t.Errorf("lost %d, dup %d, ooo %d; want %d, %d, %d", res.Lost, res.Duplicates, res.OutOfOrder, tt.lost, tt.dup, tt.oo)
			}
			if want := int64(8*12) - tt.lost; res.Delivered != want {
				t.Errorf("delivered %d, want %d", res.Delivered, want)
			}
		})
	}
}

// fault rewrites the frames of measured event seq for the victim stream;
// held carries frames over between calls.
type fault func(seq int, frame string, held *[]string) []string

func dropSeq7(seq int, frame string, _ *[]string) []string {
	if seq == 7 {
		return nil
	}
	return []string{frame}
}

func repeatSeq3(seq int, frame string, _ *[]string) []string {
	if seq == 3 {
		return []string{frame, frame}
	}
	return []string{frame}
}

func swapSeq4And5(seq int, frame string, held *[]string) []string {
	switch seq {
	case 4:
		*held = []string{frame}
		return nil
	case 5:
		out := append([]string{frame}, *held...)
		*held = nil
		return out
	}
	return []string{frame}
}

// faulty is a small broadcaster with the hub's HTTP shape that applies a
// fault to one client's stream.
type faulty struct {
	victim string
	fault  fault

	mu   sync.Mutex
	subs map[string]chan string
	held []string
}

func newFaulty(victim string, f fault) http.Handler {
	b := &faulty{victim: victim, fault: f, subs: map[string]chan string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/sse/connect/{id}", b.connect)
	mux.HandleFunc("POST /api/sse/sendAll", b.publish)
	return mux
}

func (b *faulty) connect(w http.ResponseWriter, r *http.Request) {
	ch := make(chan string, 64)
	b.mu.Lock()
	b.subs[r.PathValue("id")] = ch
	b.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case f := <-ch:
			_, _ = w.Write([]byte(f))
			w.(http.Flusher).Flush()
		}
	}
}

func (b *faulty) publish(w http.ResponseWriter, r *http.Request) {
	msg := r.FormValue("message")
	var p struct {
		Seq *int `json:"seq"`
	}
	if err := json.Unmarshal([]byte(msg), &p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	frame := "data: " + strings.ReplaceAll(msg, "\n", "\ndata: ") + "\n\n"
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, ch := range b.subs {
		frames := []string{frame}
		if id == b.victim && p.Seq != nil {
			frames = b.fault(*p.Seq, frame, &b.held)
		}
		for _, f := range frames {
			ch <- f
		}
	}
	w.WriteHeader(http.StatusAccepted)
}
