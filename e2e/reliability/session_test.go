package reliability

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// request sends method path with the given headers (pairs) and returns the
// response; the caller closes its body.
func request(t testing.TB, ctx context.Context, p *proc, method, path string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, p.url(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

// wantRefused checks res is status with a JSON reason, and closes it.
func wantRefused(t testing.TB, what string, res *http.Response, status int) {
	t.Helper()
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status || !strings.Contains(string(b), `"error"`) {
		t.Errorf("%s: %d %s, want %d with a JSON reason", what, res.StatusCode, b, status)
	}
}

// sessionCookie exchanges token at the binary and returns the cookie set
// for the stream path.
func sessionCookie(t testing.TB, p *proc, token string) *http.Cookie {
	t.Helper()
	res := request(t, context.Background(), p, "POST", "/api/sse/session", "Authorization", "Bearer "+token)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("session: %d %s", res.StatusCode, b)
	}
	var sess struct {
		ClientID string `json:"clientId"`
	}
	if err := json.Unmarshal(b, &sess); err != nil || sess.ClientID == "" {
		t.Fatalf("session answer %s: %v", b, err)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("session answer Cache-Control %q, want no-store", cc)
	}
	for _, c := range res.Cookies() {
		if c.Path != "/api/sse/connect" {
			continue
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Value != token || c.MaxAge <= 0 {
			t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, the token, a Max-Age", c)
		}
		return c
	}
	t.Fatalf("no session cookie for /api/sse/connect in %q", res.Header.Values("Set-Cookie"))
	return nil
}

// TestSecurity_cookieSession drives the cookie route of the binary: a
// bearer token is exchanged for an HttpOnly cookie scoped to the streams,
// the cookie opens its own client's stream only, the stream ends with
// token-expired when the token runs out, and exchanging a fresh token
// renews the session.
func TestSecurity_cookieSession(t *testing.T) {
	t.Parallel()
	p := startServer(t, nil, "-auth-secret", authSecret, "-publish-key", publishKey)
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	const life = 2 * time.Second
	exp := time.Now().Add(life).Truncate(time.Second).Add(time.Second) // exp has whole seconds
	short := jwt(hs, map[string]any{"sub": "carol", "exp": exp.Unix()}, authSecret)
	cookie := sessionCookie(t, p, short)
	withCookie := func(c *http.Cookie) string { return c.Name + "=" + c.Value }

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stream := request(t, ctx, p, "GET", "/api/sse/connect/carol", "Cookie", withCookie(cookie))
	defer stream.Body.Close()
	if stream.StatusCode != http.StatusOK {
		t.Fatalf("stream with the session cookie: %d", stream.StatusCode)
	}
	wantRefused(t, "the cookie for another client id", request(t, ctx, p, "GET", "/api/sse/connect/dave", "Cookie", withCookie(cookie)), http.StatusForbidden)
	wantRefused(t, "a session from the cookie alone", request(t, ctx, p, "POST", "/api/sse/session", "Cookie", withCookie(cookie)), http.StatusUnauthorized)
	wantRefused(t, "a bad bearer beside a good cookie", request(t, ctx, p, "GET", "/api/sse/connect/carol", "Cookie", withCookie(cookie), "Authorization", "Bearer x.y.z"), http.StatusUnauthorized)

	// The open stream ends with token-expired within a second of exp.
	parser := wire.NewParser(stream.Body)
	var end wire.Event
	for end.Type != "end" {
		ev, err := parser.Next()
		if err != nil {
			t.Fatalf("stream ended without an end event: %v", err)
		}
		end = ev
	}
	late := time.Since(exp)
	if !strings.Contains(end.Data, "token-expired") || late > time.Second || late < 0 {
		t.Fatalf("end %q %v after exp, want token-expired within 1s", end.Data, late)
	}
	wantRefused(t, "the expired cookie", request(t, ctx, p, "GET", "/api/sse/connect/carol", "Cookie", withCookie(cookie)), http.StatusUnauthorized)

	// Renewal: a fresh token exchanged for a new cookie opens the stream again.
	fresh := jwt(hs, map[string]any{"sub": "carol", "exp": time.Now().Add(time.Hour).Unix()}, authSecret)
	renewed := sessionCookie(t, p, fresh)
	again := request(t, ctx, p, "GET", "/api/sse/connect/carol", "Cookie", withCookie(renewed))
	defer again.Body.Close()
	if again.StatusCode != http.StatusOK {
		t.Fatalf("stream with the renewed cookie: %d", again.StatusCode)
	}
	if ev, err := wire.NewParser(again.Body).Next(); err != nil || ev.Type != "connected" {
		t.Fatalf("renewed stream: first event %+v, %v; want connected", ev, err)
	}
	if log := p.log.String(); strings.Contains(log, short[strings.LastIndex(short, ".")+1:]) || strings.Contains(log, fresh[strings.LastIndex(fresh, ".")+1:]) {
		t.Errorf("a session token is in the server log")
	}
	report(t, "Security", "cookie session: bearer exchanged at /api/sse/session, then the stream by cookie alone; expiry and renewal",
		"cookie HttpOnly, SameSite=Strict, Path=/api/sse/connect, Cache-Control no-store; own stream 200, another id 403, session from the cookie alone 401, bad bearer beside a good cookie 401; "+
			"stream ended with end token-expired %dms after exp, the expired cookie then 401; a fresh token exchanged for a new cookie: stream 200 again; no token in the log", late.Milliseconds())
}

// TestSecurity_perIPLimit fills -max-conns-per-ip from one address with
// random client ids: the next stream and its HEAD answer 429, and a slot
// comes back when a stream closes.
func TestSecurity_perIPLimit(t *testing.T) {
	t.Parallel()
	const limit = 3
	p := startServer(t, nil, "-max-conns-per-ip", "3")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var open []context.CancelFunc
	for i := 0; i < limit; i++ {
		sctx, scancel := context.WithCancel(ctx)
		defer scancel()
		res := request(t, sctx, p, "GET", "/api/sse/connect") // a generated id each time
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("stream %d of %d: %d", i+1, limit, res.StatusCode)
		}
		open = append(open, scancel)
	}
	wantRefused(t, "one stream over the limit", request(t, ctx, p, "GET", "/api/sse/connect/another"), http.StatusTooManyRequests)
	if res := request(t, ctx, p, "HEAD", "/api/sse/connect/another"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("HEAD over the limit: %d, want 429", res.StatusCode)
	} else {
		res.Body.Close()
	}
	if st := get(t, p, "/healthz"); st != http.StatusOK {
		t.Errorf("healthz with the address full: %d", st)
	}
	open[0]()
	start := time.Now()
	var freed time.Duration
	eventually(t, 5*time.Second, "a slot freed after a stream closed", func() bool {
		res := request(t, ctx, p, "HEAD", "/api/sse/connect/another")
		res.Body.Close()
		freed = time.Since(start)
		return res.StatusCode == http.StatusOK
	})
	res := request(t, ctx, p, "GET", "/api/sse/connect/another")
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stream after a slot was freed: %d", res.StatusCode)
	}
	report(t, "Security", "-max-conns-per-ip 3, streams with generated ids from one address",
		"3 open; the 4th GET and its HEAD 429 with a JSON reason (/healthz 200); one closed, its slot back within %dms, then 200", freed.Milliseconds())
}
