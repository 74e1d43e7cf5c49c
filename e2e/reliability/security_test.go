package reliability

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	authSecret = "subscriber-secret-of-at-least-32-bytes!"
	publishKey = "publish-key-of-at-least-32-bytes-long!!"
)

// jwt signs header and claims with secret as HS256 would (whatever alg
// the header names), or leaves the signature empty when secret is "".
func jwt(header, claims map[string]any, secret string) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	signing := enc(header) + "." + enc(claims)
	if secret == "" {
		return signing + "."
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TestSecurity_table drives every refusal against the binary with
// subscriber auth and a publish key on: each case is refused with its
// status, the valid controls pass, and the witness stream sees nothing.
func TestSecurity_table(t *testing.T) {
	t.Parallel()
	p := startServer(t, nil, "-auth-secret", authSecret, "-publish-key", publishKey, "-cors-origins", "https://app.example")
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	now := time.Now()
	claims := func(sub string, topics []string, exp, nbf time.Time) map[string]any {
		c := map[string]any{"sub": sub, "exp": exp.Unix()}
		if topics != nil {
			c["topics"] = topics
		}
		if !nbf.IsZero() {
			c["nbf"] = nbf.Unix()
		}
		return c
	}
	valid := jwt(hs, claims("alice", []string{"news"}, now.Add(time.Hour), time.Time{}), authSecret)
	// Valid tokens sent where they leak: in the query string.
	var inURL []string
	leak := func(param string) string {
		tok := jwt(hs, claims(fmt.Sprintf("leak%d", len(inURL)), nil, now.Add(time.Hour), time.Time{}), authSecret)
		inURL = append(inURL, tok)
		return param + "=" + tok
	}

	type tc struct {
		name, method, path, bearer, origin, body string
		want                                     int
	}
	pub := func(name, bearer, origin string, want int) tc {
		return tc{name, "POST", "/api/sse/sendAll", bearer, origin, "message=x", want}
	}
	conn := func(name, path, bearer, origin string, want int) tc {
		return tc{name, "GET", path, bearer, origin, "", want}
	}
	cases := []tc{
		conn("control: valid token", "/api/sse/connect?topics=news", valid, "", 200),
		conn("no token", "/api/sse/connect", "", "", 401),
		conn("malformed token", "/api/sse/connect", "abc.def", "", 401),
		conn("token expired", "/api/sse/connect", jwt(hs, claims("alice", nil, now.Add(-time.Minute), time.Time{}), authSecret), "", 401),
		conn("token not yet valid", "/api/sse/connect", jwt(hs, claims("alice", nil, now.Add(time.Hour), now.Add(10*time.Minute)), authSecret), "", 401),
		conn("token without exp", "/api/sse/connect", jwt(hs, map[string]any{"sub": "alice"}, authSecret), "", 401),
		conn("wrong signature", "/api/sse/connect", jwt(hs, claims("alice", nil, now.Add(time.Hour), time.Time{}), "another-secret-of-at-least-32-bytes!!"), "", 401),
		conn("alg none", "/api/sse/connect", jwt(map[string]any{"alg": "none"}, claims("alice", nil, now.Add(time.Hour), time.Time{}), ""), "", 401),
		conn("alg None signed", "/api/sse/connect", jwt(map[string]any{"alg": "None"}, claims("alice", nil, now.Add(time.Hour), time.Time{}), authSecret), "", 401),
		conn("alg RS256 with the HMAC secret", "/api/sse/connect", jwt(map[string]any{"alg": "RS256"}, claims("alice", nil, now.Add(time.Hour), time.Time{}), authSecret), "", 401),
		conn("token for another client id", "/api/sse/connect/bob", valid, "", 403),
		conn("token for another topic", "/api/sse/connect?topics=secret", valid, "", 403),
		conn("stream from a disallowed origin", "/api/sse/connect?topics=news", valid, "https://evil.example", 403),
		conn("stream from origin null", "/api/sse/connect?topics=news", valid, "null", 403),
		pub("control: publish with the key", publishKey, "", 202),
		pub("publish key missing", "", "", 401),
		pub("publish key wrong", strings.Repeat("k", 40), "", 401),
		pub("publish key as subscriber token", valid, "", 401),
		pub("publish from a disallowed origin", publishKey, "https://evil.example", 403),
		{"clients list without the key", "GET", "/api/sse/clients", "", "", "", 401},
		{"disconnect without the key", "DELETE", "/api/sse/disconnect/alice", "", "", "", 401},
		{"session from a disallowed origin", "POST", "/api/sse/session", valid, "https://evil.example", "", 403},
		conn("token in the URL: ?token= on the stream", "/api/sse/connect/leak0?"+leak("token"), "", "", 400),
		conn("token in the URL: ?access_token= on the stream", "/api/sse/connect/leak1?"+leak("access_token"), "", "", 400),
		conn("token in the URL beside a valid bearer", "/api/sse/connect?topics=news&"+leak("token"), valid, "", 400),
		{"token in the URL: ?token= on the session", "POST", "/api/sse/session?" + leak("token"), "", "", "", 400},
		{"token in the URL: ?access_token= on the session", "POST", "/api/sse/session?" + leak("access_token"), valid, "", "", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(c.method, p.url(c.path), strings.NewReader(c.body))
			if c.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if c.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+c.bearer)
			}
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != c.want {
				b, _ := io.ReadAll(res.Body)
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.want, b)
			}
			if c.want >= 400 {
				b, _ := io.ReadAll(res.Body)
				if !strings.Contains(string(b), `"error"`) {
					t.Errorf("no JSON error reason: %s", b)
				}
				if c.want == http.StatusBadRequest && !strings.Contains(string(b), "URL") {
					t.Errorf("the reason does not say the credentials are in the URL: %s", b)
				}
				if got := res.Header.Get("Access-Control-Allow-Origin"); c.origin != "" && got != "" {
					t.Errorf("Access-Control-Allow-Origin %q on a refused cross-origin request", got)
				}
			}
		})
	}
	t.Cleanup(func() {
		log := p.log.String()
		if strings.Contains(log, authSecret) || strings.Contains(log, publishKey) || strings.Contains(log, valid) {
			t.Errorf("a secret or a token is in the server log")
		}
		for _, tok := range inURL {
			// The signature alone would give the token away as well.
			if sig := tok[strings.LastIndex(tok, ".")+1:]; strings.Contains(log, sig) {
				t.Errorf("a token sent in the URL is in the server log")
			}
		}
		if n := strings.Count(log, "credentials in the URL refused"); n != len(inURL) {
			t.Errorf("%d log lines for credentials in the URL, want %d", n, len(inURL))
		}
	})
	report(t, "Security", "tokens expired, not yet valid, without exp, wrong signature, alg none/None/RS256, for another id or topic; publish key missing, wrong or a token; admin without key; disallowed and null origins; a token in the URL (?token=, ?access_token=) on the stream and the session endpoint",
		"%d cases against the binary: every refusal answered 400/401/403 with a JSON reason and no CORS grant (the %d tokens in the URL: 400 saying so, even beside a valid bearer, one log line each naming the parameter), the 2 valid controls 200/202, no secret or token in the log", len(cases), len(inURL))
}
