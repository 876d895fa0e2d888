import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLimits } from '../../src/core/limits.js';
import type { Database } from '../../src/db/database.js';
import { liveFeedsOf } from '../../src/http/changes-live.js';
import type { TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { eventually, openStream, putDoc, sleep } from './changes-helpers.js';

let server: TestServer;
let counter = 0;

before(async () => {
  server = await startTestServer({ config: { limits: { ...defaultLimits, liveFeedsMax: 3 } } });
});
after(async () => {
  await server.close();
});

async function freshDb(docs = 2): Promise<{ name: string; db: Database }> {
  const name = `live_${++counter}`;
  const db = await server.services.couch.createDatabase(name);
  for (let index = 0; index < docs; index++) await putDoc(db, `d${index}`, `{"n":${index}}`);
  return { name, db };
}

function lines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as unknown);
}

test('longpoll answers at once when changes exist, without an ETag', async () => {
  const { name } = await freshDb();
  const response = await server.request({ path: `/${name}/_changes?feed=longpoll`, auth: 'admin' });
  assert.equal(response.status, 200);
  assert.equal(response.headers['etag'], undefined);
  assert.deepEqual((response.json as { last_seq: number }).last_seq, 2);
  const limited = await server.request({ path: `/${name}/_changes?feed=longpoll&limit=1`, auth: 'admin' });
  assert.deepEqual([(limited.json as { pending: number }).pending, (limited.json as { last_seq: number }).last_seq], [1, 1]);
});

test('longpoll since=now: times out with CouchDB bytes, or answers the next change', async () => {
  const { name, db } = await freshDb();
  const timedOut = await server.request({ path: `/${name}/_changes?feed=longpoll&since=now&timeout=50`, auth: 'admin' });
  assert.equal(timedOut.text, '{"results":[\n\n\n],\n"last_seq":2,"pending":0}\n\n');
  const stream = openStream(server.baseUrl, `/${name}/_changes?feed=longpoll&since=now&timeout=5000`);
  await stream.waitFor((text) => text === '{"results":[\n\n');
  await eventually(() => db.notifier.waiting === 1);
  const rev = await putDoc(db, 'new', '{}');
  const body = await stream.ended;
  assert.equal(body, `{"results":[\n\n{"seq":3,"id":"new","changes":[{"rev":"${rev}"}]}\n],\n"last_seq":3,"pending":0}\n\n`);
  assert.equal(db.notifier.waiting, 0);
});

test('longpoll with a filter keeps waiting through changes it does not match', async () => {
  const { name, db } = await freshDb();
  const path = `/${name}/_changes?feed=longpoll&since=now&filter=_doc_ids&doc_ids=${encodeURIComponent('["want"]')}`;
  const stream = openStream(server.baseUrl, path);
  await eventually(() => db.notifier.waiting === 1);
  await putDoc(db, 'other', '{}');
  await sleep(30);
  assert.equal(db.notifier.waiting, 1, 'still waiting after an unrelated change');
  await putDoc(db, 'want', '{}');
  const body = JSON.parse(await stream.ended) as { results: { id: string }[]; last_seq: number };
  assert.deepEqual([body.results.map((row) => row.id), body.last_seq], [['want'], 4]);
});

test('with heartbeat, timeout is ignored and blank lines keep the connection alive', async () => {
  const { name, db } = await freshDb();
  const stream = openStream(server.baseUrl, `/${name}/_changes?feed=longpoll&since=now&timeout=30&heartbeat=20`);
  await sleep(150);
  const text = stream.text();
  assert.ok(text.startsWith('{"results":[\n\n\n'), JSON.stringify(text));
  assert.ok(text.split('\n').length > 4, 'several heartbeats');
  await putDoc(db, 'x', '{}');
  const body = await stream.ended;
  assert.equal((JSON.parse(body) as { last_seq: number }).last_seq, 3);
});

test('continuous: one line per change, the last_seq line at timeout, exact bytes', async () => {
  const { name } = await freshDb();
  const response = await server.request({ path: `/${name}/_changes?feed=continuous&timeout=30`, auth: 'admin' });
  assert.equal(response.headers['content-type'], 'application/json');
  assert.deepEqual(
    lines(response.text).map((line) => (line as { seq?: number; last_seq?: number }).seq ?? `last:${(line as { last_seq: number }).last_seq}`),
    [1, 2, 'last:2'],
  );
  assert.ok(response.text.endsWith('{"last_seq":2,"pending":0}\n\n'));
  assert.ok(!response.text.startsWith('\n'), 'no blank line once rows were sent');
  const now = await server.request({ path: `/${name}/_changes?feed=continuous&timeout=30&since=now`, auth: 'admin' });
  assert.equal(now.text, '\n{"last_seq":2,"pending":0}\n\n');
  const limited = await server.request({ path: `/${name}/_changes?feed=live&timeout=5000&limit=1`, auth: 'admin' });
  assert.deepEqual(lines(limited.text).at(-1), { last_seq: 1, pending: 1 });
});

test('continuous with heartbeat streams new changes and heartbeats; a disconnect releases everything', async () => {
  const { name, db } = await freshDb();
  const feeds = liveFeedsOf(server.services);
  const stream = openStream(server.baseUrl, `/${name}/_changes?feed=continuous&heartbeat=20&include_docs=true`);
  await stream.waitFor((text) => lines(text).length === 2);
  await stream.waitFor((text) => text.endsWith('}\n\n'), 2000);
  await putDoc(db, 'later', '{"v":1}');
  const text = await stream.waitFor((received) => received.includes('"id":"later"'));
  const row = lines(text).at(-1) as { seq: number; doc: { v: number } };
  assert.deepEqual([row.seq, row.doc.v], [3, 1]);
  assert.equal(feeds.open, 1);
  stream.close();
  await eventually(() => db.notifier.waiting === 0 && feeds.open === 0);
});

test('eventsource: data/id events and heartbeat events', async () => {
  const { name } = await freshDb(1);
  const stream = openStream(server.baseUrl, `/${name}/_changes?feed=eventsource&heartbeat=20`);
  const text = await stream.waitFor((received) => received.includes('event: heartbeat'));
  assert.equal((await stream.headers)['content-type'], 'text/event-stream');
  const first = text.split('\n\n')[0] ?? '';
  assert.match(first, /^data: \{"seq":1,"id":"d0","changes":\[\{"rev":"1-[0-9a-f]{32}"\}\]\}\nid: 1$/);
  assert.ok(text.includes('event: heartbeat\ndata: \n\n'));
  stream.close();
  const ended = await server.request({ path: `/${name}/_changes?feed=eventsource&timeout=20`, auth: 'admin' });
  assert.ok(ended.text.startsWith('data: {"seq":1'));
  assert.ok(!ended.text.includes('last_seq'));
  const resumed = openStream(server.baseUrl, `/${name}/_changes?feed=eventsource&timeout=20`, { headers: { 'Last-Event-ID': '1' } });
  assert.equal(await resumed.ended, '\n', 'Last-Event-ID wins over since');
});

test('live feeds are bounded per server: 503 beyond liveFeedsMax', async () => {
  const { name, db } = await freshDb(0);
  const feeds = liveFeedsOf(server.services);
  const streams = [0, 1, 2].map(() => openStream(server.baseUrl, `/${name}/_changes?feed=longpoll&timeout=5000`));
  await eventually(() => db.notifier.waiting === 3);
  const refused = await server.request({ path: `/${name}/_changes?feed=continuous&timeout=10`, auth: 'admin' });
  assert.equal(refused.status, 503);
  assert.equal((refused.json as { error: string }).error, 'service_unavailable');
  const normal = await server.request({ path: `/${name}/_changes`, auth: 'admin' });
  assert.equal(normal.status, 200, 'the normal feed is not a live feed');
  for (const stream of streams) stream.close();
  await eventually(() => db.notifier.waiting === 0 && feeds.open === 0);
});

test('deleting the database ends its live feeds', async () => {
  const { name, db } = await freshDb(1);
  const stream = openStream(server.baseUrl, `/${name}/_changes?feed=continuous&since=now&timeout=5000`);
  await eventually(() => db.notifier.waiting === 1);
  await server.services.couch.deleteDatabase(name);
  const body = await stream.ended;
  assert.equal(body, '\n{"last_seq":1,"pending":0}\n\n');
});
