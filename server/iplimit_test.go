package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestHub_clientIP(t *testing.T) {
	t.Parallel()
	h, err := New(WithTrustedProxies("10.0.0.0/8", "192.0.2.1", "2001:db8:1::/48"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	cases := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct, no header", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"direct peer not trusted: header ignored", "203.0.113.5:4000", []string{"198.51.100.7"}, "203.0.113.5"},
		{"trusted proxy, one hop", "10.1.2.3:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"trusted proxy, no header", "10.1.2.3:4000", nil, "10.1.2.3"},
		{"client spoofs the left: the rightmost untrusted wins", "10.1.2.3:4000", []string{"1.1.1.1, 198.51.100.7"}, "198.51.100.7"},
		{"a chain of trusted proxies", "10.1.2.3:4000", []string{"198.51.100.7, 192.0.2.1, 10.9.9.9"}, "198.51.100.7"},
		{"several headers are one list", "10.1.2.3:4000", []string{"1.1.1.1, 198.51.100.7", "10.9.9.9"}, "198.51.100.7"},
		{"all trusted: the leftmost", "10.1.2.3:4000", []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.1"},
		{"garbage stops at the last trusted hop", "10.1.2.3:4000", []string{"198.51.100.7, garbage, 10.0.0.2"}, "10.0.0.2"},
		{"garbage right away: the peer", "10.1.2.3:4000", []string{"unknown"}, "10.1.2.3"},
		{"hop with a port", "10.1.2.3:4000", []string{"198.51.100.7:5555"}, "198.51.100.7"},
		{"IPv6 hop", "10.1.2.3:4000", []string{"2001:db8:2::7"}, "2001:db8:2::7"},
		{"IPv6 hop with port", "10.1.2.3:4000", []string{"[2001:db8:2::7]:80"}, "2001:db8:2::7"},
		{"IPv6 trusted proxy", "[2001:db8:1::1]:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"IPv4-mapped peer is IPv4", "[::ffff:10.1.2.3]:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"trusted single address", "192.0.2.1:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"its neighbour is not trusted", "192.0.2.2:80", []string{"198.51.100.7"}, "192.0.2.2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := h.clientIP(r); got != netip.MustParseAddr(c.want) {
				t.Fatalf("clientIP %v, want %s", got, c.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0.1/8/8", ""} {
		if _, err := New(WithTrustedProxies(bad)); err == nil {
			t.Errorf("WithTrustedProxies(%q) accepted", bad)
		}
	}
	if _, err := New(WithMaxConnsPerIP(-1)); err == nil {
		t.Error("WithMaxConnsPerIP(-1) accepted")
	}
}

func TestIPLimiter(t *testing.T) {
	t.Parallel()
	l := newIPLimiter(2)
	a, b := netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("198.51.100.8")
	v6a, v6b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	v6other := netip.MustParseAddr("2001:db8:1:3::1")
	if !l.acquire(a) || !l.acquire(a) || l.acquire(a) || !l.full(a) {
		t.Fatal("the third slot for one address was given")
	}
	if !l.acquire(b) || l.full(b) {
		t.Fatal("another address is limited too")
	}
	l.release(a)
	if l.full(a) || !l.acquire(a) {
		t.Fatal("a released slot is not reusable")
	}
	if !l.acquire(v6a) || !l.acquire(v6b) || l.acquire(v6a) {
		t.Fatal("two addresses of one IPv6 /64 do not share the limit")
	}
	if !l.acquire(v6other) {
		t.Fatal("another /64 is limited")
	}
	for _, x := range []netip.Addr{a, a, b, v6a, v6b, v6other} {
		l.release(x)
	}
	if len(l.n) != 0 {
		t.Fatalf("counts left after every release: %v", l.n)
	}
	off := newIPLimiter(0)
	for range 1000 {
		if !off.acquire(a) {
			t.Fatal("limit 0 refused")
		}
	}
	if len(off.n) != 0 {
		t.Fatal("limit 0 counts")
	}
}

// TestHub_limits_connsPerIP: with -max-conns-per-ip, one more stream from
// an address answers 429 with Retry-After (GET and HEAD); demo streams
// count; a closed stream frees its slot. Behind trusted proxies the
// address is the forwarded one; from an untrusted peer the header is
// ignored.
func TestHub_limits_connsPerIP(t *testing.T) {
	t.Parallel()
	xff := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	t.Run("direct", func(t *testing.T) {
		t.Parallel()
		th := startHub(t, WithMaxConnsPerIP(3))
		a := th.open(t, "/api/sse/connect/ip-a")
		th.open(t, "/api/sse/connect/ip-b")
		th.open(t, "/sse/stats")
		for _, path := range []string{"/api/sse/connect/ip-c", "/api/sse/connect", "/sse/words", "/orderpay?payid=1"} {
			if got := openStatus(t, th, path, ""); got != http.StatusTooManyRequests {
				t.Fatalf("%s: status %d, want 429", path, got)
			}
		}
		resp, body := th.do(t, http.MethodGet, "/api/sse/connect/ip-c", "", "", xff("198.51.100.7")...)
		wantError(t, resp, body, http.StatusTooManyRequests)
		if resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		head, _ := th.do(t, http.MethodHead, "/api/sse/connect/ip-c", "", "")
		if head.StatusCode != http.StatusTooManyRequests || head.Header.Get("Retry-After") == "" {
			t.Fatalf("HEAD: %d %q", head.StatusCode, head.Header.Get("Retry-After"))
		}
		a.close()
		eventually(t, wait, "the slot is freed", func() bool { return th.sec.ips.count(netip.MustParseAddr("127.0.0.1")) == 2 })
		c := th.open(t, "/api/sse/connect/ip-c")
		c.connected(t)
		th.publishJSON(t, "/api/sse/send/ip-c", `{"data":"in"}`)
		c.expect(t, "message", "in")
	})
	t.Run("trusted proxy", func(t *testing.T) {
		t.Parallel()
		th := startHub(t, WithMaxConnsPerIP(2), WithTrustedProxies("127.0.0.0/8"))
		th.open(t, "/api/sse/connect/p1", xff("198.51.100.7")...)
		th.open(t, "/api/sse/connect/p2", xff("198.51.100.7")...)
		if got := openStatus(t, th, "/api/sse/connect/p3", "", xff("198.51.100.7")...); got != 429 {
			t.Fatalf("third from one forwarded address: %d", got)
		}
		if got := openStatus(t, th, "/api/sse/connect/p3", "", xff("203.0.113.9, 198.51.100.7")...); got != 429 {
			t.Fatalf("a made-up address on the left escaped the limit: %d", got)
		}
		th.open(t, "/api/sse/connect/p3", xff("198.51.100.8")...).connected(t)
		th.open(t, "/api/sse/connect/p4").connected(t) // the proxy's own address
	})
	t.Run("untrusted peer", func(t *testing.T) {
		t.Parallel()
		th := startHub(t, WithMaxConnsPerIP(2), WithTrustedProxies("10.0.0.0/8"))
		th.open(t, "/api/sse/connect/u1", xff("198.51.100.1")...)
		th.open(t, "/api/sse/connect/u2", xff("198.51.100.2")...)
		if got := openStatus(t, th, "/api/sse/connect/u3", "", xff("198.51.100.3")...); got != 429 {
			t.Fatalf("X-Forwarded-For from an untrusted peer was believed: %d", got)
		}
	})
	t.Run("off by default", func(t *testing.T) {
		t.Parallel()
		th := startHub(t)
		for i := range 40 {
			th.open(t, "/api/sse/connect/many-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		}
		if n := th.Conns(); n != 40 {
			t.Fatalf("%d open", n)
		}
	})
}
