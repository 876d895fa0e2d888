/**
 * The load-generator child of the HTTP benchmark (forked by `http-processes.ts`):
 * it answers each `LoadRequest` on the IPC channel with a `LoadReply`, one job
 * at a time, and exits when the parent disconnects. Running the load in its own
 * process keeps it off the event loops of both servers under test.
 *
 * Fixed request shapes (PUT new document, GET random document) go through
 * autocannon; dependent sequences through the hand-written client.
 */
import autocannon from 'autocannon';
import { randomDocId, seededRandom } from './docs.js';
import { runAllDocs, runBulkLoad, runChanges, runUpdateChains } from './http-client.js';
import { docBodies, docBodyPoolSize, docIds, type AutocannonJob, type LoadJob, type LoadReply, type LoadRequest, type LoadResult } from './http-jobs.js';

type RequestSetup = (request: autocannon.Request) => autocannon.Request;

/** One generator per job: its warm-up and its counted run never repeat an id. */
function requestSetup(job: AutocannonJob): RequestSetup {
  const plan = job.paths;
  const db = `/${encodeURIComponent(plan.db)}`;
  if (plan.kind === 'newDocs') {
    const random = seededRandom(plan.seed);
    const bodies = docBodies(plan.seed + 1, docBodyPoolSize).map((doc) => JSON.stringify(doc));
    let sequence = 0;
    return (request) => ({ ...request, method: 'PUT', path: `${db}/${randomDocId(random)}`, body: bodies[sequence++ % bodies.length] as string });
  }
  const random = seededRandom(plan.seed + 2);
  const paths = docIds(plan.seed, plan.count).map((id) => `${db}/${id}`);
  return (request) => ({ ...request, method: 'GET', path: paths[Math.floor(random() * paths.length)] as string });
}

async function runAutocannon(job: AutocannonJob): Promise<LoadResult> {
  const setupRequest = requestSetup(job);
  const once = (durationMs: number) =>
    autocannon({
      url: job.target.baseUrl,
      connections: job.connections,
      duration: durationMs / 1000,
      headers: { authorization: job.target.authorization, 'content-type': 'application/json', accept: 'application/json' },
      requests: [{ setupRequest }],
      timeout: 30,
    });
  if (job.warmupMs > 0) await once(job.warmupMs);
  const result = await once(job.durationMs);
  const failures = result.non2xx + result.errors;
  let firstFailure: string | undefined;
  if (failures > 0) {
    const codes = Object.entries(result.statusCodeStats ?? {})
      .map(([code, stats]) => `${code}×${stats.count ?? 0}`)
      .join(', ');
    firstFailure = `status codes ${codes}; ${result.errors} socket errors, ${result.timeouts} timeouts`;
  }
  return {
    operations: result['2xx'],
    elapsedMs: result.duration * 1000,
    latency: { p50Ms: result.latency.p50, p99Ms: result.latency.p99 },
    failures,
    conflicts: 0,
    requests: result['2xx'] + result.non2xx,
    passes: 1,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

function run(job: LoadJob): Promise<LoadResult> {
  switch (job.kind) {
    case 'autocannon':
      return runAutocannon(job);
    case 'bulkLoad':
      return runBulkLoad(job);
    case 'changes':
      return runChanges(job);
    case 'allDocs':
      return runAllDocs(job);
    case 'updateChains':
      return runUpdateChains(job);
  }
}

function reply(message: LoadReply): void {
  process.send?.(message);
}

// Jobs arrive one at a time (the parent awaits each); a queue keeps that true regardless.
let queue: Promise<void> = Promise.resolve();
process.on('message', (message: LoadRequest) => {
  queue = queue.then(() =>
    run(message.job).then(
      (result) => reply({ id: message.id, result }),
      (error: unknown) => reply({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    ),
  );
});
process.on('disconnect', () => process.exit(0));
