/**
 * Building blocks of `revtree.ts`: hash order, node construction and traversal
 * without recursion. Histories can be as deep as a database's `_revs_limit`
 * (up to `Limits.revsLimitMax` generations), far deeper than the JavaScript call
 * stack, so every walk here keeps its own explicit stack.
 */
import assert from 'node:assert/strict';
import type { RevNode, RevTree, RevTreeRoot } from './rev.js';

/**
 * Orders hashes by Unicode code point, which is the order of their UTF-8 bytes,
 * the order in which Erlang compares the binaries CouchDB keeps. Plain `<`
 * compares UTF-16 code units and disagrees only when a character above U+FFFF
 * meets one in U+E000..U+FFFF; hashes of hex digits compare the same either way.
 */
export function compareHashes(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const unitA = a.charCodeAt(index);
    const unitB = b.charCodeAt(index);
    if (unitA !== unitB) return codePointRank(unitA) - codePointRank(unitB);
  }
  return a.length - b.length;
}

/** Moves surrogates (halves of code points above U+FFFF) after U+E000..U+FFFF. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  if (unit < 0xe000) return unit + 0x2000;
  return unit - 0x800;
}

/** Roots in CouchDB's order: ascending by (pos, hash). */
export function compareRoots(a: RevTreeRoot, b: RevTreeRoot): number {
  return a.pos - b.pos || compareHashes(a.node.hash, b.node.hash);
}

/** The one place nodes are made, so every node has the same shape. */
export function makeNode(hash: string, deleted: boolean, children: readonly RevNode[]): RevNode {
  return { hash, deleted, children };
}

/** `parent` with `child` added among its children in hash order. */
export function insertChild(parent: RevNode, child: RevNode): RevNode {
  const children = parent.children;
  let index = 0;
  while (index < children.length && compareHashes(children[index]!.hash, child.hash) < 0) index++;
  assert(children[index]?.hash !== child.hash, `revision ${child.hash} is already a child of ${parent.hash}`);
  return makeNode(parent.hash, parent.deleted, [...children.slice(0, index), child, ...children.slice(index)]);
}

/** `tree` with `root` added in (pos, hash) order. */
export function insertRoot(tree: RevTree, root: RevTreeRoot): RevTree {
  let index = 0;
  while (index < tree.length && compareRoots(tree[index]!, root) < 0) index++;
  return [...tree.slice(0, index), root, ...tree.slice(index)];
}

/**
 * Copies the ancestors in `route` (root first, the replaced node last) so that
 * the last one becomes `replacement`. Subtrees off the route are shared.
 */
export function rebuildRoute(route: readonly RevNode[], replacement: RevNode): RevNode {
  let current = replacement;
  for (let index = route.length - 2; index >= 0; index--) {
    const parent = route[index]!;
    const old = route[index + 1]!;
    current = makeNode(
      parent.hash,
      parent.deleted,
      parent.children.map((child) => (child === old ? current : child)),
    );
  }
  return current;
}

/** What a visitor wants next: go into the children, skip them, or end the walk. */
export type Visit = 'descend' | 'skip' | 'stop';

/**
 * Visits `top` and its descendants depth first, children in hash order. The
 * visitor gets each node's generation and its route: the nodes from `top` down
 * to and including it (valid only during the call).
 */
export function walk(
  top: RevNode,
  topPos: number,
  visit: (node: RevNode, pos: number, route: readonly RevNode[]) => Visit | void,
): void {
  const route: RevNode[] = [];
  const pending: { node: RevNode; depth: number }[] = [{ node: top, depth: 0 }];
  for (let entry = pending.pop(); entry !== undefined; entry = pending.pop()) {
    // Runs down first children directly: long linear histories push nothing.
    for (let node: RevNode | undefined = entry.node, depth = entry.depth; node !== undefined; depth++) {
      route.length = depth;
      route.push(node);
      const next = visit(node, topPos + depth, route);
      if (next === 'stop') return;
      if (next === 'skip') break;
      const children: readonly RevNode[] = node.children;
      for (let index = children.length - 1; index >= 1; index--) {
        pending.push({ node: children[index]!, depth: depth + 1 });
      }
      node = children[0];
    }
  }
}

/** Visits every node of every root, roots in order. */
export function walkTree(
  tree: RevTree,
  visit: (node: RevNode, pos: number, route: readonly RevNode[]) => Exclude<Visit, 'stop'> | void,
): void {
  for (const root of tree) walk(root.node, root.pos, visit);
}

/**
 * Computes a value for every node from its children's values, bottom up
 * (post-order), and returns the value of `top`.
 */
export function foldUp<Result>(
  top: RevNode,
  topPos: number,
  combine: (node: RevNode, pos: number, childResults: readonly Result[]) => Result,
): Result {
  const frames: { node: RevNode; pos: number; results: Result[] }[] = [{ node: top, pos: topPos, results: [] }];
  for (;;) {
    const frame = frames[frames.length - 1]!;
    const nextChild = frame.node.children[frame.results.length];
    if (nextChild !== undefined) {
      frames.push({ node: nextChild, pos: frame.pos + 1, results: [] });
      continue;
    }
    const result = combine(frame.node, frame.pos, frame.results);
    frames.pop();
    const parent = frames[frames.length - 1];
    if (parent === undefined) return result;
    parent.results.push(result);
  }
}

/** Where a revision sits: which root, and the nodes from that root down to it. */
export interface Route {
  readonly rootIndex: number;
  readonly nodes: readonly RevNode[];
}

/** The route to revision (pos, hash), or undefined when the tree lacks it. */
export function findRoute(tree: RevTree, pos: number, hash: string): Route | undefined {
  for (let rootIndex = 0; rootIndex < tree.length; rootIndex++) {
    const root = tree[rootIndex]!;
    if (root.pos > pos) break;
    let found: RevNode[] | undefined;
    walk(root.node, root.pos, (node, nodePos, route) => {
      if (nodePos < pos) return 'descend';
      if (node.hash === hash) found = [...route];
      return found === undefined ? 'skip' : 'stop';
    });
    if (found !== undefined) return { rootIndex, nodes: found };
  }
  return undefined;
}

/** A key naming revision (pos, hash) for sets and maps. */
export function revKey(pos: number, hash: string): string {
  return `${pos}-${hash}`;
}

/** The keys of every revision in the tree. */
export function revKeys(tree: RevTree): Set<string> {
  const keys = new Set<string>();
  walkTree(tree, (node, pos) => {
    keys.add(revKey(pos, node.hash));
  });
  return keys;
}
