// Types of the ssekit JavaScript API: globalThis.SSEKit, defined by the
// classic script ssekit.js, and the ES module ssekit.mjs that re-exports it.

export type State = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What onState listeners get, and what client.state() returns. */
export interface StateChange {
  state: State;
  /** Reconnect attempts since the stream was last healthy. */
  attempt: number;
  /** Delay before the next attempt, when reconnecting; 0 otherwise. */
  nextDelayMs: number;
  /** HTTP status of the last failure, 0 when unknown. */
  status: number;
  /** Why the last attempt failed, '' when none. */
  lastError: string;
}

export interface BackoffOptions {
  /** First delay. Default 500. The server's retry (from its connected event) is the floor. */
  initialMs?: number;
  /** Largest delay. Default 30000. */
  maxMs?: number;
  /** Growth per attempt, >= 1. Default 2. Delays use full jitter. */
  factor?: number;
  /** How long a connection must stay open before the attempt counter resets. */
  resetAfterMs?: number;
}

export interface ConnectOptions {
  backoff?: BackoffOptions;
  /** Reconnect attempts before giving up: a whole number >= 0 or Infinity (default, unlimited); 0 never reconnects. */
  maxRetries?: number;
  /** Send cookies cross-origin. Default false. */
  withCredentials?: boolean;
  /** 'session' keeps the last event id in sessionStorage so a reload resumes. Default 'none'. */
  persist?: 'none' | 'session';
  /** Close the stream while the tab is hidden and resume when visible. Default false. */
  pauseWhenHidden?: boolean;
  /** How many recent event ids the duplicate filter remembers, 1..1048576. */
  dedupWindow?: number;
}

/** A JSON-ish value as decoded by JSON.parse. */
export type JSONValue = string | number | boolean | null | JSONValue[] | { [key: string]: JSONValue };

/** What on() handlers get. */
export interface SSEEvent<T = unknown> {
  type: string;
  /** The stream's last event id when this event arrived. */
  id: string;
  /** Decoded per the decode option; a string when not decoded. */
  data: T;
  /** The payload exactly as received (line breaks as LF). */
  raw: string;
}

/** Field name -> type: string, number, integer, boolean, object, array,
 *  null or any; 'a|b' accepts either; a trailing '?' makes it optional. */
export type Schema = Record<string, string>;

export interface OnOptions {
  /** 'auto' (default): JSON objects and arrays are decoded, anything else stays a string;
   *  'json': always decoded, failures go to onError; 'text': never decoded. */
  decode?: 'auto' | 'json' | 'text';
  /** Required fields and their types; events that fail it go to onError. */
  schema?: Schema;
}

export interface BindOptions {
  /** 'text' (default): the data is text, always. 'sanitized-html': parsed with a strict
   *  allow-list (p br b i em strong code pre ul ol li span a blockquote; title, class,
   *  and href with http, https or mailto URLs) and built node by node. */
  mode?: 'text' | 'sanitized-html';
  /** Where new content goes. Default 'append'. */
  insert?: 'append' | 'prepend' | 'replace';
  /** Keep only the newest N children; 0 (default) keeps all. */
  max?: number;
  /** Markup with {{field}} placeholders (or an element, e.g. a <template>, whose content is
   *  the markup), sanitized with the same allow-list. Placeholders become text, or attribute
   *  values checked again once filled; fields come from the event's JSON object (dotted paths
   *  for nested ones), plus {{$raw}}, {{$id}} and {{$type}}. Overrides mode. */
  template?: string | Element;
}

/** An error given to onError listeners. */
export interface SSEKitError extends Error {
  /** The event a handler, decode or schema check failed on. */
  event?: SSEEvent<unknown>;
  /** The field that failed a schema. */
  field?: string;
}

export interface AuthErrorInfo {
  /** 401 or 403, or 0 for an `end` event with reason token-expired. */
  status: number;
  reason: string;
}

export interface Stats {
  received: number;
  droppedDuplicates: number;
  reconnects: number;
  resets: number;
}

/** One stream. Methods that register something return a function that unregisters it. */
export interface Client {
  readonly url: string;
  /** The id the server announced in its connected event ('' before). */
  readonly clientId: string;
  /** The id of the last event received ('' before). */
  readonly lastEventId: string;
  /** type '*' sees message and every type some handler listens for (EventSource cannot
   *  show types nobody listens for), except the control events. */
  on<T = JSONValue | string>(type: string, fn: (ev: SSEEvent<T>) => void, opts?: OnOptions): () => void;
  /** Renders each event of type into the element (or the first match of a selector). */
  bind(selector: string | Element, type: string, opts?: BindOptions): () => void;
  /** Called at once with the current state, then on every change. */
  onState(fn: (s: StateChange) => void): void;
  onError(fn: (e: SSEKitError) => void): void;
  /** The server could not resume from the last event id: events may have been missed. */
  onReset(fn: (info: { reason: string }) => void): void;
  /** On 401/403, or `end` with reason token-expired. May return a promise (e.g. renew a
   *  cookie); anything but false reconnects, false / a throw / a rejection stops. */
  onAuthError(fn: (info: AuthErrorInfo) => boolean | void | Promise<boolean | void>): void;
  stats(): Stats;
  state(): StateChange;
  /** Closes the stream and releases every listener. Safe to call twice. */
  close(): void;
}

export interface SSEKitAPI {
  /** Resolves with SSEKit once ssekit.wasm has loaded. */
  readonly ready: Promise<SSEKitAPI>;
  readonly version: string;
  connect(url: string, opts?: ConnectOptions): Client;
  /** The client a data-sse-connect container opened, or null. */
  clientFor(el: Element): Client | null;
}

declare global {
  // eslint-disable-next-line no-var
  var SSEKit: SSEKitAPI;
  /** Set before loading ssekit.js to fetch wasm_exec.js and ssekit.wasm from elsewhere. */
  // eslint-disable-next-line no-var
  var SSEKIT_BASE: string | undefined;
}

declare const SSEKit: SSEKitAPI;
export default SSEKit;
export declare const ready: Promise<SSEKitAPI>;
export declare const version: string;
export declare function connect(url: string, opts?: ConnectOptions): Client;
export declare function clientFor(el: Element): Client | null;
