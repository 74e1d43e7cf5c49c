package sdk

// cursorParam is the query parameter that carries the last event id when
// the SDK, not the browser, opens a connection (EventSource cannot set the
// Last-Event-ID header).
const cursorParam = "lastEventId"

// withLastEventID returns url with its lastEventId query parameter set to
// id, replacing any already there and keeping the fragment.
func withLastEventID(url, id string) string {
	base, frag, hasFrag := cutByte(url, '#')
	path, query, _ := cutByte(base, '?')
	var b []byte
	b = append(b, path...)
	b = append(b, '?')
	for query != "" {
		var part string
		part, query, _ = cutByte(query, '&')
		if name, _, _ := cutByte(part, '='); part != "" && name != cursorParam {
			b = append(b, part...)
			b = append(b, '&')
		}
	}
	b = append(b, cursorParam...)
	b = append(b, '=')
	b = append(b, queryEscape(id)...)
	if hasFrag {
		b = append(b, '#')
		b = append(b, frag...)
	}
	return string(b)
}

// queryEscape percent-encodes every byte but the unreserved characters of
// RFC 3986, which any server decodes back to the same id.
func queryEscape(s string) string { return percentEncode(s, "-_.~") }

// percentEncode percent-encodes every byte of s but ASCII letters, digits
// and the bytes of keep.
func percentEncode(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; isASCIIAlnum(c) || indexByte(keep, c) >= 0 {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}
