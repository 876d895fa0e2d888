/**
 * How the SQLite engine stores revision trees (core's compact text form), and
 * the one tree question it answers itself: which revisions are leaves, for
 * compaction. `core/revtree.ts`'s `leaves()` also builds each leaf's history,
 * which compaction does not need.
 */
import type { RevNode, RevTree } from '../../core/rev.js';

export { decodeTree, encodeTree } from '../../core/revtree.js';

/** `N-hash` of every leaf (a node without children) of the tree. */
export function leafRevs(tree: RevTree): Set<string> {
  const leaves = new Set<string>();
  // Explicit stack: trees may be 1,000+ generations deep.
  const stack: { pos: number; node: RevNode }[] = tree.map((root) => ({ pos: root.pos, node: root.node }));
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    if (entry.node.children.length === 0) leaves.add(`${entry.pos}-${entry.node.hash}`);
    for (const child of entry.node.children) stack.push({ pos: entry.pos + 1, node: child });
  }
  return leaves;
}
