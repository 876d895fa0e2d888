/**
 * Revision ids and the shapes of a revision tree, shared by `core/revtree.ts`
 * (the algorithms), storage (which persists trees) and `db` (the policy).
 *
 * A revision id is `<pos>-<hash>`: `pos` counts generations from the document's
 * first revision (1), `hash` is 32 lowercase hex digits for revisions CouchDB or
 * Settee made, or any other text for revisions made by other systems.
 */
import { invalidRevFormat } from './errors.js';

export interface Rev {
  readonly pos: number;
  readonly hash: string;
}

/**
 * One node of a revision tree. `deleted` is true for a tombstone revision.
 * Ancestors that arrived only as ids in a replicated `_revisions` history are
 * recorded with `deleted: false`.
 */
export interface RevNode {
  readonly hash: string;
  readonly deleted: boolean;
  /** Children sorted ascending by hash, so equal trees are structurally equal. */
  readonly children: readonly RevNode[];
}

/** A root of the forest: its node sits at generation `pos` (> 1 once stemmed). */
export interface RevTreeRoot {
  readonly pos: number;
  readonly node: RevNode;
}

/** A document's revision forest, roots sorted ascending by (pos, hash). */
export type RevTree = readonly RevTreeRoot[];

/**
 * A linear history ending at one revision: `hashes[0]` is the revision itself at
 * generation `pos`, `hashes[1]` its parent at `pos - 1`, and so on (the order of
 * `_revisions.ids`). `deleted` applies to the newest revision only.
 */
export interface RevPath {
  readonly pos: number;
  readonly hashes: readonly string[];
  readonly deleted: boolean;
}

/** A leaf of the tree with the history that leads to it. */
export interface RevLeaf {
  readonly pos: number;
  readonly hash: string;
  readonly deleted: boolean;
  /** Hashes from this leaf back to its root, newest first. */
  readonly path: readonly string[];
}

export function formatRev(rev: Rev): string {
  return `${rev.pos}-${rev.hash}`;
}

const decimalPattern = /^[0-9]+$/;
const hexPattern = /^[0-9a-fA-F]{32}$/;

/** Parses `N-hash`; undefined when malformed (callers decide the error). */
export function tryParseRev(text: unknown): Rev | undefined {
  if (typeof text !== 'string') return undefined;
  const dash = text.indexOf('-');
  if (dash <= 0 || dash === text.length - 1) return undefined;
  const posText = text.slice(0, dash);
  if (!decimalPattern.test(posText) || posText.length > 15) return undefined;
  const pos = Number(posText);
  let hash = text.slice(dash + 1);
  // A 32-character hash is CouchDB's hex form: it must be hex, and is kept lowercase.
  if (hash.length === 32 && pos !== 0) {
    if (!hexPattern.test(hash)) return undefined;
    hash = hash.toLowerCase();
  }
  return { pos, hash };
}

/** Parses `N-hash` or throws CouchDB's 400 `Invalid rev format`. */
export function parseRev(text: unknown): Rev {
  const rev = tryParseRev(text);
  if (rev === undefined) throw invalidRevFormat();
  return rev;
}

/** Revisions in CouchDB's order: by position, then hash as a string. */
export function compareRevs(a: Rev, b: Rev): number {
  if (a.pos !== b.pos) return a.pos - b.pos;
  return a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0;
}
