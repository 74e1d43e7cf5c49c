//go:build !(js && wasm && ssekit_jsapi)

package sdk

import (
	"errors"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		f    Failure
		want Verdict
		wait time.Duration
	}{
		{"network error", Failure{Err: errors.New("refused")}, VerdictBackoff, 0},
		{"200 event stream: the stream broke", Failure{Status: 200, ContentType: "text/event-stream; charset=utf-8"}, VerdictBackoff, 0},
		{"200 without content type", Failure{Status: 200}, VerdictBackoff, 0},
		{"200 html is not a stream", Failure{Status: 200, ContentType: "text/html"}, VerdictStop, 0},
		{"204 stops", Failure{Status: 204}, VerdictStop, 0},
		{"400 stops", Failure{Status: 400}, VerdictStop, 0},
		{"401 auth", Failure{Status: 401}, VerdictAuth, 0},
		{"403 auth", Failure{Status: 403}, VerdictAuth, 0},
		{"404 stops", Failure{Status: 404}, VerdictStop, 0},
		{"405 stops", Failure{Status: 405}, VerdictStop, 0},
		{"410 stops", Failure{Status: 410}, VerdictStop, 0},
		{"429 with seconds", Failure{Status: 429, RetryAfter: "7"}, VerdictRetryAfter, 7 * time.Second},
		{"503 with a date", Failure{Status: 503, RetryAfter: "Sun, 01 Mar 2026 12:00:30 GMT"}, VerdictRetryAfter, 30 * time.Second},
		{"503 without Retry-After", Failure{Status: 503}, VerdictBackoff, 0},
		{"503 with garbage", Failure{Status: 503, RetryAfter: "soon"}, VerdictBackoff, 0},
		{"500 backs off", Failure{Status: 500}, VerdictBackoff, 0},
		{"502 backs off", Failure{Status: 502}, VerdictBackoff, 0},
		{"408 backs off", Failure{Status: 408}, VerdictBackoff, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v, wait, reason := Classify(c.f, now)
			if v != c.want || wait != c.wait || reason == "" {
				t.Fatalf("Classify = %v, %v, %q; want %v, %v and a reason", v, wait, reason, c.want, c.wait)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(1994, 11, 6, 8, 49, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"86400", 24 * time.Hour, true},
		{"86401", 24 * time.Hour, true},
		{"99999999999999999999999", 24 * time.Hour, true},
		{"Sun, 06 Nov 1994 08:49:37 GMT", 37 * time.Second, true},
		{"Sunday, 06-Nov-94 08:49:37 GMT", 37 * time.Second, true},
		{"Sun Nov  6 08:49:37 1994", 37 * time.Second, true},
		{"Sun, 06 Nov 1994 08:48:00 GMT", 0, true}, // in the past: now
		{"Mon, 07 Nov 1994 08:49:00 GMT", 24 * time.Hour, true},
		{"Sat, 31 Dec 1994 08:49:00 GMT", 24 * time.Hour, true}, // clamped
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"Sun, 06 Nov 1994 08:49:37 CET", 0, false},
		{"Sun, 06 Foo 1994 08:49:37 GMT", 0, false},
		{"Sun, 32 Nov 1994 08:49:37 GMT", 0, false},
		{"Sun, 06 Nov 1994 25:49:37 GMT", 0, false},
		{"Sun, 06 Nov 994 08:49:37 GMT", 0, false},
		{"tomorrow", 0, false},
		{"Fri, 31 Dec 9999 23:59:59 GMT", 24 * time.Hour, true},
		{"Mon, 01 Jan 0001 00:00:00 GMT", 0, true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseRetryAfter(c.in, now)
			if got != c.want || ok != c.ok {
				t.Fatalf("ParseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
			}
		})
	}
}

// TestParseRetryAfter_now: a date is counted from now to the nanosecond,
// and a now outside the years int64 nanoseconds hold still compares right.
func TestParseRetryAfter_now(t *testing.T) {
	t.Parallel()
	const date = "Sun, 06 Nov 1994 08:49:37 GMT"
	cases := []struct {
		now  time.Time
		want time.Duration
	}{
		{time.Date(1994, 11, 6, 8, 49, 0, 250e6, time.UTC), 36*time.Second + 750*time.Millisecond},
		{time.Date(1994, 11, 6, 8, 49, 37, 1, time.UTC), 0},
		{time.Time{}, 24 * time.Hour},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0},
	}
	for _, c := range cases {
		if got, ok := ParseRetryAfter(date, c.now); got != c.want || !ok {
			t.Errorf("ParseRetryAfter(%q, %v) = %v, %v; want %v, true", date, c.now, got, ok, c.want)
		}
	}
}

func TestDaysFromCivil(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1994, 11, 6, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		if got, want := daysFromCivil(d.Year(), int(d.Month()), d.Day()), d.Unix()/86400; got != want {
			t.Errorf("daysFromCivil(%s) = %d, want %d", d.Format(time.DateOnly), got, want)
		}
	}
}
