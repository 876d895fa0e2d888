/**
 * Seeded properties of the collation: `compareJson` is a total order that
 * refines `collateJson`, and both respect the type ranks. A failure names
 * its seed; replay with `SETTEE_SEED=<seed> node scripts/run-tests.mjs core/collation`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrng, seedFromEnv } from '../../test/support/prng.js';
import { collateJson, collationRank, compareJson } from './collation.js';
import { randomJson, type Random } from './collation.testkit.js';
import { stringifyJson } from './json-write.js';
import type { JsonValue } from './json-value.js';

const seed = seedFromEnv();
const cases = 2000;

function forEachCase(name: string, body: (random: Random) => void): void {
  for (let index = 0; index < cases; index++) {
    try {
      body(createPrng((seed + index * 7919) >>> 0));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      assert.fail(`${name}: failed in case ${index}; replay with SETTEE_SEED=${seed}\n${reason}`);
    }
  }
}

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const text = (value: JsonValue): string => stringifyJson(value);

test('antisymmetry and reflexivity of both comparisons', () => {
  forEachCase('antisymmetry', (random) => {
    const a = randomJson(random);
    const b = randomJson(random);
    assert.equal(sign(compareJson(a, b)), 0 - sign(compareJson(b, a)), `${text(a)} vs ${text(b)}`);
    assert.equal(sign(collateJson(a, b)), 0 - sign(collateJson(b, a)), `${text(a)} vs ${text(b)}`);
    assert.equal(compareJson(a, a), 0);
  });
});

test('transitivity on random triples', () => {
  forEachCase('transitivity', (random) => {
    const values = [randomJson(random), randomJson(random), randomJson(random)].sort(compareJson);
    const [a, b, c] = values as [JsonValue, JsonValue, JsonValue];
    assert.ok(compareJson(a, c) <= 0, `${text(a)} <= ${text(b)} <= ${text(c)}`);
    if (compareJson(a, b) < 0 || compareJson(b, c) < 0) assert.ok(compareJson(a, c) < 0);
    assert.ok(collateJson(a, b) <= 0 && collateJson(b, c) <= 0 && collateJson(a, c) <= 0, 'sorted by compareJson is sorted by collateJson');
  });
});

test('compareJson refines collateJson', () => {
  forEachCase('refinement', (random) => {
    const a = randomJson(random);
    const b = randomJson(random);
    const collated = sign(collateJson(a, b));
    if (collated !== 0) assert.equal(sign(compareJson(a, b)), collated, `${text(a)} vs ${text(b)}`);
  });
});

test('values of different types order by type rank', () => {
  forEachCase('ranks', (random) => {
    const a = randomJson(random);
    const b = randomJson(random);
    const rankA = collationRank(a);
    const rankB = collationRank(b);
    if (rankA !== rankB) assert.equal(sign(compareJson(a, b)), rankA < rankB ? -1 : 1, `${text(a)} vs ${text(b)}`);
  });
});

test('the canary: a deliberately broken order is caught', () => {
  const broken = (a: JsonValue, b: JsonValue): number => (typeof a === 'string' && typeof b === 'string' ? 1 : compareJson(a, b));
  let caught = false;
  for (let index = 0; index < 200 && !caught; index++) {
    const random = createPrng((seed + index) >>> 0);
    const a = randomJson(random);
    const b = randomJson(random);
    if (sign(broken(a, b)) !== -sign(broken(b, a))) caught = true;
  }
  assert.ok(caught);
});
