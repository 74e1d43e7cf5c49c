package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestDispatch_typedHandlersGetDecodedValues(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := openPageAt(t, hub.URL)
	recordJSWith(t, ctx, "/api/sse/connect/typed", `{}`, `
		const got = window.__got = {auto: [], text: [], json: [], schema: [], any: [], after: []};
		c.on('order', e => got.auto.push(e));
		c.on('order', e => got.text.push(e), {decode: 'text'});
		c.on('num', e => got.auto.push(e));
		c.on('num', e => got.json.push(e), {decode: 'json'});
		c.on('bad', e => got.json.push(e), {decode: 'json'});
		c.on('order', e => got.schema.push(e.data), {schema: {sku: 'string', qty: 'integer', note: 'string?'}});
		c.on('*', e => got.any.push(e.type));
		c.on('boom', () => { throw new Error('handler bug'); });
		c.on('boom', e => got.after.push(e.raw));`)
	WaitJS(t, ctx, `window.__rec.states.at(-1).state === 'open'`)

	publish(t, hub, "typed", "order", map[string]any{"sku": "A1", "qty": 2})
	publish(t, hub, "typed", "order", map[string]any{"sku": "B2", "qty": "2"}) // fails the schema
	publish(t, hub, "typed", "num", 42)
	publish(t, hub, "typed", "bad", "not json {")
	publish(t, hub, "typed", "boom", "x")
	publish(t, hub, "typed", "", "plain")
	WaitJS(t, ctx, `window.__got.any.includes('message')`)

	type ev struct {
		Type string          `json:"type"`
		ID   string          `json:"id"`
		Data json.RawMessage `json:"data"`
		Raw  string          `json:"raw"`
	}
	got := EvalJS[map[string][]ev](t, ctx, `(({auto, text, json}) => ({auto, text, json}))(window.__got)`)
	// 'auto' decodes objects and arrays; a bare number stays a string.
	if a := got["auto"]; len(a) != 3 || string(a[0].Data) != `{"qty":2,"sku":"A1"}` || string(a[2].Data) != `"42"` ||
		a[0].Raw != `{"qty":2,"sku":"A1"}` || a[0].ID == "" || a[0].Type != "order" {
		t.Errorf("auto: %+v", a)
	}
	// 'text' never decodes.
	if tx := got["text"]; len(tx) != 2 || string(tx[0].Data) != `"{\"qty\":2,\"sku\":\"A1\"}"` {
		t.Errorf("text: %+v", tx)
	}
	// 'json' always decodes: 42 is a number; the bad payload never reaches it.
	if js := got["json"]; len(js) != 1 || string(js[0].Data) != `42` {
		t.Errorf("json: %+v", js)
	}
	// The schema let the valid order through only.
	if schema := EvalJS[[]map[string]any](t, ctx, `window.__got.schema`); len(schema) != 1 || schema[0]["sku"] != "A1" {
		t.Errorf("schema: %v", schema)
	}
	// '*' sees message and the types with handlers, never the control events.
	if any := EvalJS[[]string](t, ctx, `window.__got.any`); len(any) != 6 || any[5] != "message" || slices.Contains(any, "connected") {
		t.Errorf("*: %v", any)
	}
	// A throwing handler does not stop the next one.
	if after := EvalJS[[]string](t, ctx, `window.__got.after`); len(after) != 1 {
		t.Errorf("handler after the throwing one: %v", after)
	}

	// Each failure reached onError with the event attached.
	type jsErr struct {
		Message string `json:"message"`
		Event   *ev    `json:"event"`
		Field   string `json:"field"`
	}
	errs := EvalJS[[]jsErr](t, ctx, `window.__rec.errors`)
	byType := map[string]jsErr{}
	for _, e := range errs {
		if e.Event == nil {
			t.Errorf("error without its event: %+v", e)
			continue
		}
		byType[e.Event.Type] = e
	}
	if len(errs) != 3 {
		t.Errorf("errors %+v, want schema, decode and handler failures", errs)
	}
	if e := byType["order"]; e.Field != "qty" || e.Event.Raw != `{"qty":"2","sku":"B2"}` {
		t.Errorf("schema failure: %+v", e)
	}
	if e := byType["bad"]; e.Event == nil || e.Event.Raw != "not json {" {
		t.Errorf("decode failure: %+v", e)
	}
	if e := byType["boom"]; e.Event == nil || !strings.Contains(e.Message, "handler bug") {
		t.Errorf("handler failure: %+v", e)
	}
	if n := EvalJS[int](t, ctx, `window.__c.stats().received`); n != 6 {
		t.Errorf("stats.received = %d, want 6", n)
	}
}

func TestDispatch_badOptionsThrow(t *testing.T) {
	t.Parallel()
	hub := StartHub(t)
	ctx := openPageAt(t, hub.URL)
	cases := map[string]string{
		"decode":          `c.on('x', () => {}, {decode: 'xml'})`,
		"schema type":     `c.on('x', () => {}, {schema: {a: 'str'}})`,
		"schema and text": `c.on('x', () => {}, {decode: 'text', schema: {a: 'string'}})`,
		"handler":         `c.on('x', 'not a function')`,
		"backoff":         `SSEKit.connect('/api/sse/connect', {backoff: {initialMs: -1}})`,
		"factor":          `SSEKit.connect('/api/sse/connect', {backoff: {factor: 0.5}})`,
		"maxRetries":      `SSEKit.connect('/api/sse/connect', {maxRetries: -2})`,
		"persist":         `SSEKit.connect('/api/sse/connect', {persist: 'local'})`,
	}
	for name, call := range cases {
		msg := EvalJS[string](t, ctx, `(() => {
			const c = SSEKit.connect('/api/sse/connect/opts');
			try { `+call+`; return 'no error'; } catch (e) { return e.message; } finally { c.close(); }
		})()`)
		if !strings.Contains(msg, "bad arguments") {
			t.Errorf("%s: %q, want a bad-arguments error", name, msg)
		}
	}
}
