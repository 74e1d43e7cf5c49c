package server

import (
	"net/http"
	"strings"
)

// route is one endpoint of the hub. The mux is built from the route table
// and /openapi.json is generated from it, so the two cannot drift apart.
type route struct {
	method string // GET patterns also answer HEAD (net/http does this)
	path   string // the ServeMux pattern path, which is also the OpenAPI path
	name   string // the metrics label and the OpenAPI operationId
	stream bool   // answers text/event-stream; HEAD answers what GET would
	handle http.HandlerFunc
	doc    opDoc
}

// opDoc describes a route for the OpenAPI document.
type opDoc struct {
	summary string
	params  []string // names in components.parameters
	body    bool     // takes a publish body (form or JSON)
	ok      int      // the success status
	okType  string   // media type of the success body
	okRef   string   // schema of the success body in components.schemas, if any
	errs    []int    // error statuses, all with the Error schema
	auth    authKind // which credentials the route takes when configured
}

// pattern is the ServeMux pattern of r.
func (r route) pattern() string { return r.method + " " + r.path }

// methods are the methods r answers that the OpenAPI document lists.
func (r route) methods() []string {
	if r.stream {
		return []string{r.method, http.MethodHead}
	}
	return []string{r.method}
}

// Media types of success bodies.
const (
	mtJSON   = "application/json"
	mtStream = "text/event-stream"
	mtText   = "text/plain"
)

// routes is the route table of the hub.
func (h *Hub) routes() []route {
	streamErrs := []int{400, 401, 403, 429, 503}
	publishErrs := []int{400, 401, 403, 413, 415, 503, 507}
	adminErrs := []int{401, 403}
	demoErrs := []int{400, 403, 429, 503}
	connect := opDoc{
		summary: "Open an event stream. Starts with retry: and a connected event; resumes after Last-Event-ID. With auth on, the client id is the token's sub.",
		params:  []string{"topics", "lastEventIdHeader", "lastEventId"},
		ok:      200, okType: mtStream, errs: streamErrs, auth: authSubscriber,
	}
	connectID := connect
	connectID.summary = "Open an event stream for one client id (several streams may share an id)."
	connectID.params = append([]string{"clientId"}, connect.params...)
	return []route{
		{method: "GET", path: "/api/sse/connect", name: "connect", stream: true, handle: h.guardStream(streamGenerated, h.handleConnect), doc: connect},
		{method: "GET", path: "/api/sse/connect/{clientId}", name: "connectClient", stream: true, handle: h.guardStream(streamClient, h.handleConnect), doc: connectID},
		{method: "POST", path: "/api/sse/session", name: "session", handle: h.handleSession, doc: opDoc{
			summary: "No body. Exchanges Authorization: Bearer <subscriber token> for the HttpOnly session cookie (ssekit_session, scoped to /api/sse/connect and /orderpay, Max-Age bounded by exp), so a browser EventSource authenticates. 404 when no auth secret is configured.",
			ok:      200, okType: mtJSON, okRef: "Session", errs: []int{400, 401, 403, 404}, auth: authSubscriberBearer,
		}},
		{method: "POST", path: "/api/sse/send/{clientId}", name: "send", handle: h.guardPublish(h.handleSend), doc: opDoc{
			summary: "Send an event to every stream of one client id.",
			params:  []string{"clientId", "message", "idempotencyKey"}, body: true,
			ok: 202, okType: mtJSON, okRef: "Published", errs: publishErrs, auth: authPublisher,
		}},
		{method: "POST", path: "/api/sse/sendAll", name: "sendAll", handle: h.guardPublish(h.handleSendAll), doc: opDoc{
			summary: "Send an event to every stream.",
			params:  []string{"message", "idempotencyKey"}, body: true,
			ok: 202, okType: mtJSON, okRef: "Published", errs: publishErrs, auth: authPublisher,
		}},
		{method: "POST", path: "/api/sse/topics/{topic}", name: "topics", handle: h.guardPublish(h.handleTopic), doc: opDoc{
			summary: "Send an event to the streams subscribed to a topic.",
			params:  []string{"topic", "message", "idempotencyKey"}, body: true,
			ok: 202, okType: mtJSON, okRef: "Published", errs: publishErrs, auth: authPublisher,
		}},
		{method: "DELETE", path: "/api/sse/disconnect/{clientId}", name: "disconnect", handle: h.guardPublish(h.handleDisconnect), doc: opDoc{
			summary: "End every stream of one client id, each with an end event first.",
			params:  []string{"clientId"},
			ok:      200, okType: mtJSON, okRef: "Disconnected", errs: append([]int{400}, adminErrs...), auth: authPublisher,
		}},
		{method: "GET", path: "/api/sse/clients", name: "clients", handle: h.guardPublish(h.handleClients), doc: opDoc{
			summary: "List the open streams: client id, topics, connected since, queue depth.",
			ok:      200, okType: mtJSON, okRef: "ClientList", errs: adminErrs, auth: authPublisher,
		}},
		{method: "GET", path: "/orderpay", name: "orderpay", stream: true, handle: h.guardStream(streamPayment, h.handleOrderPay), doc: opDoc{
			summary: "Payment demo: the stream of one payment, ended by a finish event. With auth on, the token's sub must be pay-<payid>.",
			params:  []string{"payid", "lastEventIdHeader", "lastEventId"},
			ok:      200, okType: mtStream, errs: streamErrs, auth: authSubscriber,
		}},
		{method: "GET", path: "/payback", name: "payback", handle: h.guardPublish(h.handlePayBack), doc: opDoc{
			summary: "Payment demo: the provider's callback; pushes 用户支付成功, then a finish event. A publish: it takes the publish key when one is configured.",
			params:  []string{"payid"},
			ok:      202, okType: mtJSON, okRef: "PayBack", errs: []int{400, 401, 403, 503, 507}, auth: authPublisher,
		}},
		{method: "GET", path: "/sse/words", name: "words", stream: true, handle: h.guardStream(streamDemo, h.handleWords), doc: opDoc{
			summary: "A finite stream: one word per interval as message events, then end, then the server closes.",
			params:  []string{"lastEventIdHeader", "lastEventId"},
			ok:      200, okType: mtStream, errs: demoErrs,
		}},
		{method: "GET", path: "/sse/stats", name: "stats", stream: true, handle: h.guardStream(streamDemo, h.handleStats), doc: opDoc{
			summary: "A long-lived stream of server figures (stats events) every second.",
			ok:      200, okType: mtStream, errs: demoErrs,
		}},
		{method: "GET", path: "/healthz", name: "healthz", handle: h.handleHealth, doc: opDoc{
			summary: "Liveness: 200 while the process serves; status degraded while the broker (Redis) is down.",
			ok:      200, okType: mtJSON, okRef: "Status",
		}},
		{method: "GET", path: "/readyz", name: "readyz", handle: h.handleReady, doc: opDoc{
			summary: "Readiness: 503 while draining or while the broker (Redis) is down.",
			ok:      200, okType: mtJSON, okRef: "Status", errs: []int{503},
		}},
		{method: "GET", path: "/metrics", name: "metrics", handle: h.met.handler().ServeHTTP, doc: opDoc{
			summary: "Prometheus metrics: ssekit_* and the Go runtime collector.",
			ok:      200, okType: mtText,
		}},
		{method: "GET", path: "/openapi.json", name: "openapi", handle: h.handleOpenAPI, doc: opDoc{
			summary: "This document.",
			ok:      200, okType: mtJSON,
		}},
	}
}

// apiPaths tells the hub's paths from static files: every path under the
// first segment of a nested route ("/api/", "/sse/") and every top-level
// route path ("/healthz"). Those answer JSON 404/405, never a static file.
type apiPaths struct {
	prefixes []string
	exact    map[string]bool
}

func newAPIPaths(routes []route) apiPaths {
	p := apiPaths{exact: make(map[string]bool)}
	seen := make(map[string]bool)
	for _, rt := range routes {
		if i := strings.IndexByte(rt.path[1:], '/'); i >= 0 {
			prefix := rt.path[:i+2]
			if !seen[prefix] {
				seen[prefix] = true
				p.prefixes = append(p.prefixes, prefix)
			}
			p.exact[prefix[:len(prefix)-1]] = true
			continue
		}
		p.exact[rt.path] = true
	}
	return p
}

func (p apiPaths) match(path string) bool {
	if p.exact[path] {
		return true
	}
	for _, prefix := range p.prefixes {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}
