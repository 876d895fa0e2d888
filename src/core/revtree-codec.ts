/**
 * The stored form of a revision tree: compact JSON text, written once per
 * document update and read on every document read.
 *
 * One flat array per root, its nodes in depth-first order (children in hash
 * order): `[pos, hash, shape, hash, shape, ...]` where `shape` is
 * `childCount * 2 + (deleted ? 1 : 0)`. A linear history of 1,000 generations
 * is one array of 2,001 elements rather than 1,000 nested objects, costs about
 * 38 bytes a revision, and decodes with one JSON.parse and a loop (no recursion,
 * so any depth decodes). Example: `1-a` with children `2-b` and a deleted `2-c`
 * is `[[1,"a",4,"b",0,"c",1]]`.
 *
 * Decoding asserts the text is well formed and canonical (children and roots in
 * order): a stored tree that is not is corruption, a programmer-level error.
 */
import assert from 'node:assert/strict';
import type { RevNode, RevTree, RevTreeRoot } from './rev.js';
import { compareHashes, compareRoots, makeNode, walk } from './revtree-walk.js';

export function encodeTree(tree: RevTree): string {
  return JSON.stringify(tree.map(encodeRoot));
}

function encodeRoot(root: RevTreeRoot): (number | string)[] {
  const flat: (number | string)[] = [root.pos];
  walk(root.node, root.pos, (node) => {
    flat.push(node.hash, node.children.length * 2 + (node.deleted ? 1 : 0));
  });
  return flat;
}

export function decodeTree(text: string): RevTree {
  const value: unknown = JSON.parse(text);
  assert(Array.isArray(value), 'stored revision tree: not an array');
  const tree = value.map(decodeRoot);
  for (let index = 1; index < tree.length; index++) {
    assert(compareRoots(tree[index - 1]!, tree[index]!) < 0, 'stored revision tree: roots out of order');
  }
  return tree;
}

/** A node whose children are still being read. */
interface OpenNode {
  readonly hash: string;
  readonly deleted: boolean;
  readonly childCount: number;
  readonly children: RevNode[];
}

function decodeRoot(flat: unknown): RevTreeRoot {
  assert(Array.isArray(flat) && flat.length >= 3 && flat.length % 2 === 1, 'stored revision tree: bad root');
  const pos: unknown = flat[0];
  assert(typeof pos === 'number' && Number.isSafeInteger(pos) && pos >= 1, 'stored revision tree: bad position');
  const open: OpenNode[] = [];
  let root: RevNode | undefined;
  for (let index = 1; index < flat.length; index += 2) {
    assert(root === undefined, 'stored revision tree: nodes after the root closed');
    const hash: unknown = flat[index];
    const shape: unknown = flat[index + 1];
    assert(typeof hash === 'string' && hash.length > 0, 'stored revision tree: bad hash');
    assert(typeof shape === 'number' && Number.isSafeInteger(shape) && shape >= 0, 'stored revision tree: bad shape');
    const childCount = Math.floor(shape / 2);
    const deleted = shape % 2 === 1;
    if (childCount > 0) open.push({ hash, deleted, childCount, children: [] });
    else root = closeNodes(open, makeNode(hash, deleted, []));
  }
  assert(root !== undefined && open.length === 0, 'stored revision tree: truncated');
  return { pos, node: root };
}

/**
 * Hands a finished node to its parent, finishing every ancestor this completes.
 * Returns the root once it is finished, else undefined.
 */
function closeNodes(open: OpenNode[], finished: RevNode): RevNode | undefined {
  let node = finished;
  for (;;) {
    const parent = open[open.length - 1];
    if (parent === undefined) return node;
    const previous = parent.children[parent.children.length - 1];
    assert(
      previous === undefined || compareHashes(previous.hash, node.hash) < 0,
      'stored revision tree: children out of order',
    );
    parent.children.push(node);
    if (parent.children.length < parent.childCount) return undefined;
    open.pop();
    node = makeNode(parent.hash, parent.deleted, parent.children);
  }
}
