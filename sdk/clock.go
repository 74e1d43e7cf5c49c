//go:build !(js && wasm && ssekit_jsapi)

package sdk

import (
	"math"
	"time"
)

// The SDK's clock and timers. Every build but the JS API's uses package
// time (clock_jsapi.go has the browser's): importing time costs a wasm
// about 39 KB brotli of package initialisation (internal/godebug,
// internal/bisect, the runtime's metrics tables, syscall) that no feature
// of the JS API needs.

// Duration is time.Duration: the SDK's durations are plain time.Durations.
type Duration = time.Duration

const (
	millisecond = time.Millisecond
	second      = time.Second
	hour        = time.Hour
)

// clockStart anchors monotonic. The client keeps durations, not
// time.Time values: a time.Time inside a type that reaches an interface
// makes the linker keep time's whole formatting code in the wasm.
var clockStart = time.Now()

// monotonic is the time since clockStart on the monotonic clock; never 0.
func monotonic() Duration { return time.Since(clockStart) | 1 }

// wallClock is the time in nanoseconds since 1970 UTC.
func wallClock() int64 { return time.Now().UnixNano() }

// afterFunc calls f on its own goroutine after d; stop cancels it and
// reports whether it did so before f was called.
func afterFunc(d Duration, f func()) (stop func() bool) { return time.AfterFunc(d, f).Stop }

// Classify decides what a failure means for the next attempt. retryAfter
// is the parsed Retry-After (0 when absent or unparsable). reason is a
// short text for the state's LastError.
func Classify(f Failure, now time.Time) (v Verdict, retryAfter time.Duration, reason string) {
	return classifyAt(f, unixNano(now))
}

// ParseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (a date in the past means now). The result is at most 24h; ok is false
// when the value is absent or malformed.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	return retryAfterAt(v, unixNano(now))
}

// unixNano is t.UnixNano, saturated outside the years 1678 to 2262 (where
// UnixNano's result is undefined) so a far-off now still compares right.
func unixNano(t time.Time) int64 {
	const limit = math.MaxInt64 / int64(time.Second)
	switch s := t.Unix(); {
	case s >= limit:
		return limit * int64(time.Second)
	case s <= -limit:
		return -limit * int64(time.Second)
	}
	return t.UnixNano()
}
