/**
 * Deterministic benchmark documents: ~1 KB JSON objects shaped like real
 * application data (an order with a customer, line items, tags, free text),
 * produced from a seed so every run writes the same bytes.
 */
import type { JsonObject } from '../src/core/json-value.js';
import { createPrng } from '../test/support/prng.js';

/** A seeded pseudo-random source (mulberry32): uniform in [0, 1). */
export type Random = () => number;

/** The tests' seeded PRNG, so benchmark data and test data come from one generator. */
export const seededRandom: (seed: number) => Random = createPrng;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function integer(random: Random, below: number): number {
  return Math.floor(random() * below);
}

/** 32 lowercase hex digits, like a CouchDB uuid. */
export function randomDocId(random: Random): string {
  let id = '';
  for (let i = 0; i < 4; i++) id += integer(random, 0x100000000).toString(16).padStart(8, '0');
  return id;
}

const firstNames = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Niklaus'];
const lastNames = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Wirth'];
const cities = ['Lisbon', 'Nairobi', 'Osaka', 'Montréal', 'Zürich', 'São Paulo', 'Reykjavík', 'Tallinn'];
const products = ['widget', 'gadget', 'sprocket', 'flange', 'gizmo', 'doohickey', 'bracket', 'coupler'];
const statuses = ['pending', 'paid', 'shipped', 'delivered', 'returned'];
const words = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore ' +
  'magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat'
).split(' ');

function sentence(random: Random, wordCount: number): string {
  const chosen: string[] = [];
  for (let i = 0; i < wordCount; i++) chosen.push(pick(random, words));
  return chosen.join(' ');
}

/** An order document of about 1 KB when serialised (900–1,200 bytes). */
export function makeDoc(random: Random, index: number): JsonObject {
  const first = pick(random, firstNames);
  const last = pick(random, lastNames);
  const itemCount = 2 + integer(random, 3);
  const items: JsonObject[] = [];
  let totalCents = 0;
  for (let i = 0; i < itemCount; i++) {
    const quantity = 1 + integer(random, 9);
    const priceCents = 99 + integer(random, 20_000);
    totalCents += quantity * priceCents;
    items.push({
      sku: `${pick(random, products)}-${integer(random, 100_000).toString().padStart(5, '0')}`,
      quantity,
      price: priceCents / 100,
      gift: random() < 0.1,
    });
  }
  const day = 1 + integer(random, 28);
  const month = 1 + integer(random, 12);
  return {
    type: 'order',
    number: index,
    status: pick(random, statuses),
    createdAt: `2024-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T${String(integer(random, 24)).padStart(2, '0')}:${String(integer(random, 60)).padStart(2, '0')}:00Z`,
    customer: {
      name: `${first} ${last}`,
      email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`,
      address: {
        street: `${1 + integer(random, 999)} ${pick(random, lastNames)} Street`,
        city: pick(random, cities),
        postcode: integer(random, 100_000).toString().padStart(5, '0'),
      },
      loyaltyPoints: integer(random, 10_000),
    },
    items,
    total: totalCents / 100,
    currency: 'EUR',
    tags: [pick(random, words), pick(random, words), pick(random, words)],
    notes: sentence(random, 40 + integer(random, 20)),
    flags: { priority: random() < 0.2, fragile: random() < 0.3, reviewed: null },
  };
}
