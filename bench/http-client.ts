/**
 * The hand-written load client, for workloads autocannon cannot express:
 * sequences whose next request depends on the last answer (bulk batches,
 * paged feeds, GET-then-PUT update chains, retries on 409). One keep-alive
 * `http.Agent` per job, one socket per worker.
 *
 * Feed and bulk timings are the sum of request times (request sent → last
 * byte received); parsing the answer to find the next page is done outside
 * the timer, so the client's own JSON work does not count against the server.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { JsonObject } from '../src/core/json-value.js';
import {
  docBodies,
  docBodyPoolSize,
  docIds,
  type AllDocsJob,
  type BulkLoadJob,
  type ChangesJob,
  type Latency,
  type LoadResult,
  type LoadTarget,
  type UpdateChainsJob,
} from './http-jobs.js';
import { percentile } from './support.js';

interface Answer {
  readonly status: number;
  readonly body: Buffer;
  /** Request sent → last byte of the answer, ms. */
  readonly elapsedMs: number;
}

class KeepAliveClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    private readonly target: LoadTarget,
    sockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
    this.url = new URL(target.baseUrl);
  }

  send(method: string, path: string, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(body);
      const headers: Record<string, string | number> = { authorization: this.target.authorization, accept: 'application/json' };
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = payload.length;
      }
      const started = performance.now();
      const outgoing = request(
        { agent: this.agent, hostname: this.url.hostname, port: this.url.port, method, path, headers },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () =>
            resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks), elapsedMs: performance.now() - started }),
          );
          incoming.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Counts and the first failure, shared by the job runners. */
class Tally {
  failures = 0;
  conflicts = 0;
  requests = 0;
  firstFailure: string | undefined;

  fail(what: string, answer: Answer | undefined, error?: unknown): void {
    this.failures++;
    if (this.firstFailure !== undefined) return;
    const detail = answer === undefined ? String(error) : `${answer.status} ${answer.body.toString('utf8', 0, 200)}`;
    this.firstFailure = `${what}: ${detail}`;
  }

  result(operations: number, elapsedMs: number, latenciesMs: number[], passes: number): LoadResult {
    return {
      operations,
      elapsedMs,
      latency: latencyOf(latenciesMs),
      failures: this.failures,
      conflicts: this.conflicts,
      requests: this.requests,
      passes,
      ...(this.firstFailure === undefined ? {} : { firstFailure: this.firstFailure }),
    };
  }
}

function latencyOf(latenciesMs: number[]): Latency {
  latenciesMs.sort((a, b) => a - b);
  return { p50Ms: percentile(latenciesMs, 0.5), p99Ms: percentile(latenciesMs, 0.99) };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function dbPath(db: string): string {
  return `/${encodeURIComponent(db)}`;
}

export async function runBulkLoad(job: BulkLoadJob): Promise<LoadResult> {
  const client = new KeepAliveClient(job.target, 1);
  const tally = new Tally();
  const ids = docIds(job.seed, job.docs);
  const bodies = docBodies(job.seed + 1, docBodyPoolSize);
  const batchMs: number[] = [];
  let written = 0;
  try {
    for (let first = 0; first < ids.length; first += job.batchDocs) {
      // Built before the timer starts: only the server's work is timed.
      const docs = ids.slice(first, first + job.batchDocs).map((id, offset) => ({ _id: id, ...bodies[(first + offset) % bodies.length] }));
      const answer = await client.send('POST', `${dbPath(job.db)}/_bulk_docs`, JSON.stringify({ docs }));
      tally.requests++;
      batchMs.push(answer.elapsedMs);
      if (!isSuccess(answer.status)) {
        tally.fail('_bulk_docs', answer);
        continue;
      }
      const outcomes = JSON.parse(answer.body.toString('utf8')) as unknown;
      // The reference server answers a small object, not one outcome per document.
      if (!Array.isArray(outcomes)) {
        written += docs.length;
        continue;
      }
      for (const outcome of outcomes as JsonObject[]) {
        if (outcome.ok === true) written++;
        else tally.fail('_bulk_docs document', { ...answer, body: Buffer.from(JSON.stringify(outcome)) });
      }
    }
  } finally {
    client.close();
  }
  return tally.result(written, batchMs.reduce((sum, ms) => sum + ms, 0), batchMs, 1);
}

export async function runChanges(job: ChangesJob): Promise<LoadResult> {
  const client = new KeepAliveClient(job.target, 1);
  const tally = new Tally();
  const requestMs: number[] = [];
  let rows = 0;
  let elapsedMs = 0;
  let passes = 0;
  try {
    while (passes === 0 || elapsedMs < job.durationMs) {
      let since: string = '0';
      for (;;) {
        const answer = await client.send('GET', `${dbPath(job.db)}/_changes?since=${encodeURIComponent(since)}`);
        tally.requests++;
        elapsedMs += answer.elapsedMs;
        requestMs.push(answer.elapsedMs);
        if (!isSuccess(answer.status)) {
          tally.fail('_changes', answer);
          return tally.result(rows, elapsedMs, requestMs, passes);
        }
        const feed = JSON.parse(answer.body.toString('utf8')) as { results: unknown[]; last_seq: unknown; pending?: number };
        rows += feed.results.length;
        // A server that pages the feed says how much is left; one that does not has sent it all.
        if (feed.results.length === 0 || feed.pending === undefined || feed.pending === 0) break;
        since = typeof feed.last_seq === 'string' ? feed.last_seq : JSON.stringify(feed.last_seq);
      }
      passes++;
    }
  } finally {
    client.close();
  }
  return tally.result(rows, elapsedMs, requestMs, passes);
}

export async function runAllDocs(job: AllDocsJob): Promise<LoadResult> {
  const client = new KeepAliveClient(job.target, 1);
  const tally = new Tally();
  const pageMs: number[] = [];
  let rows = 0;
  let elapsedMs = 0;
  let passes = 0;
  try {
    while (passes === 0 || elapsedMs < job.durationMs) {
      let lastId: string | undefined;
      for (;;) {
        const after = lastId === undefined ? '' : `&startkey=${encodeURIComponent(JSON.stringify(lastId))}&skip=1`;
        const answer = await client.send('GET', `${dbPath(job.db)}/_all_docs?include_docs=true&limit=${job.pageRows}${after}`);
        tally.requests++;
        elapsedMs += answer.elapsedMs;
        pageMs.push(answer.elapsedMs);
        if (!isSuccess(answer.status)) {
          tally.fail('_all_docs', answer);
          return tally.result(rows, elapsedMs, pageMs, passes);
        }
        const page = JSON.parse(answer.body.toString('utf8')) as { rows: { id: string; doc?: unknown }[] };
        rows += page.rows.length;
        const last = page.rows.at(-1);
        if (last === undefined || page.rows.length < job.pageRows) break;
        if (last.doc === undefined) tally.fail('_all_docs row without doc', { ...answer, body: Buffer.from(JSON.stringify(last)) });
        lastId = last.id;
      }
      passes++;
    }
  } finally {
    client.close();
  }
  return tally.result(rows, elapsedMs, pageMs, passes);
}

/** Creates the documents, then runs the chains for `warmupMs`, then (counted) for `durationMs`. */
export async function runUpdateChains(job: UpdateChainsJob): Promise<LoadResult> {
  const client = new KeepAliveClient(job.target, job.workers);
  const bodies = docBodies(job.seed, Math.min(job.workers, docBodyPoolSize));
  const ids = Array.from({ length: job.docCount }, (_, index) => `chain-${job.seed}-${index}`);
  const docUrl = (id: string) => `${dbPath(job.db)}/${encodeURIComponent(id)}`;
  try {
    const setup = new Tally();
    for (const [index, id] of ids.entries()) {
      const answer = await client.send('PUT', docUrl(id), JSON.stringify({ ...bodies[index % bodies.length], updates: 0 }));
      if (!isSuccess(answer.status)) setup.fail('creating the documents', answer);
    }
    if (setup.firstFailure !== undefined) throw new Error(setup.firstFailure);

    const runFor = async (durationMs: number): Promise<LoadResult> => {
      const tally = new Tally();
      const latenciesMs: number[] = [];
      let updates = 0;
      const started = performance.now();
      const deadline = started + durationMs;
      const worker = async (workerIndex: number): Promise<void> => {
        const id = ids[workerIndex % ids.length] as string;
        const body = bodies[workerIndex % bodies.length] as JsonObject;
        let sequence = 0;
        while (performance.now() < deadline) {
          const begun = performance.now();
          // Retries on 409 until the update commits: the latency is the whole chain's.
          for (;;) {
            const read = await client.send('GET', docUrl(id));
            tally.requests++;
            if (!isSuccess(read.status)) {
              tally.fail('GET', read);
              break;
            }
            const current = JSON.parse(read.body.toString('utf8')) as { _rev?: string };
            const next = { ...body, ...(current._rev === undefined ? {} : { _rev: current._rev }), updates: ++sequence, writer: workerIndex };
            const written = await client.send('PUT', docUrl(id), JSON.stringify(next));
            tally.requests++;
            if (isSuccess(written.status)) {
              updates++;
              latenciesMs.push(performance.now() - begun);
              break;
            }
            if (written.status === 409) {
              tally.conflicts++;
              if (performance.now() >= deadline) break;
              continue;
            }
            tally.fail('PUT', written);
            break;
          }
        }
      };
      await Promise.all(Array.from({ length: job.workers }, (_, index) => worker(index)));
      return tally.result(updates, performance.now() - started, latenciesMs, 1);
    };

    if (job.warmupMs > 0) await runFor(job.warmupMs);
    return await runFor(job.durationMs);
  } finally {
    client.close();
  }
}
