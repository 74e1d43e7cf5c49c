package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOpenAPI_security: the document declares the three schemes and which
// routes take which credentials, with their 401; with auth on, every route
// answers a documented status to a caller without credentials, 401 on the
// guarded ones.
func TestOpenAPI_security(t *testing.T) {
	t.Parallel()
	const key Secret = "openapi-publish-key-openapi-publish-0123"
	th := startHub(t, WithAuthSecrets(secretOld), WithPublishKeys(key), WithWordsInterval(time.Millisecond))
	_, body := fetchOpenAPI(t, th)
	var doc struct {
		Components struct {
			SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			Security  []map[string][]string      `json:"security"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"subscriberToken", "sessionCookie", "publishKey"} {
		if doc.Components.SecuritySchemes[s] == nil {
			t.Errorf("security scheme %s missing", s)
		}
	}
	wantScheme := map[string]string{
		"/api/sse/connect": "sessionCookie", "/api/sse/connect/{clientId}": "sessionCookie", "/orderpay": "sessionCookie",
		"/api/sse/session": "subscriberToken", "/api/sse/send/{clientId}": "publishKey", "/api/sse/sendAll": "publishKey",
		"/api/sse/topics/{topic}": "publishKey", "/api/sse/disconnect/{clientId}": "publishKey", "/api/sse/clients": "publishKey",
		"/payback": "publishKey",
	}
	sample := strings.NewReplacer("{clientId}", "oa-client", "{topic}", "oa-topic")
	for path, ops := range doc.Paths {
		for method, op := range ops {
			t.Run(strings.ToUpper(method)+" "+path, func(t *testing.T) {
				var names []string
				for _, req := range op.Security {
					for name := range req {
						names = append(names, name)
					}
				}
				want, guarded := wantScheme[path]
				switch {
				case guarded && !slices.Contains(names, want):
					t.Errorf("security %v lacks %s", names, want)
				case guarded && op.Responses["401"] == nil:
					t.Errorf("401 not documented")
				case !guarded && len(names) > 0:
					t.Errorf("security %v on an open route", names)
				}

				url := sample.Replace(path)
				if path == "/orderpay" || path == "/payback" {
					url += "?payid=7"
				}
				var status int
				switch {
				case method == "get" && strings.Contains(string(op.Responses["200"]), "text/event-stream"):
					s, resp := th.tryOpen(t, url)
					status = resp.StatusCode
					if s != nil {
						s.close()
					}
				case method == "post":
					resp, _ := th.do(t, http.MethodPost, url, ctJSON, `{"data":"openapi"}`)
					status = resp.StatusCode
				default:
					resp, _ := th.do(t, strings.ToUpper(method), url, "", "")
					status = resp.StatusCode
				}
				if op.Responses[strconv.Itoa(status)] == nil {
					t.Fatalf("answered %d, which is not documented", status)
				}
				if guarded && status != http.StatusUnauthorized {
					t.Fatalf("answered %d without credentials, want 401", status)
				}
			})
		}
	}
}
