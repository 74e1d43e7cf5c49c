// Package reliability is the fault, load, bad-input and security suite of
// ssekit. It runs the real ssekit-server binary (built once per test
// binary, with -race) as a subprocess, kills it, starves it, cuts its
// network to a headless Chromium page (one browser per test binary, started
// by the first case that needs it) and feeds it bad input, and reports its
// figures as a Markdown table:
//
//	go test -race -count=1 ./e2e/reliability/ -reliability.report=RELIABILITY.md
//
// -reliability.long (or RELIABILITY_LONG=1) scales the counts up to the
// figures the issue asks for; the default short form fits in `make test`.
package reliability

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	reportPath = flag.String("reliability.report", os.Getenv("RELIABILITY_REPORT"), "write the figures as Markdown to this file")
	long       = flag.Bool("reliability.long", os.Getenv("RELIABILITY_LONG") == "1", "run the long forms (10,000 cycles, 5,000 idle streams, 1,000 receivers)")
)

// serverBin is the ssekit-server binary under test.
var serverBin string

func TestMain(m *testing.M) {
	flag.Parse()
	loadAtStart = loadAvg()
	dir, err := os.MkdirTemp("", "ssekit-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "ssekit-server")
	build := exec.Command("go", "build", "-race", "-o", serverBin, "github.com/ssekit/ssekit/server/cmd/ssekit-server")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ssekit-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	browserCancel()
	if *reportPath != "" && code == 0 {
		if err := writeReport(*reportPath); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// figure is one row of the report.
type figure struct{ area, what, value string }

var (
	figMu   sync.Mutex
	figures []figure
)

// report records a figure for RELIABILITY.md and logs it.
func report(t testing.TB, area, what, format string, args ...any) {
	t.Helper()
	v := fmt.Sprintf(format, args...)
	t.Logf("%s: %s: %s", area, what, v)
	figMu.Lock()
	figures = append(figures, figure{area, what, v})
	figMu.Unlock()
}

func writeReport(path string) error {
	figMu.Lock()
	defer figMu.Unlock()
	sort.SliceStable(figures, func(i, j int) bool { return figures[i].area < figures[j].area })
	var b strings.Builder
	form := "short"
	if *long {
		form = "long"
	}
	cmd := "go test -race -count=1 ./e2e/reliability/ -reliability.report=$PWD/RELIABILITY.md"
	if *long {
		cmd = "make reliability"
	}
	fmt.Fprintf(&b, "# Reliability figures\n\nProduced by `%s` (%s form; `make test` runs the short form) on %s, %s.\n"+
		"Every row is asserted by a test of `e2e/reliability/`; the server is the real `ssekit-server` binary built with `-race`.\n\n",
		cmd, form, time.Now().UTC().Format("2006-01-02"), hostInfo())
	b.WriteString("| Area | What | Figure |\n|---|---|---|\n")
	for _, f := range figures {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", f.area, f.what, strings.ReplaceAll(f.value, "|", "\\|"))
	}
	b.WriteString(`
## Covered by the other suites (run by ` + "`make test`" + `)

| Case | Test |
|---|---|
| Browser offline (network emulation), then online: the SDK waits, resumes, loses nothing | ` + "`e2e/reconnect_test.go` TestReconnect_offlineWaitsForOnline" + ` |
| Server killed and restarted under a browser page: every event once | ` + "`e2e/reconnect_test.go` TestReconnect_serverKilledAndRestarted" + ` |
| Redis restart: 503 while down, accepted events all delivered after | ` + "`server/broker_redis_test.go` TestRedis_restartEmpty, TestRedis_restart_acceptedDelivered, TestRedis_unreachable" + ` |
| bbolt write failure: 507, nothing half-written | ` + "`server/broker_bolt_test.go` TestBolt_writeFailure" + ` |
| XSS corpus through the SDK in Chromium (text, sanitized HTML, templates): inert | ` + "`e2e/xss_test.go` TestXSS_corpus" + ` |
| Expired browser session renewed through the auth hook | ` + "`e2e/auth_test.go` TestAuth_browserRenewsExpiredSession" + ` |
| Slow and gone clients, drain, in process | ` + "`server/` TestHub_slowClient_neverDelaysOthers, TestHub_goneClient_unregisteredWithin, TestHub_drain" + ` |
| Fuzzing: wire encoder/parser, sanitizer, templates, JSON scanner, publish body decoding | ` + "`make fuzz-short`" + ` (FuzzRoundTrip, FuzzParser, FuzzSanitize, FuzzTemplate, FuzzObjectFields, FuzzDecodePublish; 100,000 executions each) |
`)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func hostInfo() string {
	n := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n = fmt.Sprint(strings.Count(string(b), "\nprocessor") + 1)
	}
	return fmt.Sprintf("%s CPUs, load average %s at the start and %s at the end (the latencies move with it)", n, loadAtStart, loadAvg())
}

// loadAtStart is the machine's load when the suite started: other work on
// the same CPUs shows in the latency figures.
var loadAtStart string

// loadAvg is the one-minute load average of the machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// proc is one running ssekit-server.
type proc struct {
	t    testing.TB
	cmd  *exec.Cmd
	addr string
	log  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var listening = regexp.MustCompile(`msg="ssekit-server listening" addr=(\S+)`)

// startServer runs the binary with args (after -addr 127.0.0.1:0 -www "");
// prefix, when given, is the command that execs it (prlimit, ...). It
// returns once the server listens.
func startServer(t testing.TB, prefix []string, args ...string) *proc {
	t.Helper()
	argv := append(append(append([]string{}, prefix...), serverBin, "-addr", "127.0.0.1:0", "-www", ""), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, log: &syncBuffer{}, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.log.mu.Lock()
			p.log.b.WriteString(line + "\n")
			p.log.mu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				addrc <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.addr = <-addrc:
	case <-p.done:
		t.Fatalf("ssekit-server exited before listening: %v\n%s", cmd.ProcessState, p.log.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("ssekit-server did not listen within 30s:\n%s", p.log.String())
	}
	t.Cleanup(p.kill)
	return p
}

// kill ends the server with SIGKILL (nothing flushed, as in a crash) and
// waits until it is gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// url is the server's URL for path.
func (p *proc) url(path string) string { return "http://" + p.addr + path }

// pid is the server's process id (prlimit execs it, so it is the same).
func (p *proc) pid() int { return p.cmd.Process.Pid }

// eventually polls cond every 10 ms until it holds or within passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		select {
		case <-time.After(10 * time.Millisecond):
		}
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// post sends body to path and returns the status and body.
func post(t testing.TB, p *proc, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, p.url(path), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
