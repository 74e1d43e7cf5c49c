package sdk

// Verdict is what the client does after a failed stream.
type Verdict int

// Verdicts of Classify.
const (
	// VerdictBackoff retries after the backoff delay: network errors,
	// unknown statuses, 5xx.
	VerdictBackoff Verdict = iota
	// VerdictRetryAfter retries no earlier than the server's Retry-After
	// (and no earlier than the backoff delay).
	VerdictRetryAfter
	// VerdictAuth asks the auth hook to renew credentials; without a hook,
	// or when it declines, the client stops.
	VerdictAuth
	// VerdictStop stops for good: retrying cannot succeed.
	VerdictStop
)

// Failure is what the client learned about a failed stream, from the
// stream itself when the platform shows it, or else from a probe (a HEAD
// request to the same URL).
type Failure struct {
	// Status is the HTTP status, 0 when unknown (network error, no answer).
	Status int
	// RetryAfter is the Retry-After header as sent, "" when absent.
	RetryAfter string
	// ContentType is the Content-Type header as sent, "" when absent.
	ContentType string
	// Err is the platform's error, nil when none.
	Err error
}

// classifyAt is Classify at now, in nanoseconds since 1970 UTC.
func classifyAt(f Failure, now int64) (v Verdict, retryAfter Duration, reason string) {
	switch f.Status {
	case 0:
		return VerdictBackoff, 0, "network error"
	case 200:
		if ct := f.ContentType; ct != "" && !isEventStream(ct) {
			return VerdictStop, 0, "not an event stream: " + ct
		}
		return VerdictBackoff, 0, "connection lost"
	case 204:
		return VerdictStop, 0, "204 No Content: the server ended the stream for good"
	case 401, 403:
		return VerdictAuth, 0, "HTTP " + itoa(f.Status) + ": not authorized"
	case 400, 404, 405, 410:
		return VerdictStop, 0, "HTTP " + itoa(f.Status) + ": retrying cannot succeed"
	case 429, 503:
		d, ok := retryAfterAt(f.RetryAfter, now)
		if !ok {
			return VerdictBackoff, 0, "HTTP " + itoa(f.Status)
		}
		return VerdictRetryAfter, d, "HTTP " + itoa(f.Status) + ": retry after " + secondsText(d)
	}
	return VerdictBackoff, 0, "HTTP " + itoa(f.Status)
}

func isEventStream(contentType string) bool {
	mt, _, _ := cutByte(contentType, ';')
	return equalFoldASCII(trimSpace(mt), "text/event-stream")
}

// retryAfterAt is ParseRetryAfter at now, in nanoseconds since 1970 UTC.
func retryAfterAt(v string, now int64) (Duration, bool) {
	v = trimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		var n int64
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
			if n <= int64(maxDelay/second) { // past it, the value no longer matters
				n = n*10 + int64(v[i]-'0')
			}
		}
		if n > int64(maxDelay/second) {
			return maxDelay, true // too many digits is still "a long time"
		}
		return Duration(n) * second, true
	}
	if t, ok := parseHTTPDate(v); ok {
		// In seconds first: a date far off would overflow nanoseconds.
		secs := t - now/int64(second)
		switch {
		case secs > int64(maxDelay/second):
			return maxDelay, true
		case secs < 0:
			return 0, true
		}
		return clampDelay(Duration(secs)*second - Duration(now%int64(second))), true
	}
	return 0, false
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseHTTPDate reads the three HTTP date forms recipients must accept
// (RFC 9110 5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", the
// obsolete RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime
// "Sun Nov  6 08:49:37 1994". By hand: time.Parse would add its whole
// layout engine to the wasm. The weekday is not checked. The date is in
// seconds since 1970 UTC.
func parseHTTPDate(v string) (int64, bool) {
	var f [8]string
	n := splitOn(f[:], v, " ,-:")
	var day, mon, year, clock string
	switch {
	case n == 8 && f[7] == "GMT": // IMF-fixdate, RFC 850
		day, mon, year, clock = f[1], f[2], f[3], f[4]+f[5]+f[6]
	case n == 7: // asctime
		day, mon, year, clock = f[2], f[1], f[6], f[3]+f[4]+f[5]
	default:
		return 0, false
	}
	m := 0
	for i, name := range months {
		if mon == name {
			m = i + 1
		}
	}
	d, okD := digits(day, 1, 2)
	y, okY := digits(year, 2, 4)
	hms, okC := digits(clock, 6, 6)
	if m == 0 || !okD || !okY || !okC || len(year) == 3 {
		return 0, false
	}
	if len(year) == 2 { // RFC 850: the century nearest to now, roughly
		y += 1900
		if y < 1970 {
			y += 100
		}
	}
	h, mi, s := hms/10000, hms/100%100, hms%100
	if d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return 0, false
	}
	days := daysFromCivil(y, m, d)
	return days*86400 + int64(h*3600+mi*60+s), true
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (H. Hinnant's algorithm). By hand:
// time.Date would bring the time zone machinery into the wasm.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

// digits reads s as a decimal of minLen to maxLen digits.
func digits(s string, minLen, maxLen int) (int, bool) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
