package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// The OpenAPI 3.1 description of the hub, generated from the route table
// (routes.go) and served at /openapi.json.

const namePattern = `^[A-Za-z0-9._:@-]{1,128}$`

var statusText = map[int]string{
	400: "Bad client id, topic, event or body; credentials in the URL.",
	401: "Missing, malformed, expired, not yet valid or wrongly signed credentials.",
	403: "Valid credentials for another client id or topic, or an Origin that is not allowed.",
	404: "Sessions are off: no auth secret is configured.",
	413: "Body larger than -max-body.",
	415: "Content type neither form nor JSON.",
	429: "Too many streams for this client id or address.",
	503: "Server full or draining.",
}

func openAPIDocument(routes []route) ([]byte, error) {
	paths := make(map[string]map[string]any)
	for _, rt := range routes {
		item := paths[rt.path]
		if item == nil {
			item = make(map[string]any)
			paths[rt.path] = item
		}
		for _, m := range rt.methods() {
			item[strings.ToLower(m)] = operation(rt, m)
		}
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "ssekit hub",
			"version":     "1",
			"description": "Server-Sent Events push hub. Errors are JSON {\"error\": \"...\"}; unknown routes answer 404 and wrong methods 405, also as JSON.",
		},
		"paths": paths,
		"components": map[string]any{
			"parameters":      parameters,
			"schemas":         schemas,
			"securitySchemes": securitySchemes,
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func operation(rt route, method string) map[string]any {
	d := rt.doc
	op := map[string]any{"operationId": rt.name, "summary": d.summary}
	if sec := d.auth.requirement(); sec != nil {
		op["security"] = sec
	}
	if method == http.MethodHead {
		op["operationId"] = rt.name + "Head"
		op["summary"] = "The status and headers a GET would get, without opening a stream."
	}
	if len(d.params) > 0 {
		refs := make([]any, len(d.params))
		for i, p := range d.params {
			refs[i] = ref("parameters", p)
		}
		op["parameters"] = refs
	}
	if d.body {
		form := map[string]any{"schema": ref("schemas", "PublishForm")}
		op["requestBody"] = map[string]any{
			"description": "JSON, or a form; without a body, the message query parameter.",
			"content": map[string]any{
				"application/json":                  map[string]any{"schema": ref("schemas", "PublishJSON")},
				"application/x-www-form-urlencoded": form,
				"multipart/form-data":               form,
			},
		}
	}
	okBody := map[string]any{}
	switch {
	case method == http.MethodHead:
	case d.okRef != "":
		okBody["schema"] = ref("schemas", d.okRef)
	default:
		okBody["schema"] = map[string]any{"type": "string"}
	}
	ok := map[string]any{"description": "OK"}
	if method != http.MethodHead {
		ok["content"] = map[string]any{d.okType: okBody}
	}
	responses := map[string]any{strconv.Itoa(d.ok): ok}
	for _, code := range d.errs {
		resp := map[string]any{"description": statusText[code]}
		if method != http.MethodHead {
			resp["content"] = map[string]any{mtJSON: map[string]any{"schema": ref("schemas", "Error")}}
		}
		responses[strconv.Itoa(code)] = resp
	}
	op["responses"] = responses
	return op
}

func ref(kind, name string) map[string]any {
	return map[string]any{"$ref": "#/components/" + kind + "/" + name}
}

var parameters = map[string]any{
	"clientId": map[string]any{
		"name": "clientId", "in": "path", "required": true,
		"schema": map[string]any{"type": "string", "pattern": namePattern},
	},
	"topic": map[string]any{
		"name": "topic", "in": "path", "required": true,
		"schema": map[string]any{"type": "string", "pattern": namePattern},
	},
	"topics": map[string]any{
		"name": "topics", "in": "query", "description": "Comma-separated topics, at most -max-topics.",
		"schema": map[string]any{"type": "string"},
	},
	"lastEventIdHeader": map[string]any{
		"name": "Last-Event-ID", "in": "header", "description": "Resume after this event id.",
		"schema": map[string]any{"type": "string"},
	},
	"lastEventId": map[string]any{
		"name": "lastEventId", "in": "query", "description": "Resume after this event id (when no Last-Event-ID header is sent).",
		"schema": map[string]any{"type": "string"},
	},
	"message": map[string]any{
		"name": "message", "in": "query", "description": "The event data, seed style (also a form field).",
		"schema": map[string]any{"type": "string"},
	},
	"idempotencyKey": map[string]any{
		"name": "Idempotency-Key", "in": "header", "description": "A retried publish with the same key returns the first one's id and sends nothing.",
		"schema": map[string]any{"type": "string", "maxLength": maxIdempotencyKey},
	},
	"payid": map[string]any{
		"name": "payid", "in": "query", "required": true,
		"schema": map[string]any{"type": "string", "pattern": `^[1-9][0-9]{0,17}$`},
	},
}

var schemas = map[string]any{
	"Error": object([]string{"error"}, map[string]any{"error": str()}),
	"Published": object([]string{"id", "delivered"}, map[string]any{
		"id":        str(),
		"delivered": map[string]any{"type": "integer", "minimum": 0, "description": "Streams the event was queued to."},
	}),
	"PublishJSON": map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"data"},
		"properties": map[string]any{
			"event":   map[string]any{"type": "string", "maxLength": maxEventType},
			"data":    map[string]any{"description": "A string is sent as is; any other JSON value as compact JSON. Not null."},
			"id":      map[string]any{"type": "string", "maxLength": maxEventID},
			"retry":   map[string]any{"type": "integer", "minimum": 0, "maximum": 4294967295},
			"comment": map[string]any{"type": "string", "maxLength": maxComment},
		},
	},
	"PublishForm": object([]string{"message"}, map[string]any{
		"message": str(), "event": str(), "id": str(), "retry": str(), "comment": str(),
	}),
	"ClientInfo": object([]string{"clientId", "topics", "connectedSince", "queueDepth"}, map[string]any{
		"clientId":       str(),
		"topics":         map[string]any{"type": "array", "items": str()},
		"connectedSince": map[string]any{"type": "string", "format": "date-time"},
		"queueDepth":     map[string]any{"type": "integer"},
	}),
	"ClientList": object([]string{"count", "clients"}, map[string]any{
		"count":   map[string]any{"type": "integer"},
		"clients": map[string]any{"type": "array", "items": ref("schemas", "ClientInfo")},
	}),
	"Disconnected": object([]string{"clientId", "disconnected"}, map[string]any{
		"clientId": str(), "disconnected": map[string]any{"type": "integer"},
	}),
	"PayBack": object([]string{"message", "finish"}, map[string]any{
		"message": ref("schemas", "Published"), "finish": ref("schemas", "Published"),
	}),
	"Status": object([]string{"status"}, map[string]any{"status": str(), "error": str()}),
	"Session": object([]string{"clientId", "topics", "expires"}, map[string]any{
		"clientId": str(),
		"topics":   map[string]any{"type": "array", "items": str(), "description": "Topics the token allows; [\"*\"]: any."},
		"expires":  map[string]any{"type": "string", "format": "date-time"},
	}),
}

func object(required []string, props map[string]any) map[string]any {
	return map[string]any{"type": "object", "required": required, "properties": props}
}

func str() map[string]any { return map[string]any{"type": "string"} }

func (h *Hub) handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(h.openapi)
}
