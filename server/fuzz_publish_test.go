package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecodePublish sends arbitrary bodies and content types to the
// publish endpoints: every answer is 202 or a 4xx with a JSON reason, never
// a panic or a 5xx.
func FuzzDecodePublish(f *testing.F) {
	seeds := []struct{ path, ct, body string }{
		{"/api/sse/sendAll", "application/json", `{"event":"e","data":"x","id":"1","retry":100,"comment":"c"}`},
		{"/api/sse/sendAll", "application/json", `{"data":`},
		{"/api/sse/sendAll", "application/json", `{"event":"a\rb","data":"x"}`},
		{"/api/sse/topics/t", "application/x-www-form-urlencoded", "message=hi&event=x"},
		{"/api/sse/send/c", "application/x-www-form-urlencoded", "message=%00&id=%0A"},
		{"/api/sse/send/c", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhi\r\n--b--\r\n"},
		{"/api/sse/sendAll", "", ""},
		{"/api/sse/sendAll", "text/plain", "x"},
		{"/api/sse/sendAll", ";;", "x"},
	}
	for _, s := range seeds {
		f.Add(s.path, s.ct, s.body)
	}
	h, err := New(WithMaxBody(4 << 10))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = h.Close() })
	handler := h.Handler()
	f.Fuzz(func(t *testing.T, path, ct, body string) {
		switch path {
		case "/api/sse/sendAll", "/api/sse/topics/t", "/api/sse/send/c":
		default:
			path = "/api/sse/sendAll"
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code == http.StatusAccepted {
			return
		}
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("status %d for %q %q: %s", rec.Code, ct, body, rec.Body)
		}
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
			t.Fatalf("status %d without a JSON reason: %q", rec.Code, rec.Body)
		}
	})
}
