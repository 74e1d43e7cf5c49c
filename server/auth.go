package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Who may read and who may publish. Subscribers show an HS256 JWT
// (jwt.go) as Authorization: Bearer or in the session cookie, never in the
// URL; publishers show the publish key as Authorization: Bearer. Both are
// off until configured, so a loopback hub stays open as before.

// minSecretLen is the least length of an auth secret or publish key: an
// HS256 key shorter than the hash output is weaker than the hash (RFC 7518
// section 3.2).
const minSecretLen = 32

// SessionCookie is the name of the HttpOnly cookie POST /api/sse/session
// sets. It holds the token itself and is scoped to the stream paths.
const SessionCookie = "ssekit_session"

// sessionPaths are the paths the session cookie is sent to: the streams
// that carry a client's events.
var sessionPaths = []string{"/api/sse/connect", "/orderpay"}

// Errors of authentication: 401 and 403.
var (
	ErrUnauthorized   = errors.New("ssekit/server: missing or invalid credentials")
	ErrForbidden      = errors.New("ssekit/server: credentials do not allow this")
	ErrTokenInURL     = errors.New("ssekit/server: credentials are never accepted in the URL: send Authorization: Bearer or the session cookie")
	ErrSessionsOff    = errors.New("ssekit/server: sessions need an auth secret, and none is configured")
	ErrOriginRefused  = fmt.Errorf("%w: origin not allowed", ErrForbidden)
	ErrTooManyForIP   = errors.New("ssekit/server: too many connections from this address")
	errNoCredentials  = fmt.Errorf("%w: no credentials: send Authorization: Bearer or the session cookie", ErrUnauthorized)
	errNoPublishKey   = fmt.Errorf("%w: send Authorization: Bearer <publish key>", ErrUnauthorized)
	errBadPublishKey  = fmt.Errorf("%w: wrong publish key", ErrUnauthorized)
	errSessionBody    = fmt.Errorf("%w: the session request takes no body", ErrBadBody)
	errSessionNoToken = fmt.Errorf("%w: send the token as Authorization: Bearer", ErrUnauthorized)
)

// securityStatus maps the errors of this file to their status; statusOf
// asks it first.
func securityStatus(err error) (int, bool) {
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, true
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, true
	case errors.Is(err, ErrTokenInURL):
		return http.StatusBadRequest, true
	case errors.Is(err, ErrSessionsOff):
		return http.StatusNotFound, true
	case errors.Is(err, ErrTooManyForIP):
		return http.StatusTooManyRequests, true
	}
	return 0, false
}

// securityConfig is the part of config this file and its options own.
type securityConfig struct {
	authKeys       [][]byte
	authLeeway     time.Duration
	publishKeys    [][sha256.Size]byte // digests, so comparing never depends on a key's length
	cookieSameSite http.SameSite       // 0: strict
	maxConnsPerIP  int                 // 0: no limit
	trusted        trustedProxies
}

// WithAuthSecrets turns subscriber auth on: every stream of a client
// (/api/sse/connect..., /orderpay) needs an HS256 token signed with one of
// secrets. Several are accepted at once so a key can rotate: add the new
// one, issue tokens with it, drop the old one when its tokens have
// expired. Each must be at least 32 bytes.
func WithAuthSecrets(secrets ...Secret) Option {
	return func(c *config) error {
		keys, err := secretBytes("auth secret", secrets)
		c.sec.authKeys = keys
		return err
	}
}

// WithAuthLeeway tolerates clock skew between the token issuer and the hub
// when checking exp and nbf. Must be >= 0. Defaults to 0.
func WithAuthLeeway(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%w: auth leeway must be >= 0", errOption)
		}
		c.sec.authLeeway = d
		return nil
	}
}

// WithPublishKeys turns publisher auth on: send, sendAll, topics,
// disconnect, clients and the payment callback need Authorization: Bearer
// with one of keys (several, so a key can rotate). Each must be at least 32
// bytes.
func WithPublishKeys(keys ...Secret) Option {
	return func(c *config) error {
		raw, err := secretBytes("publish key", keys)
		c.sec.publishKeys = nil
		for _, k := range raw {
			c.sec.publishKeys = append(c.sec.publishKeys, sha256.Sum256(k))
		}
		return err
	}
}

func secretBytes(what string, secrets []Secret) ([][]byte, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: no %s given", errOption, what)
	}
	out := make([][]byte, 0, len(secrets))
	for i, s := range secrets {
		if len(s) < minSecretLen {
			// Never the value, not even its length: only which one.
			return nil, fmt.Errorf("%w: %s #%d is shorter than %d bytes", errOption, what, i+1, minSecretLen)
		}
		out = append(out, []byte(s))
	}
	return out, nil
}

// WithCookieSameSite sets the SameSite attribute of the session cookie:
// http.SameSiteStrictMode (default), LaxMode or NoneMode (for pages on
// another site; the cookie is then always Secure, so it needs TLS).
func WithCookieSameSite(s http.SameSite) Option {
	return func(c *config) error {
		switch s {
		case http.SameSiteStrictMode, http.SameSiteLaxMode, http.SameSiteNoneMode:
			c.sec.cookieSameSite = s
			return nil
		}
		return fmt.Errorf("%w: cookie SameSite must be strict, lax or none", errOption)
	}
}

// ParseSameSite reads "strict", "lax" or "none" (any case).
func ParseSameSite(s string) (http.SameSite, error) {
	switch strings.ToLower(s) {
	case "strict":
		return http.SameSiteStrictMode, nil
	case "lax":
		return http.SameSiteLaxMode, nil
	case "none":
		return http.SameSiteNoneMode, nil
	}
	return 0, fmt.Errorf("%w: SameSite must be strict, lax or none, got %q", errOption, s)
}

// security is the hub's state for auth and per-address limits.
type security struct {
	cfg      securityConfig
	verifier *verifier // nil: subscriber auth off
	ips      *ipLimiter
}

func newSecurity(cfg securityConfig) *security {
	s := &security{cfg: cfg, ips: newIPLimiter(cfg.maxConnsPerIP)}
	if len(cfg.authKeys) > 0 {
		s.verifier = &verifier{keys: cfg.authKeys, leeway: cfg.authLeeway}
	}
	return s
}

// streamKind says how a stream route relates its client id to the token.
type streamKind uint8

const (
	streamGenerated streamKind = iota // /api/sse/connect: the id is the token's sub
	streamClient                      // /api/sse/connect/{clientId}: the id must be the sub
	streamPayment                     // /orderpay?payid=N: pay-N must be the sub
	streamDemo                        // /sse/words, /sse/stats: no client data, no token
)

// tokenDeadlineKey carries the time a stream's token runs out (its exp
// plus the leeway) from guardStream to streamLoop.
type tokenDeadlineKey struct{}

// tokenDeadline is when the stream of ctx must end, if it has a token.
func tokenDeadline(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(tokenDeadlineKey{}).(time.Time)
	return t, ok
}

// guardStream checks a stream request before next opens it: no credentials
// in the URL (400), an allowed Origin (403), a token for this client id
// and these topics when auth is on (401, 403), and the per-address limit
// (429). HEAD answers what GET would, so it goes through the same checks
// but takes no slot.
func (h *Hub) guardStream(kind streamKind, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.refuseTokenInURL(r); err != nil {
			h.deny(w, r, err)
			return
		}
		if err := h.checkOrigin(r); err != nil {
			h.deny(w, r, err)
			return
		}
		if h.sec.verifier != nil && kind != streamDemo {
			c, err := h.subscriber(r, bearerOrCookie)
			if err == nil {
				err = h.authorizeStream(r, kind, c)
			}
			if err != nil {
				h.deny(w, r, err)
				return
			}
			deadline := c.Expiry.Add(h.sec.cfg.authLeeway)
			r = r.WithContext(context.WithValue(r.Context(), tokenDeadlineKey{}, deadline))
			if kind == streamGenerated {
				r.SetPathValue("clientId", c.Subject)
			}
		}
		ip := h.clientIP(r)
		if r.Method == http.MethodHead {
			if h.sec.ips.full(ip) {
				h.deny(w, r, ErrTooManyForIP)
				return
			}
			next(w, r)
			return
		}
		if !h.sec.ips.acquire(ip) {
			h.deny(w, r, ErrTooManyForIP)
			return
		}
		slot := &ipSlot{release: func() { h.sec.ips.release(ip) }}
		r = r.WithContext(context.WithValue(r.Context(), ipSlotKey{}, slot))
		defer func() {
			if !slot.kept { // else the taken-over stream gives it back when it ends
				slot.release()
			}
		}()
		next(w, r)
	}
}

// authorizeStream checks that c is for the stream's client id and topics.
// Malformed ids and topics are left to the handler (400).
func (h *Hub) authorizeStream(r *http.Request, kind streamKind, c Claims) error {
	switch kind {
	case streamClient:
		if id := r.PathValue("clientId"); validName(id) && id != c.Subject {
			return fmt.Errorf("%w: the token is for another client id", ErrForbidden)
		}
	case streamPayment:
		if id, err := payID(r); err == nil && id != c.Subject {
			return fmt.Errorf("%w: the token is for another client id", ErrForbidden)
		}
	}
	if raw := r.URL.Query().Get("topics"); raw != "" {
		for _, t := range strings.Split(raw, ",") {
			if validName(t) && !c.allows(t) {
				return fmt.Errorf("%w: the token does not allow topic %s", ErrForbidden, t)
			}
		}
	}
	return nil
}

// tokenSources says where a subscriber token may come from.
type tokenSources uint8

const (
	bearerOnly tokenSources = iota
	bearerOrCookie
)

// subscriber verifies the request's token: the Authorization header when
// present (a bad one is never rescued by a cookie), else the session
// cookie when allowed.
func (h *Hub) subscriber(r *http.Request, from tokenSources) (Claims, error) {
	token, present, err := bearer(r)
	if err != nil {
		return Claims{}, err
	}
	if !present {
		if from == bearerOnly {
			return Claims{}, errSessionNoToken
		}
		if ck, err := r.Cookie(SessionCookie); err == nil {
			token = Secret(ck.Value)
		}
	}
	return h.sec.verifier.verify(string(token), time.Now())
}

// bearer reads Authorization: Bearer <token>. present is false when there
// is no Authorization header at all.
func bearer(r *http.Request) (token Secret, present bool, err error) {
	v := r.Header.Values("Authorization")
	if len(v) == 0 {
		return "", false, nil
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(v[0]), " ")
	tok = strings.TrimSpace(tok)
	if len(v) > 1 || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
		return "", true, fmt.Errorf("%w: Authorization must be one header: Bearer <token>", ErrUnauthorized)
	}
	return Secret(tok), true, nil
}

// urlCredentialParams are query parameters that would carry a token in
// the URL, where proxies, browsers and logs keep it.
var urlCredentialParams = []string{"token", "access_token", "jwt", "auth"}

// refuseTokenInURL answers 400 for credentials in the query string, with
// auth on or off: a client that sends them has already leaked them, and
// should learn so at once. The log names the parameter, never its value.
func (h *Hub) refuseTokenInURL(r *http.Request) error {
	q := r.URL.Query()
	for _, p := range urlCredentialParams {
		if q.Has(p) {
			h.log.LogAttrs(r.Context(), slog.LevelWarn, "credentials in the URL refused",
				slog.String("param", p), slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr))
			return ErrTokenInURL
		}
	}
	return nil
}

// guardPublish checks a publishing or admin request: an allowed Origin
// when the request has one (so no web page can publish through a
// visitor's browser), then the publish key when one is configured.
func (h *Hub) guardPublish(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.checkOrigin(r); err != nil {
			h.deny(w, r, err)
			return
		}
		if err := h.checkPublishKey(r); err != nil {
			h.deny(w, r, err)
			return
		}
		next(w, r)
	}
}

// checkPublishKey compares the bearer key with every configured key in
// constant time (digests of equal length, no early exit).
func (h *Hub) checkPublishKey(r *http.Request) error {
	if len(h.sec.cfg.publishKeys) == 0 {
		return nil
	}
	key, present, err := bearer(r)
	switch {
	case !present:
		return errNoPublishKey
	case err != nil:
		return err
	}
	sum := sha256.Sum256([]byte(key))
	match := 0
	for _, k := range h.sec.cfg.publishKeys {
		match |= subtle.ConstantTimeCompare(sum[:], k[:])
	}
	if match != 1 {
		return errBadPublishKey
	}
	return nil
}

// deny answers err, logging why (never a credential). 401s carry
// WWW-Authenticate (RFC 6750).
func (h *Hub) deny(w http.ResponseWriter, r *http.Request, err error) {
	level := slog.LevelInfo
	if errors.Is(err, ErrUnauthorized) {
		level = slog.LevelWarn
		w.Header().Set("WWW-Authenticate", `Bearer realm="ssekit"`)
	}
	h.log.LogAttrs(r.Context(), level, "request denied",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("remote", r.RemoteAddr), slog.String("ip", h.clientIP(r).String()),
		slog.String("error", err.Error()))
	writeError(w, err)
}

// Session is the answer of POST /api/sse/session.
type Session struct {
	ClientID string    `json:"clientId"`
	Topics   []string  `json:"topics"`
	Expires  time.Time `json:"expires"`
}

// handleSession exchanges Authorization: Bearer <token> for the HttpOnly
// session cookie, so a browser EventSource (which cannot send headers)
// authenticates. The cookie holds the token itself, is scoped to the
// stream paths, and lives no longer than the token.
func (h *Hub) handleSession(w http.ResponseWriter, r *http.Request) {
	if err := h.refuseTokenInURL(r); err != nil {
		h.deny(w, r, err)
		return
	}
	if err := h.checkOrigin(r); err != nil {
		h.deny(w, r, err)
		return
	}
	if h.sec.verifier == nil {
		h.deny(w, r, ErrSessionsOff)
		return
	}
	c, err := h.subscriber(r, bearerOnly)
	if err != nil {
		h.deny(w, r, err)
		return
	}
	if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
		h.deny(w, r, errSessionBody)
		return
	}
	token, _, _ := bearer(r)
	now := time.Now()
	maxAge := int(c.Expiry.Sub(now) / time.Second)
	if maxAge < 1 {
		h.deny(w, r, fmt.Errorf("%w: token expires within a second", ErrUnauthorized))
		return
	}
	sameSite := h.sec.cfg.cookieSameSite
	if sameSite == 0 {
		sameSite = http.SameSiteStrictMode
	}
	secure := h.requestScheme(r) == "https" || sameSite == http.SameSiteNoneMode
	for _, p := range sessionPaths {
		http.SetCookie(w, &http.Cookie{
			Name: SessionCookie, Value: string(token), Path: p,
			MaxAge: maxAge, HttpOnly: true, Secure: secure, SameSite: sameSite,
		})
	}
	w.Header().Set("Cache-Control", "no-store")
	topics := c.Topics
	if topics == nil {
		topics = []string{}
	}
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "session issued",
		slog.String("client", c.Subject), slog.Time("expires", c.Expiry), slog.String("remote", r.RemoteAddr))
	writeJSON(w, http.StatusOK, Session{ClientID: c.Subject, Topics: topics, Expires: c.Expiry.UTC()})
}
