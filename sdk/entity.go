package sdk

import (
	"unicode/utf8"
)

// Character references for the sanitizer. Decoding happens once, before any
// check, and the decoded string is what reaches the DOM (through
// createTextNode or setAttribute, which decode nothing), so what is checked
// is exactly what the browser uses. A reference this table does not know
// stays literal text, which is safe: it can only look odd.

// namedEntities is a subset of the HTML named character references: the
// ones markup in events plausibly uses, and the ones used to hide
// characters from naive filters (colon, Tab, NewLine, parentheses). Each
// entry is "name value\x00": a string, not a map, so that the table costs
// its bytes and no initialisation code in the wasm.
const namedEntities = "" +
	"amp &\x00AMP &\x00lt <\x00LT <\x00gt >\x00GT >\x00" +
	"quot \"\x00QUOT \"\x00apos '\x00nbsp \u00a0\x00shy \u00ad\x00" +
	"copy ©\x00COPY ©\x00reg ®\x00REG ®\x00trade ™\x00" +
	"hellip …\x00mdash —\x00ndash –\x00lsquo ‘\x00rsquo ’\x00" +
	"sbquo ‚\x00ldquo “\x00rdquo ”\x00bdquo „\x00laquo «\x00raquo »\x00" +
	"lsaquo ‹\x00rsaquo ›\x00euro €\x00pound £\x00yen ¥\x00cent ¢\x00" +
	"sect §\x00para ¶\x00middot ·\x00bull •\x00deg °\x00plusmn ±\x00" +
	"times ×\x00divide ÷\x00frac12 ½\x00frac14 ¼\x00frac34 ¾\x00" +
	"sup1 ¹\x00sup2 ²\x00sup3 ³\x00micro µ\x00iexcl ¡\x00iquest ¿\x00" +
	"larr ←\x00rarr →\x00uarr ↑\x00darr ↓\x00harr ↔\x00check ✓\x00" +
	"colon :\x00Tab \t\x00NewLine \n\x00lpar (\x00rpar )\x00" +
	"lsqb [\x00rsqb ]\x00lcub {\x00rcub }\x00sol /\x00bsol \\\x00" +
	"num #\x00excl !\x00quest ?\x00semi ;\x00comma ,\x00period .\x00" +
	"equals =\x00plus +\x00commat @\x00dollar $\x00percnt %\x00" +
	"lowbar _\x00grave `\x00Hat ^\x00vert |\x00ast *\x00hyphen -\x00"

// legacyEntities are decoded even without the semicolon, as browsers do.
const legacyEntities = "amp AMP lt LT gt GT quot QUOT nbsp copy COPY reg REG"

// namedEntity returns the value of a named reference (name without & and ;).
func namedEntity(name string) (string, bool) {
	for t := namedEntities; t != ""; {
		sp := indexByte(t, ' ')
		end := sp + indexByte(t[sp:], 0)
		if t[:sp] == name {
			return t[sp+1 : end], true
		}
		t = t[end+1:]
	}
	return "", false
}

// win1252 maps numeric references 0x80-0x9F to what browsers show for them.
var win1252 = [32]rune{
	0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
	0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
}

// decodeEntities decodes character references in text or, with inAttr, in
// an attribute value (where a legacy reference without semicolon followed by
// '=' or an alphanumeric stays literal, as in browsers).
func decodeEntities(s string, inAttr bool) string {
	i := indexByte(s, '&')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i >= 0 {
		b = append(b, s[:i]...)
		s = s[i:]
		out, n := decodeOne(s, inAttr)
		if n == 0 {
			b = append(b, '&')
			n = 1
		} else {
			b = append(b, out...)
		}
		s = s[n:]
		i = indexByte(s, '&')
	}
	b = append(b, s...)
	return string(b)
}

// decodeOne decodes the reference at the start of s ("&..."); n is how many
// bytes it used, 0 when it is not a reference.
func decodeOne(s string, inAttr bool) (string, int) {
	if len(s) > 1 && s[1] == '#' {
		return decodeNumeric(s)
	}
	j := 1
	for j < len(s) && j < 40 && isASCIIAlnum(s[j]) {
		j++
	}
	name := s[1:j]
	if name == "" {
		return "", 0
	}
	if j < len(s) && s[j] == ';' {
		if v, ok := namedEntity(name); ok {
			return v, j + 1
		}
	}
	// Without a semicolon: the longest legacy name that prefixes the run.
	for k := len(name); k > 0; k-- {
		if !inWords(legacyEntities, name[:k]) {
			continue
		}
		if inAttr && 1+k < len(s) && (s[1+k] == '=' || isASCIIAlnum(s[1+k])) {
			return "", 0
		}
		v, _ := namedEntity(name[:k])
		return v, 1 + k
	}
	return "", 0
}

func decodeNumeric(s string) (string, int) {
	j, base := 2, 10
	if j < len(s) && (s[j] == 'x' || s[j] == 'X') {
		j, base = 3, 16
	}
	start := j
	var v int64
	for j < len(s) {
		d := digitValue(s[j], base)
		if d < 0 {
			break
		}
		if v <= utf8.MaxRune {
			v = v*int64(base) + int64(d)
		}
		j++
	}
	if j == start {
		return "", 0 // "&#" or "&#x" without digits stays text
	}
	if j < len(s) && s[j] == ';' {
		j++
	}
	r := rune(utf8.RuneError)
	switch {
	case v == 0 || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF):
	case v >= 0x80 && v <= 0x9F:
		r = win1252[v-0x80]
	default:
		r = rune(v)
	}
	return string(r), j
}

func digitValue(c byte, base int) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case base == 16 && c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case base == 16 && c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// inWords reports whether w is one of the space-separated words of list.
// The SDK's small fixed sets of names are such lists rather than maps: a
// map literal costs initialisation code and a map in the wasm.
func inWords(list, w string) bool {
	for list != "" {
		i := indexByte(list, ' ')
		if i < 0 {
			return list == w
		}
		if list[:i] == w {
			return true
		}
		list = list[i+1:]
	}
	return false
}
