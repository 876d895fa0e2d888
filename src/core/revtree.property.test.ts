/**
 * Seeded property tests of the revision tree against a brute-force model.
 *
 * Each case grows a random edit history (linear edits, branches from any
 * revision, deletions, independent first revisions, edits on tombstones), derives
 * paths from it as replicas would send them (whole or cut short, ending at
 * leaves or at inner revisions), and checks the algorithms against oracles that
 * share no code with `revtree.ts`. A failure names its seed; replay it with
 * `SETTEE_SEED=<seed> node scripts/run-tests.mjs core/revtree.property`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rev, RevNode, RevPath, RevTree } from './rev.js';
import { createPrng, seedFromEnv } from '../../test/support/prng.js';
import {
  allRevs,
  conflicts,
  decodeTree,
  encodeTree,
  leaves,
  leavesUnder,
  mergePath,
  revCount,
  revsDiff,
  stem,
  winner,
  type MergeResult,
} from './revtree.js';

const seed = seedFromEnv();
const casesPerProperty = 300;

type Random = () => number;
type Merge = (tree: RevTree, path: RevPath) => MergeResult;

/** One revision of the model: a flat record with its parent's key. */
interface Entry {
  readonly pos: number;
  readonly hash: string;
  readonly deleted: boolean;
  readonly parent: string | undefined;
}

const keyOf = (pos: number, hash: string): string => `${pos}-${hash}`;
const pick = <Item>(random: Random, items: readonly Item[]): Item => items[Math.floor(random() * items.length)]!;

/** Runs `body` for many seeded cases; a failure reports the seed that replays it. */
function forEachCase(name: string, body: (random: Random) => void): void {
  for (let index = 0; index < casesPerProperty; index++) {
    try {
      body(createPrng((seed + index * 7919) >>> 0));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      assert.fail(`${name}: failed in case ${index}; replay with SETTEE_SEED=${seed}\n${reason}`);
    }
  }
}

// ---- the model: random histories and the paths replicas send -----------------

function randomHash(random: Random): string {
  const alphabet = '0123456789abcdef';
  const length = 1 + Math.floor(random() * 2);
  let hash = '';
  for (let index = 0; index < length; index++) hash += pick(random, [...alphabet]);
  return hash;
}

/** A random edit history; short hashes make equal hashes at different generations common. */
function randomHistory(random: Random): Map<string, Entry> {
  const history = new Map<string, Entry>();
  const add = (pos: number, parent: string | undefined, deleted: boolean): void => {
    for (;;) {
      const hash = randomHash(random);
      if (history.has(keyOf(pos, hash))) continue;
      history.set(keyOf(pos, hash), { pos, hash, deleted, parent });
      return;
    }
  };
  add(1, undefined, false);
  const steps = Math.floor(random() * 30);
  for (let step = 0; step < steps; step++) {
    const roll = random();
    const keys = [...history.keys()];
    const parentKey = roll < 0.05 ? undefined : roll < 0.3 ? pick(random, keys) : pick(random, leafKeys(history));
    const parentPos = parentKey === undefined ? 0 : history.get(parentKey)!.pos;
    add(parentPos + 1, parentKey, random() < 0.15);
  }
  return history;
}

function leafKeys(entries: ReadonlyMap<string, Entry>): string[] {
  const parents = new Set([...entries.values()].map((entry) => entry.parent));
  return [...entries.keys()].filter((key) => !parents.has(key));
}

/** The path to `key`, newest first, at most `length` revisions long. */
function pathTo(history: ReadonlyMap<string, Entry>, key: string, length = Infinity): RevPath {
  const newest = history.get(key)!;
  const hashes: string[] = [];
  for (let at: string | undefined = key; at !== undefined && hashes.length < length; at = history.get(at)!.parent) {
    hashes.push(history.get(at)!.hash);
  }
  return { pos: newest.pos, hashes, deleted: newest.deleted };
}

/** Paths to every leaf (whole or cut short) plus, unless `leavesOnly`, some to inner revisions. */
function randomPaths(random: Random, history: ReadonlyMap<string, Entry>, options: { leavesOnly: boolean }): RevPath[] {
  const cut = (): number => (random() < 0.5 ? Infinity : 1 + Math.floor(random() * 4));
  const paths = leafKeys(history).map((key) => pathTo(history, key, cut()));
  const extra = options.leavesOnly ? 0 : Math.floor(random() * 6);
  for (let index = 0; index < extra; index++) paths.push(pathTo(history, pick(random, [...history.keys()]), cut()));
  return paths;
}

function shuffled<Item>(random: Random, items: readonly Item[]): Item[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

// ---- oracles: flat maps, plain recursion, no code from revtree.ts ------------

const byHash = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The canonical forest holding `entries` (a parent outside `entries` makes a root). */
function forestOf(entries: ReadonlyMap<string, Entry>): RevTree {
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const [key, entry] of entries) {
    if (entry.parent !== undefined && entries.has(entry.parent)) {
      children.set(entry.parent, [...(children.get(entry.parent) ?? []), key]);
    } else roots.push(key);
  }
  const build = (key: string): RevNode => {
    const entry = entries.get(key)!;
    const below = (children.get(key) ?? []).map(build).sort((a, b) => byHash(a.hash, b.hash));
    return { hash: entry.hash, deleted: entry.deleted, children: below };
  };
  return roots
    .map((key) => ({ pos: entries.get(key)!.pos, node: build(key) }))
    .sort((a, b) => a.pos - b.pos || byHash(a.node.hash, b.node.hash));
}

/** The flat entries of a tree (the inverse of forestOf). */
function entriesOf(tree: RevTree): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const visit = (node: RevNode, pos: number, parent: string | undefined): void => {
    const key = keyOf(pos, node.hash);
    assert.ok(!entries.has(key), `revision ${key} appears twice`);
    entries.set(key, { pos, hash: node.hash, deleted: node.deleted, parent });
    for (const child of node.children) visit(child, pos + 1, key);
  };
  for (const root of tree) visit(root.node, root.pos, undefined);
  return entries;
}

/** Generations from each entry down to its nearest leaf. */
function leafDistances(entries: ReadonlyMap<string, Entry>): Map<string, number> {
  const distances = new Map<string, number>();
  for (const key of leafKeys(entries)) {
    let distance = 0;
    for (let at: string | undefined = key; at !== undefined; at = entries.get(at)?.parent) {
      if (!entries.has(at)) break;
      distances.set(at, Math.min(distances.get(at) ?? Infinity, distance++));
    }
  }
  return distances;
}

/** What merging `path` into a tree holding `entries` must report. */
function expectedOutcome(entries: ReadonlyMap<string, Entry>, path: RevPath): string {
  const index = path.hashes.findIndex((hash, at) => entries.has(keyOf(path.pos - at, hash)));
  if (index === 0) return 'known';
  if (index === -1) return entries.size === 0 ? 'new_leaf' : 'new_branch';
  const meet = keyOf(path.pos - index, path.hashes[index]!);
  return leafKeys(entries).includes(meet) ? 'new_leaf' : 'new_branch';
}

/** `entries` with `path` added: new revisions get the path's flag (newest) or live. */
function withPath(entries: ReadonlyMap<string, Entry>, path: RevPath): Map<string, Entry> {
  const next = new Map(entries);
  path.hashes.forEach((hash, index) => {
    const key = keyOf(path.pos - index, hash);
    const parentHash = path.hashes[index + 1];
    const parent = parentHash === undefined ? next.get(key)?.parent : keyOf(path.pos - index - 1, parentHash);
    const deleted = next.get(key)?.deleted ?? (index === 0 && path.deleted);
    next.set(key, { pos: path.pos - index, hash, deleted, parent });
  });
  return next;
}

const formatted = (revs: readonly Rev[]): string[] => revs.map((rev) => keyOf(rev.pos, rev.hash));

/** The winner order, by brute force. */
function rankedLeaves(entries: ReadonlyMap<string, Entry>): Entry[] {
  return leafKeys(entries)
    .map((key) => entries.get(key)!)
    .sort((a, b) => Number(a.deleted) - Number(b.deleted) || b.pos - a.pos || byHash(b.hash, a.hash));
}

// ---- properties ---------------------------------------------------------------

/** Merges every path in turn, checking each outcome and that the tree is exactly the union. */
function checkMergeIsUnion(merge: Merge, random: Random): RevTree {
  const history = randomHistory(random);
  let tree: RevTree = [];
  let union = new Map<string, Entry>();
  for (const path of shuffled(random, randomPaths(random, history, { leavesOnly: false }))) {
    const result = merge(tree, path);
    assert.equal(result.outcome, expectedOutcome(union, path), `outcome of ${JSON.stringify(path)}`);
    union = withPath(union, path);
    assert.deepEqual(result.tree, forestOf(union), `tree after ${JSON.stringify(path)}`);
    tree = result.tree;
  }
  return tree;
}

test('merging builds exactly the union of the paths: no revision lost, none invented', () => {
  forEachCase('union', (random) => {
    checkMergeIsUnion(mergePath, random);
  });
});

test('merge order changes neither the tree nor the winner', () => {
  forEachCase('order', (random) => {
    const history = randomHistory(random);
    const paths = randomPaths(random, history, { leavesOnly: true });
    const one = shuffled(random, paths).reduce<RevTree>((tree, path) => mergePath(tree, path).tree, []);
    const other = shuffled(random, paths).reduce<RevTree>((tree, path) => mergePath(tree, path).tree, []);
    assert.deepEqual(one, other);
    assert.deepEqual(winner(one), winner(other));
  });
});

test('merging a known path again is known and changes nothing', () => {
  forEachCase('idempotence', (random) => {
    const history = randomHistory(random);
    const paths = randomPaths(random, history, { leavesOnly: false });
    const tree = paths.reduce<RevTree>((acc, path) => mergePath(acc, path).tree, []);
    for (const path of paths) {
      const again = mergePath(tree, path);
      assert.equal(again.outcome, 'known');
      assert.equal(again.tree, tree);
    }
  });
});

test('stemming keeps every leaf and exactly the revisions within the limit of one', () => {
  forEachCase('stem', (random) => {
    const tree = checkMergeIsUnion(mergePath, random);
    checkStem(stem, tree, 1 + Math.floor(random() * 5));
  });
});

function checkStem(stemTree: typeof stem, tree: RevTree, limit: number): void {
  const entries = entriesOf(tree);
  const distances = leafDistances(entries);
  const kept = new Map([...entries].filter(([key]) => distances.get(key)! < limit));
  const result = stemTree(tree, limit);
  assert.deepEqual(result.tree, forestOf(kept), `stem at ${limit}`);
  const expectedRemoved = [...entries.keys()].filter((key) => !kept.has(key));
  assert.deepEqual(new Set(formatted(result.removed)), new Set(expectedRemoved));
  assert.deepEqual(leaves(result.tree).map((leaf) => leaf.hash), leaves(tree).map((leaf) => leaf.hash));
  for (const leaf of leaves(result.tree)) {
    const before = leaves(tree).find((each) => each.pos === leaf.pos && each.hash === leaf.hash)!;
    assert.ok(leaf.path.length >= Math.min(limit, before.path.length), 'a leaf keeps `limit` generations');
  }
  assert.equal(stemTree(result.tree, limit).tree, result.tree, 'stemming twice changes nothing more');
}

test('merging and stemming in turn keeps the leaves and the revisions near them', () => {
  forEachCase('interleaved stem', (random) => {
    const history = randomHistory(random);
    const limit = 1 + Math.floor(random() * 4);
    const paths = leafKeys(history).map((key) => pathTo(history, key, limit + Math.floor(random() * 3)));
    let tree: RevTree = [];
    for (const path of shuffled(random, paths)) tree = stem(mergePath(tree, path).tree, limit).tree;
    const all = stem(paths.reduce<RevTree>((acc, path) => mergePath(acc, path).tree, []), limit).tree;
    assert.deepEqual(formatted(allRevs(tree)), formatted(allRevs(all)));
    assert.deepEqual(leaves(tree).map((leaf) => leaf.hash), leaves(all).map((leaf) => leaf.hash));
  });
});

test('leaves, winner and conflicts follow CouchDB order', () => {
  forEachCase('winner', (random) => {
    const tree = checkMergeIsUnion(mergePath, random);
    const entries = entriesOf(tree);
    const ranked = rankedLeaves(entries);
    assert.deepEqual(leaves(tree).map((leaf) => keyOf(leaf.pos, leaf.hash)), ranked.map((e) => keyOf(e.pos, e.hash)));
    for (const leaf of leaves(tree)) {
      let at: string | undefined = keyOf(leaf.pos, leaf.hash);
      for (const hash of leaf.path) {
        assert.equal(entries.get(at!)!.hash, hash, 'a leaf path runs back to its root');
        at = entries.get(at!)!.parent;
      }
      assert.equal(at, undefined, 'a leaf path ends at a root');
    }
    const rest = ranked.slice(1);
    assert.deepEqual(conflicts(tree), {
      conflicts: rest.filter((e) => !e.deleted).map((e) => keyOf(e.pos, e.hash)),
      deletedConflicts: rest.filter((e) => e.deleted).map((e) => keyOf(e.pos, e.hash)),
    });
  });
});

test('revsDiff and leavesUnder agree with brute force', () => {
  forEachCase('queries', (random) => {
    const tree = checkMergeIsUnion(mergePath, random);
    const entries = entriesOf(tree);
    const asked: Rev[] = Array.from({ length: 1 + Math.floor(random() * 6) }, () =>
      random() < 0.5 ? entries.get(pick(random, [...entries.keys()]))! : { pos: 1 + Math.floor(random() * 8), hash: randomHash(random) },
    );
    const missing = [...new Set(formatted(asked))].filter((key) => !entries.has(key));
    const diff = revsDiff(tree, asked);
    assert.deepEqual(new Set(formatted(diff.missing)), new Set(missing));
    assert.equal(diff.missing.length, missing.length);
    const newest = Math.max(0, ...diff.missing.map((rev) => rev.pos));
    const ancestors = missing.length === 0 ? [] : rankedLeaves(entries).filter((leaf) => leaf.pos < newest);
    assert.deepEqual(formatted(diff.possibleAncestors), formatted(ancestors));
    const under = pick(random, [...entries.keys()]);
    const expectedUnder = leafKeys(entries).filter((leaf) => {
      for (let at: string | undefined = leaf; at !== undefined; at = entries.get(at)!.parent) if (at === under) return true;
      return false;
    });
    const entry = entries.get(under)!;
    assert.deepEqual(new Set(formatted(leavesUnder(tree, entry))), new Set(expectedUnder));
    assert.equal(revCount(tree), entries.size);
  });
});

test('encodeTree and decodeTree round-trip every tree', () => {
  forEachCase('codec', (random) => {
    const tree = checkMergeIsUnion(mergePath, random);
    for (const each of [tree, stem(tree, 1 + Math.floor(random() * 3)).tree]) {
      const text = encodeTree(each);
      assert.deepEqual(decodeTree(text), each);
      assert.equal(encodeTree(decodeTree(text)), text);
    }
  });
});

// ---- canaries: the checkers above must catch a broken implementation ----------

/** A merge that loses one revision (a leaf) once the tree has a few. */
function mergeDroppingALeaf(tree: RevTree, path: RevPath): MergeResult {
  const result = mergePath(tree, path);
  const entries = entriesOf(result.tree);
  if (entries.size < 4) return result;
  const victim = leafKeys(entries).sort()[0]!;
  entries.delete(victim);
  return { tree: forestOf(entries), outcome: result.outcome };
}

test('canary: the union checker catches a merge that drops a revision', () => {
  assert.throws(() => forEachCase('canary merge', (random) => void checkMergeIsUnion(mergeDroppingALeaf, random)), /replay with SETTEE_SEED=/);
});

test('canary: the stem checker catches stemming one generation too deep', () => {
  const stemTooMuch: typeof stem = (tree, limit) => stem(tree, Math.max(1, limit - 1));
  assert.throws(
    () => forEachCase('canary stem', (random) => checkStem(stemTooMuch, checkMergeIsUnion(mergePath, random), 2 + Math.floor(random() * 3))),
    /replay with SETTEE_SEED=/,
  );
});
