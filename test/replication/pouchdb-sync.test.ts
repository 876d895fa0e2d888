/**
 * PouchDB (in-memory) syncing with a Settee child process: offline edits of
 * the same documents on two PouchDB replicas become conflicts every replica
 * reports identically, deletions travel, live sync works both ways, and sync
 * resumes after Settee restarts on the same data and port.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import PouchDB from 'pouchdb-core';
import HttpAdapter from 'pouchdb-adapter-http';
import MemoryAdapter from 'pouchdb-adapter-memory';
import Replication from 'pouchdb-replication';
import type { Settee } from './support.js';
import { admin, api, dbName, eventually, startSettee } from './support.js';

PouchDB.plugin(HttpAdapter).plugin(MemoryAdapter).plugin(Replication);

interface Item {
  v?: string;
}

let server: Settee;
const opened: Array<PouchDB.Database<Item>> = [];

before(async () => {
  server = await startSettee();
});

after(async () => {
  for (const db of opened) await db.close().catch(() => undefined);
  await server?.dispose();
});

/** The replication methods pouchdb-replication adds (not in the shared type declarations). */
interface Syncing {
  sync(other: PouchDB.Database<Item>, options?: Record<string, unknown>): Promise<unknown> & { cancel(): void };
  replicate: { to(other: PouchDB.Database<Item>): Promise<unknown>; from(other: PouchDB.Database<Item>): Promise<unknown> };
}

function syncing(db: PouchDB.Database<Item>): Syncing {
  return db as unknown as Syncing;
}

function remote(name: string): PouchDB.Database<Item> {
  const db = new PouchDB<Item>(`${server.url}/${name}`, { auth: { username: admin.name, password: admin.password } });
  opened.push(db);
  return db;
}

function local(name: string): PouchDB.Database<Item> {
  const db = new PouchDB<Item>(`${name}-${Math.random().toString(16).slice(2)}`, { adapter: 'memory' });
  opened.push(db);
  return db;
}

async function view(db: PouchDB.Database<Item>, id: string): Promise<{ rev: string; conflicts: string[]; v: unknown }> {
  const doc = (await db.get(id, { conflicts: true })) as unknown as { _rev: string; _conflicts?: string[]; v?: string };
  return { rev: doc._rev, conflicts: [...(doc._conflicts ?? [])].sort(), v: doc.v };
}

test('offline edits on two replicas become the same conflict everywhere; deletes travel', async () => {
  const name = dbName('pouch');
  const settee = remote(name);
  await api(server.url, 'PUT', `/${name}`);
  const alice = local('alice');
  const bob = local('bob');
  await alice.bulkDocs([{ _id: 'shared', v: 'base' }, { _id: 'doomed', v: 'x' }]);
  await syncing(alice).replicate.to(settee);
  await syncing(bob).replicate.from(settee);
  // offline edits of the same documents
  const onAlice = await alice.get('shared');
  const onBob = await bob.get('shared');
  await alice.put({ ...onAlice, v: 'alice' });
  await bob.put({ ...onBob, v: 'bob' });
  await bob.put({ ...(await bob.get('shared')), v: 'bob-again' });
  const doomed = await alice.get('doomed');
  await alice.remove(doomed._id, doomed._rev);
  // both come back online
  await syncing(alice).sync(settee);
  await syncing(bob).sync(settee);
  await syncing(alice).sync(settee);
  const seen = await Promise.all([view(alice, 'shared'), view(bob, 'shared'), view(settee, 'shared')]);
  assert.deepEqual(seen[1], seen[0]);
  assert.deepEqual(seen[2], seen[0]);
  assert.equal(seen[0].conflicts.length, 1);
  assert.equal(seen[0].v, 'bob-again'); // the longer branch wins
  const fromServer = await api(server.url, 'GET', `/${name}/shared?conflicts=true`);
  assert.deepEqual([...fromServer.body._conflicts].sort(), seen[0].conflicts);
  for (const db of [bob, settee]) await assert.rejects(db.get('doomed'), { status: 404 });
});

test('live sync both ways, then resuming after Settee restarts', async () => {
  const name = dbName('live');
  await api(server.url, 'PUT', `/${name}`);
  const settee = remote(name);
  const mobile = local('mobile');
  const sync = syncing(mobile).sync(settee, { live: true, retry: true, back_off_function: () => 200, heartbeat: false, timeout: 1000 });
  try {
    await mobile.put({ _id: 'from-mobile', v: 'm' });
    await eventually(async () => ((await api(server.url, 'GET', `/${name}/from-mobile`)).status === 200 ? true : undefined), 10_000, 'push');
    await api(server.url, 'PUT', `/${name}/from-server`, { v: 's' });
    await eventually(async () => (await mobile.get('from-server').catch(() => undefined)) ? true : undefined, 10_000, 'pull');

    await server.restart();
    await mobile.put({ _id: 'after-restart', v: 'm2' });
    await eventually(async () => ((await api(server.url, 'GET', `/${name}/after-restart`)).status === 200 ? true : undefined), 20_000, 'push after restart');
    await api(server.url, 'PUT', `/${name}/server-after-restart`, { v: 's2' });
    await eventually(async () => (await mobile.get('server-after-restart').catch(() => undefined)) ? true : undefined, 20_000, 'pull after restart');
  } finally {
    sync.cancel();
  }
  const info = await mobile.info();
  assert.equal(info.doc_count, 4);
});
