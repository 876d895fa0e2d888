/**
 * Compiling a design document's view functions when it is saved, as CouchDB
 * does (`couch_mrview:validate`): a map or JavaScript reduce function that
 * does not compile makes the write a 400 `compilation_error`, so broken views
 * are refused up front instead of failing on every query. Builtin reduces
 * (`_sum`, …) were already checked by `db/design-doc.ts`. Design documents in
 * other languages are accepted unchecked, as CouchDB accepts them.
 *
 * Each check compiles in a fresh sandbox, so evaluating one document's
 * functions cannot leave state behind for another.
 */
import type { JsonObject } from '../core/json-value.js';
import { readDesign, supportedLanguage } from './design.js';
import { ViewSandbox } from './sandbox.js';

export interface DesignCheckOptions {
  /** Bound on evaluating each function expression (`viewFunctionTimeoutMs`). */
  readonly timeoutMs: number;
}

/** Throws 400 `compilation_error` for the first view function of `body` that does not compile. */
export function checkViewFunctions(docId: string, body: JsonObject, options: DesignCheckOptions): void {
  const design = readDesign(docId, body);
  if (design.language !== supportedLanguage || design.views.size === 0) return;
  const sandbox = new ViewSandbox({ timeoutMs: options.timeoutMs, log: () => undefined, ...(design.lib ? { lib: design.lib } : {}) });
  for (const view of design.views.values()) {
    sandbox.compile(design.mapSources[view.mapIndex] ?? '', 'map', view.name);
    if (view.reduce !== undefined && !view.reduce.startsWith('_')) sandbox.compile(view.reduce, 'reduce', view.name);
  }
}
