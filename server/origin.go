package server

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The Origin check: a browser names the page that makes a cross-origin
// request (and every POST) in the Origin header. A stream, session or
// publish request that carries one must come from the hub's own origin or
// one allow-listed with WithCORSOrigins; clients that are not browsers
// send no Origin and are not concerned.

// checkOrigin returns ErrOriginRefused for a present Origin that is
// neither the request's own origin nor allow-listed.
func (h *Hub) checkOrigin(r *http.Request) error {
	values := r.Header.Values("Origin")
	if len(values) == 0 {
		return nil
	}
	origin, ok := normalizeOrigin(values[0])
	if len(values) > 1 || !ok {
		return ErrOriginRefused // "null" (sandboxed frames, file: pages) and garbage too
	}
	if self, ok := normalizeOrigin(h.requestScheme(r) + "://" + h.requestHost(r)); ok && origin == self {
		return nil
	}
	for _, allowed := range h.cfg.corsOrigins {
		if allowed == "*" {
			return nil
		}
		if a, ok := normalizeOrigin(allowed); ok && a == origin {
			return nil
		}
	}
	return ErrOriginRefused
}

// normalizeOrigin reduces an origin to scheme://host[:port] in lower case,
// without the scheme's default port.
func normalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, true
}

// requestScheme is https for a TLS connection, or what a trusted proxy
// says in X-Forwarded-Proto; else http.
func (h *Hub) requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if h.fromTrustedProxy(r) {
		if p := lastForwarded(r.Header.Values("X-Forwarded-Proto")); strings.EqualFold(p, "https") {
			return "https"
		}
	}
	return "http"
}

// requestHost is the Host the client asked for, or what a trusted proxy
// says in X-Forwarded-Host.
func (h *Hub) requestHost(r *http.Request) string {
	if h.fromTrustedProxy(r) {
		if fh := lastForwarded(r.Header.Values("X-Forwarded-Host")); fh != "" {
			return fh
		}
	}
	return r.Host
}

// lastForwarded is the last item of a comma-separated forwarding header:
// the one the nearest proxy added.
func lastForwarded(values []string) string {
	if len(values) == 0 {
		return ""
	}
	items := strings.Split(values[len(values)-1], ",")
	return strings.TrimSpace(items[len(items)-1])
}
