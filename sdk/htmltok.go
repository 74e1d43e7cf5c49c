package sdk

// A small, strict HTML tokenizer for the sanitizer. It follows the WHATWG
// tokenizer where that matters for what ends up as text and which tags are
// seen: comments, doctypes, CDATA sections and processing instructions are
// skipped whole; a tag cut off by the end of input is dropped, as browsers
// do; the content of raw text elements (script, style, textarea, ...) is
// skipped up to their end tag. It never has to be exact: the builder keeps
// only allow-listed elements and attributes, and the result is built node by
// node, never serialised and parsed again.

type tokenKind uint8

const (
	tokText tokenKind = iota
	tokStart
	tokEnd
)

type token struct {
	kind        tokenKind
	name        string // lower-case tag name
	attrs       []Attr // decoded values, first of duplicate names only
	selfClosing bool
	text        string // decoded text, for tokText
}

// rawTextElements have content the tokenizer skips up to their end tag
// (plaintext: to the end of input). All of them are dropped with content.
const rawTextElements = "script style xmp iframe noembed noframes noscript textarea title plaintext"

type tokenizer struct {
	s   string
	pos int
	raw string // set after a raw text start tag: skip to its end tag next
}

func newTokenizer(s string) *tokenizer { return &tokenizer{s: s} }

// next returns the next token, or false at the end of input.
func (z *tokenizer) next() (token, bool) {
	if z.raw != "" {
		z.skipRawText()
	}
	var text []byte
	for z.pos < len(z.s) {
		i := indexByte(z.s[z.pos:], '<')
		if i < 0 {
			text = append(text, z.s[z.pos:]...)
			z.pos = len(z.s)
			break
		}
		text = append(text, z.s[z.pos:z.pos+i]...)
		z.pos += i
		if len(text) > 0 && z.startsMarkup() {
			break // flush the text first; the markup is the next token
		}
		tok, kind := z.markup()
		switch kind {
		case markupTag:
			return tok, true
		case markupLiteral:
			text = append(text, '<')
			z.pos++
		}
		// markupSkipped: a comment or similar, keep scanning
	}
	if len(text) > 0 {
		return token{kind: tokText, text: decodeEntities(string(text), false)}, true
	}
	return token{}, false
}

// startsMarkup reports whether the '<' at pos begins a tag, a comment or a
// bogus comment rather than literal text.
func (z *tokenizer) startsMarkup() bool {
	if z.pos+1 >= len(z.s) {
		return false
	}
	c := z.s[z.pos+1]
	if isASCIIAlpha(c) || c == '!' || c == '?' {
		return true
	}
	return c == '/' && z.pos+2 < len(z.s)
}

type markupKind uint8

const (
	markupLiteral markupKind = iota // the '<' is text
	markupSkipped                   // comment, doctype, CDATA, PI, dropped tag
	markupTag
)

// markup reads what starts with the '<' at pos.
func (z *tokenizer) markup() (token, markupKind) {
	if !z.startsMarkup() {
		return token{}, markupLiteral
	}
	c := z.s[z.pos+1]
	switch {
	case isASCIIAlpha(c):
		z.pos++
		return z.tag(tokStart)
	case c == '/':
		c2 := z.s[z.pos+2]
		switch {
		case isASCIIAlpha(c2):
			z.pos += 2
			return z.tag(tokEnd)
		case c2 == '>':
			z.pos += 3 // "</>" is nothing
			return token{}, markupSkipped
		}
		z.pos += 2
		z.skipPast(">")
		return token{}, markupSkipped
	case c == '!':
		if hasPrefix(z.s[z.pos:], "<!--") {
			z.comment()
			return token{}, markupSkipped
		}
		z.pos += 2
		z.skipPast(">") // doctype, CDATA in HTML content, other bogus comments
		return token{}, markupSkipped
	default: // '?'
		z.pos += 2
		z.skipPast(">")
		return token{}, markupSkipped
	}
}

// comment skips a "<!--" comment; "<!-->" and "<!--->" end at once, "--!>"
// ends one too, and an unterminated one runs to the end of input.
func (z *tokenizer) comment() {
	rest := z.s[z.pos+4:]
	switch {
	case hasPrefix(rest, ">"):
		z.pos += 5
		return
	case hasPrefix(rest, "->"):
		z.pos += 6
		return
	}
	end, n := len(rest), 0
	if i := indexStr(rest, "-->"); i >= 0 {
		end, n = i, 3
	}
	if i := indexStr(rest, "--!>"); i >= 0 && i < end {
		end, n = i, 4
	}
	z.pos += 4 + end + n
	if z.pos > len(z.s) {
		z.pos = len(z.s)
	}
}

// skipPast moves pos after the next occurrence of s, or to the end.
func (z *tokenizer) skipPast(s string) {
	if i := indexStr(z.s[z.pos:], s); i >= 0 {
		z.pos += i + len(s)
		return
	}
	z.pos = len(z.s)
}

// tag reads a tag whose name starts at pos. A tag the input ends inside is
// dropped.
func (z *tokenizer) tag(kind tokenKind) (token, markupKind) {
	start := z.pos
	for z.pos < len(z.s) && !isTagSpace(z.s[z.pos]) && z.s[z.pos] != '/' && z.s[z.pos] != '>' {
		z.pos++
	}
	tok := token{kind: kind, name: lowerName(z.s[start:z.pos])}
	seen := map[string]bool{}
	for {
		for z.pos < len(z.s) && isTagSpace(z.s[z.pos]) {
			z.pos++
		}
		if z.pos >= len(z.s) {
			return token{}, markupSkipped // cut off by the end: dropped
		}
		switch z.s[z.pos] {
		case '>':
			z.pos++
			if kind == tokStart && inWords(rawTextElements, tok.name) {
				z.raw = tok.name
			}
			if kind == tokEnd {
				tok.attrs, tok.selfClosing = nil, false
			}
			return tok, markupTag
		case '/':
			z.pos++
			if z.pos < len(z.s) && z.s[z.pos] == '>' {
				tok.selfClosing = true
			}
			continue
		}
		name, value, ok := z.attr()
		if !ok {
			z.pos = len(z.s)
			return token{}, markupSkipped
		}
		if !seen[name] {
			seen[name] = true
			tok.attrs = append(tok.attrs, Attr{Name: name, Value: value})
		}
	}
}

// attr reads one attribute at pos; ok is false when the input ends inside it.
func (z *tokenizer) attr() (name, value string, ok bool) {
	start := z.pos
	z.pos++ // the first character may be '=' and is part of the name
	for z.pos < len(z.s) {
		c := z.s[z.pos]
		if isTagSpace(c) || c == '/' || c == '>' || c == '=' {
			break
		}
		z.pos++
	}
	name = lowerName(z.s[start:z.pos])
	i := z.pos
	for i < len(z.s) && isTagSpace(z.s[i]) {
		i++
	}
	if i >= len(z.s) {
		return "", "", false
	}
	if z.s[i] != '=' {
		return name, "", true // no value; pos stays before the spaces
	}
	z.pos = i + 1
	for z.pos < len(z.s) && isTagSpace(z.s[z.pos]) {
		z.pos++
	}
	if z.pos >= len(z.s) {
		return "", "", false
	}
	switch q := z.s[z.pos]; q {
	case '"', '\'':
		end := indexByte(z.s[z.pos+1:], q)
		if end < 0 {
			return "", "", false
		}
		value = z.s[z.pos+1 : z.pos+1+end]
		z.pos += end + 2
	case '>':
		// "a=>" : an empty value; the '>' closes the tag
	default:
		start := z.pos
		for z.pos < len(z.s) && !isTagSpace(z.s[z.pos]) && z.s[z.pos] != '>' {
			z.pos++
		}
		value = z.s[start:z.pos]
	}
	return name, decodeEntities(value, true), true
}

// skipRawText skips the content of the raw text element z.raw up to (not
// including) its end tag; plaintext has none and runs to the end.
func (z *tokenizer) skipRawText() {
	name := z.raw
	z.raw = ""
	if name == "plaintext" {
		z.pos = len(z.s)
		return
	}
	for {
		i := indexStr(z.s[z.pos:], "</")
		if i < 0 {
			z.pos = len(z.s)
			return
		}
		z.pos += i
		end := z.pos + 2 + len(name)
		if end <= len(z.s) && equalFoldASCII(z.s[z.pos+2:end], name) &&
			(end == len(z.s) || isTagSpace(z.s[end]) || z.s[end] == '/' || z.s[end] == '>') {
			return
		}
		z.pos += 2
	}
}

func isTagSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func isASCIIAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

func isASCIIAlnum(c byte) bool { return isASCIIAlpha(c) || isASCIIDigit(c) }

// lowerName lower-cases ASCII letters and replaces NUL with U+FFFD, as the
// tokenizer does for tag and attribute names.
func lowerName(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c == 0:
			b = append(b, "\uFFFD"...)
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// equalFoldASCII reports whether s and t are equal under ASCII case
// folding, as HTML compares tag names and MIME types compare types.
func equalFoldASCII(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
