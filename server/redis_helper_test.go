package server

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// redisServer is a real redis-server of the test's own: loopback, a free
// port, no persistence (a restart comes back empty), killed at the end.
type redisServer struct {
	t    testing.TB
	port int
	dir  string
}

// startRedis starts a redis-server. A test that needs Redis fails, never
// skips, when redis-server is not installed: `make deps` installs it.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (make deps installs it, or: apt-get install redis-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &redisServer{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.kill)
	return r
}

// URL is the redis:// URL of the server, database 0.
func (r *redisServer) URL() string { return "redis://" + r.addr() + "/0" }

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs redis-server (again, empty) and waits until it answers.
func (r *redisServer) start() {
	r.t.Helper()
	out, err := exec.Command("redis-server",
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "yes", "--pidfile", filepath.Join(r.dir, "redis.pid"),
		"--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log")).CombinedOutput()
	if err != nil {
		r.t.Fatalf("redis-server: %v: %s", err, out)
	}
	eventually(r.t, wait, "redis-server answers PING", func() bool { return r.do("PING") == "+PONG" })
}

// kill stops the server at once (SIGKILL: nothing flushed, as in a crash)
// and waits until it is gone.
func (r *redisServer) kill() {
	r.t.Helper()
	pidFile := filepath.Join(r.dir, "redis.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return // not running
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		r.t.Fatalf("redis pidfile: %q", b)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	os.Remove(pidFile)
	// Its sockets close when it exits; a zombie waiting for its reaper
	// holds none.
	eventually(r.t, wait, "redis-server gone", func() bool { return r.do("PING") == "" })
}

// do sends one inline command and returns the answer: its first line, or
// the whole of a bulk string ("" when the server does not answer).
func (r *redisServer) do(cmd string) string {
	c, err := net.DialTimeout("tcp", r.addr(), time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		return ""
	}
	rd := bufio.NewReader(c)
	line, err := rd.ReadString('\n')
	if err != nil {
		return ""
	}
	line = strings.TrimRight(line, "\r\n")
	if n, err := strconv.Atoi(strings.TrimPrefix(line, "$")); strings.HasPrefix(line, "$") && err == nil && n >= 0 {
		bulk := make([]byte, n+2)
		if _, err := io.ReadFull(rd, bulk); err != nil {
			return ""
		}
		return string(bulk[:n])
	}
	return line
}

// killSubscription drops the pub/sub connection of one node.
func (r *redisServer) killSubscription(node string) {
	r.t.Helper()
	for _, line := range strings.Split(r.do("CLIENT LIST TYPE pubsub"), "\n") {
		if !strings.Contains(line, " name=ssekit-"+node+" ") {
			continue
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(line, "id="), " ")
		if reply := r.do("CLIENT KILL ID " + id); reply != ":1" {
			r.t.Errorf("CLIENT KILL ID %s: %q", id, reply)
		}
		return
	}
	r.t.Errorf("no subscription of node %s", node)
}
