// Package cluster proves ssekit as several processes: real ssekit-server
// binaries sharing one real redis-server, a browser moved from one node to
// another, and nginx in front of two nodes (deploy/nginx.conf). This file
// holds the helpers that start those processes; the e2e/clusterbench
// command uses them too.
package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BuildServer builds the ssekit-server binary into dir and returns its
// path; race adds the race detector.
func BuildServer(dir string, race bool) (string, error) {
	bin := filepath.Join(dir, "ssekit-server")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "github.com/ssekit/ssekit/server/cmd/ssekit-server")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building ssekit-server: %w\n%s", err, out)
	}
	return bin, nil
}

// FreePort returns a loopback TCP port nobody listened on a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Redis is a redis-server on a loopback port, without persistence.
type Redis struct {
	Port int
	dir  string
}

// ErrNoRedis says the redis-server binary is missing.
var ErrNoRedis = errors.New("cluster: redis-server is not installed (make deps installs it: apt-get install -y redis-server)")

// StartRedis runs redis-server on a free loopback port with its pid and log
// files in dir, and returns once it answers PING.
func StartRedis(dir string) (*Redis, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, ErrNoRedis
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	r := &Redis{Port: port, dir: dir}
	out, err := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "yes",
		"--pidfile", filepath.Join(dir, "redis.pid"), "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log")).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("redis-server: %w: %s", err, out)
	}
	if !waitFor(10*time.Second, r.ping) {
		r.Stop()
		return nil, fmt.Errorf("redis-server on %s does not answer PING within 10s", r.Addr())
	}
	return r, nil
}

// Addr is host:port; URL is what -redis-url takes.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.Port) }
func (r *Redis) URL() string  { return "redis://" + r.Addr() + "/0" }

// Stop kills redis-server and waits until it no longer answers.
func (r *Redis) Stop() {
	b, err := os.ReadFile(filepath.Join(r.dir, "redis.pid"))
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	os.Remove(filepath.Join(r.dir, "redis.pid"))
	waitFor(10*time.Second, func() bool { return !r.ping() })
}

// Command sends one inline command and returns the first line of the reply.
func (r *Redis) Command(cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// InfoInt reads one integer field of INFO, e.g. total_commands_processed.
func (r *Redis) InfoInt(field string) (int64, error) {
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("INFO\r\n")); err != nil {
		return 0, err
	}
	br := bufio.NewReader(c)
	head, err := br.ReadString('\n')
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
	if err != nil || !strings.HasPrefix(head, "$") {
		return 0, fmt.Errorf("redis INFO: unexpected reply %q", head)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("redis INFO has no %s", field)
}

func (r *Redis) ping() bool {
	line, err := r.Command("PING")
	return err == nil && line == "+PONG"
}

// Node is one running ssekit-server process.
type Node struct {
	Addr string // 127.0.0.1:PORT
	cmd  *exec.Cmd
	done chan struct{}

	mu  sync.Mutex
	log strings.Builder
}

var listening = regexp.MustCompile(`msg="ssekit-server listening" addr=(\S+)`)

// StartNode runs bin with -addr on a free loopback port followed by args,
// and returns once it listens. The process dies with its parent.
func StartNode(bin string, args ...string) (*Node, error) {
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &Node{cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			n.mu.Lock()
			if n.log.Len() < 1<<20 {
				n.log.WriteString(line + "\n")
			}
			n.mu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
		close(n.done)
	}()
	select {
	case n.Addr = <-addrc:
		return n, nil
	case <-n.done:
		return nil, fmt.Errorf("ssekit-server exited before listening: %v\n%s", cmd.ProcessState, n.Log())
	case <-time.After(30 * time.Second):
		n.Kill()
		return nil, fmt.Errorf("ssekit-server did not listen within 30s:\n%s", n.Log())
	}
}

// URL is the node's URL for path.
func (n *Node) URL(path string) string { return "http://" + n.Addr + path }

// PID is the node's process id.
func (n *Node) PID() int { return n.cmd.Process.Pid }

// Log is what the node wrote to stderr so far (its first MiB).
func (n *Node) Log() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// Kill ends the node with SIGKILL (nothing flushed, as in a crash) and
// waits until it is gone. Calling it again does nothing more.
func (n *Node) Kill() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

// waitFor polls cond every 10 ms until it holds (true) or within passes.
func waitFor(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
