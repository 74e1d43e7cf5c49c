package sdk

import (
	"strings"
	"unicode/utf8"
)

// Character references for the sanitizer. Decoding happens once, before any
// check, and the decoded string is what reaches the DOM (through
// createTextNode or setAttribute, which decode nothing), so what is checked
// is exactly what the browser uses. A reference this table does not know
// stays literal text, which is safe: it can only look odd.

// namedEntities is a subset of the HTML named character references: the
// ones markup in events plausibly uses, and the ones used to hide
// characters from naive filters (colon, Tab, NewLine, parentheses).
var namedEntities = map[string]string{
	"amp": "&", "AMP": "&", "lt": "<", "LT": "<", "gt": ">", "GT": ">",
	"quot": `"`, "QUOT": `"`, "apos": "'", "nbsp": "\u00a0", "shy": "\u00ad",
	"copy": "©", "COPY": "©", "reg": "®", "REG": "®", "trade": "™",
	"hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’",
	"sbquo": "‚", "ldquo": "“", "rdquo": "”", "bdquo": "„", "laquo": "«", "raquo": "»",
	"lsaquo": "‹", "rsaquo": "›", "euro": "€", "pound": "£", "yen": "¥", "cent": "¢",
	"sect": "§", "para": "¶", "middot": "·", "bull": "•", "deg": "°", "plusmn": "±",
	"times": "×", "divide": "÷", "frac12": "½", "frac14": "¼", "frac34": "¾",
	"sup1": "¹", "sup2": "²", "sup3": "³", "micro": "µ", "iexcl": "¡", "iquest": "¿",
	"larr": "←", "rarr": "→", "uarr": "↑", "darr": "↓", "harr": "↔", "check": "✓",
	"colon": ":", "Tab": "\t", "NewLine": "\n", "lpar": "(", "rpar": ")",
	"lsqb": "[", "rsqb": "]", "lcub": "{", "rcub": "}", "sol": "/", "bsol": `\`,
	"num": "#", "excl": "!", "quest": "?", "semi": ";", "comma": ",", "period": ".",
	"equals": "=", "plus": "+", "commat": "@", "dollar": "$", "percnt": "%",
	"lowbar": "_", "grave": "`", "Hat": "^", "vert": "|", "ast": "*", "hyphen": "-",
}

// legacyEntities are decoded even without the semicolon, as browsers do.
var legacyEntities = map[string]bool{
	"amp": true, "AMP": true, "lt": true, "LT": true, "gt": true, "GT": true,
	"quot": true, "QUOT": true, "nbsp": true, "copy": true, "COPY": true, "reg": true, "REG": true,
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
	i := strings.IndexByte(s, '&')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i:]
		out, n := decodeOne(s, inAttr)
		if n == 0 {
			b.WriteByte('&')
			n = 1
		} else {
			b.WriteString(out)
		}
		s = s[n:]
		i = strings.IndexByte(s, '&')
	}
	b.WriteString(s)
	return b.String()
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
		if v, ok := namedEntities[name]; ok {
			return v, j + 1
		}
	}
	// Without a semicolon: the longest legacy name that prefixes the run.
	for k := len(name); k > 0; k-- {
		if !legacyEntities[name[:k]] {
			continue
		}
		if inAttr && 1+k < len(s) && (s[1+k] == '=' || isASCIIAlnum(s[1+k])) {
			return "", 0
		}
		return namedEntities[name[:k]], 1 + k
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
