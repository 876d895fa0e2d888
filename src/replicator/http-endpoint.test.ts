import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDoc } from '../db/render.js';
import { startFakeCouch } from '../../test/support/fake-couch-server.js';
import { localEndpoint, newCouch, putDoc, summarize, testEnvironment, testServerUuid } from '../../test/support/replication-fixtures.js';
import { HttpEndpoint } from './http-endpoint.js';
import { replicate } from './replication.js';

const fast = { retryDelayMsInitial: 1, retryDelayMsMax: 4, timeoutMs: 5_000 };

test('pull and push through the HTTP endpoint, with _bulk_get', async () => {
  const couch = newCouch();
  const remote = await couch.createDatabase('remote');
  const local = await couch.createDatabase('local');
  const server = await startFakeCouch({ couch });
  try {
    await putDoc(remote, 'r1', '{"f":1.0,"big":123456789012345678901}');
    await putDoc(local, 'l1', '{"x":1}');
    const http = new HttpEndpoint({ url: `${server.url}/remote`, ...fast });
    const pulled = await replicate({ source: http, target: localEndpoint(couch, 'local'), serverUuid: testServerUuid, environment: testEnvironment() });
    assert.equal((pulled['history'] as { docs_written: number }[])[0]!.docs_written, 1);
    assert.equal(renderDoc(await local.getDoc('r1')).includes('"f":1.0,"big":123456789012345678901'), true);
    assert.equal(server.requests.some((line) => line.startsWith('POST /remote/_bulk_get')), true);
    const pushed = await replicate({ source: localEndpoint(couch, 'local'), target: http, serverUuid: testServerUuid, environment: testEnvironment() });
    assert.equal((pushed['history'] as { docs_written: number }[])[0]!.docs_written, 1);
    assert.deepEqual(await summarize(remote), await summarize(local));
    const again = await replicate({ source: http, target: localEndpoint(couch, 'local'), serverUuid: testServerUuid, environment: testEnvironment() });
    assert.equal(again['no_changes'], undefined); // l1 arrived on remote after the first pull
  } finally {
    await server.close();
    await couch.close();
  }
});

test('falls back to open_revs when the source has no _bulk_get', async () => {
  const couch = newCouch();
  const remote = await couch.createDatabase('remote');
  await couch.createDatabase('local');
  const server = await startFakeCouch({ couch, bulkGet: false });
  try {
    await putDoc(remote, 'a', '{}');
    await putDoc(remote, '_design/x', '{"language":"javascript"}');
    const http = new HttpEndpoint({ url: `${server.url}/remote`, ...fast });
    await replicate({ source: http, target: localEndpoint(couch, 'local'), serverUuid: testServerUuid, environment: testEnvironment() });
    assert.deepEqual([...(await summarize(await couch.database('local'))).keys()].sort(), ['_design/x', 'a']);
    assert.equal(server.requests.filter((line) => line.includes('open_revs')).length, 2);
    assert.equal(server.requests.some((line) => line.startsWith('GET /remote/_design/x?')), true);
  } finally {
    await server.close();
    await couch.close();
  }
});

test('retries 5xx with backoff, then gives up; credentials from the URL are sent as basic auth', async () => {
  const couch = newCouch();
  const remote = await couch.createDatabase('remote');
  await couch.createDatabase('local');
  const server = await startFakeCouch({ couch, credentials: 'bob:s3cret' });
  try {
    await putDoc(remote, 'a', '{}');
    const authed = `${server.url.replace('http://', 'http://bob:s3cret@')}/remote`;
    const http = new HttpEndpoint({ url: authed, ...fast, retriesMax: 3 });
    assert.equal(http.displayName.includes('s3cret'), false);
    assert.equal(http.identity.user, 'bob');
    server.failNext(2);
    await replicate({ source: http, target: localEndpoint(couch, 'local'), serverUuid: testServerUuid, environment: testEnvironment() });
    assert.equal((await summarize(await couch.database('local'))).has('a'), true);
    server.failNext(10);
    await assert.rejects(http.info(), { status: 500, reason: 'injected' });
    server.failNext(0);
    const wrong = new HttpEndpoint({ url: `${server.url}/remote`, auth: { basic: { username: 'bob', password: 'no' } }, ...fast });
    await assert.rejects(wrong.info(), { status: 401 });
    const missing = new HttpEndpoint({ url: `${server.url}/nope`, ...fast, auth: { basic: { username: 'bob', password: 's3cret' } } });
    await assert.rejects(
      replicate({ source: missing, target: localEndpoint(couch, 'local'), serverUuid: testServerUuid, environment: testEnvironment() }),
      { error: 'db_not_found' },
    );
  } finally {
    await server.close();
    await couch.close();
  }
});

test('responses larger than the bound fail instead of filling memory', async () => {
  const couch = newCouch();
  const remote = await couch.createDatabase('remote');
  const server = await startFakeCouch({ couch });
  try {
    await putDoc(remote, 'big', `{"pad":"${'x'.repeat(5_000)}"}`);
    const http = new HttpEndpoint({ url: `${server.url}/remote`, ...fast, responseBytesMax: 1_000 });
    const rev = (await remote.getDoc('big')).rev;
    await assert.rejects(http.bulkGet([{ id: 'big', rev }]), { error: 'response_too_large' });
    await assert.rejects(http.openRevs('big', [rev]), { error: 'response_too_large' });
    assert.equal((await http.info()).dbName, 'remote');
  } finally {
    await server.close();
    await couch.close();
  }
});

test('continuous replication over HTTP long polls and stops on cancel', async () => {
  const couch = newCouch();
  const remote = await couch.createDatabase('remote');
  const local = await couch.createDatabase('local');
  const server = await startFakeCouch({ couch });
  try {
    const { Replication } = await import('./replication.js');
    const job = new Replication({
      source: new HttpEndpoint({ url: `${server.url}/remote`, ...fast }),
      target: localEndpoint(couch, 'local'),
      serverUuid: testServerUuid,
      options: { continuous: true, longpollTimeoutMs: 2_000, checkpointIntervalMs: 0 },
    });
    const done = job.run();
    const start = Date.now();
    while (job.state !== 'waiting') {
      assert.equal(Date.now() - start < 5_000, true, 'reached waiting');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await putDoc(remote, 'late', '{}');
    while (!(await summarize(local)).has('late')) {
      assert.equal(Date.now() - start < 5_000, true, 'late write replicated');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    job.cancel();
    await done;
    assert.equal(job.state, 'cancelled');
    assert.equal(server.requests.some((line) => line.includes('feed=longpoll')), true);
  } finally {
    await server.close();
    await couch.close();
  }
});

test('against a real Settee server (skipped while its replication routes are missing)', async (t) => {
  const { startTestServer, testAdmin } = await import('../../test/support/http.js');
  const { isCouchError } = await import('../core/errors.js');
  const server = await startTestServer();
  const couch = newCouch();
  try {
    const auth = { basic: { username: testAdmin.name, password: testAdmin.password } };
    const http = new HttpEndpoint({ url: `${server.baseUrl}/realdb`, auth, ...fast, retriesMax: 0 });
    try {
      await http.createIfMissing();
      await http.bulkDocs([{ _id: 'seed', _rev: '1-abc', _revisions: { start: 1, ids: ['abc'] }, v: 1 }]);
      await http.revsDiff(new Map([['seed', ['1-abc']]]));
      await http.bulkGet([{ id: 'seed', rev: '1-abc' }]);
      await http.ensureFullCommit();
      await http.putLocal('probe', { _id: '_local/probe', x: 1 });
    } catch (error) {
      if (isCouchError(error) && [404, 405, 500, 501].includes(error.status)) {
        t.skip(`routes not ready: ${error.message}`);
        return;
      }
      throw error;
    }
    const local = await couch.createDatabase('local');
    await putDoc(local, 'mine', '{"f":2.0}');
    await replicate({ source: localEndpoint(couch, 'local'), target: http, serverUuid: testServerUuid, environment: testEnvironment() });
    const back = await couch.createDatabase('back');
    await replicate({ source: http, target: localEndpoint(couch, 'back'), serverUuid: testServerUuid, environment: testEnvironment() });
    assert.deepEqual([...(await summarize(back)).keys()].sort(), ['mine', 'seed']);
    assert.equal(renderDoc(await back.getDoc('mine')).includes('"f":2.0'), true);
  } finally {
    await couch.close();
    await server.close();
  }
});
