//go:build js && wasm

package sdk

import (
	"errors"
	"math"
	"sync"

	"github.com/hack-pad/safejs"
)

// bridge is the JS API's Go side. www/ssekit.js owns the public objects
// (globalThis.SSEKit and its client class) and calls these functions with a
// numeric client handle, so no per-client js.Func outlives Close.
type bridge struct {
	mu      sync.Mutex
	next    int
	clients map[string]*Client // by handle, in decimal (see handleKey)
	subs    map[string]sub     // by subscription token: its client and remove
}

// handleKey is the key of a client handle or a subscription token. The
// bridge's maps are keyed by strings, as the SDK's others are: a map keyed
// by int would add the runtime's 64-bit map fast paths to the wasm (about
// 10 KB of code).
func handleKey(n int) string { return itoa(n) }

// sub is one registration made through the bridge (on, bind).
type sub struct {
	c      *Client
	remove func()
}

// Export hands the bridge to www/ssekit.js through SSEKit.__attach, which
// resolves SSEKit.ready: one function, called with the name of the
// operation and its arguments. It lives as long as the page.
func Export() error {
	b := &bridge{clients: make(map[string]*Client), subs: make(map[string]sub)}
	f, err := funcOfResult(func(args []safejs.Value) any {
		v, err := b.call(args)
		if err != nil {
			return jsError(err)
		}
		return v
	})
	if err != nil {
		return err
	}
	kit, err := global("SSEKit")
	if err != nil {
		return err
	}
	if _, ok := loaderIO(); !ok {
		return errors.New("ssekit/sdk: globalThis.SSEKit (with its helpers) is missing: load ssekit.wasm through ssekit.js")
	}
	if _, err := kit.Call("__attach", f.Value()); err != nil {
		return jsErr("SSEKit.__attach", err)
	}
	return nil
}

// call runs the operation named by args[0] with the rest of args.
func (b *bridge) call(args []safejs.Value) (any, error) {
	name, err := argString(args, 0, "operation")
	if err != nil {
		return nil, err
	}
	args = args[1:]
	switch name {
	case "connect":
		return b.connect(args)
	case "on":
		return b.on(args)
	case "off":
		return b.off(args)
	case "bind":
		return b.bind(args)
	case "onState":
		return b.onState(args)
	case "onError":
		return b.onError(args)
	case "onReset":
		return b.onReset(args)
	case "onAuthError":
		return b.onAuthError(args)
	case "stats":
		return b.stats(args)
	case "state":
		return b.state(args)
	case "lastEventId":
		return b.lastEventID(args)
	case "clientId":
		return b.clientID(args)
	case "close":
		return b.close(args)
	case "debug":
		return b.debug(args)
	}
	return nil, badArg("unknown operation " + name)
}

// funcOfResult is funcOf for a function that returns a value to JS. The
// bridge's functions live as long as the page and are counted like the
// others.
func funcOfResult(fn func(args []safejs.Value) any) (safejs.Func, error) {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any { return fn(args) })
	if err != nil {
		return f, jsErr("FuncOf", err)
	}
	liveFuncs.Add(1)
	return f, nil
}

// jsError turns a Go error into a JS Error object that ssekit.js throws.
func jsError(err error) any {
	ctor, gerr := global("Error")
	if gerr != nil {
		return err.Error()
	}
	e, nerr := ctor.New(err.Error())
	if nerr != nil {
		return err.Error()
	}
	return e
}

var errArgs = errors.New("ssekit/sdk: bad arguments")

func badArg(what string) error {
	return join(errArgs, errors.New("ssekit/sdk: "+what))
}

func argString(args []safejs.Value, i int, name string) (string, error) {
	if i >= len(args) || args[i].Type() != safejs.TypeString {
		return "", badArg(name + " must be a string")
	}
	return args[i].String()
}

func argFunc(args []safejs.Value, i int, name string) (safejs.Value, error) {
	if i >= len(args) || args[i].Type() != safejs.TypeFunction {
		return safejs.Undefined(), badArg(name + " must be a function")
	}
	return args[i], nil
}

// argOpts returns the options object at i, or an empty object.
func argOpts(args []safejs.Value, i int) safejs.Value {
	if i < len(args) && args[i].Type() == safejs.TypeObject && !args[i].IsNull() {
		return args[i]
	}
	o, _ := newObject()
	return o
}

// optNumber reads an optional number option: ok is false when absent
// (undefined or null); anything else that is not a number is an error.
func optNumber(o safejs.Value, name string) (v float64, ok bool, err error) {
	p, err := o.Get(name)
	if err != nil || p.IsUndefined() || p.IsNull() {
		return 0, false, nil
	}
	if p.Type() != safejs.TypeNumber {
		return 0, false, badArg(name + " must be a number")
	}
	v, err = p.Float()
	if err != nil || math.IsNaN(v) {
		return 0, false, badArg(name + " must be a number")
	}
	return v, true, nil
}

func (b *bridge) client(args []safejs.Value) (*Client, error) {
	if len(args) == 0 || args[0].Type() != safejs.TypeNumber {
		return nil, badArg("client handle")
	}
	h, _ := args[0].Int()
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.clients[handleKey(h)]
	if !ok {
		return nil, ErrClosed
	}
	return c, nil
}

// jsonOption hands an options object to Go as JSON text (see
// ParseOptionsJSON); "" when absent.
func jsonOption(v safejs.Value) (string, error) {
	if v.IsUndefined() || v.IsNull() {
		return "", nil
	}
	j, err := global("JSON")
	if err != nil {
		return "", err
	}
	s, err := j.Call("stringify", v)
	if err != nil {
		return "", join(errArgs, jsErr("JSON.stringify", err))
	}
	if s.Type() != safejs.TypeString {
		return "", badArg("options must be an object")
	}
	return s.String()
}

func (b *bridge) connect(args []safejs.Value) (any, error) {
	url, err := argString(args, 0, "url")
	if err != nil {
		return nil, err
	}
	raw, err := jsonOption(argOpts(args, 1))
	if err != nil {
		return nil, err
	}
	opts, err := ParseOptionsJSON(raw)
	if err != nil {
		return nil, join(errArgs, err)
	}
	c, err := Connect(url, opts)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.next++
	h := b.next
	b.clients[handleKey(h)] = c
	b.mu.Unlock()
	return h, nil
}

// addSub records a registration of c and returns its token for off.
func (b *bridge) addSub(c *Client, remove func()) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	b.subs[handleKey(b.next)] = sub{c: c, remove: remove}
	return b.next
}

// on(handle, type, fn, {decode, schema}) -> subscription token
func (b *bridge) on(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, err
	}
	typ, err := argString(args, 1, "type")
	if err != nil {
		return nil, err
	}
	fn, err := argFunc(args, 2, "handler")
	if err != nil {
		return nil, err
	}
	o := argOpts(args, 3)
	decode, ok := ParseDecode(getString(o, "decode"))
	if !ok {
		return nil, badArg("decode must be 'auto', 'json' or 'text'")
	}
	schema, err := schemaOption(o)
	if err != nil {
		return nil, err
	}
	if !schema.IsZero() && decode == DecodeText {
		return nil, badArg("a schema needs decode 'auto' or 'json'")
	}
	remove, err := c.On(typ, jsHandler(fn, decode, schema))
	if err != nil {
		return nil, err
	}
	return b.addSub(c, remove), nil
}

// schemaOption reads {schema: {field: 'type', ...}}.
func schemaOption(o safejs.Value) (Schema, error) {
	v, err := o.Get("schema")
	if err != nil {
		return Schema{}, nil
	}
	raw, err := jsonOption(v)
	if err != nil || raw == "" {
		return Schema{}, err
	}
	sc, err := ParseSchemaJSON(raw)
	if err != nil {
		return Schema{}, join(errArgs, err)
	}
	return sc, nil
}

func (b *bridge) off(args []safejs.Value) (any, error) {
	if len(args) < 1 || args[0].Type() != safejs.TypeNumber {
		return nil, badArg("subscription token")
	}
	tok, _ := args[0].Int()
	b.mu.Lock()
	s := b.subs[handleKey(tok)]
	delete(b.subs, handleKey(tok))
	b.mu.Unlock()
	if s.remove != nil {
		s.remove()
	}
	return nil, nil
}

// bind(handle, selector or element, type, {mode, insert, max, template})
// -> subscription token. template is markup (a string) or an element whose
// content is the template (e.g. a <template>).
func (b *bridge) bind(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, err
	}
	if len(args) < 2 || (args[1].Type() != safejs.TypeString && getInt(args[1], "nodeType", 0) != 1) {
		return nil, badArg("selector must be a string or an element")
	}
	typ, err := argString(args, 2, "type")
	if err != nil {
		return nil, err
	}
	o := argOpts(args, 3)
	max, _, err := optNumber(o, "max")
	if err != nil {
		return nil, err
	}
	opts, err := ParseBindOptions(getString(o, "mode"), getString(o, "insert"), max)
	if err != nil {
		return nil, join(errArgs, err)
	}
	if t, err := o.Get("template"); err == nil && !t.IsUndefined() && !t.IsNull() {
		switch t.Type() {
		case safejs.TypeString:
			markup, _ := t.String()
			opts.Template = ParseTemplate(markup)
		case safejs.TypeObject:
			if getInt(t, "nodeType", 0) != 1 {
				return nil, badArg("template must be a string of markup or an element")
			}
			if opts.Template, err = TemplateFromElement(t); err != nil {
				return nil, err
			}
		default:
			return nil, badArg("template must be a string of markup or an element")
		}
	}
	var remove func()
	if args[1].Type() == safejs.TypeString {
		sel, _ := args[1].String()
		remove, err = c.Bind(sel, typ, opts)
	} else {
		remove, err = c.BindElement(args[1], typ, opts)
	}
	if err != nil {
		return nil, err
	}
	return b.addSub(c, remove), nil
}

// stateObject is what onState listeners get.
func stateObject(st StateChange) (safejs.Value, error) {
	return newObject("state", string(st.State), "attempt", st.Attempt, "nextDelayMs", int(st.NextDelay.Milliseconds()), "status", st.Status, "lastError", st.LastError)
}

func (b *bridge) onState(args []safejs.Value) (any, error) {
	c, fn, err := b.clientAndFunc(args, "listener")
	if err != nil {
		return nil, err
	}
	c.OnState(func(st StateChange) {
		obj, err := stateObject(st)
		notify(c, fn, obj, "state listener", err)
	})
	return nil, nil
}

// notify calls a listener of c with obj (flushing bound elements first,
// so it sees the DOM up to date), and reports what failed to c's error
// listeners; err is the error of making obj.
func notify(c *Client, fn, obj safejs.Value, what string, err error) {
	flushDOM()
	if err == nil {
		_, err = fn.Invoke(obj)
	}
	if err != nil {
		c.reportError(join(errors.New("ssekit/sdk: "+what+" failed"), err))
	}
}

// clientAndFunc reads the (handle, fn) arguments of the listener methods.
func (b *bridge) clientAndFunc(args []safejs.Value, name string) (*Client, safejs.Value, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, safejs.Undefined(), err
	}
	fn, err := argFunc(args, 1, name)
	if err != nil {
		return nil, safejs.Undefined(), err
	}
	return c, fn, nil
}

func (b *bridge) state(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, err
	}
	return stateObject(c.State())
}

func (b *bridge) onError(args []safejs.Value) (any, error) {
	c, fn, err := b.clientAndFunc(args, "listener")
	if err != nil {
		return nil, err
	}
	c.OnError(func(e error) {
		flushDOM()
		if _, err := fn.Invoke(errorObject(e)); err != nil {
			logError(join(errors.New("ssekit/sdk: error listener failed"), err))
		}
	})
	return nil, nil
}

// errorObject is the Error onError listeners get: with the event
// attached (.event) when a handler, decode or schema check failed on one,
// and .field for a schema failure.
func errorObject(e error) any {
	obj := jsError(e)
	v, ok := obj.(safejs.Value)
	if !ok {
		return obj
	}
	if he, ok := findError[*HandlerError](e); ok {
		if ev, err := eventObject(he.Event, he.Event.Data); err == nil {
			_ = v.Set("event", ev)
		}
	}
	if se, ok := findError[*SchemaError](e); ok {
		_ = v.Set("field", se.Field)
	}
	return v
}

// onReset(handle, fn): fn gets {reason}.
func (b *bridge) onReset(args []safejs.Value) (any, error) {
	c, fn, err := b.clientAndFunc(args, "listener")
	if err != nil {
		return nil, err
	}
	c.OnReset(func(reason string) {
		obj, err := newObject("reason", reason)
		notify(c, fn, obj, "reset listener", err)
	})
	return nil, nil
}

// onAuthError(handle, fn): fn gets {status, reason} and may return a
// promise. Anything but false (or a promise of it) reconnects; false, a
// throw or a rejection stops the client.
func (b *bridge) onAuthError(args []safejs.Value) (any, error) {
	c, fn, err := b.clientAndFunc(args, "hook")
	if err != nil {
		return nil, err
	}
	c.OnAuthError(func(info AuthError) bool {
		flushDOM()
		obj, err := newObject("status", info.Status, "reason", info.Reason)
		if err != nil {
			c.reportError(err)
			return false
		}
		v, err := fn.Invoke(obj)
		if err == nil {
			v, err = await(v)
		}
		if err != nil {
			c.reportError(join(errors.New("ssekit/sdk: auth hook failed"), err))
			return false
		}
		if v.Type() == safejs.TypeBoolean {
			ok, _ := v.Bool()
			return ok
		}
		return true
	})
	return nil, nil
}

func (b *bridge) stats(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, err
	}
	s := c.Stats()
	return newObject("received", s.Received, "droppedDuplicates", s.DroppedDuplicates, "reconnects", s.Reconnects, "resets", s.Resets)
}

func (b *bridge) lastEventID(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, err
	}
	return c.LastEventID(), nil
}

func (b *bridge) clientID(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, err
	}
	return c.ClientID(), nil
}

// close(handle) closes the client and forgets it and its registrations.
func (b *bridge) close(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err == ErrClosed { // b.client returns it as is
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	h, _ := args[0].Int()
	b.mu.Lock()
	delete(b.clients, handleKey(h))
	for tok, s := range b.subs {
		if s.c == c {
			delete(b.subs, tok)
		}
	}
	b.mu.Unlock()
	c.Close()
	return nil, nil
}

// debug() -> {funcs, listeners, liveClients, clients, subs}: the live
// resources, for leak tests (liveClients: Clients not yet garbage
// collected; clients and subs: what the bridge holds). It collects
// garbage first.
func (b *bridge) debug([]safejs.Value) (any, error) {
	d := ReadDebug()
	b.mu.Lock()
	clients, subs := len(b.clients), len(b.subs)
	b.mu.Unlock()
	return newObject("funcs", d.Funcs, "listeners", d.Listeners, "liveClients", d.Clients, "clients", clients, "subs", subs)
}

// jsHandler adapts a JS function to a Handler: it gets {type, id, data,
// raw}, made (and the JSON decoded) on the JS side by SSEKit.__io.invoke,
// in one call. A schema is checked on the raw payload before anything
// else.
func jsHandler(fn safejs.Value, decode Decode, schema Schema) Handler {
	io, _ := loaderIO()
	return func(ev Event) error {
		if !schema.IsZero() {
			if err := schema.Check(ev.Data); err != nil {
				return err
			}
		}
		flushDOM()
		parse := 0
		switch {
		case decode == DecodeJSON:
			parse = 2
		case decode.WantsJSON(ev.Data):
			parse = 1
		}
		r, err := io.Call("invoke", fn, ev.Type, ev.ID, ev.Data, parse)
		if err != nil {
			return err
		}
		if r.Type() == safejs.TypeString {
			msg, _ := r.String()
			return join(errors.New("ssekit/sdk: decode "+quote(ev.Type)+" event as JSON"), jsErr("JSON.parse", errors.New(msg)))
		}
		return nil
	}
}

func eventObject(ev Event, data any) (safejs.Value, error) {
	return newObject("type", ev.Type, "id", ev.ID, "data", data, "raw", ev.Data)
}

// logError writes to the console, the last resort for errors nobody
// listens for.
func logError(err error) {
	if console, gerr := global("console"); gerr == nil {
		_, _ = console.Call("error", err.Error())
	}
}
