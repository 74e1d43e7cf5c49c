package load

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPayload_roundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		kind     payloadKind
		n, ts    int64
		size     int
		wantSize int
	}{
		{"padded to 64", kindSeq, 17, 123456789, 64, 64},
		{"padded to 1000", kindSeq, 0, 1, 1000, 1000},
		{"warm-up", kindWarm, 2, 99, 64, 64},
		{"too small for padding", kindSeq, 123456, 123456789012, 10, len(`{"seq":123456,"ts":123456789012}`)},
		{"exactly no room for padding", kindSeq, 1, 1, len(`{"seq":1,"ts":1,"pad":""}`) - 1, len(`{"seq":1,"ts":1}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := encodePayload(tt.kind, tt.n, tt.ts, tt.size)
			if len(data) != tt.wantSize {
				t.Errorf("len(%q) = %d, want %d", data, len(data), tt.wantSize)
			}
			k, n, ts := decodePayload(data)
			if k != tt.kind || n != tt.n || ts != tt.ts {
				t.Errorf("decode(%q) = %v, %d, %d; want %v, %d, %d", data, k, n, ts, tt.kind, tt.n, tt.ts)
			}
		})
	}
}

func TestDecodePayload_foreign(t *testing.T) {
	t.Parallel()
	for _, data := range []string{
		``, `hello`, `{"clientId":"lt1","retry":3000}`, `{"seq":}`, `{"seq":1}`,
		`{"seq":1,"ts":}`, `{"seq":1,"ts":2,"other":3}`, `{"seq":-1,"ts":2}`,
	} {
		if k, _, _ := decodePayload(data); k != kindOther {
			t.Errorf("decode(%q) kind = %v, want kindOther", data, k)
		}
	}
}

func TestLatencyStats(t *testing.T) {
	t.Parallel()
	samples := make([]int64, 0, 1000)
	for i := 1000; i >= 1; i-- {
		samples = append(samples, int64(i)*int64(time.Millisecond))
	}
	p50, p99, mx := latencyStats(samples)
	if p50 != 500 || p99 != 990 || mx != 1000 {
		t.Errorf("latencyStats = %v, %v, %v; want 500, 990, 1000", p50, p99, mx)
	}
	if !slices.IsSorted(samples) {
		t.Error("samples not sorted")
	}
	if a, b, c := latencyStats(nil); a != 0 || b != 0 || c != 0 {
		t.Errorf("latencyStats(nil) = %v, %v, %v", a, b, c)
	}
}

func TestProcParse(t *testing.T) {
	t.Parallel()
	status := "Name:\tssekit-server\nVmPeak:\t  900 kB\nVmRSS:\t   52292 kB\nThreads:\t7\n"
	if got, err := statusKiB([]byte(status), "VmRSS:"); err != nil || got != 52292 {
		t.Errorf("statusKiB = %d, %v; want 52292", got, err)
	}
	if _, err := statusKiB([]byte("Name:\tx\n"), "VmRSS:"); !errors.Is(err, errProcFormat) {
		t.Errorf("statusKiB without VmRSS: %v", err)
	}
	// A command name with spaces and a parenthesis must not shift fields.
	stat := "4242 (my (odd) srv) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 37 0 0 20 0 7 0 1234 0 0\n"
	if got, err := statCPU([]byte(stat)); err != nil || got != 1870*time.Millisecond {
		t.Errorf("statCPU = %v, %v; want 1.87s", got, err)
	}
	if _, err := statCPU([]byte("4242 (x) S 1 2")); !errors.Is(err, errProcFormat) {
		t.Errorf("statCPU of a short line: %v", err)
	}
}

func TestReadProc_self(t *testing.T) {
	t.Parallel()
	p, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.RSSKiB <= 0 {
		t.Errorf("RSS = %d KiB, want > 0", p.RSSKiB)
	}
}

func TestConfig_validate(t *testing.T) {
	t.Parallel()
	ok := Config{BaseURL: "http://127.0.0.1:8844", Conns: 10, Events: 10}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // substring of the error; "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"localhost", func(c *Config) { c.BaseURL = "http://localhost:1" }, ""},
		{"idle", func(c *Config) { c.Idle, c.Events = true, 0 }, ""},
		{"not loopback", func(c *Config) { c.BaseURL = "http://192.0.2.1:80" }, "not a loopback address"},
		{"no port", func(c *Config) { c.BaseURL = "http://127.0.0.1" }, "http://HOST:PORT"},
		{"https", func(c *Config) { c.BaseURL = "https://127.0.0.1:1" }, "http://HOST:PORT"},
		{"no conns", func(c *Config) { c.Conns = 0 }, "conns"},
		{"too many conns", func(c *Config) { c.Conns = MaxConns + 1 }, "conns"},
		{"no events", func(c *Config) { c.Events = 0 }, "events"},
		{"idle with events", func(c *Config) { c.Idle = true }, "idle"},
		{"too many deliveries", func(c *Config) { c.Conns, c.Events = 50000, 1000 }, "conns × events"},
		{"size", func(c *Config) { c.Size = MaxSize + 1 }, "size"},
		{"timeout", func(c *Config) { c.Timeout = time.Hour }, "timeout"},
		{"paced", func(c *Config) { c.Interval = 20 * time.Millisecond }, ""},
		{"negative interval", func(c *Config) { c.Interval = -time.Millisecond }, "interval"},
		{"interval too long", func(c *Config) { c.Interval = MaxInterval + 1 }, "interval"},
		{"paced past the timeout", func(c *Config) { c.Interval, c.Timeout = time.Second, 5*time.Second }, "events × interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tt.change(&c)
			c.setDefaults()
			_, err := c.validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("validate: %v", err)
			case tt.want != "" && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("validate = %v, want ErrConfig mentioning %q", err, tt.want)
			}
		})
	}
}

func TestAddCounters(t *testing.T) {
	t.Parallel()
	netstat := "TcpExt: SyncookiesSent ListenDrops TCPTimeouts TCPRcvQDrop TCPBacklogDrop TCPSynRetrans TCPToZeroWindowAdv\n" +
		"TcpExt: 0 64 90 21 2 64 1524\n" +
		"IpExt: InNoRoutes\nIpExt: 0\n"
	snmp := "Ip: Forwarding\nIp: 1\nTcp: RtoAlgorithm RetransSegs\nTcp: 1 85395\n"
	var k KernelTCP
	if err := addCounters(&k, []byte(netstat)); err != nil {
		t.Fatal(err)
	}
	if err := addCounters(&k, []byte(snmp)); err != nil {
		t.Fatal(err)
	}
	want := KernelTCP{RetransSegs: 85395, Timeouts: 90, RcvQDrops: 23, ListenDrops: 64, SYNRetrans: 64, ZeroWindowTo: 1524}
	if k != want {
		t.Errorf("counters = %+v, want %+v", k, want)
	}
	if d := want.since(KernelTCP{RetransSegs: 85000, Timeouts: 90}); d.RetransSegs != 395 || d.Timeouts != 0 || d.ListenDrops != 64 {
		t.Errorf("since = %+v", d)
	}
	if err := addCounters(&k, []byte("TcpExt: A B\nTcpExt: 1\n")); !errors.Is(err, errProcFormat) {
		t.Errorf("unmatched lines: %v", err)
	}
	if _, err := ReadKernelTCP(); err != nil {
		t.Errorf("ReadKernelTCP on this machine: %v", err)
	}
}
