package sdk

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// A tiny JSON reader for what the SDK itself needs from payloads: the
// top-level members of an object and their kinds (schema checks, control
// events). It validates the whole text but builds no values, which keeps
// encoding/json and its reflection out of the wasm.

// Kind is the JSON type of a value.
type Kind string

// JSON kinds.
const (
	KindString  Kind = "string"
	KindNumber  Kind = "number"
	KindBoolean Kind = "boolean"
	KindObject  Kind = "object"
	KindArray   Kind = "array"
	KindNull    Kind = "null"
)

// ErrJSONSyntax is returned for text that is not valid JSON.
var ErrJSONSyntax = errors.New("ssekit/sdk: invalid JSON")

// maxJSONDepth bounds nesting, so a hostile payload cannot exhaust the
// stack.
const maxJSONDepth = 512

// jsonField is one member of an object: its kind and its JSON text.
type jsonField struct {
	kind Kind
	raw  string
}

// objectFields reads data as one JSON object (whitespace around it
// allowed) and returns its members. Like JSON.parse, a repeated name keeps
// its last value. A valid JSON text that is not an object returns
// errNotObject with its kind.
func objectFields(data string) (map[string]jsonField, Kind, error) {
	s := &scanner{s: data}
	s.space()
	if s.i < len(s.s) && s.s[s.i] == '{' {
		fields := make(map[string]jsonField)
		if err := s.object(0, fields); err != nil {
			return nil, "", err
		}
		if s.space(); s.i != len(s.s) {
			return nil, "", s.fail("text after the value")
		}
		return fields, KindObject, nil
	}
	k, err := s.value(0)
	if err != nil {
		return nil, "", err
	}
	if s.space(); s.i != len(s.s) {
		return nil, "", s.fail("text after the value")
	}
	return nil, k, errNotObject
}

var errNotObject = errors.New("ssekit/sdk: JSON value is not an object")

// fieldString returns a string member, unescaped.
func fieldString(fields map[string]jsonField, name string) (string, bool) {
	f, ok := fields[name]
	if !ok || f.kind != KindString {
		return "", false
	}
	return unquote(f.raw), true
}

// fieldInt returns an integer member.
func fieldInt(fields map[string]jsonField, name string) (int64, bool) {
	f, ok := fields[name]
	if !ok || f.kind != KindNumber {
		return 0, false
	}
	return integral(f.raw)
}

// integral reads a JSON number (as the scanner accepted it) that is a
// whole number of at most 18 digits: "-12", "3.0". Exponents are not
// read. By hand: strconv.ParseFloat would add its tables to the wasm.
func integral(raw string) (int64, bool) {
	neg := hasPrefix(raw, "-")
	if neg {
		raw = raw[1:]
	}
	whole, frac, _ := cutByte(raw, '.')
	if len(whole) > 18 || indexByte(raw, 'e') >= 0 || indexByte(raw, 'E') >= 0 || trimBytes(frac, "0") != "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(whole); i++ {
		n = n*10 + int64(whole[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

type scanner struct {
	s string
	i int
}

func (s *scanner) fail(what string) error {
	return join(ErrJSONSyntax, errors.New("ssekit/sdk: at offset "+itoa(s.i)+": "+what))
}

func (s *scanner) space() {
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) (Kind, error) {
	if depth > maxJSONDepth {
		return "", s.fail("nested too deep")
	}
	s.space()
	if s.i >= len(s.s) {
		return "", s.fail("unexpected end")
	}
	switch c := s.s[s.i]; {
	case c == '{':
		return KindObject, s.object(depth, nil)
	case c == '[':
		return KindArray, s.array(depth)
	case c == '"':
		_, err := s.str()
		return KindString, err
	case c == '-' || ('0' <= c && c <= '9'):
		return KindNumber, s.number()
	case hasPrefix(s.s[s.i:], "true"):
		s.i += 4
		return KindBoolean, nil
	case hasPrefix(s.s[s.i:], "false"):
		s.i += 5
		return KindBoolean, nil
	case hasPrefix(s.s[s.i:], "null"):
		s.i += 4
		return KindNull, nil
	}
	return "", s.fail("unexpected character")
}

// object reads {...}; with fields non-nil it records the members.
func (s *scanner) object(depth int, fields map[string]jsonField) error {
	s.i++ // {
	s.space()
	if s.i < len(s.s) && s.s[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.space()
		if s.i >= len(s.s) || s.s[s.i] != '"' {
			return s.fail("want a member name")
		}
		name, err := s.str()
		if err != nil {
			return err
		}
		if s.space(); s.i >= len(s.s) || s.s[s.i] != ':' {
			return s.fail("want ':'")
		}
		s.i++
		s.space()
		start := s.i
		k, err := s.value(depth + 1)
		if err != nil {
			return err
		}
		if fields != nil {
			fields[unquote(name)] = jsonField{kind: k, raw: s.s[start:s.i]}
		}
		if s.space(); s.i >= len(s.s) {
			return s.fail("unexpected end")
		}
		switch s.s[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.fail("want ',' or '}'")
		}
	}
}

func (s *scanner) array(depth int) error {
	s.i++ // [
	s.space()
	if s.i < len(s.s) && s.s[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		if _, err := s.value(depth + 1); err != nil {
			return err
		}
		if s.space(); s.i >= len(s.s) {
			return s.fail("unexpected end")
		}
		switch s.s[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.fail("want ',' or ']'")
		}
	}
}

// str reads a string and returns its raw text, quotes included.
func (s *scanner) str() (string, error) {
	start := s.i
	s.i++ // "
	for s.i < len(s.s) {
		c := s.s[s.i]
		switch {
		case c == '"':
			s.i++
			return s.s[start:s.i], nil
		case c == '\\':
			if s.i+1 >= len(s.s) {
				return "", s.fail("unterminated escape")
			}
			switch s.s[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.s) || !isHex4(s.s[s.i+2:s.i+6]) {
					return "", s.fail("bad \\u escape")
				}
				s.i += 6
			default:
				return "", s.fail("bad escape")
			}
		case c < 0x20:
			return "", s.fail("control character in string")
		default:
			s.i++
		}
	}
	return "", s.fail("unterminated string")
}

func (s *scanner) number() error {
	if s.s[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.s) && s.s[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return s.fail("bad number")
	}
	if s.i < len(s.s) && s.s[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return s.fail("bad fraction")
		}
	}
	if s.i < len(s.s) && (s.s[s.i] == 'e' || s.s[s.i] == 'E') {
		s.i++
		if s.i < len(s.s) && (s.s[s.i] == '+' || s.s[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return s.fail("bad exponent")
		}
	}
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.s) && '0' <= s.s[s.i] && s.s[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

func isHex4(h string) bool {
	for i := 0; i < 4; i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hexVal(h string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := h[i]
		r <<= 4
		switch {
		case c <= '9':
			r |= rune(c - '0')
		case c >= 'a':
			r |= rune(c-'a') + 10
		default:
			r |= rune(c-'A') + 10
		}
	}
	return r
}

// validUTF8 is utf8.ValidString, by rune: the general function's
// word-at-a-time loop weighs three times as much in the wasm.
func validUTF8(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		i += n
	}
	return true
}

// unquote decodes a string the scanner accepted, quotes included. Lone
// surrogates and invalid UTF-8 bytes become U+FFFD, as in encoding/json.
func unquote(raw string) string {
	body := raw[1 : len(raw)-1]
	if indexByte(body, '\\') < 0 && validUTF8(body) {
		return body
	}
	var b []byte
	for i := 0; i < len(body); {
		if body[i] != '\\' {
			r, n := utf8.DecodeRuneInString(body[i:])
			b = utf8.AppendRune(b, r) // RuneError for an invalid byte
			i += n
			continue
		}
		switch e := body[i+1]; e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hexVal(body[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(body) && body[i] == '\\' && body[i+1] == 'u' {
					if pair := utf16.DecodeRune(r, hexVal(body[i+2:i+6])); pair != utf8.RuneError {
						b = utf8.AppendRune(b, pair)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			continue
		default: // " \ /
			b = append(b, e)
		}
		i += 2
	}
	return string(b)
}
