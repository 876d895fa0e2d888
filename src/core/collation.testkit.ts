/**
 * Random JSON values for seeded property tests of collation and selectors
 * (test support only; nothing in the server imports it). Small alphabets so
 * that equal and ICU-equal values come up often.
 */
import { JsonFloat, type JsonObject, type JsonValue } from './json-value.js';

export type Random = () => number;

export const pick = <Item>(random: Random, items: readonly Item[]): Item => items[Math.floor(random() * items.length)] as Item;

/** Strings that exercise ICU: case, accents, ignorables, symbols, astral characters. */
export const sampleStrings: readonly string[] = [
  '', 'a', 'A', 'aa', 'b', 'B', 'é', 'e\u0301', 'e', 'Z', '~', '1', '10', '2', ' ', '_', 'a\u0000', '\u{1F600}', '\uFFFD', 'ab', 'Ab',
];

export const sampleNumbers: readonly (number | bigint | JsonFloat)[] = [
  0, 1, -1, 2, 10, 1.5, -2.25, new JsonFloat(1), new JsonFloat(2), new JsonFloat(-0), new JsonFloat(1e300),
  2n ** 64n, -(2n ** 64n), 9007199254740993n, 9007199254740992, 0.1,
];

export const sampleKeys: readonly string[] = ['a', 'b', 'A', '0', '_id', 'x', 'é'];

export function randomJson(random: Random, depth = 3): JsonValue {
  const roll = random();
  if (roll < 0.08) return null;
  if (roll < 0.16) return random() < 0.5;
  if (roll < 0.4) return pick(random, sampleNumbers);
  if (roll < 0.65 || depth <= 0) return pick(random, sampleStrings);
  if (roll < 0.83) {
    const length = Math.floor(random() * 4);
    return Array.from({ length }, () => randomJson(random, depth - 1));
  }
  const object: JsonObject = {};
  const count = Math.floor(random() * 4);
  for (let i = 0; i < count; i++) object[pick(random, sampleKeys)] = randomJson(random, depth - 1);
  return object;
}
