package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// follower reads one client's stream with wire.Parser and, whenever the
// stream breaks, reconnects to the current server with Last-Event-ID, as
// the SDK does.
type follower struct {
	target atomic.Pointer[proc]
	id     string

	mu       sync.Mutex
	got      map[string]int // data -> times delivered
	order    []string
	resets   int
	connects int
	lastID   string
}

func follow(t testing.TB, p *proc, id string) *follower {
	f := &follower{id: id, got: map[string]int{}}
	f.target.Store(p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			f.once(ctx)
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond): // reconnection back-off
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

func (f *follower) once(ctx context.Context) {
	p := f.target.Load()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url("/api/sse/connect/"+f.id), nil)
	f.mu.Lock()
	if f.lastID != "" {
		req.Header.Set("Last-Event-ID", f.lastID)
	}
	f.mu.Unlock()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return
	}
	f.mu.Lock()
	f.connects++
	f.mu.Unlock()
	parser := wire.NewParser(res.Body)
	for {
		ev, err := parser.Next()
		if err != nil {
			return
		}
		f.mu.Lock()
		switch ev.Type {
		case "message":
			f.got[ev.Data]++
			f.order = append(f.order, ev.Data)
			f.lastID = ev.ID
		case "reset":
			f.resets++
		}
		f.mu.Unlock()
	}
}

func (f *follower) count(data string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got[data]
}

func (f *follower) connected() int { f.mu.Lock(); defer f.mu.Unlock(); return f.connects }

// publisher publishes numbered events to every client and remembers the
// accepted (202) ones.
type publisher struct {
	n        int
	accepted []string
	refused  map[int]int // status -> count (0: connection error)
}

func (pub *publisher) send(t testing.TB, p *proc, size int) int {
	pub.n++
	data := fmt.Sprintf("e%06d", pub.n)
	if size > len(data) {
		data += strings.Repeat("x", size-len(data))
	}
	body, _ := json.Marshal(map[string]string{"data": data})
	st, _ := post(t, p, "/api/sse/sendAll", "application/json", string(body))
	if st == http.StatusAccepted {
		pub.accepted = append(pub.accepted, data)
	} else {
		if pub.refused == nil {
			pub.refused = map[int]int{}
		}
		pub.refused[st]++
	}
	return st
}

// checkExactlyOnce waits until f has every accepted event and asserts that
// none came twice.
func checkExactlyOnce(t *testing.T, f *follower, pub *publisher) {
	t.Helper()
	eventually(t, 30*time.Second, "every accepted event delivered", func() bool {
		for _, d := range pub.accepted {
			if f.count(d) == 0 {
				return false
			}
		}
		return true
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	for d, n := range f.got {
		if n != 1 {
			t.Errorf("event %.12s delivered %d times", d, n)
		}
	}
}

// killRestart publishes while the server is killed with SIGKILL and
// restarted on the same store, three times, and checks that one client
// resuming with Last-Event-ID gets every accepted event exactly once.
func killRestart(t *testing.T, name string, args ...string) {
	p := startServer(t, nil, args...)
	f := follow(t, p, "follower")
	eventually(t, 10*time.Second, "follower connected", func() bool { return f.connected() == 1 })
	pub := &publisher{}
	const rounds, perRound = 3, 50
	for r := 0; r < rounds; r++ {
		for i := 0; i < perRound; i++ {
			pub.send(t, p, 0)
			if i == perRound/2 {
				// Mid-stream: the follower is still receiving when the
				// process dies; the rest of the round goes to a dead port.
				p.kill()
			}
		}
		p = startServer(t, nil, args...)
		f.target.Store(p)
	}
	for i := 0; i < perRound; i++ {
		pub.send(t, p, 0)
	}
	checkExactlyOnce(t, f, pub)
	if f.resets != 0 {
		t.Errorf("%d reset events: a cursor was not resumed", f.resets)
	}
	report(t, "Faults", "kill -9 mid-stream ×3 and restart, "+name,
		"%d accepted (202), %d refused while down, %d delivered exactly once, 0 duplicates, %d resets, %d connections",
		len(pub.accepted), pub.refused[0], len(f.got), f.resets, f.connected())
}

func TestFault_kill9_dataDir(t *testing.T) {
	t.Parallel()
	killRestart(t, "-data-dir", "-data-dir", t.TempDir())
}

func TestFault_kill9_redis(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	killRestart(t, "-redis-url (redis-server stays up)", "-redis-url", r.url())
}

// TestFault_fullDisk_dataDir runs the server under RLIMIT_FSIZE: once the
// history file cannot grow, publishing answers 507, the process keeps
// serving, and after a restart without the limit the history is intact and
// publishing works again.
func TestFault_fullDisk_dataDir(t *testing.T) {
	t.Parallel()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatalf("prlimit (util-linux) is needed to limit the file size: %v", err)
	}
	dir := t.TempDir()
	const limit = 512 << 10
	p := startServer(t, []string{prlimit, fmt.Sprintf("--fsize=%d", limit), "--"}, "-data-dir", dir)
	f := follow(t, p, "follower")
	eventually(t, 10*time.Second, "follower connected", func() bool { return f.connected() == 1 })
	pub := &publisher{}
	first507 := 0
	for i := 0; i < 2000 && first507 == 0; i++ {
		switch st := pub.send(t, p, 2048); st {
		case http.StatusAccepted:
		case http.StatusInsufficientStorage:
			first507 = i + 1
		default:
			t.Fatalf("publish %d: status %d, want 202 or 507\n%s", i+1, st, p.log.String())
		}
	}
	if first507 == 0 {
		t.Fatalf("no 507 after %d publishes of 2 KiB under a %d byte file limit", pub.n, limit)
	}
	for i := 0; i < 20; i++ {
		if st := pub.send(t, p, 2048); st != http.StatusInsufficientStorage {
			t.Fatalf("publish on a full disk: %d, want 507", st)
		}
	}
	if st := get(t, p, "/healthz"); st != http.StatusOK {
		t.Fatalf("healthz on a full disk: %d", st)
	}
	checkExactlyOnce(t, f, pub)
	accepted := len(pub.accepted)

	p.kill()
	p = startServer(t, nil, "-data-dir", dir)
	f.target.Store(p)
	for i := 0; i < 20; i++ {
		if st := pub.send(t, p, 2048); st != http.StatusAccepted {
			t.Fatalf("publish after restart without the limit: %d, want 202", st)
		}
	}
	checkExactlyOnce(t, f, pub)
	report(t, "Faults", "full disk for -data-dir (RLIMIT_FSIZE 512 KiB, 2 KiB events)",
		"%d accepted, then 507 from publish %d on (21 of 21 answered 507, /healthz 200); after restart without the limit 20/20 accepted, all %d delivered exactly once",
		accepted, first507, len(pub.accepted))
}

// TestFault_redisRestart kills redis-server under a running binary and
// starts it again, empty: publishing answers 503 while it is down, the
// server keeps serving, and every accepted event reaches the client once.
func TestFault_redisRestart(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	p := startServer(t, nil, "-redis-url", r.url())
	f := follow(t, p, "follower")
	eventually(t, 10*time.Second, "follower connected", func() bool { return f.connected() == 1 })
	pub := &publisher{}
	for i := 0; i < 30; i++ {
		if st := pub.send(t, p, 0); st != http.StatusAccepted {
			t.Fatalf("publish before the restart: %d", st)
		}
	}
	r.kill(t)
	down := 0
	for i := 0; i < 10; i++ {
		switch st := pub.send(t, p, 0); st {
		case http.StatusServiceUnavailable:
			down++
		case http.StatusAccepted:
		default:
			t.Fatalf("publish while Redis is down: %d, want 503 (or 202 before the loss is seen)", st)
		}
	}
	if down == 0 {
		t.Fatal("no 503 while Redis was down")
	}
	if st := get(t, p, "/healthz"); st != http.StatusOK {
		t.Fatalf("healthz while Redis is down: %d", st)
	}
	r.start(t)
	eventually(t, 30*time.Second, "publishing accepted again", func() bool {
		return pub.send(t, p, 0) == http.StatusAccepted
	})
	for i := 0; i < 30; i++ {
		if st := pub.send(t, p, 0); st != http.StatusAccepted {
			t.Fatalf("publish after the restart: %d", st)
		}
	}
	checkExactlyOnce(t, f, pub)
	report(t, "Faults", "redis-server killed and restarted empty under the binary",
		"%d of 10 publishes while down answered 503 (/healthz 200); after the restart %d accepted in all, each delivered exactly once (%d resets, %d connections)",
		down, len(pub.accepted), f.resets, f.connected())
}

func get(t testing.TB, p *proc, path string) int {
	t.Helper()
	res, err := client.Get(p.url(path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// redisServer is a real redis-server of the test's own on a free loopback
// port, without persistence. It fails, never skips, when redis-server is
// not installed (`make deps` installs it).
type redisServer struct {
	port int
	dir  string
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (make deps installs it): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &redisServer{port: port, dir: t.TempDir()}
	r.start(t)
	t.Cleanup(func() { r.kill(t) })
	return r
}

// start runs redis-server (again, empty) and waits until it answers.
func (r *redisServer) start(t testing.TB) {
	t.Helper()
	out, err := exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "yes",
		"--pidfile", filepath.Join(r.dir, "redis.pid"), "--dir", r.dir,
		"--logfile", filepath.Join(r.dir, "redis.log")).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-server: %v: %s", err, out)
	}
	eventually(t, 10*time.Second, "redis-server answers PING", func() bool { return r.ping() })
}

// kill stops redis-server with SIGKILL and waits until it is gone.
func (r *redisServer) kill(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, "redis.pid"))
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	os.Remove(filepath.Join(r.dir, "redis.pid"))
	eventually(t, 10*time.Second, "redis-server gone", func() bool { return !r.ping() })
}

func (r *redisServer) ping() bool {
	c, err := net.DialTimeout("tcp", r.addr(), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.HasPrefix(line, "+PONG")
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }
func (r *redisServer) url() string  { return "redis://" + r.addr() + "/0" }
