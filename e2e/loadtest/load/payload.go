package load

import (
	"strconv"
	"strings"
)

// The payload of a test event is a JSON object whose first two members are
// read by position, so the readers spend no time in a JSON decoder:
//
//	{"seq":17,"ts":123456789,"pad":"xxxx"}   a measured event
//	{"warm":2,"ts":123456789,"pad":"xxxx"}   a warm-up event
//
// seq counts from 0; ts is the send time in nanoseconds since the run's
// start on the monotonic clock (publisher and readers share the process);
// pad fills the data up to the requested size.
const (
	prefixSeq  = `{"seq":`
	prefixWarm = `{"warm":`
	infixTS    = `,"ts":`
	padOpen    = `,"pad":"`
	padClose   = `"}`
)

// payloadKind says what an event's data is.
type payloadKind int

const (
	kindOther payloadKind = iota // not from this tool (a connected event, a heartbeat with data)
	kindSeq
	kindWarm
)

// encodePayload returns the data of event n of kind k (kindSeq or kindWarm)
// sent at ts, padded to size bytes when size is larger than the bare object.
func encodePayload(k payloadKind, n, ts int64, size int) string {
	var b strings.Builder
	b.Grow(max(size, 48))
	if k == kindWarm {
		b.WriteString(prefixWarm)
	} else {
		b.WriteString(prefixSeq)
	}
	b.WriteString(strconv.FormatInt(n, 10))
	b.WriteString(infixTS)
	b.WriteString(strconv.FormatInt(ts, 10))
	if pad := size - b.Len() - len(padOpen) - len(padClose); pad > 0 {
		b.WriteString(padOpen)
		b.WriteString(strings.Repeat("x", pad))
		b.WriteString(padClose)
	} else {
		b.WriteByte('}')
	}
	return b.String()
}

// decodePayload reads the kind, number and send time of an event's data.
// Anything not written by encodePayload is kindOther.
func decodePayload(data string) (k payloadKind, n, ts int64) {
	var rest string
	switch {
	case strings.HasPrefix(data, prefixSeq):
		k, rest = kindSeq, data[len(prefixSeq):]
	case strings.HasPrefix(data, prefixWarm):
		k, rest = kindWarm, data[len(prefixWarm):]
	default:
		return kindOther, 0, 0
	}
	n, rest, ok := leadingInt(rest)
	if !ok || !strings.HasPrefix(rest, infixTS) {
		return kindOther, 0, 0
	}
	ts, rest, ok = leadingInt(rest[len(infixTS):])
	if !ok || (rest != "}" && !strings.HasPrefix(rest, padOpen)) {
		return kindOther, 0, 0
	}
	return k, n, ts
}

// leadingInt parses the decimal digits at the start of s.
func leadingInt(s string) (n int64, rest string, ok bool) {
	i := 0
	for i < len(s) && i < 18 && '0' <= s[i] && s[i] <= '9' {
		n = n*10 + int64(s[i]-'0')
		i++
	}
	return n, s[i:], i > 0
}
