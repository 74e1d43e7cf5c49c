package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
)

// Limits per client address: at most -max-conns-per-ip open streams from
// one address, so one host cannot fill the hub with random client ids.
// Behind a proxy the address comes from X-Forwarded-For, but only from
// proxies listed with WithTrustedProxies, read from the right.

// WithMaxConnsPerIP limits the open streams (demo streams included) from
// one client address; IPv6 addresses count per /64, the block one host
// usually gets. Must be >= 0. Defaults to 0: no limit (load tests open
// thousands of streams from one address).
func WithMaxConnsPerIP(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("%w: max conns per ip must be >= 0", errOption)
		}
		c.sec.maxConnsPerIP = n
		return nil
	}
}

// WithTrustedProxies lists the proxies (CIDRs or single addresses) whose
// X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host the hub
// believes. Empty (default): none, the peer address is the client.
func WithTrustedProxies(cidrs ...string) Option {
	return func(c *config) error {
		c.sec.trusted = nil
		for _, s := range cidrs {
			p, err := parsePrefix(s)
			if err != nil {
				return fmt.Errorf("%w: trusted proxy %q: %v", errOption, s, err)
			}
			c.sec.trusted = append(c.sec.trusted, p)
		}
		return nil
	}
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// trustedProxies is the list of WithTrustedProxies.
type trustedProxies []netip.Prefix

func (t trustedProxies) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the address of the direct peer of r.
func peerAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// fromTrustedProxy reports whether the direct peer of r is a trusted proxy.
func (h *Hub) fromTrustedProxy(r *http.Request) bool {
	return len(h.sec.cfg.trusted) > 0 && h.sec.cfg.trusted.contains(peerAddr(r))
}

// clientIP is the address r comes from. X-Forwarded-For counts only when
// the direct peer is a trusted proxy; it is read from the right, each
// trusted hop passing on to the one before it, and the first address that
// is not a trusted proxy is the client. Everything left of it could be
// made up by the client. A hop that does not parse stops the walk at the
// last trusted proxy.
func (h *Hub) clientIP(r *http.Request) netip.Addr {
	ip := peerAddr(r)
	if !h.fromTrustedProxy(r) {
		return ip
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			return ip
		}
		ip = hop
		if !h.sec.cfg.trusted.contains(hop) {
			return ip
		}
	}
	return ip
}

// parseHop reads one X-Forwarded-For item: an address, maybe with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// ipKey is what one address counts as: itself for IPv4, its /64 for IPv6.
func ipKey(a netip.Addr) netip.Addr {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// ipLimiter counts open streams per address.
type ipLimiter struct {
	max int // 0: off, nothing is counted
	mu  sync.Mutex
	n   map[netip.Addr]int
}

func newIPLimiter(max int) *ipLimiter {
	return &ipLimiter{max: max, n: make(map[netip.Addr]int)}
}

// acquire takes a slot for a; false when a has max streams open.
func (l *ipLimiter) acquire(a netip.Addr) bool {
	if l.max == 0 {
		return true
	}
	k := ipKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[k] >= l.max {
		return false
	}
	l.n[k]++
	return true
}

// release gives back a slot acquire took.
func (l *ipLimiter) release(a netip.Addr) {
	if l.max == 0 {
		return
	}
	k := ipKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[k] <= 1 {
		delete(l.n, k)
		return
	}
	l.n[k]--
}

// full reports whether acquire would fail now.
func (l *ipLimiter) full(a netip.Addr) bool {
	if l.max == 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[ipKey(a)] >= l.max
}

// count is how many slots a holds (for tests).
func (l *ipLimiter) count(a netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[ipKey(a)]
}
