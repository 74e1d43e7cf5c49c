//go:build js && wasm && ssekit_jsapi

package sdk

import (
	"sync"

	"github.com/hack-pad/safejs"
)

// The JS API's clock and timers are the browser's (performance.now,
// Date.now, setTimeout), so www/ssekit.wasm does not import package time
// (see clock.go). The Go API of this build (-tags ssekit_jsapi) is for
// package wasm only: its durations are a Duration of its own, which is
// time.Duration everywhere else.

// Duration is a span of time in nanoseconds, as time.Duration.
type Duration int64

const (
	millisecond Duration = 1e6
	second               = 1000 * millisecond
	hour                 = 3600 * second
)

// Milliseconds is d in whole milliseconds, as time.Duration's.
func (d Duration) Milliseconds() int64 { return int64(d / millisecond) }

// monotonic is performance.now (monotonic, from the page's start); never 0.
func monotonic() Duration { return Duration(nowMillis("performance")*float64(millisecond)) | 1 }

// wallClock is Date.now in nanoseconds since 1970 UTC.
func wallClock() int64 { return int64(nowMillis("Date") * 1e6) }

// nowMillis calls globalThis[obj].now(); 0 if that fails.
func nowMillis(obj string) float64 {
	o, err := global(obj)
	if err != nil {
		return 0
	}
	v, err := o.Call("now")
	if err != nil {
		return 0
	}
	ms, _ := v.Float()
	return ms
}

// afterFunc calls f on its own goroutine after d (setTimeout); stop
// cancels it and reports whether it did so before f was called. A page
// whose setTimeout fails gets the error logged and f never called.
func afterFunc(d Duration, f func()) (stop func() bool) {
	var (
		mu      sync.Mutex
		pending = true
		cb      safejs.Func
		id      safejs.Value
	)
	end := func() bool { // under mu
		if !pending {
			return false
		}
		pending = false
		release(cb)
		return true
	}
	cb, err := funcOf(func([]safejs.Value) {
		mu.Lock()
		fire := end()
		mu.Unlock()
		if fire {
			go f() // a callback from JS must not block, and f takes locks
		}
	})
	if err != nil {
		logError(err)
		return func() bool { return false }
	}
	mu.Lock()
	defer mu.Unlock()
	if id, err = safejs.Global().Call("setTimeout", cb.Value(), max(int64(d/millisecond), 0)); err != nil {
		logError(jsErr("setTimeout", err))
		end()
		return func() bool { return false }
	}
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		if !pending {
			return false
		}
		_, _ = safejs.Global().Call("clearTimeout", id)
		return end()
	}
}
