package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

const (
	testSecret = "cmd-test-secret-cmd-test-secret-0123456789"
	testKey    = "cmd-test-publish-key-cmd-test-publish-0123"
)

// TestMain runs main itself when asked, so a test can watch the real exit
// code and stderr of the binary.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("SSEKIT_TEST_MAIN_ARGS"); ok {
		os.Args = append([]string{"ssekit-server"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs the binary's main with args and returns its exit code,
// stdout and stderr.
func runMain(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "SSEKIT_TEST_MAIN_ARGS="+strings.Join(args, " ")), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestMain_refusesNonLoopbackWithoutAuth: beyond loopback, the binary
// exits 1 with one line naming what is missing, before listening.
func TestMain_refusesNonLoopbackWithoutAuth(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		args    []string
		missing string
	}{
		{"all interfaces", []string{"-addr", "0.0.0.0:0"}, "without -auth-secret and -publish-key"},
		{"empty host", []string{"-addr", ":0"}, "without -auth-secret and -publish-key"},
		{"IPv6 any", []string{"-addr", "[::]:0"}, "without -auth-secret and -publish-key"},
		{"only the secret", []string{"-addr", "0.0.0.0:0", "-auth-secret", testSecret}, "without -publish-key:"},
		{"only the key", []string{"-addr", "0.0.0.0:0", "-publish-key", testKey}, "without -auth-secret:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runMain(t, nil, append(c.args, "-www=")...)
			if code != 1 || stdout != "" {
				t.Fatalf("exit %d, stdout %q; want 1", code, stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "ssekit-server: refusing to listen on ") ||
				!strings.Contains(stderr, c.missing) {
				t.Fatalf("stderr %q: want one line saying %q", stderr, c.missing)
			}
			for _, secret := range []string{testSecret, testKey} {
				if strings.Contains(stderr, secret) {
					t.Fatal("stderr holds a secret")
				}
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:8844": true, "127.1.2.3:1": true, "[::1]:8844": true, "localhost:80": true, "LOCALHOST:80": true,
		"[::ffff:127.0.0.1]:1": true, "0.0.0.0:8844": false, ":8844": false, "[::]:1": false, "10.0.0.1:80": false,
		"example.com:80": false, "127.0.0.1": false, "": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// startRun runs the server with args until the test ends and returns its
// address and its log.
func startRun(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, append(args, "-www", ""), env{}.lookup, logs, func(a string) { addrc <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case addr := <-addrc:
		return addr, logs
	case err := <-done:
		done <- err
		t.Fatalf("run: %v\n%s", err, logs.String())
		return "", nil
	}
}

// TestRun_TLSAndAuth: with -tls-cert/-tls-key the binary serves HTTPS with
// HTTP/2; a token from `ssekit-server token` opens a stream, the publish
// key publishes to it, and nothing secret reaches the log.
func TestRun_TLSAndAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := certCommand([]string{"-dir", dir, "-hosts", "127.0.0.1,localhost"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	addr, logs := startRun(t, "-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile,
		"-auth-secret", "other-secret-other-secret-other-secret-0123,"+testSecret, "-publish-key", testKey)

	var out bytes.Buffer
	if err := mintCommand([]string{"-sub", "alice", "-ttl", "1m"}, env{"SSEKIT_AUTH_SECRET": testSecret + ",ignored"}.lookup, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out.String())

	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	base := "https://" + addr

	req, _ := http.NewRequest(http.MethodGet, base+"/api/sse/connect", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Proto != "HTTP/2.0" {
		t.Fatalf("stream: %d over %s, want 200 over HTTP/2.0", resp.StatusCode, resp.Proto)
	}
	p := wire.NewParser(resp.Body)
	if ev, err := p.Next(); err != nil || ev.Type != "connected" || !strings.Contains(ev.Data, `"clientId":"alice"`) {
		t.Fatalf("first event %+v %v", ev, err)
	}

	publish := func(key string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/sse/send/alice?message=over+h2", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := publish(""); got != http.StatusUnauthorized {
		t.Fatalf("publish without the key: %d", got)
	}
	if got := publish(token); got != http.StatusUnauthorized {
		t.Fatalf("publish with a subscriber token: %d", got)
	}
	if got := publish(testKey); got != http.StatusAccepted {
		t.Fatalf("publish with the key: %d", got)
	}
	if ev, err := p.Next(); err != nil || ev.Data != "over h2" {
		t.Fatalf("event %+v %v", ev, err)
	}
	noAuth, err := client.Get(base + "/api/sse/connect/alice")
	if err != nil {
		t.Fatal(err)
	}
	noAuth.Body.Close()
	if noAuth.StatusCode != http.StatusUnauthorized {
		t.Fatalf("stream without a token: %d", noAuth.StatusCode)
	}
	// Plain HTTP on the TLS port gets net/http's 400, never the API.
	if plain, err := (&http.Client{Timeout: wait}).Get("http://" + addr + "/healthz"); err == nil {
		plain.Body.Close()
		if plain.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP on the TLS port: %d", plain.StatusCode)
		}
	}
	log := logs.String()
	if !strings.Contains(log, "url=https://") {
		t.Errorf("the log does not announce https:\n%s", log)
	}
	for _, secret := range []string{testSecret, testKey, token, "other-secret"} {
		if strings.Contains(log, secret) {
			t.Fatalf("the log holds a secret or token:\n%s", log)
		}
	}
}

const wait = 5 * time.Second

func TestRun_badSecuritySettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := certCommand([]string{"-dir", dir}, io.Discard); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if err := certCommand([]string{"-dir", other}, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"cert without key", []string{"-tls-cert", filepath.Join(dir, "cert.pem")}, "go together"},
		{"key without cert", []string{"-tls-key", filepath.Join(dir, "key.pem")}, "go together"},
		{"missing files", []string{"-tls-cert", filepath.Join(dir, "nope.pem"), "-tls-key", filepath.Join(dir, "key.pem")}, "-tls-cert"},
		{"key of another cert", []string{"-tls-cert", filepath.Join(dir, "cert.pem"), "-tls-key", filepath.Join(other, "key.pem")}, "-tls-cert"},
		{"short secret", []string{"-auth-secret", "short-secret-value"}, "auth secret #1 is shorter than 32 bytes"},
		{"second secret short", []string{"-auth-secret", testSecret + ",short-secret-value"}, "auth secret #2 is shorter"},
		{"short publish key", []string{"-publish-key", "short-key-value"}, "publish key #1 is shorter"},
		{"bad SameSite", []string{"-cookie-samesite", "sometimes"}, "-cookie-samesite"},
		{"bad proxy", []string{"-trusted-proxies", "10.0.0.0/40"}, "trusted proxy"},
		{"negative per-ip", []string{"-max-conns-per-ip", "-1"}, "max conns per ip"},
		{"negative leeway", []string{"-auth-leeway", "-1s"}, "leeway"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), append(c.args, "-addr", "127.0.0.1:0", "-www", ""), env{}.lookup, io.Discard, func(string) {
				t.Error("the server started")
			})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one mentioning %q", err, c.want)
			}
			for _, v := range c.args {
				if strings.Contains(v, "secret-value") || strings.Contains(v, "key-value") {
					if strings.Contains(err.Error(), v) {
						t.Fatal("the error holds the secret")
					}
				}
			}
		})
	}
}

func TestMintCommand(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	for _, c := range []struct {
		name string
		args []string
		env  env
		want string
	}{
		{"no secret", []string{"-sub", "a"}, env{}, "no secret"},
		{"short secret", []string{"-sub", "a", "-secret", "short"}, env{}, "at least 32 bytes"},
		{"no sub", nil, env{"SSEKIT_AUTH_SECRET": testSecret}, "client id"},
		{"bad sub", []string{"-sub", "a b"}, env{"SSEKIT_AUTH_SECRET": testSecret}, "client id"},
		{"bad ttl", []string{"-sub", "a", "-ttl", "0s"}, env{"SSEKIT_AUTH_SECRET": testSecret}, "-ttl"},
		{"stray argument", []string{"-sub", "a", "x"}, env{"SSEKIT_AUTH_SECRET": testSecret}, "unexpected"},
	} {
		if err := mintCommand(c.args, c.env.lookup, &out, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	if out.Len() != 0 {
		t.Fatalf("printed %q on errors", out.String())
	}
	if err := mintCommand([]string{"-sub", "bob", "-topics", "a,b"}, env{"SSEKIT_AUTH_SECRET": testSecret}.lookup, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if parts := strings.Split(strings.TrimSpace(out.String()), "."); len(parts) != 3 {
		t.Fatalf("printed %q, want a JWT", out.String())
	}
}

func TestCertCommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "tls")
	if err := certCommand([]string{"-dir", dir, "-hosts", "localhost,127.0.0.1,::1,dev.example", "-valid", "48h"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key.pem: %v %v, want mode 0600", fi, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")); err != nil {
		t.Fatalf("the pair does not match: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "dev.example"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if d := time.Until(cert.NotAfter); d > 48*time.Hour || d < 47*time.Hour {
		t.Errorf("valid for %v more, want about 48h", d)
	}
	if ip := net.ParseIP("10.0.0.1"); cert.VerifyHostname(ip.String()) == nil {
		t.Error("valid for a host it was not made for")
	}
}
