package wire

import "testing"

// TestAppendText checks the WHATWG UTF-8 decoder's replacement rule: one
// U+FFFD per maximal subpart of an invalid sequence, not one per byte.
func TestAppendText(t *testing.T) {
	t.Parallel()
	const r = "\uFFFD"
	cases := []struct{ name, in, want string }{
		{"ascii", "abc", "abc"},
		{"valid", "用户支付成功 😀", "用户支付成功 😀"},
		{"replacementCharItself", r, r},
		{"loneContinuation", "a\x80b", "a" + r + "b"},
		{"twoContinuations", "\x80\xBF", r + r},
		{"truncated3", "a\xE2\x80b", "a" + r + "b"},
		{"truncated4", "\xF0\x9F\x98", r},
		{"truncated4AtStart", "\xF0\x9F\x98a", r + "a"},
		{"overlong2", "\xC0\xAF", r + r},
		{"overlong3", "\xE0\x80\xAF", r + r + r},
		{"overlong4", "\xF0\x80\x80\xAF", r + r + r + r},
		{"surrogate", "\xED\xA0\x80", r + r + r},
		{"aboveMax", "\xF4\x90\x80\x80", r + r + r + r},
		{"F5", "\xF5\x80", r + r},
		{"FF", "\xFF", r},
		{"leadThenLead", "\xE2\xE2\x82\xAC", r + "€"},
		{"validAfterInvalid", "\xC3(\xC3\xA9", r + "(é"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := string(appendText(nil, []byte(c.in))); got != c.want {
				t.Errorf("appendText(%q) = %q, want %q", c.in, got, c.want)
			}
			if got := textString([]byte(c.in)); got != c.want {
				t.Errorf("textString(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestIndexLineBreak(t *testing.T) {
	t.Parallel()
	long := string(make([]byte, 1000))
	cases := []struct {
		in   string
		want int
	}{
		{"", -1},
		{"abc", -1},
		{"a\nb", 1},
		{"a\rb", 1},
		{"a\r\nb", 1},
		{"a\n\rb", 1},
		{"ab\rc\n", 2},
		{long + "\n", 1000},
		{long + "\r" + long + "\n", 1000},
		{long + "\n" + long + "\r", 1000},
		{long + long, -1},
	}
	for _, c := range cases {
		if got := indexLineBreak(c.in); got != c.want {
			t.Errorf("indexLineBreak(%.20q... len %d) = %d, want %d", c.in, len(c.in), got, c.want)
		}
		if got := indexLineEnd([]byte(c.in)); got != c.want {
			t.Errorf("indexLineEnd(%.20q... len %d) = %d, want %d", c.in, len(c.in), got, c.want)
		}
	}
}
