/**
 * Helpers for replicator tests: in-memory Couch instances, document writes,
 * a deterministic environment (manual clock, seeded randomness) and a summary
 * of a database's revision trees for convergence checks.
 */
import { Couch } from '../../src/db/couch.js';
import type { Database } from '../../src/db/database.js';
import { docUpdateFromJson } from '../../src/db/document.js';
import { parseJson } from '../../src/core/json-parse.js';
import { allRevs, leaves } from '../../src/core/revtree.js';
import { formatRev } from '../../src/core/rev.js';
import { SqliteEngine } from '../../src/storage/sqlite-engine.js';
import type { ReplicationEnvironment } from '../../src/replicator/environment.js';
import { LocalEndpoint } from '../../src/replicator/local-endpoint.js';
import { createPrng } from './prng.js';

export const testServerUuid = '0123456789abcdef0123456789abcdef';

export function newCouch(): Couch {
  return new Couch({ engine: new SqliteEngine({ dataDir: ':memory:' }) });
}

export function localEndpoint(couch: Couch, dbName: string): LocalEndpoint {
  return new LocalEndpoint({ couch, dbName });
}

export async function putDoc(db: Database, id: string, json: string): Promise<string> {
  return (await db.updateDoc(docUpdateFromJson(parseJson(json), { id }))).rev;
}

/** A clock that only moves when told to (or by `sleep`), and seeded randomness. */
export function testEnvironment(seed = 1, startMs = Date.UTC(2026, 0, 1)): ReplicationEnvironment & { advance(ms: number): void } {
  let now = startMs;
  const random = createPrng(seed);
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    sleep: async (ms) => {
      now += ms;
    },
    random,
  };
}

export interface DocSummary {
  readonly winner: string;
  readonly deleted: boolean;
  readonly leaves: readonly string[];
  readonly revs: readonly string[];
}

/** Every document's winner, leaves and full revision set, by id. */
export async function summarize(db: Database): Promise<Map<string, DocSummary>> {
  const summary = new Map<string, DocSummary>();
  const page = await db.changes({ since: 0, limit: 1_000_000, style: 'all_docs' });
  for (const row of page.rows) {
    const all = leaves(row.record.tree);
    summary.set(row.id, {
      winner: row.record.winningRev,
      deleted: row.record.deleted,
      leaves: all.map((leaf) => formatRev(leaf)).sort(),
      revs: allRevs(row.record.tree).map(formatRev),
    });
  }
  return summary;
}
