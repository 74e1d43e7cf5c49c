package sdk

import "errors"

// Insert says where a bound element puts new content.
type Insert string

// Insert modes. InsertAppend is the default.
const (
	InsertAppend  Insert = "append"
	InsertPrepend Insert = "prepend"
	InsertReplace Insert = "replace"
)

// ParseInsert reads an insert option; "" means InsertAppend.
func ParseInsert(s string) (Insert, bool) {
	switch Insert(s) {
	case "", InsertAppend:
		return InsertAppend, true
	case InsertPrepend, InsertReplace:
		return Insert(s), true
	}
	return "", false
}

// Mode says how a bound element renders an event's data.
type Mode string

// Render modes. ModeText is the default: the data is text, whatever it
// holds. ModeSanitizedHTML parses the data as HTML and keeps only what
// Sanitize allows.
const (
	ModeText          Mode = "text"
	ModeSanitizedHTML Mode = "sanitized-html"
)

// ParseMode reads a mode option; "" means ModeText.
func ParseMode(s string) (Mode, bool) {
	switch Mode(s) {
	case "", ModeText:
		return ModeText, true
	case ModeSanitizedHTML:
		return ModeSanitizedHTML, true
	}
	return "", false
}

// BindOptions configure Bind.
type BindOptions struct {
	// Mode is how data is rendered. Defaults to ModeText. Ignored when
	// Template is set.
	Mode Mode
	// Insert is where new content goes. Defaults to InsertAppend.
	Insert Insert
	// Max keeps only the newest Max children. Must be >= 0; 0 (default)
	// keeps all.
	Max int
	// Template, when set, renders each event: its {{field}} placeholders
	// are filled with text from the event's JSON object ({{$raw}},
	// {{$id}} and {{$type}} give the data as received, the event id and
	// type). Its nodes go into the element without a wrapper.
	Template *Template
}

// Errors of bind options.
var (
	ErrBadMode   = errors.New("ssekit/sdk: mode must be 'text' or 'sanitized-html'")
	ErrBadInsert = errors.New("ssekit/sdk: insert must be 'append', 'prepend' or 'replace'")
	ErrBadMax    = errors.New("ssekit/sdk: max must be a whole number >= 0")
)

// ParseBindOptions reads the string forms of the options (as given to the
// JS API or in data-sse-* attributes); max is a number >= 0.
func ParseBindOptions(mode, insert string, max float64) (BindOptions, error) {
	m, ok := ParseMode(mode)
	if !ok {
		return BindOptions{}, ErrBadMode
	}
	in, ok := ParseInsert(insert)
	if !ok {
		return BindOptions{}, ErrBadInsert
	}
	if max < 0 || max != float64(int(max)) || max > 1<<30 {
		return BindOptions{}, ErrBadMax
	}
	return BindOptions{Mode: m, Insert: in, Max: int(max)}, nil
}

// wrapperTag picks the plain element that holds one event's content inside
// a container: li in lists, span in elements that hold phrasing content,
// div elsewhere. Wrappers never carry attributes.
func wrapperTag(containerTag string) string {
	switch tag := lowerASCII(containerTag); {
	case inWords("ul ol menu", tag):
		return "li"
	case inWords("p span a b i em strong code pre label small h1 h2 h3 h4 h5 h6 button q s u sub sup mark abbr cite time", tag):
		return "span"
	case inWords("tbody thead tfoot table tr select colgroup datalist optgroup", tag):
		return "" // no safe plain wrapper: insert the bare nodes
	}
	return "div"
}
