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

// jsonEvent is the JSON publish body. Data is a JSON value: a string is
// sent as is, anything else as compact JSON.
type jsonEvent struct {
	Event   string          `json:"event"`
	Data    json.RawMessage `json:"data"`
	ID      string          `json:"id"`
	Retry   json.Number     `json:"retry"`
	Comment string          `json:"comment"`
}

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

func decodeJSONEvent(body []byte) (wire.Event, error) {
	if !utf8.Valid(body) {
		return wire.Event{}, fmt.Errorf("%w: body is not valid UTF-8", ErrBadBody)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return wire.Event{}, fmt.Errorf("%w: body must be a JSON object", ErrBadBody)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var je jsonEvent
	if err := dec.Decode(&je); err != nil {
		return wire.Event{}, fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return wire.Event{}, fmt.Errorf("%w: trailing data after the JSON object", ErrBadBody)
	}
	if je.Data == nil || string(je.Data) == "null" {
		return wire.Event{}, fmt.Errorf("%w: data is required", ErrBadBody)
	}
	ev := wire.Event{Type: je.Event, ID: je.ID, Comment: je.Comment}
	if je.Data[0] == '"' {
		if err := json.Unmarshal(je.Data, &ev.Data); err != nil {
			return wire.Event{}, fmt.Errorf("%w: %v", ErrBadBody, err)
		}
	} else {
		var buf bytes.Buffer
		if err := json.Compact(&buf, je.Data); err != nil {
			return wire.Event{}, fmt.Errorf("%w: %v", ErrBadBody, err)
		}
		ev.Data = buf.String()
	}
	if je.Retry != "" {
		d, err := parseRetry(je.Retry.String())
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
