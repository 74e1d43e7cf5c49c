// Package load is the load client behind the loadtest command: it opens
// SSE streams to a hub on the loopback interface, publishes numbered and
// timestamped events, reads every stream with the sdk/wire parser and
// accounts for every event (lost, duplicated, out of order, latency), while
// sampling the server process's memory and CPU from /proc.
package load

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"
)

// Limits of a run: the tool is a measuring instrument, never a flood.
const (
	MaxConns      = 50000
	MaxEvents     = 1000000
	MaxDeliveries = 20000000 // conns × events: the latency samples stay under ~160 MB
	MaxSize       = 16 << 10
	MaxTimeout    = 30 * time.Minute
	MaxSettle     = 5 * time.Minute
	MaxDialers    = 1000
	MaxInterval   = 10 * time.Second
)

// Config describes one run.
type Config struct {
	// BaseURL is the server, http://127.0.0.1:PORT. Its host must be a
	// loopback address (or a name that resolves only to loopback ones).
	BaseURL string
	// Conns is the number of streams, one TCP connection each: 1..MaxConns.
	Conns int
	// Events is the number of measured events published to everyone
	// (broadcast mode): 1..MaxEvents, and Conns×Events ≤ MaxDeliveries.
	Events int
	// Size is the data size of each event in bytes; a size below the bare
	// payload object (about 30 bytes) sends the bare object. ≤ MaxSize.
	// Defaults to 64.
	Size int
	// Interval paces the measured events: one publish every Interval
	// (a light, steady load) instead of back to back. 0..MaxInterval, and
	// Events × Interval within the timeout. Defaults to 0.
	Interval time.Duration
	// Idle opens the streams, publishes nothing and reports the server's
	// memory per connection after Settle.
	Idle bool
	// Settle is how long an idle run waits before sampling memory. Defaults
	// to 3s; ≤ MaxSettle.
	Settle time.Duration
	// Drain is how long the run waits after the last publish for every
	// stream to receive every event. Defaults to 30s.
	Drain time.Duration
	// Timeout bounds the whole run. Defaults to 5m; ≤ MaxTimeout.
	Timeout time.Duration
	// Dialers bounds the streams between dial and response at once, so the
	// server's listen queue never overflows into SYN resends. Defaults to 64.
	Dialers int
	// PID is the server process to sample in /proc; 0 = no server figures.
	PID int
	// IDPrefix prefixes the client ids (prefix + index). Defaults to "lt".
	IDPrefix string
	// Label names the server in the report.
	Label string
}

// ErrConfig is a configuration the tool refuses to run.
var ErrConfig = errors.New("ssekit/load: invalid configuration")

func (c *Config) setDefaults() {
	if c.Size == 0 {
		c.Size = 64
	}
	if c.Settle == 0 {
		c.Settle = 3 * time.Second
	}
	if c.Drain == 0 {
		c.Drain = 30 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.Dialers == 0 {
		c.Dialers = 64
	}
	if c.IDPrefix == "" {
		c.IDPrefix = "lt"
	}
}

// validate checks the bounds and that the target is on this machine, and
// returns the loopback address to dial (IP:port).
func (c *Config) validate() (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.Conns < 1 || c.Conns > MaxConns:
		return bad("conns must be 1..%d, got %d", MaxConns, c.Conns)
	case c.Idle && c.Events != 0:
		return bad("an idle run publishes no events, got %d", c.Events)
	case !c.Idle && (c.Events < 1 || c.Events > MaxEvents):
		return bad("events must be 1..%d, got %d", MaxEvents, c.Events)
	case int64(c.Conns)*int64(c.Events) > MaxDeliveries:
		return bad("conns × events must be ≤ %d, got %d", MaxDeliveries, int64(c.Conns)*int64(c.Events))
	case c.Size < 0 || c.Size > MaxSize:
		return bad("size must be 0..%d, got %d", MaxSize, c.Size)
	case c.Timeout < 0 || c.Timeout > MaxTimeout:
		return bad("timeout must be ≤ %v, got %v", MaxTimeout, c.Timeout)
	case c.Settle < 0 || c.Settle > MaxSettle:
		return bad("settle must be ≤ %v, got %v", MaxSettle, c.Settle)
	case c.Interval < 0 || c.Interval > MaxInterval:
		return bad("interval must be 0..%v, got %v", MaxInterval, c.Interval)
	case time.Duration(c.Events)*c.Interval > c.Timeout:
		return bad("events × interval must be ≤ the timeout, got %v", time.Duration(c.Events)*c.Interval)
	case c.Drain < 0 || c.Drain > c.Timeout:
		return bad("drain must be ≤ the timeout, got %v", c.Drain)
	case c.Dialers < 1 || c.Dialers > MaxDialers:
		return bad("dialers must be 1..%d, got %d", MaxDialers, c.Dialers)
	case c.PID < 0:
		return bad("pid must be ≥ 0, got %d", c.PID)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return bad("base URL: %v", err)
	}
	if u.Scheme != "http" || u.Host == "" || u.Port() == "" {
		return bad("base URL must be http://HOST:PORT, got %q", c.BaseURL)
	}
	ip, err := loopbackOnly(u.Hostname())
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(ip.String(), u.Port()), nil
}

// loopbackOnly refuses any host that is not (or does not resolve only to)
// loopback addresses: load is sent to this machine and nowhere else. It
// returns the address to dial, IPv4 first.
func loopbackOnly(host string) (net.IP, error) {
	ips, err := net.LookupIP(host)
	if err != nil {
		return nil, fmt.Errorf("%w: resolve %s: %v", ErrConfig, host, err)
	}
	var pick net.IP
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return nil, fmt.Errorf("%w: %s is not a loopback address (%s): load goes to this machine only", ErrConfig, host, ip)
		}
		if pick == nil || (pick.To4() == nil && ip.To4() != nil) {
			pick = ip
		}
	}
	if pick == nil {
		return nil, fmt.Errorf("%w: %s resolves to no address", ErrConfig, host)
	}
	return pick, nil
}
