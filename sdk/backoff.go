package sdk

// Backoff is the reconnect delay policy: exponential growth with full
// jitter. The delay before attempt n (1-based) is a uniformly random
// duration in [0, min(Max, Initial*Factor^(n-1))], raised to the floor the
// server announced (its retry), so a crowd of clients never comes back in
// step and never faster than the server asked.
type Backoff struct {
	// Initial caps the first delay. Must be > 0. Defaults to 500ms.
	Initial Duration
	// Max caps every delay. Must be >= Initial. Defaults to 30s.
	Max Duration
	// Factor multiplies the cap after each failed attempt. Must be >= 1.
	// Defaults to 2.
	Factor float64
	// ResetAfter is how long a connection must stay open before the attempt
	// counter starts from zero again, so a server that accepts and then drops
	// every stream still meets a growing delay. Must be > 0. Defaults to 5s.
	ResetAfter Duration
}

// Backoff defaults.
const (
	DefaultInitialBackoff = 500 * millisecond
	DefaultMaxBackoff     = 30 * second
	DefaultBackoffFactor  = 2
	DefaultResetAfter     = 5 * second
)

// maxDelay bounds any delay the SDK waits, Retry-After included: browsers
// run a setTimeout longer than 2^31-1 ms at once, so a huge value from a
// server would turn into a tight loop.
const maxDelay = 24 * hour

// withDefaults fills zero or out-of-range fields with the defaults.
func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultInitialBackoff
	}
	if b.Max <= 0 {
		b.Max = DefaultMaxBackoff
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Max > maxDelay {
		b.Max = maxDelay
	}
	if b.Factor < 1 {
		b.Factor = DefaultBackoffFactor
	}
	if b.ResetAfter <= 0 {
		b.ResetAfter = DefaultResetAfter
	}
	return b
}

// Cap is the largest delay before attempt n (1-based): Initial*Factor^(n-1),
// at most Max.
func (b Backoff) Cap(n int) Duration {
	b = b.withDefaults()
	c := float64(b.Initial)
	for i := 1; i < n && c < float64(b.Max); i++ {
		c *= b.Factor
	}
	if c >= float64(b.Max) {
		return b.Max
	}
	return Duration(c)
}

// Delay is the wait before attempt n: rnd (in [0, 1)) picks a point in
// [0, Cap(n)], and the result is at least floor.
func (b Backoff) Delay(n int, floor Duration, rnd float64) Duration {
	if rnd < 0 || rnd >= 1 {
		rnd = 0
	}
	d := Duration(rnd * float64(b.Cap(n)+1))
	return clampDelay(max(d, floor))
}

// clampDelay keeps d within [0, maxDelay].
func clampDelay(d Duration) Duration {
	return min(max(d, 0), maxDelay)
}
