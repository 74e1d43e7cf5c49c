package load

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 on every architecture Go runs on.
const userHZ = 100

// ProcSample is what /proc says about a process at one moment.
type ProcSample struct {
	RSSKiB int64         // VmRSS of /proc/PID/status
	CPU    time.Duration // utime + stime of /proc/PID/stat, all threads
}

var errProcFormat = errors.New("ssekit/load: unexpected /proc format")

// ReadProc samples the resident set size and CPU time of process pid.
func ReadProc(pid int) (ProcSample, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcSample{}, err
	}
	rss, err := statusKiB(status, "VmRSS:")
	if err != nil {
		return ProcSample{}, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcSample{}, err
	}
	cpu, err := statCPU(stat)
	if err != nil {
		return ProcSample{}, err
	}
	return ProcSample{RSSKiB: rss, CPU: cpu}, nil
}

// statusKiB reads a "Key:   1234 kB" line of /proc/PID/status.
func statusKiB(status []byte, key string) (int64, error) {
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
			f := bytes.Fields(rest)
			if len(f) != 2 || string(f[1]) != "kB" {
				break
			}
			return strconv.ParseInt(string(f[0]), 10, 64)
		}
	}
	return 0, fmt.Errorf("%w: no %s line in status", errProcFormat, key)
}

// statCPU adds utime and stime (fields 14 and 15) of /proc/PID/stat. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func statCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: stat has no command name", errProcFormat)
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields", errProcFormat, len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", errProcFormat, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
