/**
 * Revision trees: the edit history of one document, and the pure algorithms
 * over it (merge, stem, leaves and the winner, lookups). Policy lives in `db/`:
 * whether a merge outcome is a 409, when to stem, which body to serve.
 *
 * ## Representation
 *
 * Every revision is a node `{hash, deleted, children}`; its generation `pos` is
 * not stored but counted from its root. A tree is a forest of roots `{pos,
 * node}`: a document starts with one root at pos 1, and has several when two
 * replicas created it independently or when stemming cut a branched history
 * apart (then roots sit at pos > 1). A revision is identified by (pos, hash),
 * and no (pos, hash) occurs twice in a tree. Children are kept ascending by hash
 * and roots ascending by (pos, hash), hashes compared by code point as CouchDB
 * compares binaries, so two trees holding the same history are deepEqual and
 * encode to the same text. Trees are immutable: every operation returns a new
 * tree that shares the subtrees it did not touch, and returns its input
 * unchanged (`===`) when there is nothing to change. All traversals keep an
 * explicit stack (`revtree-walk.ts`) because histories may be deeper than the
 * call stack. The stored encoding is in `revtree-codec.ts`.
 *
 * ## Merging a path (CouchDB's couch_key_tree:merge)
 *
 * A write or a replicated revision arrives as a path: a revision and its
 * ancestors, newest first. Merging takes the union of the tree and the path,
 * where a revision is the same revision if its (pos, hash) is. The path's
 * newest revision that the tree already knows is where the two meet: the
 * revisions newer than it hang below it as a new chain. The outcome tells the
 * caller what happened, named after CouchDB's results:
 * - `new_leaf`: the meeting point was a leaf (an ordinary edit), or the tree
 *   was empty (a new document);
 * - `new_branch`: the meeting point had children (a conflicting edit), or the
 *   path shares nothing with a non-empty tree and becomes a new root;
 * - `known` (CouchDB: `internal_node`): the newest revision is already there.
 *
 * The path may also reach further back than the root it meets, because that
 * root was stemmed or arrived from a shorter history. Like CouchDB, the merge
 * then restores those ancestors: the root moves back to the path's start, and
 * if an ancestor is itself part of another root (a branch that stemming cut
 * off), that root and this one join again. This happens even when the outcome
 * is `known`, so `known` does not promise an unchanged tree; `result.tree ===
 * tree` does. Restored ancestors within `_revs_limit` survive the stemming
 * that follows every update. (couch_key_tree restores them for a known
 * revision too, but couch_db never gets there: in a `new_edits=false` batch it
 * skips every revision that is not a new leaf before merging. Callers that want
 * its behaviour ignore the tree of a `known` merge.)
 *
 * Where CouchDB could keep the same revision twice, Settee keeps the tree:
 * CouchDB merges into the first root the path lines up with, so a path that
 * lines up with one root and also runs through a separate, stemmed root
 * duplicates that root's revisions until the next stem repairs it, and a path
 * that claims a different parent for a known revision adds a second copy.
 * Settee takes the union instead, which is what CouchDB's tree becomes after
 * the stem that follows every merge, and where a path contradicts the tree
 * about a known revision's ancestors it believes the tree and ignores the
 * path's older part.
 *
 * New revisions take `deleted` from the path for its newest revision and
 * `false` for ancestors; revisions already present keep their flag.
 *
 * ## Stemming (couch_key_tree:stem)
 *
 * `_revs_limit` N keeps, for every leaf, the leaf and its N - 1 nearest
 * ancestors: a revision survives if some leaf below it is fewer than N
 * generations away. A survivor whose parent did not survive becomes a root, so
 * a branch point far from all leaves turns one root into several. (CouchDB's
 * stem falls back to a repair when one hash occurs twice in a tree, even at
 * different generations such as `1-abc` and `2-abc`: it rebuilds the tree from
 * each leaf's history cut to N, which can detach a survivor from a parent kept
 * alive by another leaf. Settee always applies the rule above.)
 *
 * ## Leaves and the winner (couch_doc:to_doc_info)
 *
 * Leaves are listed in CouchDB's winner order, descending by (not deleted, pos,
 * hash): a live leaf beats a tombstone, then the longer history, then the
 * greater hash. The first is the winner; `_conflicts` and `_deleted_conflicts`
 * are the other live and deleted leaves, in the same order.
 */
import assert from 'node:assert/strict';
import type { Rev, RevLeaf, RevNode, RevPath, RevTree, RevTreeRoot } from './rev.js';
import { formatRev } from './rev.js';
import {
  compareHashes,
  findRoute,
  foldUp,
  insertChild,
  insertRoot,
  makeNode,
  rebuildRoute,
  revKey,
  revKeys,
  walk,
  walkTree,
  type Route,
} from './revtree-walk.js';

export { compareHashes } from './revtree-walk.js';
export { decodeTree, encodeTree } from './revtree-codec.js';

export type MergeOutcome = 'new_leaf' | 'new_branch' | 'known';

export interface MergeResult {
  readonly tree: RevTree;
  readonly outcome: MergeOutcome;
}

export function mergePath(tree: RevTree, path: RevPath): MergeResult {
  assertPath(path);
  const known = knownInPath(tree, path);
  const meetIndex = known.indexOf(true);
  if (meetIndex === -1) {
    return { tree: insertRoot(tree, treeFromPath(path)[0]!), outcome: tree.length === 0 ? 'new_leaf' : 'new_branch' };
  }
  const meet = findRoute(tree, path.pos - meetIndex, path.hashes[meetIndex]!);
  assert(meet !== undefined, 'a known revision has a route');
  const meetNode = meet.nodes[meet.nodes.length - 1]!;
  if (meetIndex === 0) {
    const restored = restoreAncestors(tree, meet, meet.nodes[0]!, path, known);
    return { tree: restored ?? tree, outcome: 'known' };
  }
  const grown = insertChild(meetNode, newerRevisions(path, meetIndex));
  const restored = restoreAncestors(tree, meet, rebuildRoute(meet.nodes, grown), path, known);
  assert(restored !== undefined, 'a grown root is always returned');
  return { tree: restored, outcome: meetNode.children.length === 0 ? 'new_leaf' : 'new_branch' };
}

/** A tree holding just `path`, one root at the path's first generation. */
export function treeFromPath(path: RevPath): RevTree {
  assertPath(path);
  const newest = makeNode(path.hashes[0]!, path.deleted, []);
  return [{ pos: path.pos - path.hashes.length + 1, node: wrapInAncestors(newest, path, 1, path.hashes.length) }];
}

function assertPath(path: RevPath): void {
  assert(path.hashes.length > 0, 'a revision path holds at least one revision');
  assert(Number.isSafeInteger(path.pos) && path.pos >= path.hashes.length, 'a revision path starts at pos >= 1');
}

/** The chain of the path's revisions newer than `hashes[meetIndex]`, oldest on top. */
function newerRevisions(path: RevPath, meetIndex: number): RevNode {
  return wrapInAncestors(makeNode(path.hashes[0]!, path.deleted, []), path, 1, meetIndex);
}

/** Puts `node` below new nodes for `path.hashes[from..to)`, the parent of `node` first. */
function wrapInAncestors(node: RevNode, path: RevPath, from: number, to: number): RevNode {
  let current = node;
  for (let index = from; index < to; index++) current = makeNode(path.hashes[index]!, false, [current]);
  return current;
}

/**
 * Replaces the root of `route` with `rootNode` and extends it backward with
 * the path's older revisions, joining the roots they lead into. Returns
 * undefined when nothing changed at all (`rootNode` is the old root node and
 * the path adds no ancestors).
 */
function restoreAncestors(
  tree: RevTree,
  route: Route,
  rootNode: RevNode,
  path: RevPath,
  known: readonly boolean[],
): RevTree | undefined {
  const start = path.pos - path.hashes.length + 1;
  let others = tree.filter((_, index) => index !== route.rootIndex);
  let root: RevTreeRoot = { pos: tree[route.rootIndex]!.pos, node: rootNode };
  let along = route.nodes;
  while (start < root.pos && agrees(path, root.pos, along)) {
    const parentIndex = path.pos - (root.pos - 1);
    const joinIndex = known.indexOf(true, parentIndex);
    if (joinIndex === -1) {
      root = { pos: start, node: wrapInAncestors(root.node, path, parentIndex, path.hashes.length) };
      break;
    }
    const join = findRoute(others, path.pos - joinIndex, path.hashes[joinIndex]!);
    assert(join !== undefined, 'an older known revision lies in another root');
    const joinNode = join.nodes[join.nodes.length - 1]!;
    const grown = insertChild(joinNode, wrapInAncestors(root.node, path, parentIndex, joinIndex));
    root = { pos: others[join.rootIndex]!.pos, node: rebuildRoute(join.nodes, grown) };
    others = others.filter((_, index) => index !== join.rootIndex);
    along = join.nodes;
  }
  if (root.node === tree[route.rootIndex]!.node && root.pos === tree[route.rootIndex]!.pos) return undefined;
  return insertRoot(others, root);
}

/** Whether the path names the same revisions as `route` (from `rootPos` down) where both reach. */
function agrees(path: RevPath, rootPos: number, route: readonly RevNode[]): boolean {
  const start = path.pos - path.hashes.length + 1;
  for (let depth = 0; depth < route.length; depth++) {
    const pos = rootPos + depth;
    if (pos < start || pos > path.pos) continue;
    if (path.hashes[path.pos - pos] !== route[depth]!.hash) return false;
  }
  return true;
}

/** For each revision of the path (newest first), whether the tree holds it. */
function knownInPath(tree: RevTree, path: RevPath): boolean[] {
  const known = path.hashes.map(() => false);
  walkTree(tree, (node, pos) => {
    const index = path.pos - pos;
    if (index < 0) return 'skip';
    if (index < path.hashes.length && path.hashes[index] === node.hash) known[index] = true;
    return 'descend';
  });
  return known;
}

/** What one node contributes to stemming its parent. */
interface StemResult {
  /** Generations from this node down to its nearest leaf. */
  readonly leafDistance: number;
  /** The node as it survives, or undefined when stemmed. */
  readonly kept: RevNode | undefined;
}

export function stem(tree: RevTree, limit: number): { tree: RevTree; removed: Rev[] } {
  assert(Number.isSafeInteger(limit) && limit >= 1, 'a revision limit is a positive integer');
  if (height(tree) < limit) return { tree, removed: [] };
  const removed: Rev[] = [];
  const roots: RevTreeRoot[] = [];
  for (const root of tree) {
    const top = foldUp<StemResult>(root.node, root.pos, (node, pos, children) => {
      const result = stemNode(node, children, limit);
      if (result.kept === undefined) {
        removed.push({ pos, hash: node.hash });
        for (const child of children) if (child.kept !== undefined) roots.push({ pos: pos + 1, node: child.kept });
      }
      return result;
    });
    if (top.kept !== undefined) roots.push({ pos: root.pos, node: top.kept });
  }
  if (removed.length === 0) return { tree, removed };
  return { tree: roots.reduce<RevTree>(insertRoot, []), removed: removed.sort(compareRevOrder) };
}

/** One node's stemming, given its children's: kept (reusing it when nothing below changed) or not. */
function stemNode(node: RevNode, children: readonly StemResult[], limit: number): StemResult {
  let leafDistance = children.length === 0 ? 0 : Infinity;
  let unchanged = true;
  for (let index = 0; index < children.length; index++) {
    leafDistance = Math.min(leafDistance, children[index]!.leafDistance + 1);
    if (children[index]!.kept !== node.children[index]) unchanged = false;
  }
  if (leafDistance >= limit) return { leafDistance, kept: undefined };
  if (unchanged) return { leafDistance, kept: node };
  const survivors = children.flatMap((child) => (child.kept === undefined ? [] : [child.kept]));
  return { leafDistance, kept: makeNode(node.hash, node.deleted, survivors) };
}

/** The most revisions on any path from a root to a leaf (no stem below it removes anything). */
function height(tree: RevTree): number {
  let most = 0;
  walkTree(tree, (_node, _pos, route) => {
    most = Math.max(most, route.length);
  });
  return most;
}

/** Ascending by (pos, hash), hashes by code point. */
function compareRevOrder(a: Rev, b: Rev): number {
  return a.pos - b.pos || compareHashes(a.hash, b.hash);
}

/** CouchDB's winner order: negative when `a` ranks before (wins over) `b`. */
function compareWinnerOrder(a: RevLeaf, b: RevLeaf): number {
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  return b.pos - a.pos || compareHashes(b.hash, a.hash);
}

/** Every leaf with its history, the winner first. */
export function leaves(tree: RevTree): RevLeaf[] {
  const found: RevLeaf[] = [];
  walkTree(tree, (node, pos, route) => {
    if (node.children.length === 0) found.push(leafOf(node, pos, route, []));
  });
  return found.sort(compareWinnerOrder);
}

/** A leaf record; `route` runs from its root (after `above`, older still) down to it. */
function leafOf(node: RevNode, pos: number, route: readonly RevNode[], above: readonly RevNode[]): RevLeaf {
  return { pos, hash: node.hash, deleted: node.deleted, path: newestFirst([...above, ...route]) };
}

/** The hashes of `route` (root first), newest first. */
function newestFirst(route: readonly RevNode[]): string[] {
  const hashes = new Array<string>(route.length);
  for (let index = 0; index < route.length; index++) hashes[route.length - 1 - index] = route[index]!.hash;
  return hashes;
}

export function winner(tree: RevTree): RevLeaf {
  assert(tree.length > 0, 'an empty revision tree has no winner');
  return leaves(tree)[0]!;
}

export function conflicts(tree: RevTree): { conflicts: string[]; deletedConflicts: string[] } {
  const others = leaves(tree).slice(1);
  return {
    conflicts: others.filter((leaf) => !leaf.deleted).map(formatRev),
    deletedConflicts: others.filter((leaf) => leaf.deleted).map(formatRev),
  };
}

export interface FoundRev {
  readonly pos: number;
  readonly hash: string;
  readonly deleted: boolean;
  readonly isLeaf: boolean;
  /** Hashes from this revision back to its root, newest first. */
  readonly path: string[];
}

export function findRev(tree: RevTree, rev: Rev): FoundRev | undefined {
  const route = findRoute(tree, rev.pos, rev.hash);
  if (route === undefined) return undefined;
  const node = route.nodes[route.nodes.length - 1]!;
  const path = newestFirst(route.nodes);
  return { pos: rev.pos, hash: rev.hash, deleted: node.deleted, isLeaf: node.children.length === 0, path };
}

/** The leaves at or below `rev` (`latest=true`), ascending by (pos, hash); none if absent. */
export function leavesUnder(tree: RevTree, rev: Rev): RevLeaf[] {
  const route = findRoute(tree, rev.pos, rev.hash);
  if (route === undefined) return [];
  const above = route.nodes.slice(0, -1);
  const found: RevLeaf[] = [];
  walk(route.nodes[route.nodes.length - 1]!, rev.pos, (node, pos, below) => {
    if (node.children.length === 0) found.push(leafOf(node, pos, below, above));
  });
  return found.sort(compareRevOrder);
}

/**
 * `_revs_diff` for one document: the requested revisions the tree lacks
 * (ascending, each once), and the leaves that could be their ancestors: as
 * CouchDB's couch_db:possible_ancestors, every leaf (live or deleted, in winner
 * order) older than the newest missing revision.
 */
export function revsDiff(tree: RevTree, revs: readonly Rev[]): { missing: Rev[]; possibleAncestors: Rev[] } {
  const known = revKeys(tree);
  const missing = new Map<string, Rev>();
  for (const rev of revs) {
    const key = revKey(rev.pos, rev.hash);
    if (!known.has(key)) missing.set(key, { pos: rev.pos, hash: rev.hash });
  }
  if (missing.size === 0) return { missing: [], possibleAncestors: [] };
  let newestMissingPos = 0;
  for (const rev of missing.values()) newestMissingPos = Math.max(newestMissingPos, rev.pos);
  const possibleAncestors = leaves(tree)
    .filter((leaf) => leaf.pos < newestMissingPos)
    .map((leaf) => ({ pos: leaf.pos, hash: leaf.hash }));
  return { missing: [...missing.values()].sort(compareRevOrder), possibleAncestors };
}

/** Every revision of the tree, ascending by (pos, hash). */
export function allRevs(tree: RevTree): Rev[] {
  const revs: Rev[] = [];
  walkTree(tree, (node, pos) => {
    revs.push({ pos, hash: node.hash });
  });
  return revs.sort(compareRevOrder);
}

export function revCount(tree: RevTree): number {
  let count = 0;
  walkTree(tree, () => {
    count++;
  });
  return count;
}

/** The `_revisions` member for a revision at `pos` with history `path` (newest first). */
export function revisionsHistory(pos: number, path: readonly string[]): { start: number; ids: string[] } {
  return { start: pos, ids: [...path] };
}

/** The `_revs_info` member: each revision of `path` with its status from `status`. */
export function revsInfo(
  pos: number,
  path: readonly string[],
  status: (rev: string) => 'available' | 'deleted' | 'missing',
): { rev: string; status: string }[] {
  return path.map((hash, index) => {
    const rev = formatRev({ pos: pos - index, hash });
    return { rev, status: status(rev) };
  });
}
