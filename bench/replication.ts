/**
 * Replication throughput: 50,000 small documents pushed from one Settee to
 * another (two child processes, over HTTP), the same within one server
 * (local → local through `POST /_replicate`), and an incremental pass after
 * 1,000 new writes. Figures are documents per second, printed beside PouchDB
 * Server's ~1.8k docs/s server-to-server figure from the issue (target ≥ 5×).
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer, type ServerChild } from './http-processes.js';
import { perSecond, withTempDir, type BenchContext, type BenchRow } from './support.js';

const admin = { name: 'admin', password: 'bench-pw' } as const;
const authorization = `Basic ${Buffer.from(`${admin.name}:${admin.password}`).toString('base64')}`;
/** PouchDB Server replicating server to server, from the issue. */
const pouchdbServerDocsPerSecond = 1_800;
const docsFull = 50_000;
const docsQuick = 2_000;
const docsIncremental = 1_000;
const writeBatchDocs = 1_000;
/** Node flags for both servers, to profile them: `SETTEE_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`. */
const serverNodeArgs = (process.env['SETTEE_BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return text.length > 0 ? JSON.parse(text) : undefined;
}

async function fill(base: string, db: string, from: number, count: number): Promise<void> {
  for (let start = from; start < from + count; start += writeBatchDocs) {
    const docs = [];
    for (let n = start; n < Math.min(from + count, start + writeBatchDocs); n++) {
      docs.push({ _id: `doc-${String(n).padStart(8, '0')}`, n, title: `document number ${n}`, tags: ['bench', 'replication'] });
    }
    await call(base, 'POST', `/${db}/_bulk_docs`, { docs });
  }
}

async function timedReplication(base: string, body: object, docs: number, name: string): Promise<BenchRow> {
  const started = performance.now();
  const result = (await call(base, 'POST', '/_replicate', body)) as { history?: Array<{ docs_written?: number }> };
  const elapsedMs = performance.now() - started;
  const written = result.history?.[0]?.docs_written ?? 0;
  return {
    name,
    value: perSecond(docs, elapsedMs),
    unit: 'docs/s',
    reference: { name: 'PouchDB Server server-to-server docs/s (issue)', value: pouchdbServerDocsPerSecond },
    note: `${docs} docs in ${Math.round(elapsedMs)} ms (${written} written)`,
  };
}

export async function benchReplication(context: BenchContext): Promise<readonly BenchRow[]> {
  const docs = context.quick ? docsQuick : docsFull;
  return withTempDir(context.tempRoot, 'settee-bench-repl-', async (dir) => {
    const started: ServerChild[] = [];
    try {
      for (const name of ['left', 'right']) {
        started.push(
          await startServer({
            name,
            script: new URL('../src/cli.js', import.meta.url),
            nodeArgs: serverNodeArgs,
            args: ['--port', '0', '--host', '127.0.0.1', '--data', join(dir, name), '--admin', `${admin.name}:${admin.password}`],
            logFile: join(dir, `${name}.log`),
            cwd: dir,
          }),
        );
      }
      const [left, right] = started as [ServerChild, ServerChild];
      const rightAuth = right.baseUrl.replace('http://', `http://${admin.name}:${admin.password}@`);
      const rows: BenchRow[] = [];
      await call(left.baseUrl, 'PUT', '/source');
      context.log(`replication: writing ${docs} documents`);
      await fill(left.baseUrl, 'source', 0, docs);
      if (context.selects('replication.http')) {
        context.log('replication: server to server');
        rows.push(await timedReplication(left.baseUrl, { source: 'source', target: `${rightAuth}/copy`, create_target: true }, docs, 'replication.http.full'));
      }
      if (context.selects('replication.local')) {
        context.log('replication: local to local');
        rows.push(await timedReplication(left.baseUrl, { source: 'source', target: 'copy', create_target: true }, docs, 'replication.local.full'));
      }
      await fill(left.baseUrl, 'source', docs, docsIncremental);
      if (context.selects('replication.http')) {
        rows.push(await timedReplication(left.baseUrl, { source: 'source', target: `${rightAuth}/copy` }, docsIncremental, 'replication.http.incremental'));
      }
      if (context.selects('replication.local')) {
        rows.push(await timedReplication(left.baseUrl, { source: 'source', target: 'copy' }, docsIncremental, 'replication.local.incremental'));
      }
      return rows;
    } finally {
      for (const child of started.reverse()) await child.stop();
    }
  });
}
