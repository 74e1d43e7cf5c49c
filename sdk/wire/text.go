package wire

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Line breaks are searched for in windows that double in size, so a line is
// found in time proportional to its length whichever line ending the text
// uses: searching for LF alone would scan to the end of a CR-only text for
// every line.
const firstWindow = 128

// indexLineBreak returns the index of the first CR or LF in s, or -1.
func indexLineBreak(s string) int {
	for w := firstWindow; ; w *= 2 {
		win := s[:min(w, len(s))]
		lf := strings.IndexByte(win, '\n')
		if lf >= 0 {
			win = win[:lf]
		}
		if cr := strings.IndexByte(win, '\r'); cr >= 0 {
			return cr
		}
		if lf >= 0 {
			return lf
		}
		if len(win) == len(s) {
			return -1
		}
	}
}

// indexLineEnd is indexLineBreak for the parser's byte slices.
func indexLineEnd(b []byte) int {
	for w := firstWindow; ; w *= 2 {
		win := b[:min(w, len(b))]
		lf := bytes.IndexByte(win, '\n')
		if lf >= 0 {
			win = win[:lf]
		}
		if cr := bytes.IndexByte(win, '\r'); cr >= 0 {
			return cr
		}
		if lf >= 0 {
			return lf
		}
		if len(win) == len(b) {
			return -1
		}
	}
}

// appendText appends b to dst decoded as the WHATWG "UTF-8 decode" would:
// valid UTF-8 is copied, and each maximal invalid subsequence becomes one
// U+FFFD. Go's own decoding (one U+FFFD per invalid byte) differs for
// truncated sequences such as "\xE2\x80", which a browser shows as a single
// U+FFFD. Callers pass single lines; since CR, LF and ':' are ASCII and an
// ASCII byte never belongs to an invalid sequence, decoding line by line
// gives the same text as decoding the whole stream first.
func appendText(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			size = invalidPrefixLen(b)
			dst = append(dst, string(utf8.RuneError)...)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}

// textString is appendText into a new string.
func textString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(appendText(nil, b))
}

// invalidPrefixLen returns the length of the maximal subpart of an invalid
// UTF-8 sequence at the start of b: the bytes the WHATWG decoder consumes
// before it emits U+FFFD. The byte that breaks the sequence is not part of
// it; the decoder reads it again as the start of the next character.
func invalidPrefixLen(b []byte) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := b[0]; {
	case 0xC2 <= c && c <= 0xDF:
		need = 1
	case 0xE0 <= c && c <= 0xEF:
		need = 2
		if c == 0xE0 {
			lo = 0xA0 // overlong
		} else if c == 0xED {
			hi = 0x9F // surrogates
		}
	case 0xF0 <= c && c <= 0xF4:
		need = 3
		if c == 0xF0 {
			lo = 0x90 // overlong
		} else if c == 0xF4 {
			hi = 0x8F // above U+10FFFF
		}
	default:
		return 1
	}
	n := 1
	for n <= need && n < len(b) && lo <= b[n] && b[n] <= hi {
		n++
		lo, hi = 0x80, 0xBF
	}
	return n
}
