package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// env is a fake environment for parseFlags.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

// sample gives each flag a valid value other than its default.
var sample = map[string]string{
	"addr": "127.0.0.1:9", "www": "/srv/www", "cors-origins": "https://a.example,https://b.example",
	"log-level": "debug", "heartbeat": "7s", "retry": "1.5s", "write-timeout": "3s", "write-delay": "2ms", "flush-interval": "1ms", "history-ttl": "1h0m0s",
	"max-stream-duration": "5m0s", "words-interval": "250ms", "drain-timeout": "9s", "queue-size": "77",
	"max-topics": "5", "max-conns": "123", "max-conns-per-client": "4", "history-size": "99", "max-body": "4096",
	"auth-secret": "a-secret-of-at-least-32-bytes-0123456789", "auth-leeway": "2s",
	"publish-key": "a-publish-key-of-32-bytes-or-more-0123456789", "cookie-samesite": "lax",
	"max-conns-per-ip": "5", "trusted-proxies": "10.0.0.0/8", "tls-cert": "/etc/ssekit/cert.pem", "tls-key": "/etc/ssekit/key.pem",
	"data-dir": "/var/lib/ssekit", "history-max-bytes": "1048576", "redis-url": "redis://127.0.0.1:6379/0", "redis-presence": "false",
}

func TestParseFlags_helpListsEveryFlagAndItsEnvVar(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, env{}.lookup, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	_, fs := newFlags(io.Discard)
	n := 0
	fs.VisitAll(func(fl *flag.Flag) {
		n++
		if !strings.Contains(out.String(), "-"+fl.Name+" ") || !strings.Contains(out.String(), "[$"+envName(fl.Name)+"]") {
			t.Errorf("-h does not list -%s with $%s", fl.Name, envName(fl.Name))
		}
		if _, ok := sample[fl.Name]; !ok {
			t.Errorf("flag -%s has no sample value in this test", fl.Name)
		}
	})
	if n != len(sample) {
		t.Fatalf("%d flags, %d sample values", n, len(sample))
	}
}

// TestParseFlags_envVars: every flag reads its SSEKIT_ variable, and the
// command line wins over it.
func TestParseFlags_envVars(t *testing.T) {
	t.Parallel()
	for name, value := range sample {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, fs := newFlags(io.Discard)
			if err := parseInto(fs, nil, env{envName(name): value}.lookup); err != nil {
				t.Fatal(err)
			}
			if got := fs.Lookup(name).Value.String(); got != value {
				t.Fatalf("$%s=%s gave -%s %q", envName(name), value, name, got)
			}
			_, fs = newFlags(io.Discard)
			def := fs.Lookup(name).DefValue
			if err := parseInto(fs, []string{"-" + name + "=" + def}, env{envName(name): value}.lookup); err != nil {
				t.Fatal(err)
			}
			if got := fs.Lookup(name).Value.String(); got != def {
				t.Fatalf("the command line -%s=%s lost to the environment: %q", name, def, got)
			}
		})
	}
	f, err := parseFlags(nil, env{"SSEKIT_QUEUE_SIZE": "5", "SSEKIT_ADDR": "127.0.0.1:1"}.lookup, io.Discard)
	if err != nil || f.queueSize != 5 || f.addr != "127.0.0.1:1" || f.maxConns != 10000 {
		t.Fatalf("parseFlags: %+v, %v", f, err)
	}
}

func TestParseFlags_errors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		args []string
		env  env
		want string
	}{
		{"bad env value", nil, env{"SSEKIT_QUEUE_SIZE": "many"}, "$SSEKIT_QUEUE_SIZE"},
		{"bad duration", []string{"-heartbeat", "soon"}, nil, "heartbeat"},
		{"unknown flag", []string{"-nope"}, nil, "nope"},
		{"stray argument", []string{"extra"}, nil, "unexpected arguments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseFlags(c.args, c.env.lookup, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestRun_invalidSettings(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-log-level", "loud"},
		{"-queue-size", "0"},
		{"-heartbeat", "-1s"},
		{"-drain-timeout", "0s"},
		{"-addr", "256.0.0.1:bad"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), append(args, "-www", ""), env{}.lookup, io.Discard, func(string) {
				t.Error("the server started")
			})
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun_gracefulShutdown: the binary serves until its context ends (a
// signal), then every stream gets a reconnect event (drain) with a short
// retry, and run returns within the drain timeout.
func TestRun_gracefulShutdown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-www", "", "-drain-timeout", "2s"},
			env{"SSEKIT_RETRY": "1s"}.lookup, &logs, func(addr string) { addrc <- addr })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	resp, err := http.Get("http://" + addr + "/api/sse/connect/shutdown")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := wire.NewParser(resp.Body)
	if ev, err := p.Next(); err != nil || ev.Type != "connected" || ev.Data != `{"clientId":"shutdown","retry":1000}` {
		t.Fatalf("first event %+v, %v", ev, err)
	}

	stopped := time.Now()
	cancel()
	ev, err := p.Next()
	if err != nil || ev.Type != "reconnect" || ev.Data != `{"reason":"drain","retry":250}` {
		t.Fatalf("after the signal: %+v, %v", ev, err)
	}
	if retry, _ := p.Retry(); retry != 250*time.Millisecond {
		t.Fatalf("retry %v before the reconnect event, want 250ms", retry)
	}
	if _, err := p.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("the stream was not closed: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("run did not return within the drain timeout")
	}
	t.Logf("stopped %v after the signal", time.Since(stopped))
	for _, want := range []string{"ssekit-server listening", "shutting down", "stream closed", "reason=drain", "stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("the server still accepts connections")
	}
}
