/**
 * Purge: removing leaves from a revision tree, as `couch_key_tree:remove_leafs`.
 * A removed leaf takes with it every ancestor that no remaining leaf descends
 * from; revisions that are not leaves are never purged.
 */
import type { Rev, RevNode, RevTree, RevTreeRoot } from './rev.js';

export interface PurgeOutcome {
  readonly tree: RevTree;
  /** The requested revisions that were leaves and are now gone. */
  readonly purged: Rev[];
}

export function removeLeaves(tree: RevTree, revs: readonly Rev[]): PurgeOutcome {
  const wanted = new Set(revs.map((rev) => `${rev.pos}-${rev.hash}`));
  const purged: Rev[] = [];
  const kept: RevTreeRoot[] = [];
  for (const root of tree) {
    const node = prune(root.node, root.pos, wanted, purged);
    if (node !== undefined) kept.push({ pos: root.pos, node });
  }
  return { tree: purged.length === 0 ? tree : kept, purged };
}

/** The node without purged leaves and the branches left empty; undefined if nothing remains. */
function prune(node: RevNode, pos: number, wanted: ReadonlySet<string>, purged: Rev[]): RevNode | undefined {
  if (node.children.length === 0) {
    if (wanted.has(`${pos}-${node.hash}`)) {
      purged.push({ pos, hash: node.hash });
      return undefined;
    }
    return node;
  }
  const children: RevNode[] = [];
  let changed = false;
  for (const child of node.children) {
    const next = prune(child, pos + 1, wanted, purged);
    if (next !== child) changed = true;
    if (next !== undefined) children.push(next);
  }
  if (!changed) return node;
  if (children.length === 0) return undefined;
  return { hash: node.hash, deleted: node.deleted, children };
}
