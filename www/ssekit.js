/* ssekit SDK loader: a classic script, safe to include more than once.
 * It defines globalThis.SSEKit at once; SSEKit.ready resolves (with SSEKit)
 * once ssekit.wasm has loaded and the API is in place. */
(function () {
  'use strict';
  if (globalThis.SSEKit && globalThis.SSEKit.ready) return; // included twice

  var script = document.currentScript;
  var base = new URL('.', (script && script.src) || location.href).href;
  var bridge = null;
  var resolveReady, rejectReady;
  var ready = new Promise(function (res, rej) { resolveReady = res; rejectReady = rej; });

  function call(name, args) {
    if (!bridge) throw new Error('SSEKit is not ready yet: await SSEKit.ready first');
    var r = bridge[name].apply(null, args);
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
  Object.defineProperty(Client.prototype, 'clientId', {
    get: function () { return call('clientId', [this._h]); }
  });
  Client.prototype.close = function () { call('close', [this._h]); };

  var SSEKit = {
    ready: ready,
    version: '0.1.0',
    connect: function (url, opts) {
      var abs = new URL(url, location.href).href;
      return new Client(call('connect', [abs, opts || {}]), abs);
    },
    // Called once by ssekit.wasm with its bridge.
    __attach: function (b) {
      if (bridge) return;
      bridge = b;
      resolveReady(SSEKit);
    }
  };
  Object.defineProperty(globalThis, 'SSEKit', { value: SSEKit, writable: false, configurable: false });

  function loadScript(src) {
    return new Promise(function (res, rej) {
      var s = document.createElement('script');
      s.src = src;
      s.onload = res;
      s.onerror = function () { rej(new Error('ssekit: could not load ' + src)); };
      document.head.appendChild(s);
    });
  }

  function start() {
    var execReady = typeof globalThis.Go === 'function' ? Promise.resolve() : loadScript(base + 'wasm_exec.js');
    return execReady.then(function () {
      var go = new globalThis.Go();
      var fetched = fetch(base + 'ssekit.wasm', { credentials: 'same-origin' });
      var inst = WebAssembly.instantiateStreaming
        ? WebAssembly.instantiateStreaming(fetched, go.importObject)
        : fetched.then(function (r) { return r.arrayBuffer(); })
            .then(function (buf) { return WebAssembly.instantiate(buf, go.importObject); });
      return inst.then(function (r) {
        go.run(r.instance).catch(function (e) { console.error('ssekit: wasm exited', e); });
      });
    });
  }
  start().catch(function (e) { rejectReady(e); });
})();
