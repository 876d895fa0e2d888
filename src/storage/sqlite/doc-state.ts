/**
 * What the write path needs to know about a document's current row, and a
 * memo of it filled by reads so that writes need not read the row again.
 *
 * A document row carries `body_refs`: for each *leaf* revision whose body is
 * stored, the rowid of that body in `bodies` and its size in bytes (as
 * CouchDB's tree keeps disk pointers); refs of revisions that stopped being
 * leaves go to `inner_refs`, text that writes only append to, so an update
 * never decodes a ref list that grows with the document's history. Bodies are appended under increasing rowids, so
 * storing one dirties the table's last page only, not a random page of an
 * (id, rev) index.
 *
 * The writer reads records (`getDocs` with `forUpdate`) just before it writes
 * them (`write`): such a read remembers each id's row state here, and a write uses it instead of
 * a SELECT per document. The memo is only trusted while nothing can have
 * changed the file: every write transaction on the connection empties it
 * first, and it is dropped if another connection committed to the file
 * (`PRAGMA data_version`). A memo that is wrong would corrupt counts and body
 * pointers, so anything uncertain falls back to reading the row.
 */
import type { Connection } from './pool.js';

/** A stored body: where it is and how many bytes it holds (json + attachments). */
export interface BodyRef {
  readonly rowid: number;
  readonly bytes: number;
}

/** A document's current row, as the write path needs it. */
export interface RowState {
  readonly seq: number;
  readonly deleted: boolean;
  readonly activeBytes: number;
  /** `body_refs` as stored (decoded only when a write needs it). */
  readonly bodyRefsText: string;
  /** `inner_refs` as stored (decoded only by stemming, purge and compaction). */
  readonly innerRefsText: string;
}

/** Row states remembered per id; `null` records that the id has no row. */
interface Memo {
  dataVersion: number;
  readonly states: Map<string, RowState | null>;
}

/** Ids remembered at most; beyond it the memo restarts (reads without writes must not grow it). */
const memoIdsMax = 4096;

const memos = new WeakMap<Connection, Memo>();

/** Changes whenever another connection commits to the file; read it before the rows a memo records. */
export function dataVersion(connection: Connection): number {
  return connection.statement('PRAGMA data_version').pluck().get() as number;
}

/** Remembers the row states a read saw after `dataVersion` returned `version`. */
export function rememberStates(connection: Connection, version: number, states: ReadonlyMap<string, RowState | null>): void {
  let memo = memos.get(connection);
  if (memo === undefined || memo.dataVersion !== version || memo.states.size + states.size > memoIdsMax) {
    memo = { dataVersion: version, states: new Map() };
    memos.set(connection, memo);
  }
  if (states.size > memoIdsMax) return;
  for (const [id, state] of states) memo.states.set(id, state);
}

/**
 * Takes the memo for a write transaction (call inside it, before changing
 * anything) and forgets it, since the transaction changes what it describes.
 */
export function takeStates(connection: Connection): ReadonlyMap<string, RowState | null> {
  const memo = memos.get(connection);
  if (memo === undefined) return new Map();
  memos.delete(connection);
  return memo.dataVersion === dataVersion(connection) ? memo.states : new Map();
}

/** Forgets the memo (before any transaction that changes rows without using it). */
export function forgetStates(connection: Connection): void {
  memos.delete(connection);
}

/** `body_refs` text: a flat JSON array `[rev, rowid, bytes, rev, rowid, bytes, …]`. */
export function decodeBodyRefs(text: string): Map<string, BodyRef> {
  const refs = new Map<string, BodyRef>();
  const flat = JSON.parse(text) as (string | number)[];
  for (let index = 0; index + 2 < flat.length; index += 3) {
    refs.set(flat[index] as string, { rowid: flat[index + 1] as number, bytes: flat[index + 2] as number });
  }
  return refs;
}

export function encodeBodyRefs(refs: ReadonlyMap<string, BodyRef>): string {
  const flat: (string | number)[] = [];
  for (const [rev, ref] of refs) flat.push(rev, ref.rowid, ref.bytes);
  return JSON.stringify(flat);
}

export const noBodyRefs = '[]';

/**
 * `inner_refs` text: `"rev",rowid,"rev",rowid…`, the members of a JSON array
 * without its brackets, so that a write appends a ref without decoding the
 * others. Empty for none.
 */
export function decodeInnerRefs(text: string): Map<string, number> {
  const refs = new Map<string, number>();
  if (text.length === 0) return refs;
  const flat = JSON.parse(`[${text}]`) as (string | number)[];
  for (let index = 0; index + 1 < flat.length; index += 2) refs.set(flat[index] as string, flat[index + 1] as number);
  return refs;
}

export function appendInnerRef(text: string, rev: string, rowid: number): string {
  const entry = `${JSON.stringify(rev)},${rowid}`;
  return text.length === 0 ? entry : `${text},${entry}`;
}

export function encodeInnerRefs(refs: ReadonlyMap<string, number>): string {
  let text = '';
  for (const [rev, rowid] of refs) text = appendInnerRef(text, rev, rowid);
  return text;
}
