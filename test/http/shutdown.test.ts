// Graceful shutdown: live _changes feeds end at once instead of holding the drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../support/http.js';
import { eventually, openStream } from './changes-helpers.js';

test('close() ends waiting longpoll and continuous feeds promptly', async () => {
  const server = await startTestServer();
  await server.services.couch.createDatabase('feeds');
  const longpoll = openStream(server.baseUrl, '/feeds/_changes?feed=longpoll&since=now&heartbeat=10000');
  const continuous = openStream(server.baseUrl, '/feeds/_changes?feed=continuous&since=now&heartbeat=10000');
  const db = await server.services.couch.database('feeds');
  await eventually(() => db.notifier.waiting === 2);
  const started = Date.now();
  await server.close();
  const elapsedMs = Date.now() - started;
  assert.ok(elapsedMs < 3_000, `shutdown took ${elapsedMs} ms`);
  assert.match(await longpoll.ended, /"results":\[/);
  assert.match(await continuous.ended, /"last_seq"/);
});
