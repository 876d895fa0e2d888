/**
 * Seeded HTTP fuzz test: random methods, paths, query strings, headers and
 * bodies against a live Settee (small `requestBytesMax`), judged request by
 * request (an answer always comes, never a 5xx outside CouchDB's own
 * compatibility 500s, errors are `{"error","reason"}`), then checked as a
 * whole: the server still serves and documents written before the fuzzing are
 * intact unless a fuzz write that the server reported as successful touched
 * them. A canary proves the judge can fail.
 *
 * Replay a failure: SETTEE_SEED=<seed> node scripts/run-tests.mjs test/http/fuzz
 * (SETTEE_FUZZ_REQUESTS changes the request count).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultHttpLimits, defaultLimits } from '../../src/core/limits.js';
import type { Router } from '../../src/http/router.js';
import { routeFamilies } from '../../src/http/routes.js';
import type { ChangeTracker } from '../support/fuzz-checker.js';
import { judge, trackChanges } from '../support/fuzz-checker.js';
import type { FuzzRequest } from '../support/fuzz-requests.js';
import { FuzzRequestGenerator } from '../support/fuzz-requests.js';
import type { TestServer } from '../support/http.js';
import { basicAuth, startTestServer, testAdmin } from '../support/http.js';
import { createPrng, seedFromEnv } from '../support/prng.js';
import { sendRaw } from '../support/raw-client.js';

const requestBytesMax = 64 * 1024;
const requestCount = Number(process.env.SETTEE_FUZZ_REQUESTS ?? 1500);
const fuzzBudgetMs = 30_000;
const requestTimeoutMs = 5_000;
const sentinelDb = 'fuzz';
const scratchDb = 'fuzz-scratch';
const adminAuthorization = basicAuth(`${testAdmin.name}:${testAdmin.password}`);

/** Routes that exist only in this test, to prove the judge notices a broken server. */
function registerCanaryRoutes(router: Router): void {
  router.addServerRoute('_fuzz_canary_crash', {
    allowed: 'GET',
    access: 'public',
    methods: {
      GET: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'canary')");
      },
    },
  });
  router.addServerRoute('_fuzz_canary_reset', {
    allowed: 'GET',
    access: 'public',
    methods: {
      GET: (ctx) => {
        ctx.response.destroy();
      },
    },
  });
  router.addServerRoute('_fuzz_canary_hang', {
    allowed: 'GET',
    access: 'public',
    methods: {
      GET: () => new Promise<void>((resolve) => setTimeout(resolve, 1_000)),
    },
  });
}

let server: TestServer;
before(async () => {
  server = await startTestServer({
    config: {
      limits: { ...defaultLimits, requestBytesMax },
      httpLimits: { ...defaultHttpLimits, shutdownGraceMs: 2_000 },
    },
    routeFamilies: [...routeFamilies, registerCanaryRoutes],
  });
});
after(async () => {
  await server.close();
});

function probe(method: string, path: string, body?: string, headers: Record<string, string> = {}): FuzzRequest {
  return {
    method,
    path,
    headers: { Authorization: adminAuthorization, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: Buffer.from(body, 'utf8') }),
    bodyClass: body === undefined ? 'none' : 'json',
    label: `${method} ${path}`,
  };
}

async function send(request: FuzzRequest, timeoutMs = requestTimeoutMs) {
  return sendRaw(server.baseUrl, request, timeoutMs);
}

async function mustSucceed(request: FuzzRequest): Promise<string> {
  const outcome = await send(request);
  assert.equal(outcome.kind, 'response', `${request.label}: ${JSON.stringify(outcome)}`);
  if (outcome.kind !== 'response') throw new Error('unreachable');
  assert.ok(outcome.status >= 200 && outcome.status < 300, `${request.label} → ${outcome.status} ${outcome.text}`);
  return outcome.text;
}

/** Sentinel documents: [decoded id, path segment]. */
const sentinels: ReadonlyArray<readonly [string, string]> = [
  ...Array.from({ length: 8 }, (_unused, index) => [`keep-${index}`, `keep-${index}`] as const),
  ['keep/slash', 'keep%2Fslash'],
  ['keep+plus', 'keep%2Bplus'],
  ['k\u00e9ep', 'k%C3%A9ep'],
  ['_design/keep', '_design/keep'],
  ['_local/keep', '_local/keep'],
  ['edited', 'edited'],
  ['conflicted', 'conflicted'],
  ['tombstone', 'tombstone'],
];

interface Snapshot {
  readonly status: number;
  readonly text: string;
}

async function snapshot(segment: string): Promise<Snapshot> {
  const read = async (query: string, headers: Record<string, string> = {}): Promise<Snapshot> => {
    const outcome = await send(probe('GET', `/${sentinelDb}/${segment}${query}`, undefined, headers));
    if (outcome.kind !== 'response') throw new Error(`snapshot of ${segment}: ${JSON.stringify(outcome)}`);
    return { status: outcome.status, text: outcome.text };
  };
  const winner = await read('?conflicts=true&deleted_conflicts=true');
  if (segment.startsWith('_local/')) return winner;
  const leaves = await read('?open_revs=all', { Accept: 'application/json' });
  return { status: winner.status, text: `${winner.text}\n${leaves.status} ${leaves.text}` };
}

async function writeSentinels(): Promise<Map<string, Snapshot>> {
  await mustSucceed(probe('PUT', `/${sentinelDb}`));
  await mustSucceed(probe('PUT', `/${scratchDb}`));
  for (const [index, [, segment]] of sentinels.entries()) {
    if (['edited', 'conflicted', 'tombstone', '_design/keep'].includes(segment)) continue;
    await mustSucceed(probe('PUT', `/${sentinelDb}/${segment}`, `{"i":${index},"f":1.0,"big":18446744073709551616,"s":"\u00e9\\u00e9","nested":{"a":[1,2.5,null]}}`));
  }
  await mustSucceed(probe('PUT', `/${sentinelDb}/_design/keep`, '{"language":"javascript","views":{"v":{"map":"function(doc){ emit(doc._id, 1); }"}}}'));
  let rev = (JSON.parse(await mustSucceed(probe('PUT', `/${sentinelDb}/edited`, '{"v":1}'))) as { rev: string }).rev;
  for (let version = 2; version <= 3; version += 1) {
    rev = (JSON.parse(await mustSucceed(probe('PUT', `/${sentinelDb}/edited`, `{"_rev":"${rev}","v":${version}}`))) as { rev: string }).rev;
  }
  await mustSucceed(
    probe(
      'POST',
      `/${sentinelDb}/_bulk_docs`,
      '{"new_edits":false,"docs":[{"_id":"conflicted","_rev":"1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","side":"a"},{"_id":"conflicted","_rev":"1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","side":"b"}]}',
    ),
  );
  const tombstone = JSON.parse(await mustSucceed(probe('PUT', `/${sentinelDb}/tombstone`, '{"v":1}'))) as { rev: string };
  await mustSucceed(probe('DELETE', `/${sentinelDb}/tombstone?rev=${tombstone.rev}`));
  const snapshots = new Map<string, Snapshot>();
  for (const [id, segment] of sentinels) snapshots.set(id, await snapshot(segment));
  return snapshots;
}

function revsOf(snapshots: Map<string, Snapshot>): string[] {
  const revs = new Set<string>();
  for (const { text } of snapshots.values()) for (const match of text.matchAll(/"(\d+-[0-9a-f]+)"/g)) revs.add(match[1] ?? '');
  return [...revs].filter((rev) => rev !== '');
}

test('canary: the judge reports a crashing, a resetting and a hanging route', async () => {
  const crash = await send(probe('GET', '/_fuzz_canary_crash'));
  assert.match(judge(probe('GET', '/_fuzz_canary_crash'), crash).join('\n'), /server error 500/);
  const reset = await send(probe('GET', '/_fuzz_canary_reset'));
  assert.match(judge(probe('GET', '/_fuzz_canary_reset'), reset).join('\n'), /no answer/);
  const hang = await send(probe('GET', '/_fuzz_canary_hang'), 300);
  assert.match(judge(probe('GET', '/_fuzz_canary_hang'), hang).join('\n'), /no answer: timeout/);
  // and the judge is quiet about a healthy answer
  assert.deepEqual(judge(probe('GET', '/_up'), await send(probe('GET', '/_up'))), []);
});

test(`seeded fuzz: ${requestCount} requests, every answer sane, nothing lost`, async (t) => {
  const seed = seedFromEnv();
  const replay = `seed ${seed} (replay: SETTEE_SEED=${seed} node scripts/run-tests.mjs test/http/fuzz)`;
  t.diagnostic(`fuzz ${replay}`);
  const snapshots = await writeSentinels();
  const generator = new FuzzRequestGenerator(createPrng(seed), {
    sentinelDb,
    scratchDb,
    sentinelSegments: sentinels.map(([, segment]) => segment),
    sentinelIds: sentinels.map(([id]) => id),
    sentinelRevs: revsOf(snapshots),
    adminAuthorization,
    requestBytesMax,
    jsonDepthMax: defaultLimits.jsonDepthMax,
  });
  const tracker: ChangeTracker = { touched: new Set(), unknownWrites: 0, unknownWriteLabels: [], sentinelDbDeleted: false };
  const statuses = new Map<string, number>();
  const violations: string[] = [];
  let notSent = 0;
  let sent = 0;
  const started = Date.now();
  for (let index = 0; index < requestCount; index += 1) {
    if (Date.now() - started > fuzzBudgetMs) break;
    const request = generator.next();
    const outcome = await send(request);
    sent += 1;
    if (outcome.kind === 'not-sent') notSent += 1;
    const key = outcome.kind === 'response' ? String(outcome.status) : outcome.kind;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
    for (const problem of judge(request, outcome)) {
      if (violations.length < 25) violations.push(`#${index} ${request.label}: ${problem}`);
    }
    trackChanges(tracker, sentinelDb, request, outcome);
    if (index % 100 === 99) {
      const alive = await send(probe('GET', '/_up'));
      if (alive.kind !== 'response' || alive.status !== 200) violations.push(`#${index}: server stopped answering /_up: ${JSON.stringify(alive)}`);
    }
  }
  const elapsedMs = Date.now() - started;
  const statusLine = [...statuses.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([status, count]) => `${status}:${count}`).join(' ');
  t.diagnostic(`fuzz sent ${sent} requests in ${elapsedMs} ms (${notSent} refused by the client itself); statuses ${statusLine}`);
  t.diagnostic(`fuzz touched sentinels: ${[...tracker.touched].filter((id) => snapshots.has(id)).join(', ') || 'none'}; unknown writes ${tracker.unknownWrites}`);

  assert.deepEqual(violations, [], `fuzz found problems; ${replay}`);
  assert.ok(sent >= Math.min(requestCount, 500), `only ${sent} requests within ${fuzzBudgetMs} ms; ${replay}`);
  assert.equal(tracker.sentinelDbDeleted, false, `a request deleted the sentinel database; ${replay}`);

  // still serving: a fresh write and read
  await mustSucceed(probe('PUT', '/fuzz-after'));
  await mustSucceed(probe('PUT', '/fuzz-after/doc', '{"ok":1.0}'));
  const afterText = await mustSucceed(probe('GET', '/fuzz-after/doc'));
  assert.match(afterText, /^\{"_id":"doc","_rev":"1-[0-9a-f]{32}","ok":1\.0\}\n$/);

  // nothing lost: every sentinel no successful fuzz write touched reads back byte for byte
  if (tracker.unknownWrites === 0) {
    const lost: string[] = [];
    for (const [id, segment] of sentinels) {
      if (tracker.touched.has(id)) continue;
      const before = snapshots.get(id);
      const now = await snapshot(segment);
      if (before?.status !== now.status || before.text !== now.text) {
        lost.push(`${id}: before ${before?.status} ${before?.text}\n   after ${now.status} ${now.text}`);
      }
    }
    assert.deepEqual(lost, [], `sentinel documents changed without a successful write to them; ${replay}`);
  } else {
    t.diagnostic(`fuzz: ${tracker.unknownWrites} successful writes did not say what they wrote; sentinel check skipped`);
    assert.fail(`successful writes whose replies name no document: ${tracker.unknownWrites}: ${tracker.unknownWriteLabels.join('; ')}; ${replay}`);
  }
});
