package server

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Sentinel errors of the hub. HTTP handlers map them to statuses in one
// place, writeError.
var (
	ErrBadClientID      = errors.New("ssekit/server: client id must be 1-128 characters of [A-Za-z0-9._:@-]")
	ErrBadTopic         = errors.New("ssekit/server: topic must be 1-128 characters of [A-Za-z0-9._:@-]")
	ErrTooManyTopics    = errors.New("ssekit/server: too many topics for one stream")
	ErrTooManyForClient = errors.New("ssekit/server: too many connections for this client id")
	ErrServerFull       = errors.New("ssekit/server: server is full")
	ErrDraining         = errors.New("ssekit/server: server is shutting down")
	ErrClosed           = errors.New("ssekit/server: hub closed")
	ErrBadBody          = errors.New("ssekit/server: bad request body")
	ErrBodyTooLarge     = errors.New("ssekit/server: request body too large")
	ErrContentType      = errors.New("ssekit/server: content type must be application/x-www-form-urlencoded, multipart/form-data or application/json")
	ErrBadEvent         = errors.New("ssekit/server: bad event")
	ErrBadPayID         = errors.New("ssekit/server: payid must be a positive integer of 1-18 digits without a leading zero")
	ErrNotFound         = errors.New("ssekit/server: not found")
	ErrMethod           = errors.New("ssekit/server: method not allowed")
)

// statusOf maps an error to its HTTP status.
func statusOf(err error) int {
	if status, ok := securityStatus(err); ok {
		return status
	}
	switch {
	case errors.Is(err, ErrBadClientID), errors.Is(err, ErrBadTopic), errors.Is(err, ErrTooManyTopics),
		errors.Is(err, ErrBadBody), errors.Is(err, ErrBadEvent), errors.Is(err, ErrBadPayID):
		return http.StatusBadRequest
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrContentType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrTooManyForClient):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrServerFull), errors.Is(err, ErrDraining), errors.Is(err, ErrClosed),
		errors.Is(err, ErrBrokerDown):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrStoreFull):
		return http.StatusInsufficientStorage
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// writeError answers with the error's status and a JSON reason. Internal
// errors never leak their text.
func writeError(w http.ResponseWriter, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		msg = "internal error"
	}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
