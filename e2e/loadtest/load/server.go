package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// AddrPlaceholder in a server's arguments is replaced by the loopback
// address the server must listen on.
const AddrPlaceholder = "{addr}"

// Server is a server process started for one run.
type Server struct {
	Addr    string // 127.0.0.1:PORT
	BaseURL string
	PID     int

	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the exit status, once exited is closed
}

// StartServer starts argv (a command and its arguments, where {addr} stands
// for a free 127.0.0.1 port) with its output to logTo, and waits until it
// accepts connections.
func StartServer(ctx context.Context, argv []string, logTo io.Writer) (*Server, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("%w: no server command", ErrConfig)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = strings.ReplaceAll(a, AddrPlaceholder, addr)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logTo, logTo
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ssekit/load: start server: %w", err)
	}
	s := &Server{Addr: addr, BaseURL: "http://" + addr, PID: cmd.Process.Pid, cmd: cmd, exited: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.exited) }()
	if err := s.waitAccepting(ctx, 15*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// freeLoopbackAddr finds a port nobody listens on. Another process could
// take it before the server does; the server would then fail to start,
// which waitAccepting reports.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitAccepting polls the port until a connection succeeds.
func (s *Server) waitAccepting(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("ssekit/load: server exited before accepting connections: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("ssekit/load: server not accepting on %s within %v: %w", s.Addr, within, err)
		case <-tick.C:
		}
	}
}

// Stop asks the server to end (SIGTERM), kills it after 10 s, and waits.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return s.exitErr()
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-s.exited:
	case <-t.C:
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	return s.exitErr()
}

// exitErr reports an exit other than the one SIGTERM asked for.
func (s *Server) exitErr() error {
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	if s.err != nil {
		return fmt.Errorf("ssekit/load: server: %w", s.err)
	}
	return nil
}

// Exited reports whether the server process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}
