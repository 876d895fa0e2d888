/**
 * UUIDs for `/_uuids` and server-generated document ids, CouchDB's
 * `[uuids] algorithm`s:
 *
 * - `sequential` (CouchDB 3.4's default): a 26-hex random prefix and a 6-hex
 *   counter that grows by a random step in [1, 0xffd]; once the counter reaches
 *   0xfff000 the prefix is regenerated. Ids are monotonic under one prefix,
 *   which keeps B-tree inserts local;
 * - `random`: 32 random hex digits;
 * - `utc_random`: 14 hex digits of microseconds since the epoch + 18 random;
 * - `utc_id`: the same time prefix + `[uuids] utc_id_suffix`.
 *
 * Randomness and the clock are injected so tests can replay sequences.
 */
import { randomBytes, randomInt } from 'node:crypto';

export type UuidAlgorithm = 'sequential' | 'random' | 'utc_random' | 'utc_id';

export const uuidAlgorithms: readonly UuidAlgorithm[] = ['sequential', 'random', 'utc_random', 'utc_id'];

export interface UuidSource {
  /** `count` random bytes as lower-case hex. */
  randomHex(bytes: number): string;
  /** An integer in [1, max]. */
  randomStep(max: number): number;
  nowMicros(): number;
}

export const systemUuidSource: UuidSource = {
  randomHex: (bytes) => randomBytes(bytes).toString('hex'),
  randomStep: (max) => randomInt(1, max + 1),
  nowMicros: () => Date.now() * 1000,
};

const counterRollover = 0xfff000;
const stepMax = 0xffd;

export interface UuidGeneratorOptions {
  readonly algorithm: UuidAlgorithm;
  readonly utcIdSuffix?: string;
  readonly source?: UuidSource;
}

export class UuidGenerator {
  readonly algorithm: UuidAlgorithm;
  readonly #source: UuidSource;
  readonly #utcIdSuffix: string;
  #prefix: string;
  #counter: number;
  #clock = 0;

  constructor(options: UuidGeneratorOptions) {
    this.algorithm = options.algorithm;
    this.#source = options.source ?? systemUuidSource;
    this.#utcIdSuffix = options.utcIdSuffix ?? '';
    this.#prefix = this.#source.randomHex(13);
    this.#counter = this.#source.randomStep(stepMax);
  }

  next(): string {
    switch (this.algorithm) {
      case 'sequential':
        return this.#sequential();
      case 'random':
        return this.#source.randomHex(16);
      case 'utc_random':
        return this.#utcPrefix() + this.#source.randomHex(9);
      case 'utc_id':
        return this.#utcPrefix() + this.#utcIdSuffix;
    }
  }

  #sequential(): string {
    const uuid = this.#prefix + this.#counter.toString(16).padStart(6, '0');
    if (this.#counter >= counterRollover) {
      this.#prefix = this.#source.randomHex(13);
      this.#counter = this.#source.randomStep(stepMax);
    } else {
      this.#counter += this.#source.randomStep(stepMax);
    }
    return uuid;
  }

  /** Microseconds in 14 hex digits, strictly increasing even if the clock stalls or steps back. */
  #utcPrefix(): string {
    const now = this.#source.nowMicros();
    this.#clock = now > this.#clock ? now : this.#clock + 1;
    return this.#clock.toString(16).padStart(14, '0');
  }
}
