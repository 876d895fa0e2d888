/**
 * JavaScript view functions, run the way CouchDB's query server (couchjs)
 * runs them: one `node:vm` context per design document version, holding the
 * compiled map and reduce functions and CouchDB's helpers `emit`, `log`,
 * `sum`, `isArray`, `toJSON` and `require` (CommonJS modules from
 * `views.lib`).
 *
 * NOT A SECURITY BOUNDARY. `node:vm` separates globals, not privileges: code
 * in the context can reach the host through its objects' prototypes. That is
 * acceptable for the same reason it is in CouchDB, whose query server also
 * runs whatever the design document says: only database admins may write
 * design documents. The sandbox exists for isolation between design
 * documents and for the bounds below, not to contain hostile code.
 *
 * Data crosses the boundary as JSON text, so the functions see exactly what
 * couchjs shows them (numbers as doubles: `1.0` is `1`, big integers are
 * rounded) and results come back as Settee JSON values (an emitted `1` is an
 * integer, `0.5` a float, `1e21` the float CouchDB would also read). Each
 * document is parsed inside the context and deep-frozen before any map
 * function sees it, as couchjs seals it: one map function cannot change what
 * the next one sees (a write is ignored, or throws in strict-mode code).
 *
 * Bounds: every call into the context runs with a timeout
 * (`viewFunctionTimeoutMs`, CouchDB's `os_process_timeout`); documents are
 * mapped in batches of `mapBatchDocsMax` under one timeout, and a batch that
 * times out is retried one document at a time, so the bound applies per
 * document. A timeout is an error for the query (500 `os_process_error`, as
 * in CouchDB); a map function that throws only skips that document for that
 * view (logged, as CouchDB does); a reduce function that throws yields null;
 * a promise view code leaves rejected is logged, never fatal to the server.
 */
import vm from 'node:vm';
import { CouchError, internalError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { parseJson } from '../core/json-parse.js';
import { stringifyJson } from '../core/json-write.js';

export interface SandboxOptions {
  /** The longest one call into the context may run. */
  readonly timeoutMs: number;
  /** Receives `log()` output and the exceptions of map and reduce functions. */
  readonly log: (message: string) => void;
  /** `views.lib` of the design document, for `require`. */
  readonly lib?: JsonObject;
}

export type FunctionKind = 'map' | 'reduce';

/** One emitted row: `[key, value]`. */
export type Emit = readonly [JsonValue, JsonValue];

/** What one document emitted, per map function: its rows, or null when the function threw. */
export type DocEmits = readonly (readonly Emit[] | null)[];

/** Documents per timed call into the context when mapping. */
export const mapBatchDocsMax = 100;

/** Characters of emitted JSON one document may produce for one view; beyond, the document is skipped for it. */
export const emitCharsMax = 64 * 1024 * 1024;

/** The in-context side, defined by `bootstrapSource`. */
interface ContextApi {
  readonly pending: { run: (() => unknown) | null };
  add(fn: unknown): number;
  mapDocs(docsJson: string, funIndexes: readonly number[]): string;
  reduce(funIndex: number, inputJson: string, rereduce: boolean): string;
}

const callSymbolName = 'settee.views.call';

/**
 * Runs inside the context. Intrinsics are captured first so that view code
 * replacing `JSON.stringify` or `Array.prototype.push` does not break the
 * plumbing (it can still break itself).
 */
const bootstrapSource = `(function (hostLog, libJson, emitCharsMax) {
  'use strict';
  const parse = JSON.parse, stringify = JSON.stringify, isArrayNative = Array.isArray;
  const freeze = Object.freeze, isFrozen = Object.isFrozen, keysOf = Object.keys;
  const indirectEval = eval;
  const lib = parse(libJson);
  const funs = [];
  const modules = {};
  let emitted = null;
  const describe = (error) => { try { return String(error); } catch (e) { return 'an exception'; } };
  function deepFreeze(value) {
    if (typeof value !== 'object' || value === null || isFrozen(value)) return value;
    freeze(value);
    const keys = keysOf(value);
    for (let i = 0; i < keys.length; i++) deepFreeze(value[keys[i]]);
    return value;
  }
  function resolve(from, name) {
    const path = name.split('/');
    const parts = path[0] === '.' || path[0] === '..' ? from.slice(0, -1) : [];
    for (const part of path) {
      if (part === '..') {
        if (parts.length === 0) throw new Error('require(' + stringify(name) + '): path goes above the design document');
        parts.pop();
      } else if (part !== '.') {
        parts.push(part);
      }
    }
    let node = { views: { lib: lib } };
    for (const part of parts) {
      if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, part)) {
        throw new Error('require(' + stringify(name) + '): no such module');
      }
      node = node[part];
    }
    if (typeof node !== 'string') throw new Error('require(' + stringify(name) + '): not a module');
    return { id: parts.join('/'), parts: parts, source: node };
  }
  function requireFrom(from, name) {
    const found = resolve(from, name);
    if (Object.prototype.hasOwnProperty.call(modules, found.id)) return modules[found.id];
    const module = { id: found.id, exports: {} };
    modules[found.id] = module.exports; // a cycle sees the exports object being filled
    const factory = indirectEval('(function (module, exports, require) { ' + found.source + '\\n})');
    factory(module, module.exports, (next) => requireFrom(found.parts, next));
    modules[found.id] = module.exports;
    return module.exports;
  }
  const helpers = {
    emit(key, value) {
      if (emitted === null) throw new Error('emit() can only be called from a map function');
      emitted[emitted.length] = [key, value];
    },
    log(message) { hostLog(typeof message === 'string' ? message : stringify(message)); },
    sum(values) { let total = 0; for (let i = 0; i < values.length; i++) total += values[i]; return total; },
    isArray(value) { return isArrayNative(value); },
    toJSON(value) { return stringify(value); },
    require(name) { return requireFrom([], String(name)); },
  };
  for (const name of keysOf(helpers)) globalThis[name] = helpers[name];
  const pending = { run: null };
  Object.defineProperty(globalThis, Symbol.for(${JSON.stringify(callSymbolName)}), {
    value: function () { const run = pending.run; pending.run = null; return run(); },
  });
  return {
    pending,
    add(fn) { funs[funs.length] = fn; return funs.length - 1; },
    mapDocs(docsJson, funIndexes) {
      const docs = parse(docsJson);
      let out = '[';
      for (let d = 0; d < docs.length; d++) {
        const doc = deepFreeze(docs[d]);
        out += d === 0 ? '[' : ',[';
        for (let f = 0; f < funIndexes.length; f++) {
          emitted = [];
          let part;
          try {
            funs[funIndexes[f]](doc);
            part = stringify(emitted);
            if (part.length > emitCharsMax) throw new Error('emitted more than ' + emitCharsMax + ' characters of JSON');
          } catch (error) {
            hostLog('function raised exception ' + describe(error) + ' with doc._id ' + doc._id);
            part = 'null';
          }
          out += (f === 0 ? '' : ',') + part;
        }
        out += ']';
      }
      emitted = null;
      return out + ']';
    },
    reduce(funIndex, inputJson, rereduce) {
      const input = parse(inputJson);
      try {
        const result = funs[funIndex](input[0], input[1], rereduce);
        return result === undefined ? 'null' : stringify(result);
      } catch (error) {
        hostLog('reduce function raised exception ' + describe(error));
        return 'null';
      }
    },
  };
})`;

const bootstrapScript = new vm.Script(bootstrapSource, { filename: 'settee-view-server.js' });
const callScript = new vm.Script(`globalThis[Symbol.for(${JSON.stringify(callSymbolName)})]()`, { filename: 'settee-view-call.js' });

/**
 * V8's wording of common syntax errors → QuickJS's, which CouchDB 3.4 (with
 * its default QuickJS engine) reports. Others keep V8's text.
 */
const quickJsMessages: ReadonlyMap<string, string> = new Map([['missing ) after argument list', "expecting ','"]]);

function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'name' in error && 'message' in error) {
    const name = String(error.name);
    const message = String(error.message);
    return `${name}: ${name === 'SyntaxError' ? (quickJsMessages.get(message) ?? message) : message}`;
  }
  try {
    return String(error);
  } catch {
    return 'an exception';
  }
}

/**
 * View code can leave a rejected promise nobody handles (`Promise.reject(…)`
 * in a map function, a throwing `async` function), and Node ends the process
 * on an unhandled rejection. Promises made by view code have their context's
 * `Promise.prototype`; such rejections are logged to their sandbox's log and
 * otherwise ignored, as couchjs ignores them. Any other unhandled rejection is
 * thrown on, as Node would without a listener, unless some other listener is
 * there to take care of it.
 */
const viewPromiseLogs = new WeakMap<object, (message: string) => void>();
let rejectionListenerInstalled = false;

function watchViewPromises(promisePrototype: object, log: (message: string) => void): void {
  viewPromiseLogs.set(promisePrototype, log);
  if (rejectionListenerInstalled) return;
  rejectionListenerInstalled = true;
  process.on('unhandledRejection', (reason: unknown, promise: Promise<unknown>) => {
    const log = viewPromiseLogs.get(Object.getPrototypeOf(promise) as object);
    if (log !== undefined) {
      log(`unhandled promise rejection in view code: ${describeError(reason)}`);
      return;
    }
    if (process.listenerCount('unhandledRejection') === 1) throw reason;
  });
}

function isTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

/** CouchDB's answer when a query server call runs too long. */
export function functionTimeout(): CouchError {
  return internalError('os_process_error', 'OS process timed out.');
}

/** CouchDB's 400 for a function that does not compile (on save, and on query for one that slipped in). */
export function compilationError(kind: FunctionKind, viewName: string, detail: string): CouchError {
  return new CouchError(400, 'compilation_error', `Compilation of the ${kind} function in the '${viewName}' view failed: ${detail}`);
}

export class ViewSandbox {
  readonly #context: vm.Context;
  readonly #api: ContextApi;
  readonly #timeoutMs: number;
  readonly #log: (message: string) => void;

  constructor(options: SandboxOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#log = options.log;
    this.#context = vm.createContext({}, { name: 'settee view functions', microtaskMode: 'afterEvaluate' });
    const boot = bootstrapScript.runInContext(this.#context, { timeout: options.timeoutMs }) as (
      hostLog: (message: string) => void,
      libJson: string,
      charsMax: number,
    ) => ContextApi;
    const log = (message: string): void => options.log(String(message));
    watchViewPromises(vm.runInContext('Promise.prototype', this.#context) as object, log);
    this.#api = boot(log, stringifyJson(options.lib ?? {}), emitCharsMax);
  }

  /** Compiles a function source; returns its handle, or throws CouchDB's `compilation_error`. */
  compile(source: string, kind: FunctionKind, viewName: string): number {
    let fn: unknown;
    try {
      const script = new vm.Script(`(${source}\n)`, { filename: `${kind} function of view ${viewName}` });
      fn = script.runInContext(this.#context, { timeout: this.#timeoutMs });
    } catch (error) {
      throw compilationError(kind, viewName, `${describeError(error)} (${source})`);
    }
    if (typeof fn !== 'function') throw compilationError(kind, viewName, `Expression does not eval to a function. (${source})`);
    return this.#api.add(fn);
  }

  /**
   * Runs the map functions `funIndexes` over documents given as JSON text;
   * one `DocEmits` per document, in order. Throws 500 `os_process_error`
   * when a single document takes longer than the timeout.
   */
  mapDocs(docsJson: readonly string[], funIndexes: readonly number[]): DocEmits[] {
    const results: DocEmits[] = [];
    for (let start = 0; start < docsJson.length; start += mapBatchDocsMax) {
      const batch = docsJson.slice(start, start + mapBatchDocsMax);
      const mapped = this.#mapBatch(batch, funIndexes);
      if (mapped !== undefined) {
        results.push(...mapped);
        continue;
      }
      // Too slow or too deep as a batch: one document at a time, so the bounds apply per document.
      for (const doc of batch) {
        const single = batch.length === 1 ? undefined : this.#mapBatch([doc], funIndexes);
        results.push(single?.[0] ?? funIndexes.map(() => null));
      }
    }
    return results;
  }

  /** Undefined when the batch timed out (and holds several documents) or its output does not parse. */
  #mapBatch(docsJson: readonly string[], funIndexes: readonly number[]): DocEmits[] | undefined {
    const input = `[${docsJson.join(',')}]`;
    const funs = [...funIndexes];
    let output: string;
    try {
      output = this.#call(() => this.#api.mapDocs(input, funs)) as string;
    } catch (error) {
      if (!isTimeout(error)) throw error;
      if (docsJson.length === 1) throw functionTimeout();
      return undefined;
    }
    try {
      return parseJson(output) as unknown as DocEmits[];
    } catch {
      if (docsJson.length === 1) this.#log('map output nested deeper than the JSON depth limit: document skipped');
      return undefined;
    }
  }

  /** Calls a JavaScript reduce function: `keys` are `[key, docId]` pairs (null on rereduce). */
  reduce(funIndex: number, keys: readonly JsonValue[] | null, values: readonly JsonValue[], rereduce: boolean): JsonValue {
    const input = stringifyJson([keys === null ? null : [...keys], [...values]]);
    let output: string;
    try {
      output = this.#call(() => this.#api.reduce(funIndex, input, rereduce)) as string;
    } catch (error) {
      throw isTimeout(error) ? functionTimeout() : error;
    }
    try {
      return parseJson(output);
    } catch {
      this.#log('reduce output nested deeper than the JSON depth limit: null instead');
      return null;
    }
  }

  #call(run: () => unknown): unknown {
    this.#api.pending.run = run;
    return callScript.runInContext(this.#context, { timeout: this.#timeoutMs });
  }
}
