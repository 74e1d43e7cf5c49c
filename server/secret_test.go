package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSecret_redacts(t *testing.T) {
	t.Parallel()
	const value = "hunter2-hunter2-hunter2-hunter2-hunter2"
	s := Secret(value)
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("x", "secret", s, slog.Any("any", s), slog.Group("g", "s", s))
		l.Info("x", "list", []Secret{s}, "map", map[string]Secret{"k": s}, "struct", struct{ S Secret }{s})
	}
	for _, verb := range []string{"%v", "%s", "%q", "%x", "%X", "%#v", "%+v", "%d", "%10.3s"} {
		fmt.Fprintf(&buf, verb+"\n", s)
		fmt.Fprintf(&buf, verb+"\n", struct{ S Secret }{s})
	}
	fmt.Fprintln(&buf, s, []Secret{s}, fmt.Errorf("wrapped: %v", s))
	j, _ := json.Marshal(map[string]any{"s": s, "list": []Secret{s}})
	buf.Write(j)
	if strings.Contains(buf.String(), value) || strings.Contains(buf.String(), fmt.Sprintf("%x", value)) {
		t.Fatalf("the value leaked:\n%s", buf.String())
	}
	if n := strings.Count(buf.String(), redacted); n < 30 {
		t.Fatalf("only %d redactions:\n%s", n, buf.String())
	}
}

// lockedBuffer collects log output from the hub's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAuth_logsHoldNoCredential: across every kind of auth failure and
// success, at debug level, no secret, key, token or part of a token
// appears in the logs, while the refusals are logged.
func TestAuth_logsHoldNoCredential(t *testing.T) {
	t.Parallel()
	const keyA Secret = "publish-key-a-publish-key-a-0123456789"
	const wrongKey = "publish-key-wrong-publish-key-wrong-0123"
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	th := startHub(t, WithLogger(logger), WithAuthSecrets(secretOld, secretNew), WithPublishKeys(keyA),
		WithCORSOrigins([]string{"https://app.example"}), WithHeartbeat(time.Hour))
	now := time.Now()
	good := mint(t, secretOld, "alice", now.Add(time.Hour))
	short := mint(t, secretNew, "bob", now.Add(1100*time.Millisecond))
	tokens := []string{
		good, short,
		mint(t, secretOld, "alice", now.Add(-time.Minute)),
		mint(t, secretOther, "alice", now.Add(time.Hour)),
		craft("", `{"alg":"none"}`, `{"sub":"alice","exp":9999999999}`),
		craft(secretOld, `{"alg":"HS256"}`, `{"sub":"alice","exp":9999999999,"nbf":9999999990}`),
		good[:len(good)-3] + "abc",
		"garbage-token-value-garbage",
	}
	for _, tok := range tokens {
		for _, hdr := range [][]string{bearerHdr(tok), cookieHdr(tok)} {
			openStatus(t, th, "/api/sse/connect/alice", "", hdr...)
			openStatus(t, th, "/api/sse/connect/bob?topics=secret", "", hdr...)
			th.do(t, http.MethodPost, "/api/sse/session", "", "", hdr...)
			th.do(t, http.MethodPost, "/api/sse/session", "", "", append(hdr, "Origin", "https://evil.example")...)
		}
		openStatus(t, th, "/api/sse/connect/alice?token="+tok, "")
		openStatus(t, th, "/api/sse/connect/alice?access_token="+tok, "", bearerHdr(tok)...)
		th.do(t, http.MethodPost, "/api/sse/sendAll", ctJSON, `{"data":"x"}`, bearerHdr(tok)...)
	}
	for _, key := range []string{"", wrongKey, string(keyA)} {
		th.do(t, http.MethodPost, "/api/sse/sendAll?message=x", "", "", bearerHdr(key)...)
		th.do(t, http.MethodGet, "/api/sse/clients", "", "", bearerHdr(key)...)
	}
	// A stream that runs out, so the expiry path logs too.
	s := th.open(t, "/api/sse/connect/bob", bearerHdr(short)...)
	s.connected(t)
	if ev := s.next(t); ev.Type != "end" {
		t.Fatalf("got %q, want end", ev.Type)
	}
	s.end(t)
	eventually(t, wait, "the stream's close is logged", func() bool { return strings.Contains(logs.String(), "reason=token-expired") })

	out := logs.String()
	for _, want := range []string{"request denied", "credentials in the URL refused", "session issued", "token expired", "bad signature", "alg none", "wrong publish key"} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs lack %q", want)
		}
	}
	forbidden := []string{string(secretOld), string(secretNew), string(secretOther), string(keyA), wrongKey}
	for _, tok := range tokens {
		forbidden = append(forbidden, tok)
		for _, part := range strings.Split(tok, ".") {
			if len(part) >= 16 { // the header {"alg":"HS256"} is public and short
				forbidden = append(forbidden, part)
			}
		}
	}
	for _, f := range forbidden {
		if strings.Contains(out, f) {
			t.Errorf("the logs hold a credential: %.12s...", f)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", out)
	}
}
