// ssekit SDK as an ES module, for bundlers and <script type="module">:
//
//   import SSEKit, { ready, connect } from './ssekit.mjs';
//   await ready;
//   const c = connect('/api/sse/connect/alice');
//
// It loads the classic loader ssekit.js beside it (which defines
// globalThis.SSEKit, once, however often it is loaded) and re-exports the
// same API. ssekit.wasm and wasm_exec.js are fetched from this module's
// directory unless the page sets globalThis.SSEKIT_BASE first: a bundler
// that moves this file must copy them or set that base.
globalThis.__ssekitModuleBase ??= new URL('.', import.meta.url).href;
await import('./ssekit.js');

const SSEKit = globalThis.SSEKit;

export default SSEKit;
/** Resolves with SSEKit once the wasm has loaded. */
export const ready = SSEKit.ready;
export const version = SSEKit.version;
/** Opens a stream; see SSEKit.connect. */
export function connect(url, opts) {
  return SSEKit.connect(url, opts);
}
/** The client a data-sse-connect container opened, or null. */
export function clientFor(el) {
  return SSEKit.clientFor(el);
}
