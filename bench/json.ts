/**
 * JSON fidelity and revision-hash throughput: parseJson (fast and strict paths)
 * against JSON.parse, stringifyJson against JSON.stringify, computeRevHash.
 */
import { parseJson, parseStrict } from '../src/core/json-parse.js';
import { stringifyJson } from '../src/core/json-write.js';
import { computeRevHash } from '../src/core/revid.js';
import type { JsonObject } from '../src/core/json-value.js';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const words = ['couch', 'relax', 'replication', 'conflict', 'revision', 'Zoë', 'naïve', '東京', 'ok', 'order'];

/** A deterministic, realistic document of about `bytes` bytes of JSON. */
export function sampleDoc(bytes: number): Record<string, unknown> {
  let seed = 42;
  const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const word = (): string => words[Math.floor(next() * words.length)] as string;
  const doc: Record<string, unknown> = { _id: 'doc-000123', type: 'order', created: 1700000000000, paid: true };
  let i = 0;
  while (JSON.stringify(doc).length < bytes) {
    const kind = i % 5;
    if (kind === 0) doc[`note${i}`] = `${word()} ${word()} ${word()}`;
    else if (kind === 1) doc[`price${i}`] = Math.round(next() * 100000) / 100 + 0.01;
    else if (kind === 2) doc[`count${i}`] = Math.floor(next() * 1000);
    else if (kind === 3) doc[`tags${i}`] = [word(), word(), null, false];
    else doc[`item${i}`] = { sku: `${word()}-${i}`, qty: Math.floor(next() * 9) + 1, unit: 3.25, ok: next() < 0.5 };
    i++;
  }
  return doc;
}

/** Operations per second of `fn` over about `durationMs`. */
function measure(fn: () => unknown, durationMs: number): number {
  let operations = 0;
  let batch = 16;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(durationMs * 1e6));
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) fn();
    operations += batch;
    if (batch < 4096) batch *= 2;
    now = process.hrtime.bigint();
  }
  return operations / (Number(now - start) / 1e9);
}

/**
 * Best operations per second of each function, measured in alternating rounds
 * so that a noisy (shared) machine affects all of them alike.
 */
function bestOpsPerSecond(fns: readonly (() => unknown)[], rounds = 6, roundMs = 80): number[] {
  for (const fn of fns) for (let i = 0; i < 300; i++) fn(); // warm up
  const best = fns.map(() => 0);
  for (let round = 0; round < rounds; round++) {
    fns.forEach((fn, index) => {
      best[index] = Math.max(best[index] as number, measure(fn, roundMs));
    });
  }
  return best;
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

export async function benchJson(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const size of [100, 1024, 10 * 1024]) {
    const label = size >= 1024 ? `${size / 1024}KB` : `${size}B`;
    const text = JSON.stringify(sampleDoc(size));
    const value = parseJson(text);
    const [native = 0, fast = 0, strict = 0, nativeWrite = 0, write = 0] = bestOpsPerSecond([
      () => JSON.parse(text),
      () => parseJson(text),
      () => parseStrict(text),
      () => JSON.stringify(value),
      () => stringifyJson(value),
    ]);
    results.push({ name: `json.parse.fast.${label}`, value: round(fast, 0), unit: 'docs/s', note: `${text.length} bytes` });
    results.push({ name: `json.parse.fast_vs_native.${label}`, value: round(fast / native), unit: 'ratio', note: 'parseJson / JSON.parse throughput' });
    results.push({ name: `json.parse.strict.${label}`, value: round(strict, 0), unit: 'docs/s' });
    results.push({ name: `json.parse.strict_vs_native.${label}`, value: round(strict / native), unit: 'ratio' });
    results.push({ name: `json.stringify.${label}`, value: round(write, 0), unit: 'docs/s' });
    results.push({ name: `json.stringify_vs_native.${label}`, value: round(write / nativeWrite), unit: 'ratio', note: 'stringifyJson / JSON.stringify throughput' });
  }
  const floatText = JSON.stringify(sampleDoc(1024)).replace(/"count(\d+)":(\d+)/g, '"count$1":$2.0');
  const floatValue = parseJson(floatText);
  const [floatParse = 0, floatWrite = 0] = bestOpsPerSecond([() => parseJson(floatText), () => stringifyJson(floatValue)]);
  results.push({ name: 'json.parse.with_integral_floats.1KB', value: round(floatParse, 0), unit: 'docs/s', note: 'falls back to the strict parser' });
  results.push({ name: 'json.stringify.with_integral_floats.1KB', value: round(floatWrite, 0), unit: 'docs/s', note: 'custom writer' });
  for (const size of [1024, 10 * 1024]) {
    const body = parseJson(JSON.stringify(sampleDoc(size))) as JsonObject;
    delete body._id;
    const input = { deleted: false, parent: { pos: 3, hash: '0123456789abcdef0123456789abcdef' }, body, attachments: [] };
    const [revs = 0] = bestOpsPerSecond([() => computeRevHash(input)]);
    results.push({ name: `revid.compute.${size / 1024}KB`, value: round(revs, 0), unit: 'docs/s' });
  }
  return results;
}
