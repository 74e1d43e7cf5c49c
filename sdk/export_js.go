//go:build js && wasm

package sdk

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"
)

// bridge is the JS API's Go side. www/ssekit.js owns the public objects
// (globalThis.SSEKit and its client class) and calls these functions with a
// numeric client handle, so no per-client js.Func outlives Close.
type bridge struct {
	mu      sync.Mutex
	next    int
	clients map[int]*Client
	subs    map[int]func() // subscription token -> remove
}

// Export hands the bridge to www/ssekit.js through SSEKit.__attach, which
// resolves SSEKit.ready. The bridge functions live as long as the page.
func Export() error {
	b := &bridge{clients: make(map[int]*Client), subs: make(map[int]func())}
	fns := map[string]func(args []safejs.Value) (any, error){
		"connect":  b.connect,
		"on":       b.on,
		"off":      b.off,
		"bind":     b.bind,
		"onState":  b.onState,
		"onError":  b.onError,
		"clientId": b.clientID,
		"close":    b.close,
	}
	props := make(map[string]any, len(fns))
	for name, fn := range fns {
		f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
			v, err := fn(args)
			if err != nil {
				return jsError(err)
			}
			return v
		})
		if err != nil {
			return jsErr("FuncOf", err)
		}
		props[name] = f.Value()
	}
	obj, err := newObject(props)
	if err != nil {
		return err
	}
	kit, err := global("SSEKit")
	if err != nil {
		return err
	}
	if kit.IsUndefined() || kit.IsNull() {
		return errors.New("ssekit/sdk: globalThis.SSEKit is missing: load ssekit.wasm through ssekit.js")
	}
	if _, err := kit.Call("__attach", obj); err != nil {
		return jsErr("SSEKit.__attach", err)
	}
	return nil
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

func argString(args []safejs.Value, i int, name string) (string, error) {
	if i >= len(args) || args[i].Type() != safejs.TypeString {
		return "", fmt.Errorf("%w: %s must be a string", errArgs, name)
	}
	return args[i].String()
}

func argFunc(args []safejs.Value, i int, name string) (safejs.Value, error) {
	if i >= len(args) || args[i].Type() != safejs.TypeFunction {
		return safejs.Undefined(), fmt.Errorf("%w: %s must be a function", errArgs, name)
	}
	return args[i], nil
}

// argOpts returns the options object at i, or an empty object.
func argOpts(args []safejs.Value, i int) safejs.Value {
	if i < len(args) && args[i].Type() == safejs.TypeObject && !args[i].IsNull() {
		return args[i]
	}
	o, _ := newObject(nil)
	return o
}

func (b *bridge) client(args []safejs.Value) (*Client, error) {
	if len(args) == 0 || args[0].Type() != safejs.TypeNumber {
		return nil, fmt.Errorf("%w: client handle", errArgs)
	}
	h, _ := args[0].Int()
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.clients[h]
	if !ok {
		return nil, ErrClosed
	}
	return c, nil
}

func (b *bridge) connect(args []safejs.Value) (any, error) {
	url, err := argString(args, 0, "url")
	if err != nil {
		return nil, err
	}
	o := argOpts(args, 1)
	c, err := Connect(url, Options{WithCredentials: getBool(o, "withCredentials", false)})
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.next++
	h := b.next
	b.clients[h] = c
	b.mu.Unlock()
	c.OnState(func(st StateChange) {
		if st.State == StateClosed {
			b.mu.Lock()
			delete(b.clients, h)
			b.mu.Unlock()
		}
	})
	return h, nil
}

func (b *bridge) addSub(remove func()) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	b.subs[b.next] = remove
	return b.next
}

// on(handle, type, fn, {decode}) -> subscription token
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
	decode, ok := ParseDecode(getString(argOpts(args, 3), "decode"))
	if !ok {
		return nil, fmt.Errorf("%w: decode must be 'auto', 'json' or 'text'", errArgs)
	}
	remove, err := c.On(typ, jsHandler(fn, decode))
	if err != nil {
		return nil, err
	}
	return b.addSub(remove), nil
}

func (b *bridge) off(args []safejs.Value) (any, error) {
	if len(args) < 1 || args[0].Type() != safejs.TypeNumber {
		return nil, fmt.Errorf("%w: subscription token", errArgs)
	}
	tok, _ := args[0].Int()
	b.mu.Lock()
	remove := b.subs[tok]
	delete(b.subs, tok)
	b.mu.Unlock()
	if remove != nil {
		remove()
	}
	return nil, nil
}

// bind(handle, selector, type, {insert, max}) -> subscription token
func (b *bridge) bind(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, err
	}
	sel, err := argString(args, 1, "selector")
	if err != nil {
		return nil, err
	}
	typ, err := argString(args, 2, "type")
	if err != nil {
		return nil, err
	}
	o := argOpts(args, 3)
	insert, ok := ParseInsert(getString(o, "insert"))
	if !ok {
		return nil, fmt.Errorf("%w: insert must be 'append', 'prepend' or 'replace'", errArgs)
	}
	if mode := getString(o, "mode"); mode != "" && mode != "text" {
		return nil, fmt.Errorf("%w: mode %q is not supported", errArgs, mode)
	}
	remove, err := c.Bind(sel, typ, BindOptions{Insert: insert, Max: getInt(o, "max", 0)})
	if err != nil {
		return nil, err
	}
	return b.addSub(remove), nil
}

func (b *bridge) onState(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, err
	}
	fn, err := argFunc(args, 1, "listener")
	if err != nil {
		return nil, err
	}
	c.OnState(func(st StateChange) {
		obj, err := newObject(map[string]any{
			"state":       string(st.State),
			"attempt":     st.Attempt,
			"nextDelayMs": st.NextDelay.Milliseconds(),
			"status":      st.Status,
			"lastError":   st.LastError,
		})
		if err == nil {
			_, err = fn.Invoke(obj)
		}
		if err != nil {
			c.reportError(fmt.Errorf("ssekit/sdk: state listener failed: %w", err))
		}
	})
	return nil, nil
}

func (b *bridge) onError(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, err
	}
	fn, err := argFunc(args, 1, "listener")
	if err != nil {
		return nil, err
	}
	c.OnError(func(e error) {
		obj := jsError(e)
		var he *HandlerError
		if v, ok := obj.(safejs.Value); ok && errors.As(e, &he) {
			if ev, err := eventObject(he.Event, he.Event.Data); err == nil {
				_ = v.Set("event", ev)
			}
		}
		if _, err := fn.Invoke(obj); err != nil {
			logError(fmt.Errorf("ssekit/sdk: error listener failed: %w", err))
		}
	})
	return nil, nil
}

func (b *bridge) clientID(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if err != nil {
		return nil, err
	}
	return c.ClientID(), nil
}

func (b *bridge) close(args []safejs.Value) (any, error) {
	c, err := b.client(args)
	if errors.Is(err, ErrClosed) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.Close()
	return nil, nil
}

// jsHandler adapts a JS function to a Handler: it gets {type, id, data, raw}.
func jsHandler(fn safejs.Value, decode Decode) Handler {
	return func(ev Event) error {
		var data any = ev.Data
		if decode.WantsJSON(ev.Data) {
			v, err := jsonParse(ev.Data)
			switch {
			case err == nil:
				data = v
			case decode == DecodeJSON:
				return fmt.Errorf("decode %s event as JSON: %w", ev.Type, err)
			}
		}
		obj, err := eventObject(ev, data)
		if err != nil {
			return err
		}
		_, err = fn.Invoke(obj)
		return err
	}
}

func eventObject(ev Event, data any) (safejs.Value, error) {
	return newObject(map[string]any{"type": ev.Type, "id": ev.ID, "data": data, "raw": ev.Data})
}

// logError writes to the console, the last resort for errors nobody
// listens for.
func logError(err error) {
	if console, gerr := global("console"); gerr == nil {
		_, _ = console.Call("error", err.Error())
	}
}
