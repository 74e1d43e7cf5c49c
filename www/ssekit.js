/* ssekit SDK loader: a classic script, safe to include more than once.
 * It defines globalThis.SSEKit at once; SSEKit.ready resolves (with SSEKit)
 * once ssekit.wasm has loaded and the API is in place. */
(function () {
  'use strict';
  if (globalThis.SSEKit && globalThis.SSEKit.ready) return; // included twice

  var script = document.currentScript;
  // <script src="ssekit.js" data-wasm="none">: a page whose own Go wasm uses
  // the SDK package gets the helpers it needs (SSEKit.__io) and nothing
  // else: ssekit.wasm is not loaded and the JS API stays unavailable.
  var helpersOnly = !!(script && script.getAttribute('data-wasm') === 'none');
  // Where wasm_exec.js and ssekit.wasm live: globalThis.SSEKIT_BASE when the
  // page sets it (a CDN, a bundle), else beside this script (or beside
  // ssekit.mjs, which imports this file as a module).
  var explicitBase = typeof globalThis.SSEKIT_BASE === 'string';
  var base = new URL(explicitBase ? globalThis.SSEKIT_BASE : (globalThis.__ssekitModuleBase || '.'),
    (script && script.src) || location.href).href;
  // The ssekit server writes the content-hashed names of the assets into
  // this object (they are cached as immutable); served as is, or with an
  // explicit base, the plain names are used.
  var assets = /*ssekit:assets*/{};
  if (explicitBase) assets = {};
  var bridge = null;
  var resolveReady, rejectReady;
  var ready = new Promise(function (res, rej) { resolveReady = res; rejectReady = rej; });

  function call(name, args) {
    if (helpersOnly) throw new Error('ssekit.js was loaded with data-wasm="none": only the helpers of a Go SDK app are there, not the JS API');
    if (!bridge) throw new Error('SSEKit is not ready yet: await SSEKit.ready first');
    var r = bridge.apply(null, [name].concat(args));
    if (r instanceof Error) throw r;
    return r;
  }

  /** One stream. Methods that register something return a function that
   *  unregisters it. */
  function Client(handle, url) {
    this._h = handle;
    this.url = url;
  }
  Client.prototype.on = function (type, fn, opts) {
    var tok = call('on', [this._h, type, fn, opts || {}]);
    return function () { call('off', [tok]); };
  };
  Client.prototype.bind = function (selector, type, opts) {
    var tok = call('bind', [this._h, selector, type, opts || {}]);
    return function () { call('off', [tok]); };
  };
  Client.prototype.onState = function (fn) { call('onState', [this._h, fn]); };
  Client.prototype.onError = function (fn) { call('onError', [this._h, fn]); };
  /** fn({reason}): the server could not resume from the last event id. */
  Client.prototype.onReset = function (fn) { call('onReset', [this._h, fn]); };
  /** fn({status, reason}) on 401/403 or `end` with reason token-expired; it
   *  may return a promise. Anything but false reconnects; false, a throw or
   *  a rejection stops the client. Without a hook the client stops. */
  Client.prototype.onAuthError = function (fn) { call('onAuthError', [this._h, fn]); };
  /** {received, droppedDuplicates, reconnects, resets} */
  Client.prototype.stats = function () { return call('stats', [this._h]); };
  /** {state, attempt, nextDelayMs, status, lastError}, as onState gets it. */
  Client.prototype.state = function () { return call('state', [this._h]); };
  Object.defineProperty(Client.prototype, 'clientId', {
    get: function () { return call('clientId', [this._h]); }
  });
  Object.defineProperty(Client.prototype, 'lastEventId', {
    get: function () { return call('lastEventId', [this._h]); }
  });
  Client.prototype.close = function () { call('close', [this._h]); };

  var SSEKit = {
    ready: ready,
    version: '0.1.0',
    connect: function (url, opts) {
      var abs = new URL(url, location.href).href;
      return new Client(call('connect', [abs, opts || {}]), abs);
    },
    // Live SDK resources {funcs, listeners, clients, subs}, for leak tests.
    __debug: function () { return call('debug', []); },
    // Called once by ssekit.wasm with its bridge.
    __attach: function (b) {
      if (bridge) return;
      bridge = b;
      resolveReady(SSEKit);
    }
  };
  Object.defineProperty(globalThis, 'SSEKit', { value: SSEKit, writable: false, configurable: false });

  // The wasm crosses into JS once per batch of events, not several times
  // per event: every crossing costs Go a finalized js.Value and a wake of its
  // scheduler. ssekit.wasm finds these helpers here (a hidden property set
  // before it runs); the SDK keeps every decision (dedup, dispatch, decode,
  // reconnect, sanitizing) and owns the EventSource, these only carry data.
  var maxBatch = 8192; // events: bounds the memory of one batch; a split read costs a rendering in between
  var io = {
    // The batch being delivered: apply refers to its strings by index.
    cur: null,
    // stream queues the events of es (created, and closed, by the wasm)
    // and hands them to deliver as one JSON text: a flat array of 0, type,
    // lastEventId, data for a message, 1 for open, 2 for an error. A batch
    // ends with the task (the browser dispatches what one read of the
    // stream holds in a row), at maxBatch events, or at open and error,
    // which are delivered at once after what was queued before them.
    // listen(type) adds a message type; close() removes every listener.
    stream: function (es, deliver) {
      var queue = [], scheduled = false, closed = false, types = [], fns = [];
      var tick = new MessageChannel(); // a task: a microtask would run after every event
      function flush() {
        scheduled = false;
        if (closed || queue.length === 0) return;
        var q = queue, prev = io.cur;
        queue = [];
        io.cur = q;
        try { deliver(JSON.stringify(q)); } finally { io.cur = prev; }
      }
      tick.port1.onmessage = flush;
      function add(type, fn) { es.addEventListener(type, fn); types.push(type); fns.push(fn); }
      function message(type, e) {
        if (typeof e.data !== 'string') return; // the EventSource's own error event
        queue.push(0, type, e.lastEventId, e.data);
        if (queue.length >= 4 * maxBatch) flush();
        else if (!scheduled) { scheduled = true; tick.port2.postMessage(0); }
      }
      function now(kind) {
        return function (e) {
          if (typeof e.data === 'string') return; // a server event named open or error
          queue.push(kind);
          flush();
        };
      }
      add('open', now(1));
      add('error', now(2));
      return {
        listen: function (type) { add(type, function (e) { message(type, e); }); },
        close: function () {
          if (closed) return;
          closed = true;
          for (var i = 0; i < types.length; i++) es.removeEventListener(types[i], fns[i]);
          types = fns = queue = [];
          tick.port1.onmessage = null;
          tick.port1.close();
        }
      };
    },
    // apply renders a bound element's batch: json is an array with one
    // array of nodes per event, a node being a string (a text node), a
    // number (a text node of that string of the batch being delivered) or
    // [tag, [name, value, ...], child, ...]. insert is 0 append, 1
    // prepend, 2 replace; max > 0 keeps the newest max children. Only
    // createElement, createTextNode, setAttribute, insertBefore and
    // removeChild: no markup is ever parsed.
    apply: function (el, insert, max, json) {
      var doc = el.ownerDocument || document, entries = JSON.parse(json), cur = io.cur;
      function build(n) {
        if (typeof n === 'string') return doc.createTextNode(n);
        if (typeof n === 'number') return doc.createTextNode(cur[n]);
        var e = doc.createElement(n[0]), a = n[1], i;
        for (i = 0; i < a.length; i += 2) e.setAttribute(a[i], a[i + 1]);
        for (i = 2; i < n.length; i++) e.appendChild(build(n[i]));
        return e;
      }
      for (var i = 0; i < entries.length; i++) {
        var nodes = entries[i];
        if (insert === 2) while (el.lastChild) el.removeChild(el.lastChild);
        var ref = insert === 1 ? el.firstChild : null;
        for (var j = 0; j < nodes.length; j++) el.insertBefore(build(nodes[j]), ref);
      }
      if (max > 0) while (el.childNodes.length > max) el.removeChild(insert === 1 ? el.lastChild : el.firstChild);
    },
    // invoke calls a handler of on() with {type, id, data, raw}. parse: 0
    // keeps raw, 1 decodes JSON and keeps raw if that fails, 2 decodes or
    // returns the parse error's message (and does not call fn). What fn
    // throws propagates.
    invoke: function (fn, type, id, raw, parse) {
      var data = raw;
      if (parse) {
        try { data = JSON.parse(raw); } catch (e) { if (parse === 2) return String(e && e.message); }
      }
      fn({ type: type, id: id, data: data, raw: raw });
    }
  };
  Object.defineProperty(SSEKit, '__io', { value: io, enumerable: false, writable: false, configurable: false });

  // Trusted Types: on a page with require-trusted-types-for 'script' a
  // script URL must come from a policy. Ours is named 'ssekit' and only
  // accepts URLs under the loader's base. It is created on first use, so a
  // page that already has Go loaded never needs it.
  var policy;
  function scriptURL(url) {
    if (policy === undefined) {
      policy = null;
      if (globalThis.trustedTypes && globalThis.trustedTypes.createPolicy) {
        try {
          policy = globalThis.trustedTypes.createPolicy('ssekit', {
            createScriptURL: function (u) {
              var abs = new URL(u, base).href;
              if (abs.slice(0, base.length) !== base) throw new TypeError('ssekit: script URL outside ' + base + ': ' + abs);
              return abs;
            }
          });
        } catch (e) {
          // The page's CSP does not allow the policy: without enforcement a
          // plain URL works; with it, loading fails with the browser's reason.
        }
      }
    }
    return policy ? policy.createScriptURL(url) : url;
  }

  function loadScript(src) {
    return new Promise(function (res, rej) {
      var s = document.createElement('script');
      s.src = scriptURL(src);
      s.onload = res;
      s.onerror = function () { rej(new Error('ssekit: could not load ' + src)); };
      document.head.appendChild(s);
    });
  }

  function asset(name) { return base + (assets[name] || name); }

  function fetchWasm(url) {
    return fetch(url, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error('ssekit: ' + url + ': HTTP ' + r.status);
      return r;
    });
  }

  function start() {
    var execReady = typeof globalThis.Go === 'function' ? Promise.resolve() : loadScript(asset('wasm_exec.js'));
    var url = asset('ssekit.wasm');
    var fetched = fetchWasm(url); // in parallel with wasm_exec.js
    fetched.catch(function () {}); // handled below, once Go is there
    return execReady.then(function () {
      var go = new globalThis.Go();
      var viaBuffer = function () {
        return fetchWasm(url).then(function (r) { return r.arrayBuffer(); })
          .then(function (buf) { return WebAssembly.instantiate(buf, go.importObject); });
      };
      // instantiateStreaming needs Content-Type application/wasm; other
      // servers get the slower path.
      var inst = WebAssembly.instantiateStreaming
        ? WebAssembly.instantiateStreaming(fetched, go.importObject).catch(function (e) {
            if (e instanceof TypeError) return viaBuffer();
            throw e;
          })
        : viaBuffer();
      return inst.then(function (r) {
        go.run(r.instance).catch(function (e) { console.error('ssekit: wasm exited', e); });
      });
    });
  }
  if (!helpersOnly) start().catch(function (e) { rejectReady(e); });

  // Declarative markup, wired once the wasm is ready and the document is
  // parsed: an element with data-sse-connect="url" opens a stream; inside it
  // (or on it), each element with data-sse-swap="type" is bound to that
  // event type, as text unless data-sse-mode="sanitized-html"; also
  // data-sse-insert, data-sse-max and data-sse-template (the id of a
  // <template>). The container gets data-sse-state with the client's state.
  // Containers added later (with their children) are wired too; a container
  // removed from the document has its stream closed.
  var wired = new Map(); // container -> client

  function bindSwap(client, el) {
    var opts = { mode: el.getAttribute('data-sse-mode') || 'text', insert: el.getAttribute('data-sse-insert') || 'append' };
    if (el.hasAttribute('data-sse-max')) opts.max = Number(el.getAttribute('data-sse-max'));
    var tid = el.getAttribute('data-sse-template');
    if (tid) {
      opts.template = document.getElementById(tid);
      if (!opts.template) throw new Error('no template with id ' + tid);
    }
    client.bind(el, el.getAttribute('data-sse-swap'), opts);
  }

  function wire(container) {
    if (wired.has(container)) return;
    var client;
    try {
      client = SSEKit.connect(container.getAttribute('data-sse-connect'));
    } catch (e) {
      console.error('ssekit: data-sse-connect: ' + e.message, container);
      return;
    }
    wired.set(container, client);
    client.onState(function (s) { container.setAttribute('data-sse-state', s.state); });
    var swaps = Array.prototype.slice.call(container.querySelectorAll('[data-sse-swap]'));
    if (container.hasAttribute('data-sse-swap')) swaps.unshift(container);
    swaps.forEach(function (el) {
      if (el.closest('[data-sse-connect]') !== container) return; // a nested stream's
      try {
        bindSwap(client, el);
      } catch (e) {
        console.error('ssekit: data-sse-swap: ' + e.message, el);
      }
    });
  }

  function scan(node) {
    if (node.nodeType !== 1) return;
    if (node.hasAttribute('data-sse-connect')) wire(node);
    if (node.firstElementChild) node.querySelectorAll('[data-sse-connect]').forEach(wire);
  }

  function watch() {
    scan(document.documentElement);
    new MutationObserver(function (records) {
      var removed = false;
      records.forEach(function (r) {
        r.addedNodes.forEach(scan);
        removed = removed || r.removedNodes.length > 0;
      });
      if (!removed) return;
      wired.forEach(function (client, el) {
        if (!el.isConnected) { wired.delete(el); client.close(); }
      });
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  /** The client a data-sse-connect container opened, or null. */
  SSEKit.clientFor = function (el) { return wired.get(el) || null; };

  ready.then(function () {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', watch);
    else watch();
  }, function () {});
})();
