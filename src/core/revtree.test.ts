import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RevNode, RevPath, RevTree } from './rev.js';
import {
  allRevs,
  compareHashes,
  conflicts,
  decodeTree,
  encodeTree,
  findRev,
  leaves,
  leavesUnder,
  mergePath,
  revCount,
  revisionsHistory,
  revsDiff,
  revsInfo,
  stem,
  treeFromPath,
  winner,
} from './revtree.js';

/** A path from `N-hash` ids, newest first: path('3-c', '2-b', '1-a'). */
function path(...revs: string[]): RevPath {
  return pathOf(false, revs);
}

function deletedPath(...revs: string[]): RevPath {
  return pathOf(true, revs);
}

function pathOf(deleted: boolean, revs: string[]): RevPath {
  const pos = Number(revs[0]!.split('-')[0]);
  revs.forEach((rev, index) => assert.equal(Number(rev.split('-')[0]), pos - index, 'test path is consecutive'));
  return { pos, hashes: revs.map((rev) => rev.slice(rev.indexOf('-') + 1)), deleted };
}

function node(hash: string, children: RevNode[] = [], deleted = false): RevNode {
  return { hash, deleted, children };
}

function mergeAll(...paths: RevPath[]): RevTree {
  return paths.reduce<RevTree>((tree, each) => mergePath(tree, each).tree, []);
}

const revStrings = (tree: RevTree): string[] => allRevs(tree).map((rev) => `${rev.pos}-${rev.hash}`);
const h = (digit: string): string => digit.repeat(32);

test('treeFromPath builds one root at the first generation', () => {
  assert.deepEqual(treeFromPath(path('3-c', '2-b')), [{ pos: 2, node: node('b', [node('c')]) }]);
  assert.deepEqual(treeFromPath(deletedPath('1-a')), [{ pos: 1, node: node('a', [], true) }]);
});

test('a new document and linear edits are new leaves', () => {
  const first = mergePath([], path('1-a'));
  assert.equal(first.outcome, 'new_leaf');
  const second = mergePath(first.tree, path('2-b', '1-a'));
  assert.equal(second.outcome, 'new_leaf');
  const third = mergePath(second.tree, deletedPath('3-c', '2-b'));
  assert.equal(third.outcome, 'new_leaf');
  assert.deepEqual(third.tree, [{ pos: 1, node: node('a', [node('b', [node('c', [], true)])]) }]);
  assert.equal(second.tree[0]!.node.children[0]!.children.length, 0, 'inputs are not mutated');
});

test('an edit below an internal node or an unrelated first revision is a new branch', () => {
  const tree = mergeAll(path('3-c', '2-b', '1-a'));
  const fromInternal = mergePath(tree, path('3-0', '2-b'));
  assert.equal(fromInternal.outcome, 'new_branch');
  assert.deepEqual(fromInternal.tree[0]!.node.children[0]!.children.map((child) => child.hash), ['0', 'c']);
  const sibling = mergePath(tree, path('2-z', '1-a'));
  assert.equal(sibling.outcome, 'new_branch');
  assert.deepEqual(sibling.tree[0]!.node.children.map((child) => child.hash), ['b', 'z']);
  assert.equal(sibling.tree[0]!.node.children[0], tree[0]!.node.children[0], 'untouched subtrees are shared');
  const unrelated = mergePath(tree, path('1-0'));
  assert.equal(unrelated.outcome, 'new_branch');
  assert.deepEqual(unrelated.tree.map((root) => root.node.hash), ['0', 'a']);
});

test('known revisions leave the tree as it is and keep their deleted flag', () => {
  const tree = mergeAll(path('3-c', '2-b', '1-a'), path('2-x', '1-a'));
  for (const known of [path('3-c', '2-b', '1-a'), path('2-b'), deletedPath('2-b', '1-a'), path('1-a'), deletedPath('3-c')]) {
    const result = mergePath(tree, known);
    assert.equal(result.outcome, 'known');
    assert.equal(result.tree, tree);
  }
});

test('new ancestors are live, the newest takes the path flag, existing nodes keep theirs', () => {
  const tree = mergeAll(deletedPath('2-b', '1-a'));
  const extended = mergePath(tree, deletedPath('4-d', '3-c', '2-b'));
  assert.deepEqual(extended.tree, [{ pos: 1, node: node('a', [node('b', [node('c', [node('d', [], true)])], true)]) }]);
});

test('a long path meets a stemmed tree and restores its ancestors', () => {
  const stemmed: RevTree = [{ pos: 3, node: node('c', [node('d')]) }];
  const longer = mergePath(stemmed, path('5-e', '4-d', '3-c', '2-b', '1-a'));
  assert.equal(longer.outcome, 'new_leaf');
  assert.deepEqual(longer.tree, mergeAll(path('5-e', '4-d', '3-c', '2-b', '1-a')));
  const knownButLonger = mergePath(stemmed, path('4-d', '3-c', '2-b'));
  assert.equal(knownButLonger.outcome, 'known');
  assert.deepEqual(knownButLonger.tree, [{ pos: 2, node: node('b', [node('c', [node('d')])]) }]);
});

test('a short path meets a tree below its root', () => {
  const tree = mergeAll(path('4-d', '3-c', '2-b', '1-a'));
  const leaf = mergePath(tree, path('5-e', '4-d'));
  assert.equal(leaf.outcome, 'new_leaf');
  assert.deepEqual(revStrings(leaf.tree), ['1-a', '2-b', '3-c', '4-d', '5-e']);
  const branch = mergePath([{ pos: 3, node: node('c', [node('d')]) }], path('4-x', '3-c'));
  assert.equal(branch.outcome, 'new_branch');
  assert.deepEqual(branch.tree, [{ pos: 3, node: node('c', [node('d'), node('x')]) }]);
});

test('a path older than a stemmed root that does not reach it becomes its own root', () => {
  const result = mergePath([{ pos: 3, node: node('c', [node('d')]) }], path('2-b', '1-a'));
  assert.equal(result.outcome, 'new_branch');
  assert.deepEqual(result.tree.map((root) => root.pos), [1, 3]);
});

test('a full path joins the roots that stemming cut apart', () => {
  const full = mergeAll(path('6-f', '5-e', '4-d', '3-c', '2-b', '1-a'), path('3-x', '2-b', '1-a'));
  const stemmed = stem(full, 2);
  assert.deepEqual(stemmed.tree, [
    { pos: 2, node: node('b', [node('x')]) },
    { pos: 5, node: node('e', [node('f')]) },
  ]);
  assert.deepEqual(stemmed.removed, [{ pos: 1, hash: 'a' }, { pos: 3, hash: 'c' }, { pos: 4, hash: 'd' }]);
  const rejoined = mergePath(stemmed.tree, path('6-f', '5-e', '4-d', '3-c', '2-b', '1-a'));
  assert.equal(rejoined.outcome, 'known');
  assert.deepEqual(rejoined.tree, full);
  const grown = mergePath(stemmed.tree, path('7-g', '6-f', '5-e', '4-d', '3-c'));
  assert.equal(grown.outcome, 'new_leaf');
  assert.deepEqual(grown.tree, [
    { pos: 2, node: node('b', [node('x')]) },
    { pos: 3, node: node('c', [node('d', [node('e', [node('f', [node('g')])])])]) },
  ]);
});

test('where a path contradicts the tree about ancestors, the tree is believed', () => {
  const tree = mergeAll(path('2-b', '1-a'));
  const result = mergePath(tree, path('3-c', '2-b', '1-z'));
  assert.equal(result.outcome, 'new_leaf');
  assert.deepEqual(revStrings(result.tree), ['1-a', '2-b', '3-c']);
});

test('the winner: live beats deleted, then higher pos, then the greater hash', () => {
  const liveBeatsLonger = mergeAll(path('2-a', '1-r'), deletedPath('4-f', '3-e', '2-d', '1-r'));
  assert.equal(winner(liveBeatsLonger).hash, 'a');
  const longerWins = mergeAll(path('2-f', '1-r'), path('3-a', '2-b', '1-r'));
  assert.deepEqual(winner(longerWins), { pos: 3, hash: 'a', deleted: false, path: ['a', 'b', 'r'] });
  const greaterHash = mergeAll(path('2-9', '1-r'), path('2-a', '1-r'));
  assert.equal(winner(greaterHash).hash, 'a', "'a' > '9'");
  const allDeleted = mergeAll(deletedPath('2-a', '1-r'), deletedPath('3-b', '2-c', '1-r'));
  assert.deepEqual(winner(allDeleted), { pos: 3, hash: 'b', deleted: true, path: ['b', 'c', 'r'] });
  assert.throws(() => winner([]));
});

test('hashes compare by code point, as CouchDB compares binaries', () => {
  assert.ok(compareHashes('\uffff', '\u{10000}') < 0);
  assert.ok(compareHashes('a', 'ab') < 0);
  assert.ok(compareHashes('b', 'ab') > 0);
  assert.equal(compareHashes('abc', 'abc'), 0);
  const tree = mergeAll(path('2-\u{10000}', '1-r'), path('2-\uffff', '1-r'));
  assert.equal(winner(tree).hash, '\u{10000}');
});

test('conflicts in CouchDB order (golden conflict_ordering_many)', () => {
  const tree = mergeAll(
    path(`1-${h('1')}`),
    path(`2-${h('1')}`, `1-${h('1')}`),
    path(`2-${h('a')}`, `1-${h('1')}`),
    path(`2-${h('5')}`, `1-${h('1')}`),
    path(`3-${h('0')}`, `2-${h('e')}`, `1-${h('1')}`),
    path(`2-${h('e')}`, `1-${h('1')}`),
    deletedPath(`3-${h('c')}`, `2-${h('5')}`, `1-${h('1')}`),
  );
  assert.equal(`${winner(tree).pos}-${winner(tree).hash}`, `3-${h('0')}`);
  assert.deepEqual(conflicts(tree), { conflicts: [`2-${h('a')}`, `2-${h('1')}`], deletedConflicts: [`3-${h('c')}`] });
  const best = winner(tree);
  assert.deepEqual(revsInfo(best.pos, best.path, () => 'available').map((info) => info.rev), [
    `3-${h('0')}`,
    `2-${h('e')}`,
    `1-${h('1')}`,
  ]);
  assert.deepEqual(leavesUnder(tree, { pos: 1, hash: h('1') }).map((leaf) => `${leaf.pos}-${leaf.hash}`), [
    `2-${h('1')}`,
    `2-${h('a')}`,
    `3-${h('0')}`,
    `3-${h('c')}`,
  ]);
});

test('deleted leaves (golden conflict_deleted_leaves)', () => {
  const x = mergeAll(
    path(`2-${h('a')}`, `1-${h('1')}`),
    deletedPath(`4-${h('f')}`, `3-${h('e')}`, `2-${h('d')}`, `1-${h('1')}`),
  );
  assert.equal(winner(x).hash, h('a'));
  assert.deepEqual(conflicts(x), { conflicts: [], deletedConflicts: [`4-${h('f')}`] });
  const y = mergeAll(deletedPath(`2-${h('a')}`, `1-${h('1')}`), deletedPath(`3-${h('b')}`, `2-${h('c')}`, `1-${h('1')}`));
  assert.equal(winner(y).hash, h('b'));
  assert.equal(winner(y).deleted, true);
  assert.deepEqual(conflicts(y), { conflicts: [], deletedConflicts: [`2-${h('a')}`] });
});

test('revsDiff lists missing revs ascending and older leaves as possible ancestors (golden bulk_revs_diff)', () => {
  const tree = mergeAll(path('2-d0df861eb528e79690cd2ff3c4d394f3', '1-7a7e4b29f3af401e69b6f86e4c26b727'));
  const asked = ['1-7a7e4b29f3af401e69b6f86e4c26b727', '2-d0df861eb528e79690cd2ff3c4d394f3', `3-${h('0')}`, `1-${h('f')}`];
  const diff = revsDiff(tree, asked.map((rev) => ({ pos: Number(rev[0]), hash: rev.slice(2) })));
  assert.deepEqual(diff, {
    missing: [{ pos: 1, hash: h('f') }, { pos: 3, hash: h('0') }],
    possibleAncestors: [{ pos: 2, hash: 'd0df861eb528e79690cd2ff3c4d394f3' }],
  });
  assert.deepEqual(revsDiff(tree, [{ pos: 2, hash: 'd0df861eb528e79690cd2ff3c4d394f3' }]), { missing: [], possibleAncestors: [] });
});

test('revsDiff: possible ancestors are every leaf, deleted too, older than the newest missing rev', () => {
  const tree = mergeAll(path('3-c', '2-b', '1-a'), deletedPath('2-x', '1-a'), path('4-z', '3-y', '2-w', '1-a'));
  const diff = revsDiff(tree, [{ pos: 4, hash: 'n' }, { pos: 2, hash: 'm' }, { pos: 4, hash: 'n' }, { pos: 3, hash: 'c' }]);
  assert.deepEqual(diff.missing, [{ pos: 2, hash: 'm' }, { pos: 4, hash: 'n' }]);
  assert.deepEqual(diff.possibleAncestors, [{ pos: 3, hash: 'c' }, { pos: 2, hash: 'x' }]);
  assert.deepEqual(revsDiff([], [{ pos: 1, hash: 'a' }]), { missing: [{ pos: 1, hash: 'a' }], possibleAncestors: [] });
});

test('findRev and leavesUnder', () => {
  const tree = mergeAll(path('3-c', '2-b', '1-a'), deletedPath('3-d', '2-b', '1-a'), path('2-x', '1-a'));
  assert.deepEqual(findRev(tree, { pos: 2, hash: 'b' }), { pos: 2, hash: 'b', deleted: false, isLeaf: false, path: ['b', 'a'] });
  assert.deepEqual(findRev(tree, { pos: 3, hash: 'd' }), { pos: 3, hash: 'd', deleted: true, isLeaf: true, path: ['d', 'b', 'a'] });
  assert.equal(findRev(tree, { pos: 3, hash: 'b' }), undefined);
  assert.deepEqual(leavesUnder(tree, { pos: 2, hash: 'b' }), [
    { pos: 3, hash: 'c', deleted: false, path: ['c', 'b', 'a'] },
    { pos: 3, hash: 'd', deleted: true, path: ['d', 'b', 'a'] },
  ]);
  assert.deepEqual(leavesUnder(tree, { pos: 2, hash: 'x' }), [{ pos: 2, hash: 'x', deleted: false, path: ['x', 'a'] }]);
  assert.deepEqual(leavesUnder(tree, { pos: 9, hash: 'x' }), []);
  assert.deepEqual(leaves(tree).map((leaf) => leaf.hash), ['c', 'x', 'd']);
});

test('stemming a linear history keeps the newest revisions', () => {
  const tree = mergeAll(path('7-g', '6-f', '5-e', '4-d', '3-c', '2-b', '1-a'));
  const result = stem(tree, 3);
  assert.deepEqual(result.tree, [{ pos: 5, node: node('e', [node('f', [node('g')])]) }]);
  assert.deepEqual(result.removed.map((rev) => `${rev.pos}-${rev.hash}`), ['1-a', '2-b', '3-c', '4-d']);
  assert.deepEqual(stem(tree, 1).tree, [{ pos: 7, node: node('g') }]);
  const whole = stem(tree, 7);
  assert.equal(whole.tree, tree);
  assert.deepEqual(whole.removed, []);
  assert.throws(() => stem(tree, 0));
});

test('stemming keeps a branch point that is near some leaf', () => {
  const tree = mergeAll(path('5-e', '4-d', '3-c', '2-b', '1-a'), path('3-x', '2-b', '1-a'));
  const result = stem(tree, 2);
  assert.deepEqual(result.tree, [
    { pos: 2, node: node('b', [node('x')]) },
    { pos: 4, node: node('d', [node('e')]) },
  ]);
  const wider = stem(tree, 3);
  assert.deepEqual(wider.tree, [{ pos: 1, node: node('a', [node('b', [node('c', [node('d', [node('e')])]), node('x')])]) }]);
  assert.deepEqual(wider.removed, []);
});

test('allRevs, revCount, revisionsHistory, revsInfo', () => {
  const tree = mergeAll(path('2-b', '1-a'), path('2-0', '1-a'), path('1-z'));
  assert.deepEqual(revStrings(tree), ['1-a', '1-z', '2-0', '2-b']);
  assert.equal(revCount(tree), 4);
  assert.equal(revCount([]), 0);
  assert.deepEqual(revisionsHistory(3, ['c', 'b', 'a']), { start: 3, ids: ['c', 'b', 'a'] });
  const statuses = revsInfo(3, ['c', 'b', 'a'], (rev) => (rev === '3-c' ? 'deleted' : rev === '1-a' ? 'missing' : 'available'));
  assert.deepEqual(statuses, [
    { rev: '3-c', status: 'deleted' },
    { rev: '2-b', status: 'available' },
    { rev: '1-a', status: 'missing' },
  ]);
});

test('encodeTree is compact and decodeTree restores the same tree', () => {
  const tree = mergeAll(path('2-b', '1-a'), deletedPath('2-c', '1-a'), path('4-e', '3-d'));
  const text = encodeTree(tree);
  assert.equal(text, '[[1,"a",4,"b",0,"c",1],[3,"d",2,"e",0]]');
  assert.deepEqual(decodeTree(text), tree);
  assert.equal(encodeTree([]), '[]');
  assert.deepEqual(decodeTree('[]'), []);
});

test('decodeTree rejects malformed or non-canonical text', () => {
  for (const bad of [
    '{}',
    '[[1,"a"]]',
    '[[0,"a",0]]',
    '[[1,"a",2]]',
    '[[1,"a",4,"c",0,"b",0]]',
    '[[1,"a",0,"b",0]]',
    '[[1,"",0]]',
    '[[1,"a",-1]]',
    '[[2,"a",0],[1,"b",0]]',
  ]) {
    assert.throws(() => decodeTree(bad), assert.AssertionError, bad);
  }
});

test('very deep histories need no recursion', () => {
  const depth = 100_000;
  const hashes = Array.from({ length: depth }, (_, index) => `h${depth - index}`);
  const long: RevPath = { pos: depth, hashes, deleted: false };
  const tree = treeFromPath(long);
  const edited = mergePath(tree, { pos: depth + 1, hashes: ['next', `h${depth}`], deleted: false });
  assert.equal(edited.outcome, 'new_leaf');
  assert.equal(winner(edited.tree).path.length, depth + 1);
  assert.equal(revCount(edited.tree), depth + 1);
  const text = encodeTree(edited.tree);
  assert.equal(encodeTree(decodeTree(text)), text);
  const stemmed = stem(edited.tree, 1000);
  assert.equal(stemmed.removed.length, depth + 1 - 1000);
  assert.equal(stemmed.tree[0]!.pos, depth + 1 - 999);
  assert.equal(mergePath(stemmed.tree, long).outcome, 'known');
});
