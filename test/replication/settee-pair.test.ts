/**
 * Settee ↔ Settee across two processes over HTTP: push, pull, both-way
 * conflicts, continuous replication with `/_active_tasks` and
 * `/_scheduler/jobs`, cancel, and resuming after the target restarts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Settee } from './support.js';
import { api, dbName, eventually, startSettee } from './support.js';

let left: Settee;
let right: Settee;

before(async () => {
  [left, right] = await Promise.all([startSettee(), startSettee()]);
});

after(async () => {
  await Promise.all([left?.dispose(), right?.dispose()]);
});

async function allDocs(base: string, db: string): Promise<Array<{ id: string; value: { rev: string } }>> {
  return (await api(base, 'GET', `/${db}/_all_docs`)).body.rows;
}

test('push from one server to another, then pull it back elsewhere', async () => {
  const source = dbName('push');
  assert.equal((await api(left.url, 'PUT', `/${source}`)).status, 201);
  const written = await api(left.url, 'POST', `/${source}/_bulk_docs`, '{"docs":[{"_id":"a","n":1.0},{"_id":"b","n":2},{"_id":"_design/d","views":{}}]}');
  assert.equal(written.status, 201);
  const pushed = await api(left.url, 'POST', '/_replicate', {
    source,
    target: `${right.adminUrl}/${source}`,
    create_target: true,
  });
  assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
  assert.equal(pushed.body.ok, true);
  assert.equal(pushed.body.history[0].docs_written, 3);
  assert.deepEqual(await allDocs(right.url, source), await allDocs(left.url, source));
  // the created target is admin-only
  const security = await api(right.url, 'GET', `/${source}/_security`);
  assert.deepEqual(security.body, { members: { roles: ['_admin'] }, admins: { roles: ['_admin'] } });
  const doc = await (await fetch(`${right.adminUrl.replace('admin:password@', '')}/${source}/a`, {
    headers: { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}` },
  })).text();
  assert.match(doc, /"n":1\.0/);

  const pulledName = dbName('pull');
  const pulled = await api(left.url, 'POST', '/_replicate', {
    source: { url: `${right.url}/${source}`, auth: { basic: { username: 'admin', password: 'password' } } },
    target: pulledName,
    create_target: true,
  });
  assert.equal(pulled.status, 200, JSON.stringify(pulled.body));
  assert.deepEqual(await allDocs(left.url, pulledName), await allDocs(left.url, source));
  const again = await api(left.url, 'POST', '/_replicate', { source: `${right.adminUrl}/${source}`, target: pulledName });
  assert.equal(again.body.no_changes, true);
});

test('edits on both sides become the same conflict on both servers', async () => {
  const name = dbName('conflict');
  await api(left.url, 'PUT', `/${name}`);
  await api(right.url, 'PUT', `/${name}`);
  const created = await api(left.url, 'PUT', `/${name}/doc`, { v: 0 });
  const remote = `${right.adminUrl}/${name}`;
  await api(left.url, 'POST', '/_replicate', { source: name, target: remote });
  await api(left.url, 'PUT', `/${name}/doc`, { _rev: created.body.rev, v: 'left' });
  await api(right.url, 'PUT', `/${name}/doc`, { _rev: created.body.rev, v: 'right' });
  await api(left.url, 'POST', '/_replicate', { source: name, target: remote });
  await api(right.url, 'POST', '/_replicate', { source: name, target: `${left.adminUrl}/${name}` });
  const onLeft = (await api(left.url, 'GET', `/${name}/doc?conflicts=true`)).body;
  const onRight = (await api(right.url, 'GET', `/${name}/doc?conflicts=true`)).body;
  assert.deepEqual(onLeft, onRight);
  assert.equal(onLeft._conflicts.length, 1);
});

test('continuous replication follows new writes, shows progress, survives a target restart and cancels', async () => {
  const name = dbName('live');
  await api(left.url, 'PUT', `/${name}`);
  const started = await api(left.url, 'POST', '/_replicate', {
    source: name,
    target: `${right.adminUrl}/${name}`,
    create_target: true,
    continuous: true,
  });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const id: string = started.body._local_id;
  assert.match(id, /^[0-9a-f]{32}\+continuous\+create_target$/);
  await api(left.url, 'PUT', `/${name}/one`, { n: 1 });
  await eventually(async () => ((await api(right.url, 'GET', `/${name}/one`)).status === 200 ? true : undefined), 15_000, 'first doc');

  const tasks = (await api(left.url, 'GET', '/_active_tasks')).body as Array<Record<string, unknown>>;
  const task = tasks.find((entry) => entry['replication_id'] === id);
  assert.ok(task, JSON.stringify(tasks));
  assert.equal(task['type'], 'replication');
  assert.equal(task['continuous'], true);
  for (const field of ['docs_read', 'docs_written', 'changes_pending', 'checkpointed_source_seq', 'source_seq', 'through_seq']) {
    assert.ok(field in task, field);
  }
  const jobs = (await api(left.url, 'GET', '/_scheduler/jobs')).body;
  const job = jobs.jobs.find((entry: { id: string }) => entry.id === id);
  assert.equal(job.database, null);
  assert.equal(job.target, `${right.url}/${name}/`);

  await right.restart();
  await api(left.url, 'PUT', `/${name}/two`, { n: 2 });
  await eventually(async () => ((await api(right.url, 'GET', `/${name}/two`)).status === 200 ? true : undefined), 20_000, 'doc after restart');

  const cancelled = await api(left.url, 'POST', '/_replicate', { replication_id: id, cancel: true });
  assert.deepEqual(cancelled.body, { ok: true, _local_id: id });
  const missing = await api(left.url, 'POST', '/_replicate', { replication_id: id, cancel: true });
  assert.equal(missing.status, 404);
});
