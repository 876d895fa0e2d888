import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRev, tryParseRev, compareRevs } from './rev.js';

test('parseRev splits position and hash', () => {
  assert.deepEqual(parseRev('3-abc'), { pos: 3, hash: 'abc' });
  assert.equal(tryParseRev('abc'), undefined);
  assert.equal(tryParseRev(''), undefined);
  assert.equal(tryParseRev(1), undefined);
  assert.throws(() => parseRev('x-1'), /Invalid rev format/);
  assert.ok(compareRevs({ pos: 2, hash: 'a' }, { pos: 10, hash: 'a' }) < 0);
});
