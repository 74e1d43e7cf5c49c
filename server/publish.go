package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ssekit/ssekit/sdk/wire"
)

// Field limits of a published event.
const (
	maxEventType = 128
	maxEventID   = 256
	maxComment   = 1024
)

// jsonFields are the fields of a JSON publish body: {"event", "data", "id",
// "retry", "comment"}. data is a JSON value: a string is sent as is,
// anything else as compact JSON.
var jsonFields = map[string]bool{"event": true, "data": true, "id": true, "retry": true, "comment": true}

// decodePublish reads an event from a publish request: a form or query
// `message` (as the seed services accept), or a strict JSON body.
func (h *Hub) decodePublish(w http.ResponseWriter, r *http.Request) (wire.Event, error) {
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.maxBody)
	ct := r.Header.Get("Content-Type")
	mt := ""
	if ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return wire.Event{}, ErrContentType
		}
	}
	switch mt {
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return wire.Event{}, bodyErr(err)
		}
		return decodeJSONEvent(body)
	case "application/x-www-form-urlencoded", "multipart/form-data", "":
		if mt == "" {
			// No content type: only a query string, never an unlabelled body.
			n, err := r.Body.Read(make([]byte, 1))
			if n > 0 {
				return wire.Event{}, ErrContentType
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return wire.Event{}, bodyErr(err)
			}
		}
		var err error
		if mt == "multipart/form-data" {
			err = r.ParseMultipartForm(h.cfg.maxBody)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			return wire.Event{}, bodyErr(err)
		}
		return formEvent(r)
	}
	return wire.Event{}, ErrContentType
}

func bodyErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: limit is %d bytes", ErrBodyTooLarge, mbe.Limit)
	}
	return fmt.Errorf("%w: %v", ErrBadBody, err)
}

func formEvent(r *http.Request) (wire.Event, error) {
	if _, ok := r.Form["message"]; !ok {
		return wire.Event{}, fmt.Errorf("%w: message is required", ErrBadBody)
	}
	ev := wire.Event{
		Data:    r.Form.Get("message"),
		Type:    r.Form.Get("event"),
		ID:      r.Form.Get("id"),
		Comment: r.Form.Get("comment"),
	}
	if raw := r.Form.Get("retry"); raw != "" {
		d, err := parseRetry(raw)
		if err != nil {
			return wire.Event{}, err
		}
		ev.Retry = d
	}
	return ev, validateEvent(ev)
}

// decodeJSONEvent decodes a publish body strictly: one JSON object of
// known, case-exact, non-repeated fields, nothing after it, valid UTF-8.
func decodeJSONEvent(body []byte) (wire.Event, error) {
	bad := func(format string, args ...any) (wire.Event, error) {
		return wire.Event{}, fmt.Errorf("%w: "+format, append([]any{ErrBadBody}, args...)...)
	}
	if !utf8.Valid(body) {
		return bad("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return bad("body must be a JSON object")
	}
	fields := make(map[string]json.RawMessage, len(jsonFields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad("%v", err)
		}
		name, _ := tok.(string)
		if !jsonFields[name] {
			return bad("unknown field %q", name)
		}
		if _, dup := fields[name]; dup {
			return bad("field %q appears twice", name)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return bad("%v", err)
		}
		fields[name] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return bad("%v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("trailing data after the JSON object")
	}

	var ev wire.Event
	for _, f := range []struct {
		name string
		dst  *string
	}{{"event", &ev.Type}, {"id", &ev.ID}, {"comment", &ev.Comment}} {
		name, dst := f.name, f.dst
		raw, ok := fields[name]
		if !ok {
			continue
		}
		if raw[0] != '"' || json.Unmarshal(raw, dst) != nil {
			return bad("%s must be a string", name)
		}
	}
	data, ok := fields["data"]
	switch {
	case !ok:
		return bad("data is required")
	case string(data) == "null":
		return bad("data must not be null")
	case data[0] == '"':
		if err := json.Unmarshal(data, &ev.Data); err != nil {
			return bad("%v", err)
		}
	default:
		var buf bytes.Buffer
		if err := json.Compact(&buf, data); err != nil {
			return bad("%v", err)
		}
		ev.Data = buf.String()
	}
	if raw, ok := fields["retry"]; ok {
		d, err := parseRetry(string(raw))
		if err != nil {
			return wire.Event{}, err
		}
		ev.Retry = d
	}
	return ev, validateEvent(ev)
}

// parseRetry accepts a non-negative integer count of milliseconds.
func parseRetry(raw string) (time.Duration, error) {
	ms, err := strconv.ParseUint(raw, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: retry must be a non-negative integer of milliseconds", ErrBadEvent)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// validateEvent enforces the wire rules before anything is accepted:
// nothing that fails here reaches history or any stream.
func validateEvent(ev wire.Event) error {
	switch {
	case len(ev.Type) > maxEventType:
		return fmt.Errorf("%w: event is longer than %d bytes", ErrBadEvent, maxEventType)
	case len(ev.ID) > maxEventID:
		return fmt.Errorf("%w: id is longer than %d bytes", ErrBadEvent, maxEventID)
	case len(ev.Comment) > maxComment:
		return fmt.Errorf("%w: comment is longer than %d bytes", ErrBadEvent, maxComment)
	case !wire.ValidField(ev.Type):
		return fmt.Errorf("%w: event must not contain CR, LF or NUL", ErrBadEvent)
	case !wire.ValidField(ev.ID):
		return fmt.Errorf("%w: id must not contain CR, LF or NUL", ErrBadEvent)
	case !utf8.ValidString(ev.Data) || !utf8.ValidString(ev.Type) || !utf8.ValidString(ev.ID) || !utf8.ValidString(ev.Comment):
		return fmt.Errorf("%w: fields must be valid UTF-8", ErrBadEvent)
	}
	return nil
}
