package sdk

// The browser layer crosses into JavaScript once per batch of events, not
// several times per event: www/ssekit.js queues what the EventSource
// dispatches and hands it over as one JSON text per task (readBatch), and
// bound elements collect the nodes of their events as one JSON text that
// ssekit.js builds with createElement, createTextNode and setAttribute
// (renderBuf). Both are plain Go, so they are tested natively.

// Kinds of batch entries, as www/ssekit.js queues them.
const (
	batchEvent = 0 // followed by type, lastEventId, data
	batchOpen  = 1
	batchError = 2
)

// readBatch calls fn for each entry of a batch in order, until fn returns
// false. A batch is a JSON array: 0, type, id, data for an event, 1 for
// open, 2 for an error; pos is the index of an event's data in that array.
// Strings without escapes are substrings of batch.
func readBatch(batch string, fn func(kind int, ev Event, pos int) bool) error {
	s := &scanner{s: batch}
	s.space()
	if s.i >= len(s.s) || s.s[s.i] != '[' {
		return s.fail("want a batch array")
	}
	s.i++
	pos := 0
	for first := true; ; first = false {
		s.space()
		if s.i < len(s.s) && s.s[s.i] == ']' {
			return nil
		}
		if !first {
			if s.i >= len(s.s) || s.s[s.i] != ',' {
				return s.fail("want ',' or ']'")
			}
			s.i++
			s.space()
		}
		if s.i >= len(s.s) {
			return s.fail("unterminated batch")
		}
		kind := int(s.s[s.i] - '0')
		s.i++
		var ev Event
		switch kind {
		case batchOpen, batchError:
		case batchEvent:
			for _, f := range [...]*string{&ev.Type, &ev.ID, &ev.Data} {
				var ok bool
				if *f, ok = s.nextString(); !ok {
					return s.fail("bad event entry")
				}
			}
			pos += 3
		default:
			return s.fail("unknown entry kind")
		}
		if !fn(kind, ev, pos) {
			return nil
		}
		pos++
	}
}

// nextString reads a comma and a string.
func (s *scanner) nextString() (string, bool) {
	s.space()
	if s.i >= len(s.s) || s.s[s.i] != ',' {
		return "", false
	}
	s.i++
	s.space()
	if s.i >= len(s.s) || s.s[s.i] != '"' {
		return "", false
	}
	// JSON.stringify escapes control characters and lone surrogates and
	// the page's text reaches Go as UTF-8, so a string without a backslash
	// is its own value.
	if n := indexByte(s.s[s.i+1:], '"'); n >= 0 && indexByte(s.s[s.i+1:s.i+1+n], '\\') < 0 {
		v := s.s[s.i+1 : s.i+1+n]
		s.i += n + 2
		return v, true
	}
	raw, err := s.str()
	if err != nil {
		return "", false
	}
	return unquote(raw), true
}

// renderBuf collects the nodes of a bound element's events, as JSON for
// ssekit.js: one array of nodes per event, a node being a string (a text
// node), a number (a text node of that string of the batch being
// delivered, see readBatch) or [tag, [name, value, ...], child, ...].
type renderBuf struct {
	buf []byte
}

// add adds an event: its nodes, or the text at index ref of the batch
// when ref >= 0, inside a wrapper element tag (bare when tag is "").
func (r *renderBuf) add(tag string, nodes []*Node, ref int) {
	if len(r.buf) == 0 {
		r.buf = append(r.buf, '[')
	} else {
		r.buf = append(r.buf, ',')
	}
	r.buf = append(r.buf, '[')
	comma := tag != "" // the wrapper's children follow its attributes
	if comma {
		r.buf = append(r.buf, `["`...)
		r.buf = append(r.buf, tag...)
		r.buf = append(r.buf, `",[]`...)
	}
	if ref >= 0 {
		if comma {
			r.buf = append(r.buf, ',')
		}
		r.buf = appendInt(r.buf, int64(ref))
	}
	for _, n := range nodes {
		if comma {
			r.buf = append(r.buf, ',')
		}
		comma = true
		r.buf = appendNode(r.buf, n)
	}
	if tag != "" {
		r.buf = append(r.buf, ']')
	}
	r.buf = append(r.buf, ']')
}

// take returns the JSON array of the events added since the last take
// ("" when there are none) and empties the buffer.
func (r *renderBuf) take() string {
	if len(r.buf) == 0 {
		return ""
	}
	s := string(append(r.buf, ']'))
	r.buf = r.buf[:0]
	return s
}

// appendNode appends n as a JSON node.
func appendNode(buf []byte, n *Node) []byte {
	if n.Tag == "" {
		return appendJSONString(buf, n.Text)
	}
	buf = append(buf, '[')
	buf = appendJSONString(buf, n.Tag)
	buf = append(buf, ",["...)
	for i, a := range n.Attrs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, a.Name)
		buf = append(buf, ',')
		buf = appendJSONString(buf, a.Value)
	}
	buf = append(buf, ']')
	for _, c := range n.Children {
		buf = append(buf, ',')
		buf = appendNode(buf, c)
	}
	return append(buf, ']')
}

// appendJSONString appends s as a JSON string. Bytes that are not valid
// UTF-8 pass through: the conversion to a JS string turns them into U+FFFD,
// as it does for any Go string.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		} else {
			buf = append(buf, c)
		}
	}
	return append(buf, '"')
}
