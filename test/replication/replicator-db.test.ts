/**
 * `_replicator` documents: a one-shot document ends `completed` (recorded in
 * the document, as CouchDB 3), a continuous one runs (shown by
 * `/_scheduler/docs`), deleting stops it, and jobs come back after a restart
 * and resume from their checkpoints.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Settee } from './support.js';
import { api, dbName, eventually, startSettee } from './support.js';

let server: Settee;

before(async () => {
  server = await startSettee();
});

after(async () => {
  await server?.dispose();
});

test('a one-shot document completes and records its stats', async () => {
  const source = dbName('src');
  const target = dbName('dst');
  await api(server.url, 'PUT', `/${source}`);
  await api(server.url, 'POST', `/${source}/_bulk_docs`, { docs: [{ _id: 'x' }, { _id: 'y' }] });
  const created = await api(server.url, 'PUT', `/_replicator/once`, { source, target, create_target: true });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const doc = await eventually(async () => {
    const answer = await api(server.url, 'GET', '/_replicator/once');
    return answer.body._replication_state === 'completed' ? answer.body : undefined;
  }, 15_000, 'completed');
  assert.equal(doc._replication_stats.docs_written, 2);
  assert.match(doc._replication_state_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal((await api(server.url, 'GET', `/${target}/x`)).status, 200);
  const report = (await api(server.url, 'GET', '/_scheduler/docs/_replicator/once')).body;
  assert.equal(report.state, 'completed');
  assert.equal(report.info.docs_written, 2);
});

test('an invalid document fails', async () => {
  await api(server.url, 'PUT', '/_replicator/bad', { source: 'only-a-source' });
  const doc = await eventually(async () => {
    const answer = await api(server.url, 'GET', '/_replicator/bad');
    return answer.body._replication_state === 'failed' ? answer.body : undefined;
  }, 10_000, 'failed');
  assert.equal(doc._replication_state_reason, 'Missing replicator database');
  const report = (await api(server.url, 'GET', '/_scheduler/docs?states=failed')).body;
  assert.ok(report.docs.some((entry: { doc_id: string }) => entry.doc_id === 'bad'));
});

test('a continuous document runs, survives a restart, resumes, and stops when deleted', async () => {
  const source = dbName('live');
  const target = dbName('copy');
  await api(server.url, 'PUT', `/${source}`);
  await api(server.url, 'PUT', `/${source}/first`, {});
  const created = await api(server.url, 'PUT', '/_replicator/live', { source, target, create_target: true, continuous: true });
  assert.equal(created.status, 201);
  await eventually(async () => ((await api(server.url, 'GET', `/${target}/first`)).status === 200 ? true : undefined), 10_000, 'first');
  const running = (await api(server.url, 'GET', '/_scheduler/docs/_replicator/live')).body;
  assert.equal(running.state, 'running');
  assert.match(running.id, /\+continuous\+create_target$/);
  // the document itself is not updated while it runs (CouchDB 3)
  assert.equal((await api(server.url, 'GET', '/_replicator/live')).body._replication_state, undefined);

  await server.restart();
  await api(server.url, 'PUT', `/${source}/second`, {});
  await eventually(async () => ((await api(server.url, 'GET', `/${target}/second`)).status === 200 ? true : undefined), 15_000, 'second');
  const job = (await api(server.url, 'GET', '/_scheduler/jobs')).body.jobs.find((entry: { doc_id: string }) => entry.doc_id === 'live');
  assert.equal(job.database, '_replicator');
  // resumed from the checkpoint: only the new document was read in this run
  assert.ok(job.info === null || job.info.docs_read <= 2, JSON.stringify(job.info));

  const rev = (await api(server.url, 'GET', '/_replicator/live')).body._rev;
  await api(server.url, 'DELETE', `/_replicator/live?rev=${rev}`);
  await eventually(async () => {
    const jobs = (await api(server.url, 'GET', '/_scheduler/jobs')).body.jobs as Array<{ doc_id: string }>;
    return jobs.some((entry) => entry.doc_id === 'live') ? undefined : true;
  }, 10_000, 'job gone');
  await api(server.url, 'PUT', `/${source}/third`, {});
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await api(server.url, 'GET', `/${target}/third`)).status, 404);
});
