package load

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// KernelTCP counts the kernel's TCP troubles during a run: retransmission
// timeouts and dropped segments stall a stream for 200 ms or more (far
// longer after repeated timeouts), which shows up as latency outliers. The
// counters are the network namespace's, so other processes' traffic is
// included.
type KernelTCP struct {
	RetransSegs  int64 `json:"retrans_segs"`   // Tcp RetransSegs: segments sent again (loss probes included)
	Timeouts     int64 `json:"rto_timeouts"`   // TcpExt TCPTimeouts: retransmission timer expiries
	RcvQDrops    int64 `json:"rcvq_drops"`     // TcpExt TCPRcvQDrop + TCPBacklogDrop: receive queue full
	ListenDrops  int64 `json:"listen_drops"`   // TcpExt ListenDrops: a connection the accept queue had no room for
	SYNRetrans   int64 `json:"syn_retrans"`    // TcpExt TCPSynRetrans: connects that waited for a SYN resend (≥ 1 s)
	ZeroWindowTo int64 `json:"to_zero_window"` // TcpExt TCPToZeroWindowAdv: a receiver that fell behind
}

// kernelFields maps "Group:Name" counters to the fields of KernelTCP.
var kernelFields = map[string]func(*KernelTCP) *int64{
	"Tcp:RetransSegs":           func(k *KernelTCP) *int64 { return &k.RetransSegs },
	"TcpExt:TCPTimeouts":        func(k *KernelTCP) *int64 { return &k.Timeouts },
	"TcpExt:TCPRcvQDrop":        func(k *KernelTCP) *int64 { return &k.RcvQDrops },
	"TcpExt:TCPBacklogDrop":     func(k *KernelTCP) *int64 { return &k.RcvQDrops },
	"TcpExt:ListenDrops":        func(k *KernelTCP) *int64 { return &k.ListenDrops },
	"TcpExt:TCPSynRetrans":      func(k *KernelTCP) *int64 { return &k.SYNRetrans },
	"TcpExt:TCPToZeroWindowAdv": func(k *KernelTCP) *int64 { return &k.ZeroWindowTo },
}

// ReadKernelTCP reads the counters of /proc/net/snmp and /proc/net/netstat.
func ReadKernelTCP() (KernelTCP, error) {
	var k KernelTCP
	for _, path := range []string{"/proc/net/snmp", "/proc/net/netstat"} {
		b, err := os.ReadFile(path)
		if err != nil {
			return KernelTCP{}, err
		}
		if err := addCounters(&k, b); err != nil {
			return KernelTCP{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	return k, nil
}

// addCounters reads the pairs of lines "Group: Name1 Name2 ..." and
// "Group: value1 value2 ..." of a /proc/net statistics file.
func addCounters(k *KernelTCP, b []byte) error {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	for i := 0; i+1 < len(lines); i += 2 {
		names, values := bytes.Fields(lines[i]), bytes.Fields(lines[i+1])
		if len(names) != len(values) || len(names) == 0 || !bytes.Equal(names[0], values[0]) {
			return fmt.Errorf("%w: unmatched lines %q", errProcFormat, lines[i])
		}
		group := string(bytes.TrimSuffix(names[0], []byte(":")))
		for j := 1; j < len(names); j++ {
			field, ok := kernelFields[group+":"+string(names[j])]
			if !ok {
				continue
			}
			v, err := strconv.ParseInt(string(values[j]), 10, 64)
			if err != nil {
				return fmt.Errorf("%w: %v", errProcFormat, err)
			}
			*field(k) += v
		}
	}
	return nil
}

// since returns the counts from before to k.
func (k KernelTCP) since(before KernelTCP) KernelTCP {
	return KernelTCP{
		RetransSegs:  k.RetransSegs - before.RetransSegs,
		Timeouts:     k.Timeouts - before.Timeouts,
		RcvQDrops:    k.RcvQDrops - before.RcvQDrops,
		ListenDrops:  k.ListenDrops - before.ListenDrops,
		SYNRetrans:   k.SYNRetrans - before.SYNRetrans,
		ZeroWindowTo: k.ZeroWindowTo - before.ZeroWindowTo,
	}
}
