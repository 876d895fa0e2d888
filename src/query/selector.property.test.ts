/**
 * Seeded properties of the selector engine: `$not` inverts a condition on a
 * present field, `$and`/`$or`/`$nor` behave as boolean connectives, `$in` is
 * an `$or` of equalities, and range operators agree with the collation.
 * Replay a failure with `SETTEE_SEED=<seed> node scripts/run-tests.mjs query/selector.property`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrng, seedFromEnv } from '../../test/support/prng.js';
import { collateJson } from '../core/collation.js';
import { pick, randomJson, sampleStrings, type Random } from '../core/collation.testkit.js';
import { stringifyJson } from '../core/json-write.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { matchesSelector, parseSelector } from './selector.js';

const seed = seedFromEnv();
const cases = 1500;

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

const matches = (selector: JsonObject, doc: JsonObject): boolean => matchesSelector(parseSelector(selector), doc);
const show = (value: JsonValue): string => stringifyJson(value);

/** A random operator condition (the value of a field in a selector). */
function randomCondition(random: Random, depth = 2): JsonObject {
  const value = (): JsonValue => randomJson(random, 2);
  const list = (): JsonValue[] => Array.from({ length: Math.floor(random() * 3) }, value);
  const roll = Math.floor(random() * (depth > 0 ? 17 : 14));
  switch (roll) {
    case 0: return { $eq: value() };
    case 1: return { $ne: value() };
    case 2: return { $lt: value() };
    case 3: return { $lte: value() };
    case 4: return { $gt: value() };
    case 5: return { $gte: value() };
    case 6: return { $in: list() };
    case 7: return { $nin: list() };
    case 8: return { $exists: random() < 0.5 };
    case 9: return { $type: pick(random, ['null', 'boolean', 'number', 'string', 'array', 'object']) };
    case 10: return { $size: Math.floor(random() * 3) };
    case 11: return { $mod: [1 + Math.floor(random() * 3), Math.floor(random() * 2)] };
    case 12: return { $regex: pick(random, ['^a', 'b$', '^$', '[0-9]', 'é', '(?i)^A']) };
    case 13: return { $beginsWith: pick(random, sampleStrings) };
    case 14: return { $elemMatch: randomCondition(random, depth - 1) };
    case 15: return { $allMatch: randomCondition(random, depth - 1) };
    default: return { $all: list() };
  }
}

test('$not inverts any condition on a present field', () => {
  forEachCase('$not', (random) => {
    const condition = randomCondition(random);
    const doc = { x: randomJson(random) };
    const positive = matches({ x: condition }, doc);
    assert.equal(matches({ x: { $not: condition } }, doc), !positive, `${show(condition)} on ${show(doc)}`);
    assert.equal(matches({ $not: { x: condition } }, doc), !positive, `top-level $not ${show(condition)} on ${show(doc)}`);
    assert.equal(matches({ $not: { $not: { x: condition } } }, doc), positive, 'double negation');
  });
});

test('$and, $or and $nor are boolean connectives; $and is commutative', () => {
  forEachCase('connectives', (random) => {
    const a = { x: randomCondition(random) };
    const b = { y: randomCondition(random) };
    const doc = { x: randomJson(random), y: randomJson(random) };
    const ma = matches(a, doc);
    const mb = matches(b, doc);
    assert.equal(matches({ $and: [a, b] }, doc), ma && mb, `${show(a)} and ${show(b)} on ${show(doc)}`);
    assert.equal(matches({ $and: [b, a] }, doc), ma && mb);
    assert.equal(matches({ ...a, ...b }, doc), ma && mb, 'implicit $and');
    assert.equal(matches({ $or: [a, b] }, doc), ma || mb);
    assert.equal(matches({ $nor: [a, b] }, doc), !(ma || mb));
    assert.equal(matches({ $not: { $and: [a, b] } }, doc), !(ma && mb), 'De Morgan');
  });
});

test('$in is an $or of equalities (on items, for arrays); $nin is its negation', () => {
  forEachCase('$in', (random) => {
    const candidates = Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomJson(random, 1));
    const doc = { x: random() < 0.3 ? [randomJson(random, 1), pick(random, candidates)] : randomJson(random, 1) };
    const alternatives: JsonObject[] = candidates.map((candidate): JsonObject => (Array.isArray(doc.x) ? { x: { $elemMatch: { $eq: candidate } } } : { x: { $eq: candidate } }));
    const expected = matches({ $or: alternatives }, doc);
    assert.equal(matches({ x: { $in: candidates } }, doc), expected, `${show(candidates)} on ${show(doc)}`);
    assert.equal(matches({ x: { $nin: candidates } }, doc), !expected);
  });
});

test('range operators agree with the collation; a missing field matches none of them', () => {
  forEachCase('ranges', (random) => {
    const value = randomJson(random);
    const bound = randomJson(random);
    const order = collateJson(value, bound);
    const doc = { x: value };
    assert.equal(matches({ x: { $lt: bound } }, doc), order < 0, `${show(value)} < ${show(bound)}`);
    assert.equal(matches({ x: { $lte: bound } }, doc), order <= 0);
    assert.equal(matches({ x: { $gt: bound } }, doc), order > 0);
    assert.equal(matches({ x: { $gte: bound } }, doc), order >= 0);
    assert.equal(matches({ x: { $eq: bound } }, doc), order === 0);
    assert.equal(matches({ x: { $eq: value } }, doc), true, 'equality is reflexive');
    for (const operator of ['$lt', '$lte', '$gt', '$gte', '$eq', '$ne']) {
      assert.equal(matches({ x: { [operator]: bound } }, {}), false, `${operator} on a missing field`);
    }
  });
});
