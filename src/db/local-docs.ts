/**
 * `_local` documents: never replicated, no revision tree, revisions `0-N`
 * counting updates, and no conflict check (CouchDB 3.x: a write without `_rev`
 * overwrites and restarts at `0-1`; any `0-N` is accepted and gives `0-(N+1)`).
 */
import { CouchError, notFound } from '../core/errors.js';
import type { JsonObject } from '../core/json-value.js';
import { stringifyJson } from '../core/json-write.js';
import type { DatabaseStore, LocalDoc } from '../storage/engine.js';
import { validateLocalId } from './names.js';

export interface LocalWriteResult {
  readonly id: string;
  readonly rev: string;
}

const localRevPattern = /^0-([0-9]{1,15})$/;

/** The generation of a `0-N` revision; CouchDB answers other forms with `Invalid rev format`. */
export function parseLocalRev(rev: unknown): number {
  if (typeof rev === 'string') {
    const match = localRevPattern.exec(rev);
    if (match !== null) return Number(match[1]);
  }
  // CouchDB answers 500 here; Settee keeps the error name with a clean 400.
  throw new CouchError(400, 'error', 'Invalid rev format');
}

export async function readLocal(store: DatabaseStore, id: string): Promise<LocalDoc> {
  validateLocalId(id);
  const doc = await store.getLocal(id);
  if (doc === undefined) throw notFound('missing');
  return doc;
}

export interface LocalPut {
  readonly id: string;
  /** `_rev` given by the client, if any. */
  readonly rev: unknown;
  readonly body: JsonObject;
  /** `new_edits=false`: answer the given rev (CouchDB stores one more). */
  readonly replicated?: boolean;
}

export async function writeLocal(store: DatabaseStore, put: LocalPut): Promise<LocalWriteResult> {
  validateLocalId(put.id);
  const given = put.rev === undefined || put.rev === null ? 0 : parseLocalRev(put.rev);
  const stored = given + 1;
  await store.putLocal({ id: put.id, rev: stored, json: stringifyJson(put.body) });
  return { id: put.id, rev: `0-${put.replicated === true && given > 0 ? given : stored}` };
}

export async function removeLocal(store: DatabaseStore, id: string): Promise<LocalWriteResult> {
  validateLocalId(id);
  const existed = await store.deleteLocal(id);
  if (!existed) throw notFound('missing');
  return { id, rev: '0-0' };
}

export function renderLocal(doc: LocalDoc): string {
  const inner = doc.json.length <= 2 ? '' : `,${doc.json.slice(1, -1)}`;
  return `{"_id":${stringifyJson(doc.id)},"_rev":"0-${doc.rev}"${inner}}`;
}
