package cluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ssekit/ssekit/e2e"
	"github.com/ssekit/ssekit/sdk/wire"
)

// nginxBin finds nginx: on PATH, else /usr/sbin/nginx (not on a user's PATH
// on Debian).
func nginxBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx is not installed (make deps installs it: apt-get install -y nginx)")
	return ""
}

// nginxConfig is deploy/nginx.conf with its two upstream nodes, listen
// address and pid and log paths replaced, and nginx's temp paths in dir.
// Every placeholder must be there exactly once: a sample that drifts
// from what this test runs fails here.
func nginxConfig(t *testing.T, dir, listen string, a, b *Node) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(e2e.Root(), "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(src)
	var temps strings.Builder
	temps.WriteString("http {\n")
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temps, "    %s_temp_path %s;\n", kind, filepath.Join(dir, kind))
	}
	for _, r := range [][2]string{
		{"server 10.0.0.11:8844 ", "server " + a.Addr + " "},
		{"server 10.0.0.12:8844 ", "server " + b.Addr + " "},
		{"listen 80;", "listen " + listen + ";"},
		{"pid /run/nginx.pid;", "pid " + filepath.Join(dir, "nginx.pid") + ";"},
		{"error_log /var/log/nginx/error.log ", "error_log " + filepath.Join(dir, "error.log") + " "},
		{"access_log /var/log/nginx/access.log;", "access_log " + filepath.Join(dir, "access.log") + ";"},
		{"http {\n", temps.String()},
	} {
		if n := strings.Count(conf, r[0]); n != 1 {
			t.Fatalf("deploy/nginx.conf has %q %d times, want once", r[0], n)
		}
		conf = strings.Replace(conf, r[0], r[1], 1)
	}
	return conf
}

// startNginx runs nginx with deploy/nginx.conf in front of a and b, in the
// foreground and as one process (so its round robin is strict), on a free
// loopback port, and returns its base URL.
func startNginx(t *testing.T, a, b *Node) string {
	t.Helper()
	bin := nginxBin(t)
	dir := t.TempDir()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	listen := "127.0.0.1:" + strconv.Itoa(port)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(t, dir, listen, a, b)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"),
		"-g", "daemon off; master_process off;")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	errorLog := func() string { b, _ := os.ReadFile(filepath.Join(dir, "error.log")); return string(b) }
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("nginx error log:\n%s", tail(errorLog(), 30))
		}
	})
	e2e.Eventually(t, 10*time.Second, "nginx accepts on "+listen, func() bool {
		select {
		case <-done:
			t.Fatalf("nginx exited: %s %s", out, errorLog())
		default:
		}
		c, err := net.DialTimeout("tcp", listen, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://" + listen
}

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (127.0.0.0/8 is all loopback on Linux).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableCompression: true}}
}

// sseStream is one stream read with the sdk/wire parser; its events
// arrive on a channel so a test can wait for each with a deadline.
type sseStream struct {
	res    *http.Response
	events chan wire.Event
	cancel context.CancelFunc
}

// openStream opens url with client and Last-Event-ID lastID (when not
// empty) and returns the stream, or the response status when it is not 200.
func openStream(t *testing.T, client *http.Client, url, lastID string, header ...string) (*sseStream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As a browser asks: a proxy that compresses the stream would buffer it.
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		cancel()
		return nil, res.StatusCode
	}
	s := &sseStream{res: res, events: make(chan wire.Event, 1024), cancel: cancel}
	go func() {
		defer close(s.events)
		p := wire.NewParser(bufio.NewReader(res.Body))
		for {
			ev, err := p.Next()
			if err != nil {
				return
			}
			s.events <- ev
		}
	}()
	t.Cleanup(s.close)
	return s, http.StatusOK
}

func (s *sseStream) close() { s.cancel(); s.res.Body.Close() }

// next is the stream's next event of a type other than connected, or a
// test failure after within.
func (s *sseStream) next(t *testing.T, within time.Duration) wire.Event {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.Type == "connected" {
				continue
			}
			return ev
		case <-timer.C:
			t.Fatalf("no event within %v", within)
		}
	}
}

// TestNginx_unbuffered: through nginx, each event reaches the client
// before the next is published, and the stream carries the headers that
// keep intermediaries from holding it back.
func TestNginx_unbuffered(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := startNodes(t, r, 2)
	front := startNginx(t, nodes[0], nodes[1])

	s, st := openStream(t, clientFrom("127.0.0.1"), front+"/api/sse/connect/paced", "")
	if st != http.StatusOK {
		t.Fatalf("stream through nginx: %d", st)
	}
	if ct := s.res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type %q through nginx", ct)
	}
	if ce := s.res.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding %q through nginx: the stream must not be compressed", ce)
	}
	for i := range 20 {
		data := fmt.Sprintf("paced-%02d", i)
		// Publishes alternate between the nodes through nginx's round robin.
		mustPublish(t, front, "/api/sse/send/paced", data)
		if ev := s.next(t, 5*time.Second); ev.Data != data || ev.ID == "" {
			t.Fatalf("event %d: got %q (id %q), want %q with an id", i, ev.Data, ev.ID, data)
		}
	}
}

// TestNginx_resumeOnOtherNode: a stream through nginx reads some events and
// is cut by killing the node that holds it; what is published meanwhile
// through nginx, and the stream opened again through nginx with its
// Last-Event-ID, lands on the other node and resumes exactly after the
// last event read.
func TestNginx_resumeOnOtherNode(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := startNodes(t, r, 2)
	front := startNginx(t, nodes[0], nodes[1])
	client := clientFrom("127.0.0.1")

	s, st := openStream(t, client, front+"/api/sse/connect/wanderer", "")
	if st != http.StatusOK {
		t.Fatalf("stream through nginx: %d", st)
	}
	var lastID string
	for i := range 5 {
		data := fmt.Sprintf("w-%02d", i)
		mustPublish(t, front, "/api/sse/send/wanderer", data)
		ev := s.next(t, 5*time.Second)
		if ev.Data != data {
			t.Fatalf("event %d: %q, want %q", i, ev.Data, data)
		}
		lastID = ev.ID
	}
	holder, other := nodes[0], nodes[1]
	if !slices.Contains(clientsOn(t, holder), "wanderer") {
		holder, other = other, holder
	}
	if !slices.Contains(clientsOn(t, holder), "wanderer") {
		t.Fatal("neither node lists the stream")
	}
	holder.Kill()
	e2e.Eventually(t, 5*time.Second, "the stream ends with its node", func() bool {
		select {
		case _, ok := <-s.events:
			return !ok
		default:
			return false
		}
	})

	var want []string
	for i := 5; i < 15; i++ {
		data := fmt.Sprintf("w-%02d", i)
		mustPublish(t, front, "/api/sse/send/wanderer", data)
		want = append(want, data)
	}
	s2, st := openStream(t, client, front+"/api/sse/connect/wanderer", lastID)
	if st != http.StatusOK {
		t.Fatalf("resume through nginx: %d", st)
	}
	var got []string
	for len(got) < len(want) {
		ev := s2.next(t, 5*time.Second)
		if ev.Type == "reset" {
			t.Fatalf("reset %s: the cursor %s was not resumed", ev.Data, lastID)
		}
		got = append(got, ev.Data)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("resumed with %v, want %v", got, want)
	}
	if !slices.Contains(clientsOn(t, other), "wanderer") {
		t.Errorf("the resumed stream is not on the surviving node %s", other.Addr)
	}
	// Nothing more (a duplicate) follows: a marker published now is next.
	mustPublish(t, front, "/api/sse/send/wanderer", "marker")
	if ev := s2.next(t, 5*time.Second); ev.Data != "marker" {
		t.Fatalf("after the replay: %q, want the marker", ev.Data)
	}
}

// TestNginx_forwardedFor: the nodes trust nginx (-trusted-proxies) and
// count -max-conns-per-ip 1 by the X-Forwarded-For nginx sets. Three
// browsers from three addresses all get their stream, though two of them
// share a node; three streams from one address that each claim another
// X-Forwarded-For are counted as one address, so on the node two of them
// share, one is refused with 429.
func TestNginx_forwardedFor(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	nodes := startNodes(t, r, 2, "-max-conns-per-ip", "1")
	front := startNginx(t, nodes[0], nodes[1])

	for i, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		if _, st := openStream(t, clientFrom(ip), front+"/api/sse/connect/xff-"+strconv.Itoa(i), ""); st != http.StatusOK {
			t.Fatalf("stream from %s through nginx: %d, want 200 (each address counted apart)", ip, st)
		}
	}
	spoofer := clientFrom("127.0.0.5")
	var statuses []int
	for i := range 3 {
		_, st := openStream(t, spoofer, front+"/api/sse/connect/spoof-"+strconv.Itoa(i), "",
			"X-Forwarded-For", "198.51.100."+strconv.Itoa(i+1))
		statuses = append(statuses, st)
	}
	if !slices.Contains(statuses, http.StatusTooManyRequests) {
		t.Fatalf("three streams from one address with made-up X-Forwarded-For: %v, want a 429", statuses)
	}
}
