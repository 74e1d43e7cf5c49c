package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]openAPIOp       `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components"`
}

type openAPIOp struct {
	OperationID string                     `json:"operationId"`
	Parameters  []map[string]string        `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
	RequestBody json.RawMessage            `json:"requestBody"`
}

func fetchOpenAPI(t *testing.T, th *testHub) (openAPIDoc, string) {
	t.Helper()
	resp, body := th.do(t, http.MethodGet, "/openapi.json", "", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc openAPIDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	return doc, body
}

// TestOpenAPI_matchesRoutes: the document lists exactly the routes the mux
// serves, every documented operation answers one of its documented
// statuses, and every other method on a documented path answers 405.
func TestOpenAPI_matchesRoutes(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithWordsInterval(1))
	doc, _ := fetchOpenAPI(t, th)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}

	var documented, registered []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, rt := range th.routes() {
		for _, m := range rt.methods() {
			registered = append(registered, m+" "+rt.path)
		}
	}
	sort.Strings(documented)
	sort.Strings(registered)
	if !slices.Equal(documented, registered) {
		t.Fatalf("documented:\n%s\nregistered:\n%s", strings.Join(documented, "\n"), strings.Join(registered, "\n"))
	}

	sample := strings.NewReplacer("{clientId}", "oa-client", "{topic}", "oa-topic")
	for _, op := range documented {
		method, path, _ := strings.Cut(op, " ")
		spec := doc.Paths[path][strings.ToLower(method)]
		t.Run(op, func(t *testing.T) {
			url := sample.Replace(path)
			if path == "/orderpay" || path == "/payback" {
				url += "?payid=7"
			}
			var status int
			switch {
			case method == http.MethodGet && spec.Responses["200"] != nil && strings.Contains(string(spec.Responses["200"]), "text/event-stream"):
				s, resp := th.tryOpen(t, url)
				status = resp.StatusCode
				if s != nil {
					s.close()
				}
			case method == http.MethodPost:
				resp, _ := th.do(t, method, url, ctJSON, `{"data":"openapi"}`)
				status = resp.StatusCode
			default:
				resp, _ := th.do(t, method, url, "", "")
				status = resp.StatusCode
			}
			if spec.Responses[strconv.Itoa(status)] == nil {
				t.Fatalf("answered %d, which is not documented", status)
			}
			for _, other := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
				if doc.Paths[path][strings.ToLower(other)].OperationID != "" {
					continue
				}
				resp, body := th.do(t, other, url, "", "")
				wantError(t, resp, body, http.StatusMethodNotAllowed)
			}
		})
	}
}

// TestOpenAPI_refsResolve: every $ref points into components, and every
// path parameter is declared.
func TestOpenAPI_refsResolve(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	doc, body := fetchOpenAPI(t, th)
	for _, chunk := range strings.Split(body, `"$ref": "#/components/`)[1:] {
		ref := chunk[:strings.IndexByte(chunk, '"')]
		kind, name, _ := strings.Cut(ref, "/")
		if doc.Components[kind][name] == nil {
			t.Errorf("$ref %s does not resolve", ref)
		}
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			var declared []string
			for _, p := range op.Parameters {
				var param struct{ Name, In string }
				_ = json.Unmarshal(doc.Components["parameters"][strings.TrimPrefix(p["$ref"], "#/components/parameters/")], &param)
				if param.In == "path" {
					declared = append(declared, param.Name)
				}
			}
			for _, seg := range strings.Split(path, "/") {
				if strings.HasPrefix(seg, "{") && !slices.Contains(declared, strings.Trim(seg, "{}")) {
					t.Errorf("%s %s: path parameter %s not declared", method, path, seg)
				}
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
		}
	}
}
