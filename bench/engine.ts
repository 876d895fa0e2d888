/**
 * Engine benchmarks: the `db` layer over the SQLite engine, in process, on
 * the disk of `context.tempRoot`.
 *
 * Every write figure is read against the disk's raw fsync rate measured in
 * the same run: without group commit, commits/s could not exceed it (each
 * acknowledged write waits for its own fsync); with it, concurrent writers
 * share a transaction and commits/s should rise well above it. Because
 * better-sqlite3 is synchronous, the event loop is blocked for each
 * transaction, so the loop's delay under write load is measured too.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { computeRevHash } from '../src/core/revid.js';
import type { JsonObject } from '../src/core/json-value.js';
import { Couch } from '../src/db/couch.js';
import type { Database } from '../src/db/database.js';
import { docUpdateFromJson, type DocUpdate } from '../src/db/document.js';
import { SqliteEngine } from '../src/storage/sqlite-engine.js';
import { countingEngine, countsSince, WriteCounter } from './counting-engine.js';
import { measureFsyncRate } from './disk.js';
import { makeDoc, randomDocId, seededRandom, type Random } from './docs.js';
import {
  formatMs,
  formatNumber,
  percentile,
  perSecond,
  runTimed,
  timeOnce,
  withTempDir,
  type BenchContext,
  type BenchReference,
  type BenchRow,
} from './support.js';

interface EngineSizes {
  readonly fsyncMs: number;
  readonly commitWarmupMs: number;
  readonly commitMs: number;
  readonly writerCounts: readonly number[];
  readonly bulkDocs: number;
  readonly bulkBatchDocs: number;
  readonly readMs: number;
  readonly changesMs: number;
  readonly changesPageRows: number;
  readonly hashMs: number;
  /** Distinct documents cycled through by the write and hash loops. */
  readonly docPoolSize: number;
}

const fullSizes: EngineSizes = {
  fsyncMs: 2_000,
  commitWarmupMs: 500,
  commitMs: 5_000,
  writerCounts: [1, 8, 32, 128],
  bulkDocs: 100_000,
  bulkBatchDocs: 1_000,
  readMs: 3_000,
  changesMs: 2_000,
  changesPageRows: 10_000,
  hashMs: 2_000,
  docPoolSize: 10_000,
};

const quickSizes: EngineSizes = {
  ...fullSizes,
  fsyncMs: 500,
  commitWarmupMs: 100,
  commitMs: 1_000,
  bulkDocs: 10_000,
  readMs: 500,
  changesMs: 300,
  hashMs: 500,
  docPoolSize: 1_000,
};

/** Writer count whose run is watched for event-loop delay. */
const watchedWriterCount = 32;
const seed = 0x5e77ee;

const workload = {
  fsync: 'disk fsync (4 KB write + fsync)',
  commits: (writers: number) => `updateDoc new doc, ${writers} writer${writers === 1 ? '' : 's'}`,
  loopDelay: (statistic: string) => `event-loop delay ${statistic}, ${watchedWriterCount} writers`,
  bulk: (docs: number, batch: number) => `updateDocs ×${formatNumber(batch)}, ${formatCount(docs)} docs`,
  bulkLoopDelay: 'event-loop delay max, bulk load',
  reads: 'getDoc random existing id',
  changes: (docs: number) => `changes since 0, ${formatCount(docs)} docs`,
  hash: 'computeRevHash 1 KB doc',
} as const;

export async function benchEngine(context: BenchContext): Promise<BenchRow[]> {
  const sizes = context.quick ? quickSizes : fullSizes;
  const wanted = {
    fsync: context.selects(workload.fsync),
    commits: sizes.writerCounts.filter(
      (writers) =>
        context.selects(workload.commits(writers)) ||
        (writers === watchedWriterCount && ['p50', 'p99', 'max'].some((s) => context.selects(workload.loopDelay(s)))),
    ),
    bulk: context.selects(workload.bulk(sizes.bulkDocs, sizes.bulkBatchDocs)) || context.selects(workload.bulkLoopDelay),
    reads: context.selects(workload.reads),
    changes: context.selects(workload.changes(sizes.bulkDocs)),
    hash: context.selects(workload.hash),
  };
  const anything = wanted.fsync || wanted.commits.length > 0 || wanted.bulk || wanted.reads || wanted.changes || wanted.hash;
  if (!anything) return [];

  return withTempDir(context.tempRoot, 'engine', async (dir) => {
    const rows: BenchRow[] = [];
    context.log(`engine: measuring raw fsync rate in ${dir}`);
    const fsyncBefore = measureFsyncRate(dir, sizes.fsyncMs);
    const counter = new WriteCounter();
    // SETTEE_BENCH_WRITE_WORKER=1 measures the engine with write transactions in its worker thread.
    const writeWorker = process.env.SETTEE_BENCH_WRITE_WORKER === '1';
    context.log(`engine: write transactions ${writeWorker ? 'in the write worker' : 'inline'}`);
    const engine = new SqliteEngine({ dataDir: join(dir, 'data'), openDatabasesMax: 16, writeWorker });
    const couch = new Couch({ engine: countingEngine(engine, counter) });
    const docPool = makeDocPool(sizes.docPoolSize);
    // Replaced below by the rate over both probes.
    const provisional: BenchReference = { name: 'fsync/s', value: fsyncBefore.fsyncsPerSecond };
    try {
      for (const writers of wanted.commits) {
        rows.push(...(await benchCommits(context, couch, counter, docPool, writers, sizes, provisional)));
      }
      if (wanted.bulk || wanted.reads || wanted.changes) {
        const loaded = await loadBulk(context, couch, counter, docPool, sizes, provisional);
        if (wanted.bulk) rows.push(...loaded.rows);
        if (wanted.reads) rows.push(await benchReads(context, loaded.db, loaded.ids, sizes, provisional));
        if (wanted.changes) rows.push(await benchChanges(context, loaded.db, sizes, provisional));
      }
      if (wanted.hash) rows.push(benchHash(context, docPool, sizes, provisional));
    } finally {
      await couch.close();
    }
    // Shared disks drift: probing before and after shows it, and the
    // reference is the rate over both probes.
    context.log('engine: measuring raw fsync rate again');
    const fsyncAfter = measureFsyncRate(dir, sizes.fsyncMs);
    const fsyncs = fsyncBefore.fsyncs + fsyncAfter.fsyncs;
    const reference: BenchReference = { name: 'fsync/s', value: perSecond(fsyncs, fsyncBefore.elapsedMs + fsyncAfter.elapsedMs) };
    const fsyncRow: BenchRow = {
      name: workload.fsync,
      value: reference.value,
      unit: 'fsync/s',
      note:
        `before ${formatNumber(fsyncBefore.fsyncsPerSecond)}/s (p50 ${formatMs(fsyncBefore.p50Ms)}, p99 ${formatMs(fsyncBefore.p99Ms)}), ` +
        `after ${formatNumber(fsyncAfter.fsyncsPerSecond)}/s (p50 ${formatMs(fsyncAfter.p50Ms)}, p99 ${formatMs(fsyncAfter.p99Ms)})`,
    };
    return [fsyncRow, ...rows.map((row) => (row.reference === provisional ? { ...row, reference } : row))];
  });
}

interface DocPool {
  readonly docs: readonly JsonObject[];
  readonly meanBytes: number;
}

function makeDocPool(size: number): DocPool {
  const random = seededRandom(seed);
  const docs = Array.from({ length: size }, (_, index) => makeDoc(random, index));
  const bytes = docs.reduce((sum, doc) => sum + Buffer.byteLength(JSON.stringify(doc)), 0);
  return { docs, meanBytes: bytes / size };
}

/** Single-document writes of new documents by `writers` concurrent callers. */
async function benchCommits(
  context: BenchContext,
  couch: Couch,
  counter: WriteCounter,
  pool: DocPool,
  writers: number,
  sizes: EngineSizes,
  reference: BenchReference,
): Promise<BenchRow[]> {
  context.log(`engine: ${workload.commits(writers)} for ${sizes.commitMs} ms`);
  const db = await couch.createDatabase(`commits-${writers}`);
  const random = seededRandom(seed + writers);
  const writeOne = (sequence: number) =>
    db.updateDoc(docUpdateFromJson(pool.docs[sequence % pool.docs.length] as JsonObject, { id: randomDocId(random) }));
  await runTimed({ durationMs: sizes.commitWarmupMs, concurrency: writers, operation: writeOne });

  const watched = writers === watchedWriterCount;
  const loop = watched ? startLoopMonitor() : undefined;
  const before = counter.snapshot();
  const run = await runTimed({ durationMs: sizes.commitMs, concurrency: writers, operation: writeOne });
  const counts = countsSince(before, counter.snapshot());
  loop?.disable();

  const commitsPerSecond = perSecond(run.operations, run.elapsedMs);
  const docsPerTransaction = counts.transactions > 0 ? counts.docs / counts.transactions : 0;
  const rows: BenchRow[] = [
    {
      name: workload.commits(writers),
      value: commitsPerSecond,
      unit: 'commits/s',
      reference,
      note:
        `${formatNumber(docsPerTransaction)} docs/txn, ${formatNumber(perSecond(counts.transactions, run.elapsedMs))} txn/s; ` +
        `latency p50 ${formatMs(percentile(run.latenciesMs, 0.5))}, p99 ${formatMs(percentile(run.latenciesMs, 0.99))}`,
    },
  ];
  if (loop !== undefined) {
    const busy = `SQLite busy ${formatNumber((100 * counts.writeMs) / run.elapsedMs)}% of wall time`;
    const statistics = [
      { statistic: 'p50', value: loop.percentile(50) },
      { statistic: 'p99', value: loop.percentile(99) },
      { statistic: 'max', value: loop.max },
    ];
    for (const { statistic, value } of statistics) {
      if (!context.selects(workload.loopDelay(statistic)) && !context.selects(workload.commits(writers))) continue;
      rows.push({ name: workload.loopDelay(statistic), value: value / 1e6, unit: 'ms', ...(statistic === 'p50' ? { note: busy } : {}) });
    }
  }
  return rows;
}

interface LoadedDatabase {
  readonly db: Database;
  readonly ids: readonly string[];
  readonly rows: BenchRow[];
}

/** Fills a database with `bulkDocs` new documents, `bulkBatchDocs` per `updateDocs` call, one call at a time. */
async function loadBulk(
  context: BenchContext,
  couch: Couch,
  counter: WriteCounter,
  pool: DocPool,
  sizes: EngineSizes,
  reference: BenchReference,
): Promise<LoadedDatabase> {
  context.log(`engine: ${workload.bulk(sizes.bulkDocs, sizes.bulkBatchDocs)}`);
  const db = await couch.createDatabase('bulk');
  const random = seededRandom(seed + 1_000_000);
  const ids: string[] = [];
  // Built beforehand (bodies from the pool, fresh ids) so that only the engine's
  // work is timed and only its blocking shows in the event-loop delay.
  const batches: DocUpdate[][] = [];
  for (let start = 0; start < sizes.bulkDocs; start += sizes.bulkBatchDocs) {
    const count = Math.min(sizes.bulkBatchDocs, sizes.bulkDocs - start);
    batches.push(makeUpdates(random, pool, start, count, ids));
  }
  const batchMs: number[] = [];
  const before = counter.snapshot();
  counter.writeMsMax = 0;
  const loop = startLoopMonitor();
  for (const updates of batches) {
    batchMs.push(await timeOnce(() => db.updateDocs(updates)));
  }
  loop.disable();
  const counts = countsSince(before, counter.snapshot());
  const elapsedMs = batchMs.reduce((sum, ms) => sum + ms, 0);
  batchMs.sort((a, b) => a - b);
  const docsPerSecond = perSecond(sizes.bulkDocs, elapsedMs);
  const rows: BenchRow[] = [
    {
      name: workload.bulk(sizes.bulkDocs, sizes.bulkBatchDocs),
      value: docsPerSecond,
      unit: 'docs/s',
      reference,
      note:
        `${formatNumber(counts.docs / Math.max(1, counts.transactions))} docs/txn; ` +
        `batch p50 ${formatMs(percentile(batchMs, 0.5))}, max ${formatMs(percentile(batchMs, 1))}`,
    },
    {
      name: workload.bulkLoopDelay,
      value: loop.max / 1e6,
      unit: 'ms',
      note: `p99 ${formatMs(loop.percentile(99) / 1e6)}; longest SQLite write ${formatMs(counter.writeMsMax)} (one group commit blocks the loop; requests of ${formatNumber(sizes.bulkBatchDocs)} docs commit in chunks of commitDocsMax)`,
    },
  ];
  return { db, ids, rows };
}

function makeUpdates(random: Random, pool: DocPool, firstIndex: number, count: number, ids: string[]): DocUpdate[] {
  const updates: DocUpdate[] = [];
  for (let index = firstIndex; index < firstIndex + count; index++) {
    const id = randomDocId(random);
    ids.push(id);
    updates.push(docUpdateFromJson(pool.docs[index % pool.docs.length] as JsonObject, { id }));
  }
  return updates;
}

/** One reader, back to back, of documents picked at random among the loaded ones. */
async function benchReads(
  context: BenchContext,
  db: Database,
  ids: readonly string[],
  sizes: EngineSizes,
  reference: BenchReference,
): Promise<BenchRow> {
  context.log(`engine: ${workload.reads} for ${sizes.readMs} ms`);
  const random = seededRandom(seed + 2_000_000);
  const readOne = () => db.getDoc(ids[Math.floor(random() * ids.length)] as string);
  await runTimed({ durationMs: Math.min(500, sizes.readMs), concurrency: 1, operation: readOne });
  const run = await runTimed({ durationMs: sizes.readMs, concurrency: 1, operation: readOne });
  return {
    name: workload.reads,
    value: perSecond(run.operations, run.elapsedMs),
    unit: 'reads/s',
    reference,
    note: `1 reader over ${formatCount(ids.length)} docs; p50 ${formatMs(percentile(run.latenciesMs, 0.5))}, p99 ${formatMs(percentile(run.latenciesMs, 0.99))}`,
  };
}

/** Whole passes over the changes feed, page by page, until `changesMs` has passed (at least one). */
async function benchChanges(context: BenchContext, db: Database, sizes: EngineSizes, reference: BenchReference): Promise<BenchRow> {
  context.log(`engine: ${workload.changes(sizes.bulkDocs)}`);
  let rows = 0;
  let passes = 0;
  let elapsedMs = 0;
  while (passes === 0 || elapsedMs < sizes.changesMs) {
    elapsedMs += await timeOnce(async () => {
      let since = 0;
      for (;;) {
        const page = await db.changes({ since, limit: sizes.changesPageRows });
        rows += page.rows.length;
        since = page.lastSeq;
        if (!page.more || page.rows.length === 0) break;
      }
    });
    passes++;
  }
  return {
    name: workload.changes(sizes.bulkDocs),
    value: perSecond(rows, elapsedMs),
    unit: 'rows/s',
    reference,
    note: `${passes} pass${passes === 1 ? '' : 'es'}, pages of ${formatNumber(sizes.changesPageRows)}`,
  };
}

/** Revision hashes of new documents (CouchDB's MD5 over the Erlang term), synchronous, one core. */
function benchHash(context: BenchContext, pool: DocPool, sizes: EngineSizes, reference: BenchReference): BenchRow {
  context.log(`engine: ${workload.hash} for ${sizes.hashMs} ms`);
  const hashOne = (index: number) =>
    computeRevHash({ deleted: false, parent: null, body: pool.docs[index % pool.docs.length] as JsonObject, attachments: [] });
  for (let index = 0; index < pool.docs.length; index++) hashOne(index);
  const checkEvery = 256;
  let hashes = 0;
  const start = performance.now();
  const deadline = start + sizes.hashMs;
  while (performance.now() < deadline) {
    for (let i = 0; i < checkEvery; i++) hashOne(hashes++);
  }
  const elapsedMs = performance.now() - start;
  return {
    name: workload.hash,
    value: perSecond(hashes, elapsedMs),
    unit: 'docs/s',
    reference,
    note: `mean doc ${formatNumber(pool.meanBytes)} B as JSON; ${formatNumber(pool.docs.length)} distinct docs`,
  };
}

function startLoopMonitor(): IntervalHistogram {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  return histogram;
}

function formatCount(count: number): string {
  return count >= 1000 && count % 1000 === 0 ? `${count / 1000}k` : formatNumber(count);
}
