package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

func bearerHdr(token string) []string { return []string{"Authorization", "Bearer " + token} }

func cookieHdr(token string) []string { return []string{"Cookie", SessionCookie + "=" + token} }

// openStatus opens path and returns the status; a 200 stream is checked
// for its connected event and client id, an error for its JSON body.
func openStatus(t *testing.T, th *testHub, path, wantID string, hdr ...string) int {
	t.Helper()
	s, resp := th.tryOpen(t, path, hdr...)
	if s == nil {
		body, _ := io.ReadAll(resp.Body)
		wantError(t, resp, string(body), resp.StatusCode)
		if resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		return resp.StatusCode
	}
	if strings.HasPrefix(path, "/sse/") {
		s.next(t) // a demo stream: no connected event
	} else if id, _ := s.connected(t); wantID != "" && id != wantID {
		t.Fatalf("connected as %q, want %q", id, wantID)
	}
	s.close()
	return http.StatusOK
}

// TestAuth_stream: every token case on every stream route answers its
// documented status, and a stream open meanwhile is not affected.
func TestAuth_stream(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithAuthSecrets(secretOld, secretNew), WithMaxConnsPerClient(1000))
	now := time.Now()
	exp := now.Add(time.Hour)
	alice := mint(t, secretOld, "alice", exp)
	witness := th.open(t, "/api/sse/connect/witness", bearerHdr(mint(t, secretNew, "witness", exp))...)
	witness.connected(t)
	hs := `{"alg":"HS256","typ":"JWT"}`
	future := fmt.Sprintf(`{"sub":"alice","exp":%d,"nbf":%d}`, exp.Unix(), now.Add(time.Minute).Unix())

	cases := []struct {
		name, path string
		hdr        []string
		status     int
		id         string // the connected event's client id, for 200
	}{
		{name: "no credentials", path: "/api/sse/connect/alice", status: 401},
		{name: "generated id, no credentials", path: "/api/sse/connect", status: 401},
		{name: "payment, no credentials", path: "/orderpay?payid=7", status: 401},
		{name: "basic scheme", path: "/api/sse/connect/alice", hdr: []string{"Authorization", "Basic YWxpY2U6eA=="}, status: 401},
		{name: "empty bearer", path: "/api/sse/connect/alice", hdr: []string{"Authorization", "Bearer "}, status: 401},
		{name: "malformed", path: "/api/sse/connect/alice", hdr: bearerHdr("not.a.token"), status: 401},
		{name: "expired", path: "/api/sse/connect/alice", hdr: bearerHdr(mint(t, secretOld, "alice", now.Add(-time.Second))), status: 401},
		{name: "not yet valid", path: "/api/sse/connect/alice", hdr: bearerHdr(craft(secretOld, hs, future)), status: 401},
		{name: "wrongly signed", path: "/api/sse/connect/alice", hdr: bearerHdr(mint(t, secretOther, "alice", exp)), status: 401},
		{name: "alg none", path: "/api/sse/connect/alice", hdr: bearerHdr(craft("", `{"alg":"none"}`, fmt.Sprintf(`{"sub":"alice","exp":%d}`, exp.Unix()))), status: 401},
		{name: "old secret", path: "/api/sse/connect/alice", hdr: bearerHdr(alice), status: 200, id: "alice"},
		{name: "new secret", path: "/api/sse/connect/alice", hdr: bearerHdr(mint(t, secretNew, "alice", exp)), status: 200, id: "alice"},
		{name: "scheme in lower case", path: "/api/sse/connect/alice", hdr: []string{"Authorization", "bearer " + alice}, status: 200, id: "alice"},
		{name: "another client id", path: "/api/sse/connect/bob", hdr: bearerHdr(alice), status: 403},
		{name: "generated id is the sub", path: "/api/sse/connect", hdr: bearerHdr(alice), status: 200, id: "alice"},
		{name: "no topics claim: no topic", path: "/api/sse/connect/alice?topics=news", hdr: bearerHdr(alice), status: 403},
		{name: "topic allowed", path: "/api/sse/connect/alice?topics=news", hdr: bearerHdr(mint(t, secretOld, "alice", exp, "news")), status: 200, id: "alice"},
		{name: "one topic not allowed", path: "/api/sse/connect/alice?topics=news,sports", hdr: bearerHdr(mint(t, secretOld, "alice", exp, "news")), status: 403},
		{name: "generated id, topic not allowed", path: "/api/sse/connect?topics=news", hdr: bearerHdr(alice), status: 403},
		{name: "any topic", path: "/api/sse/connect/alice?topics=news,sports", hdr: bearerHdr(mint(t, secretOld, "alice", exp, AllTopics)), status: 200, id: "alice"},
		{name: "bad topic is 400, not 403", path: "/api/sse/connect/alice?topics=a%20b", hdr: bearerHdr(alice), status: 400},
		{name: "bad client id is 400, not 403", path: "/api/sse/connect/a%20b", hdr: bearerHdr(alice), status: 400},
		{name: "cookie", path: "/api/sse/connect/alice", hdr: cookieHdr(alice), status: 200, id: "alice"},
		{name: "cookie for another id", path: "/api/sse/connect/bob", hdr: cookieHdr(alice), status: 403},
		{name: "expired cookie", path: "/api/sse/connect/alice", hdr: cookieHdr(mint(t, secretOld, "alice", now.Add(-time.Second))), status: 401},
		{name: "bad bearer is not rescued by a good cookie", path: "/api/sse/connect/alice",
			hdr: append(bearerHdr(mint(t, secretOther, "alice", exp)), cookieHdr(alice)...), status: 401},
		{name: "token in the URL", path: "/api/sse/connect/alice?token=" + alice, status: 400},
		{name: "access_token in the URL, with a good bearer", path: "/api/sse/connect/alice?access_token=" + alice, hdr: bearerHdr(alice), status: 400},
		{name: "payment of the sub", path: "/orderpay?payid=7", hdr: bearerHdr(mint(t, secretOld, "pay-7", exp)), status: 200, id: "pay-7"},
		{name: "payment of another", path: "/orderpay?payid=8", hdr: bearerHdr(mint(t, secretOld, "pay-7", exp)), status: 403},
		{name: "payment with a client's token", path: "/orderpay?payid=7", hdr: bearerHdr(alice), status: 403},
		{name: "demo stream needs no token", path: "/sse/stats", status: 200},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := openStatus(t, th, c.path, c.id, c.hdr...); got != c.status {
				t.Fatalf("status %d, want %d", got, c.status)
			}
			head, _ := th.do(t, http.MethodHead, c.path, "", "", c.hdr...)
			if head.StatusCode != c.status {
				t.Fatalf("HEAD: status %d, want %d as GET", head.StatusCode, c.status)
			}
			data := fmt.Sprintf("after %d", i)
			th.publishJSON(t, "/api/sse/send/witness", `{"data":"`+data+`"}`)
			witness.expect(t, "message", data)
		})
	}
}

// TestAuth_noSecret: without an auth secret, streams are open to all as
// before, sessions answer 404, and credentials in the URL are refused.
func TestAuth_noSecret(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	if got := openStatus(t, th, "/api/sse/connect/alice", "alice"); got != 200 {
		t.Fatalf("status %d", got)
	}
	if got := openStatus(t, th, "/api/sse/connect/alice?token=abc", ""); got != 400 {
		t.Fatalf("token in the URL: status %d, want 400", got)
	}
	resp, body := th.do(t, http.MethodPost, "/api/sse/session", "", "", bearerHdr(mint(t, secretOld, "alice", time.Now().Add(time.Hour)))...)
	wantError(t, resp, body, http.StatusNotFound)
}

// TestAuth_session: the exchange sets the token as an HttpOnly cookie on
// the two stream paths, Max-Age bounded by exp, SameSite as configured,
// Secure under TLS; a cookie jar then opens a stream with it.
func TestAuth_session(t *testing.T) {
	t.Parallel()
	ttl := 90 * time.Second
	for _, c := range []struct {
		name     string
		opts     []Option
		tls      bool
		hdr      []string
		sameSite http.SameSite
		secure   bool
	}{
		{name: "defaults", sameSite: http.SameSiteStrictMode},
		{name: "lax", opts: []Option{WithCookieSameSite(http.SameSiteLaxMode)}, sameSite: http.SameSiteLaxMode},
		{name: "none is always Secure", opts: []Option{WithCookieSameSite(http.SameSiteNoneMode)}, sameSite: http.SameSiteNoneMode, secure: true},
		{name: "TLS", tls: true, sameSite: http.SameSiteStrictMode, secure: true},
		{name: "trusted proxy says https", opts: []Option{WithTrustedProxies("127.0.0.1")},
			hdr: []string{"X-Forwarded-Proto", "https"}, sameSite: http.SameSiteStrictMode, secure: true},
		{name: "untrusted peer says https", opts: []Option{WithTrustedProxies("10.0.0.0/8")},
			hdr: []string{"X-Forwarded-Proto", "https"}, sameSite: http.SameSiteStrictMode},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			opts := append([]Option{WithAuthSecrets(secretOld)}, c.opts...)
			var th *testHub
			if c.tls {
				th = startTLSHub(t, true, opts...)
			} else {
				th = startHub(t, opts...)
			}
			token := mint(t, secretOld, "alice", time.Now().Add(ttl), "news")
			resp, body := th.do(t, http.MethodPost, "/api/sse/session", "", "", append(bearerHdr(token), c.hdr...)...)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d %s", resp.StatusCode, body)
			}
			var s Session
			if err := json.Unmarshal([]byte(body), &s); err != nil || s.ClientID != "alice" || len(s.Topics) != 1 || s.Topics[0] != "news" {
				t.Fatalf("body %s (%v)", body, err)
			}
			if d := time.Until(s.Expires); d < ttl-5*time.Second || d > ttl {
				t.Fatalf("expires in %v, want about %v", d, ttl)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			cookies := resp.Cookies()
			var paths []string
			for _, ck := range cookies {
				paths = append(paths, ck.Path)
				switch {
				case ck.Name != SessionCookie || ck.Value != token:
					t.Errorf("cookie %s does not hold the token", ck.Name)
				case !ck.HttpOnly:
					t.Error("not HttpOnly")
				case ck.Secure != c.secure:
					t.Errorf("Secure %v, want %v", ck.Secure, c.secure)
				case ck.SameSite != c.sameSite:
					t.Errorf("SameSite %v, want %v", ck.SameSite, c.sameSite)
				case ck.MaxAge < int(ttl/time.Second)-5 || ck.MaxAge > int(ttl/time.Second):
					t.Errorf("Max-Age %d, want at most %d, the token's lifetime", ck.MaxAge, int(ttl/time.Second))
				case ck.Domain != "":
					t.Errorf("Domain %q: the cookie must stay host-only", ck.Domain)
				}
			}
			if strings.Join(paths, " ") != "/api/sse/connect /orderpay" {
				t.Fatalf("cookie paths %v, want the stream paths", paths)
			}

			// A cookie jar, as a browser would: sent to the streams only.
			jar, _ := cookiejar.New(nil)
			u, _ := url.Parse(th.URL)
			jar.SetCookies(u, cookies)
			for path, want := range map[string]int{"/api/sse/connect/alice": 1, "/orderpay": 1, "/api/sse/sendAll": 0, "/": 0} {
				pu, _ := url.Parse(th.URL + path)
				if got := len(jar.Cookies(pu)); got != want && !(c.secure && u.Scheme == "http") {
					t.Errorf("the jar sends %d cookies to %s, want %d", got, path, want)
				}
			}
			if c.secure && u.Scheme == "http" {
				return // a jar never sends a Secure cookie over http
			}
			th.client.Jar = jar
			if got := openStatus(t, th, "/api/sse/connect/alice?topics=news", "alice"); got != 200 {
				t.Fatalf("stream with the session cookie: %d", got)
			}
			if got := openStatus(t, th, "/api/sse/connect/bob", ""); got != 403 {
				t.Fatalf("another id with the session cookie: %d, want 403", got)
			}
		})
	}
}

// TestAuth_session_refusals: what the exchange refuses, and CORS with
// credentials for allow-listed origins only.
func TestAuth_session_refusals(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithAuthSecrets(secretOld, secretNew), WithCORSOrigins([]string{"https://app.example"}))
	now := time.Now()
	good := mint(t, secretNew, "alice", now.Add(time.Hour))
	cases := []struct {
		name, ct, body string
		path           string
		hdr            []string
		status         int
	}{
		{name: "no credentials", status: 401},
		{name: "cookie only", hdr: cookieHdr(good), status: 401},
		{name: "expired", hdr: bearerHdr(mint(t, secretOld, "alice", now.Add(-time.Second))), status: 401},
		{name: "expires within a second", hdr: bearerHdr(mint(t, secretOld, "alice", now.Add(500*time.Millisecond))), status: 401},
		{name: "wrongly signed", hdr: bearerHdr(mint(t, secretOther, "alice", now.Add(time.Hour))), status: 401},
		{name: "alg none", hdr: bearerHdr(craft("", `{"alg":"none"}`, `{"sub":"alice","exp":9999999999}`)), status: 401},
		{name: "a body", ct: ctJSON, body: `{"token":"x"}`, hdr: bearerHdr(good), status: 400},
		{name: "token in the URL", path: "?token=" + good, status: 400},
		{name: "disallowed origin", hdr: append(bearerHdr(good), "Origin", "https://evil.example"), status: 403},
		{name: "null origin", hdr: append(bearerHdr(good), "Origin", "null"), status: 403},
		{name: "allowed origin", hdr: append(bearerHdr(good), "Origin", "https://app.example"), status: 200},
		{name: "same origin", hdr: append(bearerHdr(good), "Origin", th.URL), status: 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resp, body := th.do(t, http.MethodPost, "/api/sse/session"+c.path, c.ct, c.body, c.hdr...)
			if c.status == 200 {
				if resp.StatusCode != 200 || len(resp.Cookies()) != 2 {
					t.Fatalf("status %d, %d cookies: %s", resp.StatusCode, len(resp.Cookies()), body)
				}
			} else {
				wantError(t, resp, body, c.status)
				if len(resp.Cookies()) != 0 {
					t.Fatal("a refused exchange set a cookie")
				}
			}
			acao, acac := resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials")
			if c.name == "allowed origin" {
				if acao != "https://app.example" || acac != "true" {
					t.Fatalf("CORS headers %q %q, want the origin with credentials", acao, acac)
				}
			} else if acao != "" || acac != "" {
				t.Fatalf("CORS headers %q %q for an origin not allow-listed", acao, acac)
			}
		})
	}
}

// TestAuth_publishKey: every publishing and admin route needs one of the
// publish keys; none, a wrong one or a subscriber token is 401.
func TestAuth_publishKey(t *testing.T) {
	t.Parallel()
	const keyA, keyB Secret = "publish-key-a-publish-key-a-0123456789", "publish-key-b-publish-key-b-0123456789"
	th := startHub(t, WithPublishKeys(keyA, keyB), WithAuthSecrets(secretOld))
	routes := []struct{ method, path, ct, body string }{
		{"POST", "/api/sse/send/alice", ctJSON, `{"data":"x"}`},
		{"POST", "/api/sse/sendAll", ctJSON, `{"data":"x"}`},
		{"POST", "/api/sse/topics/news", ctJSON, `{"data":"x"}`},
		{"DELETE", "/api/sse/disconnect/alice", "", ""},
		{"GET", "/api/sse/clients", "", ""},
		{"GET", "/payback?payid=7", "", ""},
	}
	keys := []struct {
		name string
		hdr  []string
		ok   bool
	}{
		{"no key", nil, false},
		{"wrong key", bearerHdr("publish-key-c-publish-key-c-0123456789"), false},
		{"a prefix of the key", bearerHdr(string(keyA[:20])), false},
		{"the key and more", bearerHdr(string(keyA) + "x"), false},
		{"basic scheme", []string{"Authorization", "Basic " + string(keyA)}, false},
		{"a subscriber token", bearerHdr(mint(t, secretOld, "alice", time.Now().Add(time.Hour))), false},
		{"key a", bearerHdr(string(keyA)), true},
		{"key b (rotation)", bearerHdr(string(keyB)), true},
	}
	for _, rt := range routes {
		for _, k := range keys {
			t.Run(rt.method+" "+rt.path+" "+k.name, func(t *testing.T) {
				t.Parallel()
				resp, body := th.do(t, rt.method, rt.path, rt.ct, rt.body, k.hdr...)
				if !k.ok {
					wantError(t, resp, body, http.StatusUnauthorized)
					if resp.Header.Get("WWW-Authenticate") == "" {
						t.Error("401 without WWW-Authenticate")
					}
					return
				}
				if resp.StatusCode != 200 && resp.StatusCode != 202 {
					t.Fatalf("status %d %s", resp.StatusCode, body)
				}
			})
		}
	}
}

// TestOrigin: a stream or publish request with an Origin that is neither
// the hub's own nor allow-listed is 403; requests without Origin (not
// browsers) are not concerned.
func TestOrigin(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithCORSOrigins([]string{"https://app.example", "http://localhost:3000"}))
	proxied := startHub(t, WithTrustedProxies("127.0.0.1/32"))
	untrusted := startHub(t, WithTrustedProxies("10.0.0.0/8"))
	cases := []struct {
		name   string
		hub    *testHub
		method string
		path   string
		hdr    []string
		status int
	}{
		{"stream, no Origin", th, "GET", "/api/sse/connect/o1", nil, 200},
		{"stream, allowed", th, "GET", "/api/sse/connect/o1", []string{"Origin", "https://app.example"}, 200},
		{"stream, allowed with default port and upper case", th, "GET", "/api/sse/connect/o1", []string{"Origin", "HTTPS://App.Example:443"}, 200},
		{"stream, allowed with port", th, "GET", "/api/sse/connect/o1", []string{"Origin", "http://localhost:3000"}, 200},
		{"stream, other port", th, "GET", "/api/sse/connect/o1", []string{"Origin", "http://localhost:3001"}, 403},
		{"stream, other scheme", th, "GET", "/api/sse/connect/o1", []string{"Origin", "http://app.example"}, 403},
		{"stream, disallowed", th, "GET", "/api/sse/connect/o1", []string{"Origin", "https://evil.example"}, 403},
		{"stream, look-alike", th, "GET", "/api/sse/connect/o1", []string{"Origin", "https://app.example.evil.example"}, 403},
		{"stream, null", th, "GET", "/api/sse/connect/o1", []string{"Origin", "null"}, 403},
		{"stream, garbage", th, "GET", "/api/sse/connect/o1", []string{"Origin", "::"}, 403},
		{"stream, same origin", th, "GET", "/api/sse/connect/o1", []string{"Origin", th.URL}, 200},
		{"generated id, disallowed", th, "GET", "/api/sse/connect", []string{"Origin", "https://evil.example"}, 403},
		{"payment, disallowed", th, "GET", "/orderpay?payid=3", []string{"Origin", "https://evil.example"}, 403},
		{"demo, disallowed", th, "GET", "/sse/stats", []string{"Origin", "https://evil.example"}, 403},
		{"HEAD, disallowed", th, "HEAD", "/api/sse/connect/o1", []string{"Origin", "https://evil.example"}, 403},
		{"publish, no Origin", th, "POST", "/api/sse/sendAll", nil, 202},
		{"publish, allowed", th, "POST", "/api/sse/sendAll", []string{"Origin", "https://app.example"}, 202},
		{"publish, disallowed", th, "POST", "/api/sse/sendAll", []string{"Origin", "https://evil.example"}, 403},
		{"payback, disallowed", th, "GET", "/payback?payid=3", []string{"Origin", "https://evil.example"}, 403},
		{"disconnect, disallowed", th, "DELETE", "/api/sse/disconnect/o1", []string{"Origin", "https://evil.example"}, 403},
		{"health is not concerned", th, "GET", "/healthz", []string{"Origin", "https://evil.example"}, 200},
		{"trusted proxy, public origin", proxied, "GET", "/api/sse/connect/o2",
			[]string{"Origin", "https://push.example", "X-Forwarded-Host", "push.example", "X-Forwarded-Proto", "https"}, 200},
		{"trusted proxy, other origin", proxied, "GET", "/api/sse/connect/o2",
			[]string{"Origin", "https://evil.example", "X-Forwarded-Host", "push.example", "X-Forwarded-Proto", "https"}, 403},
		{"untrusted peer, public origin", untrusted, "GET", "/api/sse/connect/o2",
			[]string{"Origin", "https://push.example", "X-Forwarded-Host", "push.example", "X-Forwarded-Proto", "https"}, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var status int
			switch c.method {
			case "GET":
				if strings.HasPrefix(c.path, "/payback") || c.path == "/healthz" {
					resp, body := c.hub.do(t, c.method, c.path, "", "", c.hdr...)
					status = resp.StatusCode
					if status >= 400 {
						wantError(t, resp, body, status)
					}
				} else {
					status = openStatus(t, c.hub, c.path, "", c.hdr...)
				}
			case "POST":
				resp, body := c.hub.do(t, c.method, c.path, "application/x-www-form-urlencoded", "message=o", c.hdr...)
				status = resp.StatusCode
				if status >= 400 {
					wantError(t, resp, body, status)
				}
			default:
				resp, body := c.hub.do(t, c.method, c.path, "", "", c.hdr...)
				status = resp.StatusCode
				if status >= 400 && c.method != "HEAD" {
					wantError(t, resp, body, status)
				}
			}
			if status != c.status && !(c.method == "DELETE" && c.status == 200 && status == 200) {
				t.Fatalf("status %d, want %d", status, c.status)
			}
		})
	}
}
