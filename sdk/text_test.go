//go:build !(js && wasm && ssekit_jsapi)

package sdk

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The helpers of text.go stand in for standard functions; each must agree
// with the one it replaces on the inputs the SDK gives it.

func TestIsSpaceRune(t *testing.T) {
	t.Parallel()
	for r := rune(-1); r <= unicode.MaxRune+1; r++ {
		if isSpaceRune(r) != unicode.IsSpace(r) {
			t.Fatalf("isSpaceRune(%U) = %v, unicode.IsSpace says %v", r, isSpaceRune(r), unicode.IsSpace(r))
		}
	}
}

var textSamples = []string{
	"", "a", "a.b", ".a.", "..", "a\x00b\x00", "\x00", "  x  ", "{{a}} {{ b }}", "</script>", "a-->b--!>",
	"x=1&y=2#f", "?a", "#", "text/event-stream; charset=utf-8", "A\u00a0B\u2028c\td", "ÀÉ Ünïcode", "MiXeD",
	"\u3000 x\u2029", "\xff ", " \xe3\x80", "\u0085\u00a0", "\t\n\v\f\r ",
}

func TestQuote(t *testing.T) {
	t.Parallel()
	samples := append([]string{"\"\\\a\b\f\n\r\t\v\x01\x1f\x7f", "\ufffd\xef\xbf", "\u200b\u202e\ufeff\U0001F600", "\x80\xc0"}, textSamples...)
	for _, s := range samples {
		got := quote(s)
		if back, err := strconv.Unquote(got); err != nil || back != s {
			t.Errorf("quote(%q) = %s, which unquotes to %q, %v", s, got, back, err)
		}
		printable := utf8.ValidString(s)
		for _, r := range s {
			printable = printable && (r < utf8.RuneSelf || unicode.IsPrint(r))
		}
		if want := strconv.Quote(s); printable && got != want {
			t.Errorf("quote(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestItoa(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{0, 1, -1, 9, 10, -10, 99, 100, 12345, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		if got, want := string(appendInt([]byte("x"), n)), "x"+strconv.FormatInt(n, 10); got != want {
			t.Errorf("appendInt(%d) = %s, want %s", n, got, want)
		}
		if got, want := itoa(int(n)), strconv.Itoa(int(n)); got != want {
			t.Errorf("itoa(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestTextHelpers(t *testing.T) {
	t.Parallel()
	for _, s := range textSamples {
		for _, sep := range []byte{'.', '&', '#', ';', '|'} {
			if got, want := splitByte(s, sep), strings.Split(s, string(sep)); strings.Join(got, "\x01") != strings.Join(want, "\x01") || len(got) != len(want) {
				t.Errorf("splitByte(%q, %q) = %q, want %q", s, sep, got, want)
			}
			b, a, f := cutByte(s, sep)
			wb, wa, wf := strings.Cut(s, string(sep))
			if b != wb || a != wa || f != wf {
				t.Errorf("cutByte(%q, %q) = %q %q %v, want %q %q %v", s, sep, b, a, f, wb, wa, wf)
			}
		}
		for _, sub := range []string{"</", "{{", "}}", "-->", "--!>", ">", "a"} {
			if got, want := indexStr(s, sub), strings.Index(s, sub); got != want {
				t.Errorf("indexStr(%q, %q) = %d, want %d", s, sub, got, want)
			}
		}
		if got, want := removeNUL(s), strings.ReplaceAll(s, "\x00", ""); got != want {
			t.Errorf("removeNUL(%q) = %q, want %q", s, got, want)
		}
		if got, want := trimSpace(s), strings.TrimSpace(s); got != want {
			t.Errorf("trimSpace(%q) = %q, want %q", s, got, want)
		}
		if got, want := trimBytes(s, " "), strings.Trim(s, " "); got != want {
			t.Errorf("trimBytes(%q) = %q, want %q", s, got, want)
		}
		if got, want := trimLeftBytes(s, " \t\r\n"), strings.TrimLeft(s, " \t\r\n"); got != want {
			t.Errorf("trimLeftBytes(%q) = %q, want %q", s, got, want)
		}
		var fields []string
		for f, rest := nextField(s); f != ""; f, rest = nextField(rest) {
			fields = append(fields, f)
		}
		if got, want := strings.Join(fields, "\x01"), strings.Join(strings.Fields(s), "\x01"); got != want {
			t.Errorf("nextField over %q = %q, want %q", s, got, want)
		}
		ascii := true
		for i := 0; i < len(s); i++ {
			ascii = ascii && s[i] < 0x80
		}
		if ascii {
			if got, want := lowerASCII(s), strings.ToLower(s); got != want {
				t.Errorf("lowerASCII(%q) = %q, want %q", s, got, want)
			}
		}
	}
}

func TestSecondsText(t *testing.T) {
	t.Parallel()
	for _, s := range []int64{0, 1, 59, 60, 61, 3599, 3600, 3661, 86400} {
		d := time.Duration(s) * time.Second
		if got, want := secondsText(d), d.String(); got != want {
			t.Errorf("secondsText(%v) = %q, want %q", d, got, want)
		}
	}
	if got := secondsText(1500 * time.Millisecond); got != "2s" {
		t.Errorf("secondsText(1.5s) = %q, want 2s (rounded up)", got)
	}
}

func TestValidUTF8(t *testing.T) {
	t.Parallel()
	for _, s := range append(textSamples, "\xff", "a\xc3", "\xed\xa0\x80", "\xef\xbf\xbd", "\xf4\x90\x80\x80", "日本語") {
		if got, want := validUTF8(s), utf8.ValidString(s); got != want {
			t.Errorf("validUTF8(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	a, b := errors.New("a"), &HandlerError{Err: errors.New("b")}
	err := join(a, b)
	if want := errors.Join(a, b).Error(); err.Error() != want {
		t.Errorf("join = %q, want %q", err.Error(), want)
	}
	var he *HandlerError
	if !errors.Is(err, a) || !errors.As(err, &he) || he != b {
		t.Errorf("join(a, b) does not match a and b: Is %v, As %v", errors.Is(err, a), errors.As(err, &he))
	}
}
