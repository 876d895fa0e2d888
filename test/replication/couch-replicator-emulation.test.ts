/**
 * Settee against CouchDB 3.4's replicator, emulated request for request
 * (test/support/couch-replicator-emulator.ts): CouchDB pulling from Settee,
 * CouchDB pushing into Settee, a second run resuming from the checkpoint, and
 * a run that leaves its pooled keep-alive sockets idle for over 5 s.
 *
 * Settee runs as a user starts it (the CLI in a child process); both ends of
 * a pull are Settee databases, since CouchDB's replicator reaches every
 * endpoint over HTTP; a push reads from an in-memory CouchDB whose documents
 * and attachments are made the way CouchDB makes them (gzip level 8, digests
 * of the stored bytes), so what Settee receives does not come from Settee.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildServer } from '../support/child-server.js';
import { startChildServer } from '../support/child-server.js';
import { inject } from '../support/http.js';
import type { CouchDoc } from '../support/couch-doc-json.js';
import { MemoryCouchSource, storedAttachment } from '../support/couch-memory-source.js';
import type { RecordedRequest } from '../support/couch-replicator-httpc.js';
import { couchReplicatorUserAgent } from '../support/couch-replicator-httpc.js';
import { couchReplicationId, runReplication, startReplication } from '../support/couch-replicator-emulator.js';
import { memorySnapshot, requestLines, settee, setteeSnapshot } from './couch-emulation-support.js';
import { api, eventually } from './support.js';

let server: ChildServer;
before(async () => {
  server = await startChildServer();
});
after(async () => {
  const code = await server.stop();
  assert.equal(code, 0, server.stderr());
});

/** The uuid of the CouchDB running the replication (it names the checkpoints). */
const couchUuid = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const h = (char: string): string => char.repeat(32);
const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x2d, 0x2d, 0x1a, 0x0a, 0x00, 0xff, 0x2d, 0x2d, 0x0d, 0x0a]);
const notes = 'Replication notes, compressed when stored.\n'.repeat(40);
const unicodeId = 'ünï cødé/+?&=%';

async function ok(method: string, path: string, body?: unknown): Promise<any> {
  const answer = await api(server.baseUrl, method, path, body);
  assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64');

/** A source with every kind of document: plain, deleted, conflicting branches (one deleted), attachments, a design doc. */
async function seedPullSource(db: string): Promise<void> {
  await ok('PUT', `/${db}`);
  await ok('POST', `/${db}/_bulk_docs`, { docs: [1, 2, 3, 4, 5, 6].map((n) => ({ _id: `plain-${n}`, n })) });
  const gone = await ok('PUT', `/${db}/gone`, { doomed: true });
  await ok('DELETE', `/${db}/gone?rev=${gone.rev}`);
  await ok('POST', `/${db}/_bulk_docs`, {
    new_edits: false,
    docs: [
      { _id: 'conflicted', _rev: `3-${h('d')}`, branch: 'long', _revisions: { start: 3, ids: [h('d'), h('b'), h('a')] } },
      { _id: 'conflicted', _rev: `2-${h('c')}`, branch: 'short', _revisions: { start: 2, ids: [h('c'), h('a')] } },
      { _id: 'conflicted', _rev: `2-${h('e')}`, _deleted: true, _revisions: { start: 2, ids: [h('e'), h('a')] } },
      {
        _id: 'att-conflicted',
        _rev: `2-${h('2')}`,
        _revisions: { start: 2, ids: [h('2'), h('1')] },
        _attachments: { 'side.txt': { content_type: 'text/plain', data: b64('left side') } },
      },
      {
        _id: 'att-conflicted',
        _rev: `2-${h('3')}`,
        _revisions: { start: 2, ids: [h('3'), h('1')] },
        _attachments: { 'side.bin': { content_type: 'application/octet-stream', data: b64(png) } },
      },
    ],
  });
  await ok('PUT', `/${db}/with-text`, { kind: 'text', _attachments: { 'notes.txt': { content_type: 'text/plain', data: b64(notes) } } });
  await ok('PUT', `/${db}/with-binary`, { kind: 'binary', _attachments: { 'pixel.png': { content_type: 'image/png', data: b64(png) } } });
  await ok('PUT', `/${db}/${encodeURIComponent(unicodeId)}`, {
    kind: 'unicode',
    _attachments: { 'empty.bin': { content_type: 'application/octet-stream', data: '' }, 'ü.txt': { content_type: 'text/plain', data: b64('ü') } },
  });
  await ok('PUT', `/${db}/_design/app`, { views: { all: { map: 'function (doc) { emit(doc._id, null); }' } } });
}

function pullEndpoints(sourceDb: string, targetDb: string, log: RecordedRequest[], maxSockets?: number) {
  const source = settee({ adminUrl: server.adminUrl, db: sourceDb, name: 'source', log, ...(maxSockets !== undefined ? { maxSockets } : {}) });
  const target = settee({ adminUrl: server.adminUrl, db: targetDb, name: 'target', log, ...(maxSockets !== undefined ? { maxSockets } : {}) });
  const replicationId = couchReplicationId(couchUuid, `${server.adminUrl}/${sourceDb}`, `${server.adminUrl}/${targetDb}`);
  const close = () => {
    source.agent.destroy();
    target.agent.destroy();
  };
  return { source: source.endpoint, target: target.endpoint, replicationId, close };
}

/** What every request of a CouchDB replicator looks like on the wire. */
function assertReplicatorHeaders(log: readonly RecordedRequest[]): void {
  for (const entry of log) {
    assert.equal(entry.headers['User-Agent'], couchReplicatorUserAgent, entry.url);
    assert.equal(entry.retried, false, `${entry.method} ${entry.url} was retried (status ${entry.status})`);
    if (entry.url === '/_session') continue;
    assert.match(entry.headers['Cookie'] ?? '', /^AuthSession=/, `${entry.method} ${entry.url} uses the session cookie`);
    assert.equal(entry.headers['Authorization'], undefined);
  }
}

test('CouchDB pulls from Settee, then resumes from its checkpoint', async () => {
  const log: RecordedRequest[] = [];
  const ends = pullEndpoints('pull-src', 'pull-tgt', log);
  await seedPullSource('pull-src');
  await ok('PUT', '/pull-tgt');
  try {
    const first = await runReplication({ source: ends.source, target: ends.target, replicationId: ends.replicationId, workerBatchSize: 4 });
    assert.deepEqual(await setteeSnapshot(server.baseUrl, 'pull-tgt'), await setteeSnapshot(server.baseUrl, 'pull-src'));
    assertReplicatorHeaders(log);

    // the start-up sequence, then the changes feed as couch_replicator_api_wrap:changes_since asks for it
    const source = requestLines(log, 'source');
    const checkpointPath = `/pull-src/_local/${ends.replicationId}`;
    assert.deepEqual(source.slice(0, 4), ['POST /_session', 'GET /pull-src/', 'GET /pull-src/', `GET ${checkpointPath}`]);
    assert.equal(source[6]?.startsWith('GET /pull-src/_local/'), true, 'three older replication ids are tried');
    assert.equal(source[7], 'GET /pull-src/_changes?feed=normal&style=all_docs&since=0&timeout=10000');
    const logLookups = log.filter((entry) => entry.url.includes('/_local/')).slice(0, 8);
    assert.deepEqual(logLookups.map((entry) => entry.status), [404, 404, 404, 404, 404, 404, 404, 404]);

    // documents without attachments came through _bulk_get, the others through open_revs as multipart/mixed
    const bulkGets = log.filter((entry) => entry.url.startsWith('/pull-src/_bulk_get'));
    assert.ok(bulkGets.length > 0);
    for (const entry of bulkGets) {
      assert.equal(entry.url, '/pull-src/_bulk_get?latest=true&revs=true&attachments=false');
      assert.match(entry.body, /^\{"attachments":false,"docs":\[.*\],"latest":true,"revs":true\}$/);
      assert.equal(entry.status, 200);
    }
    // the last batch holds only the design document: CouchDB still posts an empty _bulk_get
    assert.ok(bulkGets.some((entry) => entry.body === '{"attachments":false,"docs":[],"latest":true,"revs":true}'));
    const openRevs = log.filter((entry) => entry.url.includes('open_revs='));
    assert.deepEqual(
      openRevs.map((entry) => entry.url.split('?')[0]).sort(),
      [
        '/pull-src/_design/app',
        '/pull-src/att-conflicted',
        '/pull-src/att-conflicted',
        '/pull-src/with-binary',
        '/pull-src/with-text',
        '/pull-src/%C3%BCn%C3%AF%20c%C3%B8d%C3%A9%2F%2B%3F%26%3D%25',
      ].sort(),
    );
    for (const entry of openRevs) {
      assert.match(entry.url, /\?revs=true&open_revs=%5B%22[0-9]+-[0-9a-f]{32}%22%5D&latest=true$/);
      assert.equal(entry.headers['Accept'], 'multipart/mixed');
      assert.equal(entry.status, 200);
    }
    // docs with attachments and design docs were PUT one by one, the rest went to _bulk_docs
    const target = log.filter((entry) => entry.endpoint === 'target');
    const puts = target.filter((entry) => entry.method === 'PUT' && !entry.url.includes('/_local/'));
    assert.equal(puts.length, 6);
    for (const entry of puts) {
      assert.match(entry.url, /\?new_edits=false$/);
      const expected = entry.url.startsWith('/pull-tgt/_design/') ? /^application\/json$/ : /^multipart\/related; boundary="[0-9a-f]{32}"$/;
      assert.match(entry.headers['Content-Type'] ?? '', expected, entry.url);
      assert.equal(entry.status, 201, entry.url);
    }
    const textPut = puts.find((entry) => entry.url.startsWith('/pull-tgt/with-text?'));
    assert.match(textPut?.body ?? '', /\r\nContent-Encoding: gzip\r\n/, 'a gzip-stored attachment travels gzip-encoded');
    assert.match(textPut?.body ?? '', /"encoding":"gzip","encoded_length":\d+/);
    const bulkDocs = target.filter((entry) => entry.url === '/pull-tgt/_bulk_docs');
    assert.ok(bulkDocs.length > 0);
    for (const entry of bulkDocs) {
      assert.equal(entry.headers['X-Couch-Full-Commit'], 'false');
      assert.ok(entry.body.startsWith('{"new_edits":false,"docs":['));
      assert.equal(entry.status, 201);
    }

    // the checkpoint, on both ends
    const changes = await ok('GET', '/pull-src/_changes');
    assert.equal(first.checkpointedSeq, changes.last_seq);
    for (const db of ['pull-src', 'pull-tgt']) {
      const stored = await ok('GET', `/${db}/_local/${ends.replicationId}`);
      assert.equal(stored._rev, '0-1');
      assert.equal(stored.session_id, first.sessionId);
      assert.equal(stored.source_last_seq, changes.last_seq);
      assert.equal(stored.replication_id_version, 4);
      assert.equal(stored.history.length, 1);
      assert.equal(stored.history[0].docs_written, first.stats.docsWritten);
      assert.equal(stored.history[0].recorded_seq, changes.last_seq);
    }
    assert.equal(log.filter((entry) => entry.url.endsWith('/_ensure_full_commit') && entry.status === 201).length, 2);

    // more edits: a new attachment beside an old one, a deletion, a new conflict, a new document
    const withText = await ok('GET', '/pull-src/with-text');
    await ok('PUT', `/pull-src/with-text?rev=${withText._rev}`, {
      kind: 'text, edited',
      _attachments: { 'notes.txt': { stub: true }, 'more.txt': { content_type: 'text/plain', data: b64('more notes') } },
    });
    const plain = await ok('GET', '/pull-src/plain-2');
    await ok('DELETE', `/pull-src/plain-2?rev=${plain._rev}`);
    const plain3 = (await ok('GET', '/pull-src/plain-3'))._rev.slice(2);
    const branch = { _id: 'plain-3', _rev: `2-${h('f')}`, n: 33, _revisions: { start: 2, ids: [h('f'), plain3] } };
    await ok('POST', '/pull-src/_bulk_docs', { new_edits: false, docs: [branch] });
    await ok('PUT', '/pull-src/late', { late: true });

    const before = log.length;
    const second = await runReplication({ source: ends.source, target: ends.target, replicationId: ends.replicationId, workerBatchSize: 4 });
    assert.deepEqual(await setteeSnapshot(server.baseUrl, 'pull-tgt'), await setteeSnapshot(server.baseUrl, 'pull-src'));
    assert.equal(second.startSeq, first.checkpointedSeq);
    const again = log.slice(before);
    assertReplicatorHeaders(again);
    const resumed = `/pull-src/_changes?feed=normal&style=all_docs&since=${String(first.checkpointedSeq)}&timeout=10000`;
    assert.ok(again.some((entry) => entry.url === resumed));
    // the edited document is opened with atts_since: only the new attachment follows
    const edited = again.find((entry) => entry.url.startsWith('/pull-src/with-text?'));
    assert.match(edited?.url ?? '', new RegExp(`^/pull-src/with-text\\?atts_since=%5B%22${withText._rev}%22%5D&revs=true&open_revs=`));
    const editedPut = again.find((entry) => entry.url.startsWith('/pull-tgt/with-text?'));
    assert.match(editedPut?.body ?? '', /"notes\.txt":\{[^}]*"stub":true/);
    assert.doesNotMatch(editedPut?.body ?? '', /filename="notes\.txt"/);
    assert.match(editedPut?.body ?? '', /filename="more\.txt"/);
    for (const db of ['pull-src', 'pull-tgt']) {
      const stored = await ok('GET', `/${db}/_local/${ends.replicationId}`);
      assert.equal(stored._rev, '0-2');
      assert.equal(stored._revisions, undefined, 'the _revisions CouchDB sends with a checkpoint are not stored');
      assert.equal(stored.session_id, second.sessionId);
      assert.deepEqual(stored.history.map((entry: { session_id: string }) => entry.session_id), [second.sessionId, first.sessionId]);
    }
    const checkpointPut = again.find((entry) => entry.method === 'PUT' && entry.url === checkpointPath);
    assert.match(checkpointPut?.body ?? '', /^\{"_id":"_local\/[0-9a-f]{32}","_rev":"0-1","session_id":/);
    assert.match(checkpointPut?.body ?? '', /,"_revisions":\{"start":0,"ids":\["1"\]\}\}$/);
    assert.equal(checkpointPut?.headers['X-Couch-Full-Commit'], 'false');

    // nothing new: no writes, no checkpoint
    const idle = log.length;
    const third = await runReplication({ source: ends.source, target: ends.target, replicationId: ends.replicationId });
    assert.equal(third.checkpointedSeq, undefined);
    assert.deepEqual(log.slice(idle).filter((entry) => entry.method !== 'GET' && entry.url !== '/_session'), []);
  } finally {
    ends.close();
  }
});

function doc(id: string, revs: readonly string[], body: Record<string, unknown>, extra: Partial<CouchDoc> = {}): CouchDoc {
  return { id, revs: { start: revs.length, ids: [...revs].reverse() }, deleted: false, body, atts: [], ...extra };
}

test('CouchDB pushes into Settee: conflicts, deletions, gzip-encoded and binary attachments', async () => {
  const source = new MemoryCouchSource();
  for (let n = 1; n <= 7; n++) source.put(doc(`doc-${n}`, [h(String(n))], { n }));
  source.put(doc('deleted', [h('1'), h('2')], {}, { deleted: true }));
  source.put(doc('branches', [h('a'), h('b'), h('c')], { side: 'long' }));
  source.put(doc('branches', [h('a'), h('e')], { side: 'short' }));
  source.put(doc('branches', [h('a'), h('f'), h('0')], {}, { deleted: true }));
  source.put(doc('lost-winner', [h('a'), h('b')], {}, { deleted: true }));
  source.put(doc('lost-winner', [h('a'), h('c')], { survivor: true }));
  source.put(doc('files', [h('1'), h('2')], { kind: 'files' }, {
    atts: [storedAttachment('notes.txt', 'text/plain', 1, Buffer.from(notes)), storedAttachment('pixel.png', 'image/png', 2, png)],
  }));
  source.put(doc('files-conflict', [h('1'), h('2')], { side: 'a' }, { atts: [storedAttachment('a.json', 'application/json', 2, Buffer.from('{"a":1}'))] }));
  source.put(doc('files-conflict', [h('1'), h('3')], { side: 'b' }, { atts: [storedAttachment('b.bin', 'application/octet-stream', 2, Buffer.alloc(0))] }));
  source.put(doc('_design/pushed', [h('d')], { language: 'javascript', views: { v: { map: 'function (doc) { emit(null); }' } } }));

  const log: RecordedRequest[] = [];
  const target = settee({ adminUrl: server.adminUrl, db: 'push-tgt', name: 'target', log });
  const replicationId = couchReplicationId(couchUuid, 'http://couchdb.example:5984/memory', `${server.adminUrl}/push-tgt`);
  try {
    const first = await runReplication({ source, target: target.endpoint, replicationId, workerBatchSize: 5, workerProcesses: 2, createTarget: true });
    assert.deepEqual(requestLines(log, 'target').slice(0, 3), ['POST /_session', 'PUT /push-tgt/', 'GET /push-tgt/']);
    assert.equal(log[1]?.status, 201);
    assert.deepEqual(await setteeSnapshot(server.baseUrl, 'push-tgt'), memorySnapshot(source));
    assertReplicatorHeaders(log);
    assert.equal(first.stats.docWriteFailures, 0);
    assert.equal(first.stats.docsWritten, 17);

    // the gzip bytes CouchDB stored are what Settee now serves to a gzip-accepting client
    const notesAtt = source.leaves('files')[0]?.atts[0];
    const gzip = await inject(server.baseUrl, { path: '/push-tgt/files/notes.txt', auth: 'admin:password', headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(gzip.headers['content-encoding'], 'gzip');
    assert.ok(Buffer.isBuffer(notesAtt?.data) && gzip.bytes.equals(notesAtt.data));

    const puts = log.filter((entry) => entry.method === 'PUT' && !entry.url.includes('/_local/') && entry.url !== '/push-tgt/');
    const putPaths = puts.map((entry) => entry.url.split('?')[0]).sort();
    assert.deepEqual(putPaths, ['/push-tgt/_design/pushed', '/push-tgt/files', '/push-tgt/files-conflict', '/push-tgt/files-conflict']);
    const checkpoint = await ok('GET', `/push-tgt/_local/${replicationId}`);
    assert.equal(checkpoint.source_last_seq, first.checkpointedSeq);
    const { _id: _checkpointId, _rev: _checkpointRev, ...checkpointBody } = checkpoint;
    const sourceLog = { id: `_local/${replicationId}`, revs: { start: 0, ids: ['1'] }, deleted: false, body: checkpointBody, atts: [] };
    assert.deepEqual(await source.openDoc(`_local/${replicationId}`), sourceLog);

    // an update on the source: the next push starts at the checkpoint and sends only that
    source.put(doc('files', [h('1'), h('2'), h('3')], { kind: 'files, edited' }, {
      atts: [storedAttachment('notes.txt', 'text/plain', 1, Buffer.from(notes)), storedAttachment('new.txt', 'text/plain', 3, Buffer.from('new'))],
    }));
    const before = log.length;
    const second = await runReplication({ source, target: target.endpoint, replicationId, createTarget: true });
    assert.equal(log[before + 1]?.status, 412, 'the target exists already');
    assert.equal(second.startSeq, first.checkpointedSeq);
    assert.deepEqual(await setteeSnapshot(server.baseUrl, 'push-tgt'), memorySnapshot(source));
    const diff = log.slice(before).find((entry) => entry.url === '/push-tgt/_revs_diff');
    assert.equal(diff?.body, `{"files":["3-${h('3')}"]}`);
    const put = log.slice(before).find((entry) => entry.url === '/push-tgt/files?new_edits=false');
    assert.match(put?.body ?? '', /"notes\.txt":\{[^}]*"stub":true/);
    assert.match(put?.body ?? '', /filename="new\.txt"/);
  } finally {
    target.agent.destroy();
  }
});

test('pooled keep-alive sockets idle for more than 5 s between two batches are reused', async () => {
  const idleMs = 6_000;
  await ok('PUT', '/gap-src');
  await ok('PUT', '/gap-tgt');
  await ok('POST', '/gap-src/_bulk_docs', { docs: Array.from({ length: 6 }, (_, n) => ({ _id: `gap-${n}`, n })) });
  const log: RecordedRequest[] = [];
  const ends = pullEndpoints('gap-src', 'gap-tgt', log, 1);
  let gapAt = -1;
  try {
    const outcome = await runReplication({
      source: ends.source,
      target: ends.target,
      replicationId: ends.replicationId,
      workerBatchSize: 3,
      workerProcesses: 1,
      afterBatch: async (batch) => {
        if (batch !== 1) return;
        gapAt = log.length;
        await new Promise((resolve) => setTimeout(resolve, idleMs));
      },
    });
    assert.equal(outcome.batches, 2);
    assert.equal(outcome.stats.docsWritten, 6);
    assertReplicatorHeaders(log);
    for (const endpoint of ['source', 'target']) {
      const beforeGap = log.slice(0, gapAt).filter((entry) => entry.endpoint === endpoint).at(-1);
      const afterGap = log.slice(gapAt).find((entry) => entry.endpoint === endpoint);
      assert.ok(beforeGap !== undefined && afterGap !== undefined);
      assert.ok(afterGap.startedAt - beforeGap.startedAt >= idleMs - 100);
      assert.equal(afterGap.reusedSocket, true, `${endpoint}: ${afterGap.method} ${afterGap.url} went out on the pooled socket`);
      assert.equal(afterGap.localPort, beforeGap.localPort, `${endpoint}: the same connection as before the pause`);
      assert.ok(afterGap.status < 400);
    }
    assert.equal(new Set(log.map((entry) => `${entry.endpoint}:${entry.localPort}`)).size, 2, 'one connection per endpoint for the whole run');
    assert.deepEqual(await setteeSnapshot(server.baseUrl, 'gap-tgt'), await setteeSnapshot(server.baseUrl, 'gap-src'));
  } finally {
    ends.close();
  }
});

test('a continuous replication follows the feed across its timeouts, then stops with a checkpoint', async () => {
  await ok('PUT', '/live-src');
  await ok('PUT', '/live-tgt');
  await ok('POST', '/live-src/_bulk_docs', { docs: [{ _id: 'early-1' }, { _id: 'early-2' }] });
  const log: RecordedRequest[] = [];
  const ends = pullEndpoints('live-src', 'live-tgt', log);
  // connection_timeout 3 s: the feed's timeout is 1 s
  const running = await startReplication({
    source: ends.source,
    target: ends.target,
    replicationId: ends.replicationId,
    continuous: true,
    connectionTimeoutMs: 3_000,
  });
  const feeds = () => log.filter((entry) => entry.url.startsWith('/live-src/_changes'));
  const targetCount = async (count: number) => ((await ok('GET', '/live-tgt')).doc_count === count ? true : undefined);
  try {
    await eventually(() => targetCount(2), 10_000, 'the first documents');
    await eventually(async () => (feeds().length >= 2 ? true : undefined), 10_000, 'a feed ended by its timeout, and the next one');
    const withAttachment = { _id: 'late-2', _attachments: { 'a.txt': { content_type: 'text/plain', data: b64(notes) } } };
    await ok('POST', '/live-src/_bulk_docs', { docs: [{ _id: 'late-1' }, withAttachment] });
    await eventually(() => targetCount(4), 10_000, 'the later documents');
    const outcome = await running.stop();
    assert.deepEqual(await setteeSnapshot(server.baseUrl, 'live-tgt'), await setteeSnapshot(server.baseUrl, 'live-src'));
    assertReplicatorHeaders(log);
    const [first, second] = feeds();
    assert.equal(first?.url, '/live-src/_changes?feed=continuous&style=all_docs&since=0&timeout=1000');
    assert.equal(first?.status, 200);
    assert.equal(second?.url, '/live-src/_changes?feed=continuous&style=all_docs&since=2&timeout=1000', 'asked again from the last_seq line');
    assert.ok(feeds().slice(1).some((entry) => entry.reusedSocket), 'a connection that carried an ended feed is used again');
    const updateSeq = (await ok('GET', '/live-src')).update_seq;
    assert.equal(outcome.checkpointedSeq, updateSeq);
    assert.equal((await ok('GET', `/live-tgt/_local/${ends.replicationId}`)).source_last_seq, updateSeq);
  } finally {
    await running.stop();
    ends.close();
  }
});
