package reliability

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// scale is short in `make test` and the figure with -reliability.long.
func scale(short, full int) int {
	if *long {
		return full
	}
	return short
}

// usage is what the server process holds.
type usage struct {
	goroutines, fds int
	heap            float64 // go_memstats_heap_inuse_bytes
	conns           int     // ssekit_connections
}

func (u usage) String() string {
	return fmt.Sprintf("%d goroutines, %d fds, %.1f MiB heap in use", u.goroutines, u.fds, u.heap/(1<<20))
}

func measure(t testing.TB, p *proc) usage {
	t.Helper()
	res, err := client.Get(p.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var u usage
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, _ := strconv.ParseFloat(val, 64)
		switch name {
		case "go_goroutines":
			u.goroutines = int(f)
		case "go_memstats_heap_inuse_bytes":
			u.heap = f
		case "ssekit_connections":
			u.conns = int(f)
		}
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.pid()))
	if err != nil {
		t.Fatal(err)
	}
	u.fds = len(ents)
	return u
}

// openStream opens one stream on a raw connection and returns once the
// connected event has arrived; the caller closes it.
func openStream(addr, id string, rcvbuf int) (net.Conn, *wire.Parser, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	if rcvbuf > 0 {
		d.ControlContext = nil
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	path := "/api/sse/connect"
	if id != "" {
		path += "/" + id
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", path, addr); err != nil {
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if res.StatusCode != 200 {
		conn.Close()
		return nil, nil, fmt.Errorf("status %d", res.StatusCode)
	}
	p := wire.NewParser(res.Body)
	ev, err := p.Next()
	if err != nil || ev.Type != "connected" {
		conn.Close()
		return nil, nil, fmt.Errorf("first event %q: %v", ev.Type, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, p, nil
}

// gcOften runs the server with GOGC=10, so that the heap in use follows the
// live heap closely (the metrics polled while waiting allocate enough to
// trigger collections) and a leak shows.
var gcOften = []string{"env", "GOGC=10"}

// backToBaseline waits until the server holds no more than it did before,
// with a little slack for the runtime (goroutines, fds) and garbage not yet
// collected (heap).
func backToBaseline(t *testing.T, p *proc, base usage) usage {
	return backWithin(t, p, base, 4<<20)
}

// backWithin is backToBaseline with heapSlack bytes of heap allowed.
func backWithin(t *testing.T, p *proc, base usage, heapSlack float64) usage {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		now := measure(t, p)
		if now.conns == 0 && now.goroutines <= base.goroutines+2 && now.fds <= base.fds+2 &&
			now.heap <= base.heap+heapSlack {
			return now
		}
		if time.Now().After(deadline) {
			t.Fatalf("not back to baseline within 30s: before %v, now %v, %d connections", base, now, now.conns)
		}
		<-time.After(10 * time.Millisecond)
	}
}

func TestLoad_connectDisconnectChurn(t *testing.T) {
	t.Parallel()
	cycles := scale(2000, 10000)
	p := startServer(t, gcOften)
	base := measure(t, p)
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < cycles; i += workers {
				conn, _, err := openStream(p.addr, "", 0)
				if err != nil {
					errs <- fmt.Errorf("cycle %d: %w", i, err)
					return
				}
				conn.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	took := time.Since(start)
	after := backToBaseline(t, p, base)
	report(t, "Load and churn", fmt.Sprintf("%d connect/disconnect cycles (8 at a time; server GOGC=10)", cycles),
		"%.0f cycles/s; before: %v; after: %v", float64(cycles)/took.Seconds(), base, after)
}

// TestLoad_idleStreams opens n idle streams, closes them, and does it
// again: goroutines and fds return to the baseline each time, the heap to
// within 16 MiB of it (maps keep the capacity they grew to) both times, so
// a second round adds nothing that stays.
func TestLoad_idleStreams(t *testing.T) {
	t.Parallel()
	n := scale(1000, 5000)
	p := startServer(t, gcOften)
	base := measure(t, p)
	round := func() (peak, after usage) {
		conns := make([]net.Conn, 0, n)
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for i := 0; i < n; i++ {
			c, _, err := openStream(p.addr, "", 0)
			if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
			conns = append(conns, c)
		}
		eventually(t, 10*time.Second, "every stream registered", func() bool { peak = measure(t, p); return peak.conns == n })
		for _, c := range conns {
			c.Close()
		}
		conns = nil
		return peak, backWithin(t, p, base, 16<<20)
	}
	peak, after1 := round()
	_, after2 := round()
	report(t, "Load and churn", fmt.Sprintf("%d concurrent idle streams, twice (server GOGC=10)", n),
		"before: %v; with %d open: %v (%.1f KiB heap per stream); after closing: %v; after a second round: %v",
		base, n, peak, (peak.heap-base.heap)/float64(n)/1024, after1, after2)
}

// broadcastRun has receivers read a broadcast of events stamped with their
// publish time and returns their p99 delivery latency.
func broadcastRun(t *testing.T, p *proc, receivers, events int) time.Duration {
	t.Helper()
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	conns := make([]net.Conn, receivers)
	for i := range conns {
		c, parser, err := openStream(p.addr, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, events)
			for len(local) < events {
				ev, err := parser.Next()
				if err != nil {
					break
				}
				if ev.Type != "message" {
					continue
				}
				ts, _ := strconv.ParseInt(strings.SplitN(ev.Data, " ", 2)[0], 10, 64)
				local = append(local, time.Since(time.Unix(0, ts)))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	pad := strings.Repeat("p", 1024)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < events; i++ {
		<-tick.C
		if st, _ := post(t, p, "/api/sse/sendAll", "application/x-www-form-urlencoded",
			"message="+strconv.FormatInt(time.Now().UnixNano(), 10)+"+"+pad); st != 202 {
			t.Fatalf("publish %d: %d", i, st)
		}
	}
	waitc := make(chan struct{})
	go func() { wg.Wait(); close(waitc) }()
	select {
	case <-waitc:
	case <-time.After(60 * time.Second):
		t.Fatal("receivers did not get every event within 60s")
	}
	for _, c := range conns {
		c.Close()
	}
	if len(lat) != receivers*events {
		t.Fatalf("%d deliveries, want %d", len(lat), receivers*events)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)*99/100]
}

// TestLoad_slowClientDoesNotDelayOthers compares the p99 latency of a
// broadcast to many receivers without and with one client that never
// reads, and checks that the slow one is dropped. Not parallel: it times
// latencies, so it runs before the parallel tests load the machine.
func TestLoad_slowClientDoesNotDelayOthers(t *testing.T) {
	receivers, events := scale(200, 1000), scale(200, 300)
	p := startServer(t, nil, "-queue-size", "16")
	without := broadcastRun(t, p, receivers, events)

	slow, _, err := openStream(p.addr, "slow", 2048)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	with := broadcastRun(t, p, receivers, events)
	// The kernel buffers of the connection may still hold the broadcast;
	// more to the slow client alone fills them and its queue.
	extra := 0
	big := "message=" + strings.Repeat("s", 60<<10)
	for strings.Contains(clientsBody(t, p), `"slow"`) {
		if extra++; extra > 2000 {
			t.Fatal("the slow client was not dropped after 2000 more events of 60 KiB")
		}
		if st, _ := post(t, p, "/api/sse/send/slow", "application/x-www-form-urlencoded", big); st != 202 {
			t.Fatalf("publish to the slow client: %d", st)
		}
	}
	// The slow connection is closed by the server: reading drains what the
	// kernel held, then ends.
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, slow); err != nil {
		t.Errorf("slow connection not closed by the server: %v", err)
	}
	// A second run without it tells the noise of this machine.
	without2 := broadcastRun(t, p, receivers, events)
	noise := max(without, without2)
	if with > 2*noise+50*time.Millisecond {
		t.Errorf("p99 with a slow client %v, without %v and %v: delayed beyond noise", with, without, without2)
	}
	report(t, "Load and churn", fmt.Sprintf("broadcast of %d events (1 KiB, every 5 ms) to %d receivers, one client never reading", events, receivers),
		"p99 latency without the slow client %v and %v (run before and after), with it %v; the slow client (queue 16, 2 KiB receive buffer) dropped and its connection closed after %d more events of 60 KiB to it alone",
		without.Round(100*time.Microsecond), without2.Round(100*time.Microsecond), with.Round(100*time.Microsecond), extra-1)
}
