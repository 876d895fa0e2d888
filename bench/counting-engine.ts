/**
 * A storage engine wrapper that counts write transactions and the time spent
 * in them, so the bench can report how many documents each durable commit
 * (one fsync of the write-ahead log) carried. It changes no behaviour.
 */
import { performance } from 'node:perf_hooks';
import type { DatabaseStore, StorageEngine, WriteBatch, WriteResult } from '../src/storage/engine.js';

export class WriteCounter {
  transactions = 0;
  docs = 0;
  /** Wall time inside `store.write`, which for SQLite is synchronous and so blocks the event loop. */
  writeMs = 0;
  /** The longest single `store.write`: how long one transaction held the event loop. */
  writeMsMax = 0;

  snapshot(): WriteCounts {
    return { transactions: this.transactions, docs: this.docs, writeMs: this.writeMs };
  }
}

export interface WriteCounts {
  readonly transactions: number;
  readonly docs: number;
  readonly writeMs: number;
}

export function countsSince(before: WriteCounts, after: WriteCounts): WriteCounts {
  return {
    transactions: after.transactions - before.transactions,
    docs: after.docs - before.docs,
    writeMs: after.writeMs - before.writeMs,
  };
}

/** `engine` with every store's `write` counted into `counter`. */
export function countingEngine(engine: StorageEngine, counter: WriteCounter): StorageEngine {
  return forwarding(engine, {
    openDatabase: async (name: string) => countingStore(await engine.openDatabase(name), counter),
  });
}

function countingStore(store: DatabaseStore, counter: WriteCounter): DatabaseStore {
  return forwarding(store, {
    write: async (batch: WriteBatch): Promise<WriteResult> => {
      const start = performance.now();
      try {
        return await store.write(batch);
      } finally {
        const elapsedMs = performance.now() - start;
        counter.writeMs += elapsedMs;
        counter.writeMsMax = Math.max(counter.writeMsMax, elapsedMs);
        counter.transactions++;
        counter.docs += batch.docs.length;
      }
    },
  });
}

/**
 * A view of `target` with some members replaced; the rest are forwarded with
 * `this` bound to the target (engines keep state in private `#fields`, which a
 * proxy as receiver could not reach).
 */
function forwarding<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, key) {
      if (Object.prototype.hasOwnProperty.call(overrides, key)) return overrides[key as keyof T];
      const value: unknown = Reflect.get(object, key, object);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}
