/**
 * Building blocks for the compliance suite: revision trees, writes and an
 * engine per test. Trees are built by hand here so the suite depends on no
 * revision-tree algorithm: storage must round-trip whatever `db/` computed.
 */
import type { RevNode, RevTree } from '../../core/rev.js';
import type { DatabaseProperties, DatabaseStore, DocWrite, RevisionBody, StorageEngine } from '../engine.js';

export interface EngineFixture {
  readonly engine: StorageEngine;
  cleanup(): Promise<void>;
  /**
   * Closes `engine` (if not yet closed) and opens a new engine on the same
   * storage. Required when `capabilities.persistent` is true.
   */
  reopen?(): Promise<StorageEngine>;
}

export type EngineFactory = () => Promise<EngineFixture>;

export const defaultProperties: DatabaseProperties = Object.freeze({
  revsLimit: 1000,
  securityJson: '{}',
  purgedInfosLimit: 1000,
});

/** A deterministic 32-hex revision hash from a label. */
export function hash(label: string): string {
  let text = '';
  for (const char of label) text += char.codePointAt(0)?.toString(16) ?? '';
  return text.padStart(32, '0').slice(-32);
}

export function node(hashText: string, children: readonly RevNode[] = [], deleted = false): RevNode {
  return { hash: hashText, deleted, children: [...children].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0)) };
}

/** A one-branch tree; `hashes` newest first, the newest at generation `pos`. */
export function linearTree(pos: number, hashes: readonly string[], deleted = false): RevTree {
  let current: RevNode | undefined;
  hashes.forEach((hashText, index) => {
    current = node(hashText, current === undefined ? [] : [current], index === 0 && deleted);
  });
  if (current === undefined) throw new Error('linearTree needs at least one hash');
  return [{ pos: pos - hashes.length + 1, node: current }];
}

export function body(rev: string, value: unknown = { rev }): RevisionBody {
  return { rev, json: JSON.stringify(value), attachmentsJson: '{}' };
}

export function docWrite(fields: {
  id: string;
  tree: RevTree;
  winningRev: string;
  deleted?: boolean;
  newBodies?: readonly RevisionBody[];
  removedRevs?: readonly string[];
}): DocWrite {
  return {
    id: fields.id,
    tree: fields.tree,
    winningRev: fields.winningRev,
    deleted: fields.deleted ?? false,
    newBodies: fields.newBodies ?? [],
    removedRevs: fields.removedRevs ?? [],
  };
}

/** A first revision `1-<hash(id)>` with a body. */
export function firstRevision(id: string, options: { deleted?: boolean; value?: unknown } = {}): DocWrite {
  const rev = `1-${hash(id)}`;
  return docWrite({
    id,
    tree: linearTree(1, [hash(id)], options.deleted ?? false),
    winningRev: rev,
    deleted: options.deleted ?? false,
    newBodies: [body(rev, options.value ?? { id })],
  });
}

/** Code-point order, which is not JavaScript's UTF-16 `<` beyond the BMP. */
export function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    const difference = (left[index]?.codePointAt(0) ?? 0) - (right[index]?.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/** Runs `body` with a fresh engine and database, always cleaning up. */
export async function withDatabase(
  factory: EngineFactory,
  action: (context: { fixture: EngineFixture; engine: StorageEngine; store: DatabaseStore }) => Promise<void>,
  properties: DatabaseProperties = defaultProperties,
): Promise<void> {
  await withEngine(factory, async (fixture) => {
    await fixture.engine.createDatabase('db', properties);
    const store = await fixture.engine.openDatabase('db');
    await action({ fixture, engine: fixture.engine, store });
  });
}

export async function withEngine(factory: EngineFactory, action: (fixture: EngineFixture) => Promise<void>): Promise<void> {
  const fixture = await factory();
  try {
    await action(fixture);
  } finally {
    await fixture.cleanup();
  }
}

/** Asserts that `promise` rejects with a CouchError of the given status and name. */
export async function rejectsWith(promise: Promise<unknown>, status: number, error: string): Promise<void> {
  let settled: unknown = undefined;
  try {
    await promise;
  } catch (caught) {
    settled = caught;
  }
  const couch = settled as { status?: unknown; error?: unknown } | undefined;
  if (couch?.status !== status || couch.error !== error) {
    throw new Error(`expected rejection ${status} ${error}, got ${settled === undefined ? 'success' : String(settled)}`);
  }
}
