/**
 * HTTP benchmarks: Settee over real sockets, each workload read against a
 * minimal Node `http` server (bench/http-reference-server.ts) measured in the
 * same run with the same load shape.
 *
 * Three processes: Settee's CLI (fresh data directory, port from the OS), the
 * reference server, and the load generator (bench/http-load.ts), so neither
 * server shares an event loop with the load. Fixed request shapes run on
 * autocannon; dependent sequences (bulk batches, paged feeds, GET+PUT update
 * chains, 409 retries) on a hand-written keep-alive client. Workloads that
 * move many documents per request (_bulk_docs, _changes, _all_docs) are read
 * against the reference's peak rate: GET at 32 connections, in requests/s.
 *
 * Targets are ratios to the reference (issue: HTTP performance on a 2-core
 * machine); CouchDB 3.4.3 and PouchDB Server measured the same way gave the
 * ratios quoted in each row's note.
 *
 * SETTEE_BENCH_CPU_PROF_DIR=<dir> runs the Settee child with `--cpu-prof`
 * into that directory (combine with --only to profile one workload).
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { measureFsyncRate } from './disk.js';
import type { LoadJob, LoadResult, LoadTarget, PathPlan } from './http-jobs.js';
import { LoadGenerator, startServer, tail, type ServerChild } from './http-processes.js';
import { formatMs, formatNumber, perSecond, withTempDir, type BenchContext, type BenchReference, type BenchRow } from './support.js';

interface HttpSizes {
  readonly warmupMs: number;
  /** Each timed run, on Settee and on the reference alike. */
  readonly runMs: number;
  readonly bulkDocs: number;
  readonly bulkBatchDocs: number;
  /** Feed passes repeat until this much request time has passed. */
  readonly feedMs: number;
  readonly allDocsPageRows: number;
  /** The disk's raw fsync rate, measured before the write workloads: durable writes are bound by it. */
  readonly fsyncMs: number;
  /** Settee runs per request-rate workload, each between two reference runs; the median round is reported. */
  readonly rounds: number;
}

const fullSizes: HttpSizes = { warmupMs: 500, runMs: 3_000, bulkDocs: 100_000, bulkBatchDocs: 1_000, feedMs: 2_000, allDocsPageRows: 1_000, fsyncMs: 1_000, rounds: 3 };
const quickSizes: HttpSizes = { ...fullSizes, warmupMs: 200, runMs: 700, bulkDocs: 5_000, feedMs: 200, fsyncMs: 300, rounds: 1 };

const seed = 0x477b;
const admin = { name: 'admin', password: 'password' };
const concurrency = { putFew: 1, putMany: 32, get: 32, updates: 16, contention: 16 } as const;

interface Target {
  readonly ratio: number;
  /** Ratios measured for CouchDB 3.4.3 / PouchDB Server (issue text). */
  readonly couchdb: number;
  readonly pouchdbServer: number;
}

const targets = {
  putMany: { ratio: 0.25, couchdb: 0.028, pouchdbServer: 0.022 },
  get: { ratio: 0.5, couchdb: 0.028, pouchdbServer: 0.03 },
  bulk: { ratio: 1.0, couchdb: 0.36, pouchdbServer: 0.18 },
  changes: { ratio: 5.0, couchdb: 1.04, pouchdbServer: 0.47 },
} as const satisfies Record<string, Target>;

const clients = (count: number) => `${count} client${count === 1 ? '' : 's'}`;
const workload = {
  putFew: `http PUT new doc, ${clients(concurrency.putFew)}`,
  putMany: `http PUT new doc, ${clients(concurrency.putMany)}`,
  bulk: (docs: number, batch: number) => `http _bulk_docs ×${formatNumber(batch)}, ${formatCount(docs)} docs`,
  get: `http GET random doc, ${clients(concurrency.get)}`,
  changes: (docs: number) => `http _changes since 0, ${formatCount(docs)} rows`,
  allDocs: (rows: number) => `http _all_docs include_docs, pages of ${formatNumber(rows)}`,
  updates: `http GET+PUT update chains, ${clients(concurrency.updates)}`,
  contention: `http same-doc GET+PUT, 409 retry, ${clients(concurrency.contention)}`,
  conflictRate: `http same-doc 409 rate, ${clients(concurrency.contention)}`,
} as const;

export async function benchHttp(context: BenchContext): Promise<BenchRow[]> {
  const sizes = context.quick ? quickSizes : fullSizes;
  const wanted = {
    putFew: context.selects(workload.putFew),
    putMany: context.selects(workload.putMany),
    bulk: context.selects(workload.bulk(sizes.bulkDocs, sizes.bulkBatchDocs)),
    get: context.selects(workload.get),
    changes: context.selects(workload.changes(sizes.bulkDocs)),
    allDocs: context.selects(workload.allDocs(sizes.allDocsPageRows)),
    updates: context.selects(workload.updates),
    contention: context.selects(workload.contention) || context.selects(workload.conflictRate),
  };
  const needsBulk = wanted.bulk || wanted.get || wanted.changes || wanted.allDocs;
  if (!Object.values(wanted).some(Boolean)) return [];

  return withTempDir(context.tempRoot, 'http', async (dir) => {
    const processes = await startProcesses(context, dir);
    const bench = new HttpBench(context, processes, sizes);
    try {
      const rows: BenchRow[] = [];
      // Settee's data directory is on this disk; on a shared machine its fsync rate moves the write rows most.
      const fsync = measureFsyncRate(dir, sizes.fsyncMs);
      const diskNote = `disk ${formatNumber(fsync.fsyncsPerSecond)} fsync/s (p50 ${formatMs(fsync.p50Ms)})`;
      context.log(`http: ${diskNote}`);
      if (wanted.putFew) rows.push(await bench.putNewDocs(workload.putFew, concurrency.putFew, undefined, diskNote));
      if (wanted.putMany) rows.push(await bench.putNewDocs(workload.putMany, concurrency.putMany, targets.putMany, diskNote));
      if (needsBulk) {
        const names = { bulk: workload.bulk(sizes.bulkDocs, sizes.bulkBatchDocs), get: workload.get };
        const { bulk, get, peak } = await bench.bulkAndGet(names);
        if (wanted.bulk) rows.push(bulk);
        if (wanted.get) rows.push(get);
        if (wanted.changes) rows.push(await bench.changes(workload.changes(sizes.bulkDocs), peak));
        if (wanted.allDocs) rows.push(await bench.allDocs(workload.allDocs(sizes.allDocsPageRows), peak));
      }
      if (wanted.updates) rows.push(await bench.updateChains(workload.updates, concurrency.updates, concurrency.updates));
      if (wanted.contention) rows.push(...(await bench.contention()));
      return rows;
    } catch (error) {
      context.log(`http: failed; last lines of Settee's log:\n${tail(processes.settee.logFile)}`);
      throw error;
    } finally {
      await processes.stop();
    }
  });
}

interface Processes {
  readonly settee: ServerChild & { readonly logFile: string };
  readonly reference: ServerChild;
  readonly load: LoadGenerator;
  stop(): Promise<void>;
}

async function startProcesses(context: BenchContext, dir: string): Promise<Processes> {
  const started: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    // The load first, so no socket keeps a server's graceful shutdown waiting.
    for (const child of started.reverse()) await child.stop();
  };
  try {
    const profileDir = process.env.SETTEE_BENCH_CPU_PROF_DIR;
    const setteeLog = join(dir, 'settee.log');
    const settee = await startServer({
      name: 'settee',
      script: new URL('../src/cli.js', import.meta.url),
      args: ['--port', '0', '--host', '127.0.0.1', '--data', join(dir, 'data'), '--admin', `${admin.name}:${admin.password}`],
      nodeArgs: profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir],
      logFile: setteeLog,
      cwd: dir,
    });
    started.push(settee);
    const reference = await startServer({
      name: 'reference',
      script: new URL('./http-reference-server.js', import.meta.url),
      args: [],
      logFile: join(dir, 'reference.log'),
      cwd: dir,
    });
    started.push(reference);
    const load = LoadGenerator.start(new URL('./http-load.js', import.meta.url));
    started.push(load);
    context.log(`http: Settee pid ${settee.pid} at ${settee.baseUrl}, reference pid ${reference.pid} at ${reference.baseUrl}, load pid ${load.pid}`);
    // Other work on the machine shifts every figure; the reference run beside each row absorbs most of it.
    context.log(`http: load average ${loadavg().map((load) => load.toFixed(2)).join(' ')} before the run`);
    if (profileDir !== undefined) context.log(`http: Settee CPU profile goes to ${profileDir}`);
    return { settee: { ...settee, logFile: setteeLog }, reference, load, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A Settee run and the reference it is read against. */
interface Measured {
  readonly result: LoadResult;
  readonly reference: BenchReference;
  /** |before − after| ÷ max of the reference measured before and after the run, when it was. */
  readonly referenceSpread?: number;
  /** Every round's ratio, in run order, when there were several (`result` is the median round's). */
  readonly roundRatios?: readonly number[];
}

/** A reference that moved more than this between its two measurements is flagged in the note. */
const referenceSpreadNoted = 0.15;

class HttpBench {
  private readonly settee: LoadTarget;
  private readonly reference: LoadTarget;

  constructor(
    private readonly context: BenchContext,
    private readonly processes: Processes,
    private readonly sizes: HttpSizes,
  ) {
    const authorization = `Basic ${Buffer.from(`${admin.name}:${admin.password}`).toString('base64')}`;
    this.settee = { baseUrl: processes.settee.baseUrl, authorization };
    this.reference = { baseUrl: processes.reference.baseUrl, authorization };
  }

  async putNewDocs(name: string, connections: number, target: Target | undefined, diskNote: string): Promise<BenchRow> {
    const db = `put-${connections}`;
    // Each round writes documents of its own (a seed per round): repeating ids would answer 409.
    const paths = (round: number): PathPlan => ({ kind: 'newDocs', db, seed: seed + connections + 1_000 * round });
    await this.createDatabase(db);
    const measured = await this.bracketed(
      name,
      () => this.measureReference('PUT', connections, paths(0)),
      (round) => this.run({ kind: 'autocannon', target: this.settee, paths: paths(round), connections, ...this.timing() }),
    );
    return row(name, measured, 'docs/s', target, `${latencyNote(measured.result)}; ${diskNote}`);
  }

  /**
   * Loads the bulk database (read against the reference's peak rate, GET at
   * 32 connections, measured before and after), then reads random documents
   * from it in rounds like the other request-rate workloads; the rows of
   * every many-documents-per-request workload that follow are read against
   * the reference of the median GET round.
   */
  async bulkAndGet(names: { readonly bulk: string; readonly get: string }): Promise<{ bulk: BenchRow; get: BenchRow; peak: Measured['reference'] }> {
    const paths: PathPlan = { kind: 'existingDocs', db: 'bulk', seed, count: this.sizes.bulkDocs };
    const peakBefore = await this.measureReference('GET', concurrency.get, paths);
    await this.createDatabase('bulk');
    this.context.log(`http: ${names.bulk}`);
    const job: LoadJob = { kind: 'bulkLoad', target: this.settee, db: 'bulk', docs: this.sizes.bulkDocs, batchDocs: this.sizes.bulkBatchDocs, seed };
    const bulkResult = await this.run(job);
    const afterBulk = await this.measureReference('GET', concurrency.get, paths);
    const bulkReference = this.combine(peakBefore, afterBulk);
    const get = await this.bracketed(
      names.get,
      () => this.measureReference('GET', concurrency.get, paths),
      () => this.run({ kind: 'autocannon', target: this.settee, paths, connections: concurrency.get, ...this.timing() }),
      afterBulk,
    );
    const batchNote = `batch p50 ${formatMs(bulkResult.latency.p50Ms)}, p99 ${formatMs(bulkResult.latency.p99Ms)}`;
    return {
      bulk: row(names.bulk, { result: bulkResult, ...bulkReference }, 'docs/s', targets.bulk, batchNote),
      get: row(names.get, get, 'docs/s', targets.get, `over ${formatCount(this.sizes.bulkDocs)} docs; ${latencyNote(get.result)}`),
      peak: get.reference,
    };
  }

  async changes(name: string, peak: BenchReference): Promise<BenchRow> {
    this.context.log(`http: ${name}`);
    const result = await this.run({ kind: 'changes', target: this.settee, db: 'bulk', durationMs: this.sizes.feedMs });
    return row(name, { result, reference: peak }, 'rows/s', targets.changes, `${passesNote(result)}; request p50 ${formatMs(result.latency.p50Ms)}`);
  }

  async allDocs(name: string, peak: BenchReference): Promise<BenchRow> {
    this.context.log(`http: ${name}`);
    const job: LoadJob = { kind: 'allDocs', target: this.settee, db: 'bulk', pageRows: this.sizes.allDocsPageRows, durationMs: this.sizes.feedMs };
    const result = await this.run(job);
    const detail = `${passesNote(result)}; page p50 ${formatMs(result.latency.p50Ms)}, p99 ${formatMs(result.latency.p99Ms)}`;
    return row(name, { result, reference: peak }, 'rows/s', undefined, detail);
  }

  /** `workers` clients, each updating document `worker % docCount` by GET then PUT. */
  async updateChains(name: string, workers: number, docCount: number): Promise<BenchRow> {
    const measured = await this.chains(name, workers, docCount);
    return row(name, measured, 'updates/s', undefined, `chain ${latencyNote(measured.result)}`);
  }

  /** Every client updates one document; a 409 sends it back to its GET. */
  async contention(): Promise<BenchRow[]> {
    const measured = await this.chains(workload.contention, concurrency.contention, 1);
    const { result } = measured;
    const puts = result.operations + result.conflicts;
    const conflictPercent = puts === 0 ? 0 : (100 * result.conflicts) / puts;
    return [
      row(workload.contention, measured, 'updates/s', undefined, `successful updates; chain incl. retries ${latencyNote(result)}`),
      {
        name: workload.conflictRate,
        value: conflictPercent,
        unit: '% of PUTs',
        note: `${formatNumber(result.conflicts)} × 409 in ${formatNumber(puts)} PUTs (${formatNumber(perSecond(result.conflicts, result.elapsedMs))}/s)`,
      },
    ];
  }

  /** The same hand-written update chains on the reference (which never answers 409) and on Settee. */
  private async chains(name: string, workers: number, docCount: number): Promise<Measured> {
    const db = `chains-${workers}-${docCount}`;
    // Each round creates documents of its own (a seed per round): creating the same ids again would answer 409.
    const job = (target: LoadTarget, round = 0): LoadJob => ({
      kind: 'updateChains',
      target,
      db,
      workers,
      docCount,
      seed: seed + docCount + 1_000 * round,
      ...this.timing(),
    });
    await this.createDatabase(db);
    const measureReference = async (): Promise<BenchReference> => {
      this.context.log(`http: reference, ${name}`);
      const result = await this.run(job(this.reference));
      if (result.failures > 0) throw new Error(`reference server failed: ${result.firstFailure ?? ''}`);
      return { name: `min-server updates/s @${workers}`, value: rate(result) };
    };
    return this.bracketed(name, measureReference, (round) => this.run(job(this.settee, round)));
  }

  /**
   * The reference, then Settee, then the reference again, `rounds` times
   * over (reference runs shared between neighbouring rounds); each Settee run
   * is read against the mean of the reference runs on either side of it,
   * since a shared machine drifts, and the round with the median ratio is
   * reported (every round's ratio goes in the note).
   */
  private async bracketed(
    name: string,
    measureReference: () => Promise<BenchReference>,
    measure: (round: number) => Promise<LoadResult>,
    measuredBefore?: BenchReference,
  ): Promise<Measured> {
    let before = measuredBefore ?? (await measureReference());
    const rounds: Measured[] = [];
    for (let round = 1; round <= this.sizes.rounds; round++) {
      this.context.log(`http: ${name}${this.sizes.rounds > 1 ? `, round ${round} of ${this.sizes.rounds}` : ''}`);
      const result = await measure(round);
      const after = await measureReference();
      rounds.push({ result, ...this.combine(before, after) });
      before = after;
    }
    const ratioOf = (measured: Measured): number => rate(measured.result) / Math.max(measured.reference.value, Number.MIN_VALUE);
    const ratios = rounds.map(ratioOf);
    const median = [...rounds].sort((a, b) => ratioOf(a) - ratioOf(b))[Math.floor(rounds.length / 2)] as Measured;
    return rounds.length > 1 ? { ...median, roundRatios: ratios } : median;
  }

  private combine(before: BenchReference, after: BenchReference): { reference: BenchReference; referenceSpread: number } {
    const spread = Math.abs(before.value - after.value) / Math.max(before.value, after.value, Number.MIN_VALUE);
    if (spread > referenceSpreadNoted) {
      this.context.log(`http: the reference moved ${formatNumber(100 * spread)}% (${formatNumber(before.value)} before, ${formatNumber(after.value)} after)`);
    }
    return { reference: { name: before.name, value: (before.value + after.value) / 2 }, referenceSpread: spread };
  }

  /** The reference server's request rate under the same autocannon load as the Settee run it is read against. */
  private async measureReference(method: 'GET' | 'PUT', connections: number, paths: PathPlan): Promise<BenchReference> {
    this.context.log(`http: reference, ${method} at ${connections} connection${connections === 1 ? '' : 's'}`);
    const result = await this.run({ kind: 'autocannon', target: this.reference, paths, connections, ...this.timing() });
    if (result.failures > 0) throw new Error(`reference server failed: ${result.firstFailure ?? ''}`);
    return { name: `min-server ${method}@${connections} req/s`, value: rate(result) };
  }

  private timing(): { warmupMs: number; durationMs: number } {
    return { warmupMs: this.sizes.warmupMs, durationMs: this.sizes.runMs };
  }

  private run(job: LoadJob): Promise<LoadResult> {
    return this.processes.load.run(job);
  }

  private async createDatabase(db: string): Promise<void> {
    const response = await fetch(`${this.settee.baseUrl}/${encodeURIComponent(db)}`, {
      method: 'PUT',
      headers: { authorization: this.settee.authorization },
    });
    const body = await response.text();
    if (response.status !== 201) throw new Error(`PUT /${db} answered ${response.status} ${body.slice(0, 200)}`);
  }
}

function rate(result: LoadResult): number {
  return perSecond(result.operations, result.elapsedMs);
}

function row(name: string, measured: Measured, unit: string, target: Target | undefined, detail: string): BenchRow {
  const { result, reference, referenceSpread } = measured;
  const value = rate(result);
  const parts: string[] = [];
  if (target !== undefined) {
    const ratio = reference.value > 0 ? value / reference.value : 0;
    parts.push(`target ≥×${formatNumber(target.ratio)}: ${ratio >= target.ratio ? 'pass' : 'SHORT'}`);
    parts.push(`CouchDB ×${target.couchdb}, PouchDB Server ×${target.pouchdbServer}`);
  }
  parts.push(detail);
  if (measured.roundRatios !== undefined) {
    parts.push(`median of ${measured.roundRatios.length} rounds (${measured.roundRatios.map((ratio) => `×${formatNumber(ratio)}`).join(', ')})`);
  }
  if (referenceSpread !== undefined && referenceSpread > referenceSpreadNoted) {
    parts.push(`reference moved ${formatNumber(100 * referenceSpread)}% during the run`);
  }
  if (result.failures > 0) parts.push(`${formatNumber(result.failures)} FAILED (${(result.firstFailure ?? '').slice(0, 160)})`);
  return { name, value, unit, reference, note: parts.join('; ') };
}

function latencyNote(result: LoadResult): string {
  return `p50 ${formatMs(result.latency.p50Ms)}, p99 ${formatMs(result.latency.p99Ms)}`;
}

function passesNote(result: LoadResult): string {
  return `${result.passes} pass${result.passes === 1 ? '' : 'es'}, ${formatNumber(result.requests)} requests`;
}

function formatCount(count: number): string {
  return count >= 1000 && count % 1000 === 0 ? `${count / 1000}k` : formatNumber(count);
}
