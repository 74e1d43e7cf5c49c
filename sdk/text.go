package sdk

import "unicode/utf8"

// Small string helpers for what the SDK needs of package strings. Each
// replaces a general function (strings.Fields, ReplaceAll, TrimLeft,
// ToLower, Split, Duration.String ...) that would bring its Unicode paths
// and tables into the wasm for inputs that are ASCII by construction.

// itoa is strconv.Itoa.
func itoa(n int) string { return string(appendInt(nil, int64(n))) }

// appendInt is strconv.AppendInt(b, n, 10).
func appendInt(b []byte, n int64) []byte {
	u := uint64(n)
	if n < 0 {
		b = append(b, '-')
		u = -u
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + u%10)
		if u /= 10; u == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// quote is strconv.Quote for the SDK's error messages, except that it
// keeps every valid non-ASCII rune as it is, where strconv.Quote escapes
// the unprintable ones: its printability tables cost the wasm more than
// they would ever tell a reader. The result unquotes (strconv.Unquote) to
// s.
func quote(s string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c >= ' ' && c < 0x7f:
			b = append(b, c)
		case c >= utf8.RuneSelf:
			if r, n := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || n > 1 {
				b = append(b, s[i:i+n]...)
				i += n - 1
				continue
			}
			fallthrough // an invalid byte
		default:
			if k := indexByte("\a\b\f\n\r\t\v", c); k >= 0 {
				b = append(b, '\\', "abfnrtv"[k])
			} else {
				b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			}
		}
	}
	return string(append(b, '"'))
}

// removeNUL returns s without its NUL bytes.
func removeNUL(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)-n)
	for i := 0; i < len(s); i++ {
		if s[i] != 0 {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// trimLeftBytes returns s without the leading bytes that are in cutset
// (ASCII).
func trimLeftBytes(s, cutset string) string {
	for s != "" && indexByte(cutset, s[0]) >= 0 {
		s = s[1:]
	}
	return s
}

// trimBytes returns s without the leading and trailing bytes that are in
// cutset (ASCII).
func trimBytes(s, cutset string) string {
	s = trimLeftBytes(s, cutset)
	for s != "" && indexByte(cutset, s[len(s)-1]) >= 0 {
		s = s[:len(s)-1]
	}
	return s
}

// hasPrefix is strings.HasPrefix.
func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

// cutSuffix is strings.CutSuffix.
func cutSuffix(s, suffix string) (before string, found bool) {
	if len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// indexByte is strings.IndexByte. (Package strings costs the wasm about 4
// KB brotli, with unicode's initialisation, for the three functions the
// SDK used of it.)
func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// lowerASCII lower-cases the ASCII letters of s.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// splitOn cuts s at every byte in seps (ASCII), dropping empty fields, into
// at most len(dst) fields; n is the number of fields, -1 when there are
// more than fit.
func splitOn(dst []string, s, seps string) (n int) {
	for s != "" {
		i := 0
		for i < len(s) && indexByte(seps, s[i]) < 0 {
			i++
		}
		if i > 0 {
			if n == len(dst) {
				return -1
			}
			dst[n] = s[:i]
			n++
		}
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return n
}

// nextField returns the first field of s separated by Unicode white space
// (as strings.Fields splits) and the rest after it; field is "" when s has
// none.
func nextField(s string) (field, rest string) {
	start := -1
	for i := 0; i < len(s); {
		r, w := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(s[i:])
		}
		if isSpaceRune(r) {
			if start >= 0 {
				return s[start:i], s[i:]
			}
		} else if start < 0 {
			start = i
		}
		i += w
	}
	if start < 0 {
		return "", ""
	}
	return s[start:], ""
}

// secondsText writes a delay of whole seconds as Duration.String
// does ("30s", "2m0s", "1h0m0s"); a fraction of a second counts as a
// second more (the text says how long at least).
func secondsText(d Duration) string {
	s := int64((d + second - 1) / second)
	out := ""
	if s >= 3600 {
		out = itoa(int(s/3600)) + "h"
	}
	if s >= 60 {
		out += itoa(int(s/60%60)) + "m"
	}
	return out + itoa(int(s%60)) + "s"
}

// splitByte cuts s at every sep as strings.Split(s, string(sep)) does:
// n+1 fields for n separators, empty ones kept.
func splitByte(s string, sep byte) []string {
	n := 1
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			n++
		}
	}
	out := make([]string, 0, n)
	for {
		i := indexByte(s, sep)
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
}

// indexStr is strings.Index for the SDK's short ASCII needles ("</",
// "{{", "-->"): a scan from each occurrence of the first byte, without the
// general function's Rabin-Karp and SIMD paths.
func indexStr(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i] == sub[0] && s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// cutByte is strings.Cut with a one-byte separator.
func cutByte(s string, sep byte) (before, after string, found bool) {
	if i := indexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// isSpaceRune is unicode.IsSpace, spelled out: the White_Space property is
// these 25 code points (and stable), and the general function brings the
// range-table search into the wasm.
func isSpaceRune(r rune) bool {
	switch {
	case r <= 0xFF:
		return r == ' ' || ('\t' <= r && r <= '\r') || r == 0x85 || r == 0xA0
	case 0x2000 <= r && r <= 0x200A:
		return true
	}
	switch r {
	case 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return false
}

// trimSpace is strings.TrimSpace without its function-value paths: leading
// and trailing Unicode white space goes.
func trimSpace(s string) string {
	for s != "" {
		r, n := rune(s[0]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s)
		}
		if !isSpaceRune(r) {
			break
		}
		s = s[n:]
	}
	for s != "" {
		r, n := rune(s[len(s)-1]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeLastRuneInString(s)
		}
		if !isSpaceRune(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

// join is errors.Join for two errors, neither nil: its message is a's and
// b's on two lines, and errors.Is and errors.As match either. (errors.Join
// handles any number of errors, nil ones included, in more code than the
// SDK needs.)
func join(a, b error) error { return &joinedError{a, b} }

type joinedError struct{ a, b error }

func (e *joinedError) Error() string   { return e.a.Error() + "\n" + e.b.Error() }
func (e *joinedError) Unwrap() []error { return []error{e.a, e.b} }
