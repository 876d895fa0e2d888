import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRev } from '../core/rev.js';
import { parseJson } from '../core/json-parse.js';
import type { JsonObject } from '../core/json-value.js';
import { renderDoc } from '../db/render.js';
import { docUpdateFromJson } from '../db/document.js';
import type { Couch } from '../db/couch.js';
import {
  localEndpoint,
  newCouch,
  putDoc,
  summarize,
  testEnvironment,
  testServerUuid,
} from '../../test/support/replication-fixtures.js';
import type { Endpoint, WriteFailure } from './endpoint.js';
import { Replication, replicate } from './replication.js';
import type { ReplicationConfig, ReplicationEvent } from './replication.js';
import type { ReplicationOptions } from './options.js';
import type { JobState } from './job-state.js';

function run(couch: Couch, source: string, target: string, options: ReplicationOptions = {}, seed = 1) {
  return replicate({
    source: localEndpoint(couch, source),
    target: localEndpoint(couch, target),
    serverUuid: testServerUuid,
    options,
    environment: testEnvironment(seed),
  });
}

function historyOf(result: JsonObject): JsonObject[] {
  return result['history'] as JsonObject[];
}

test('push replication copies documents, deletions and revision histories', async () => {
  const couch = newCouch();
  const a = await couch.createDatabase('a');
  await couch.createDatabase('b');
  const one = await putDoc(a, 'x', '{"n":1}');
  const two = await putDoc(a, 'x', `{"_rev":"${one}","n":2.0,"big":12345678901234567890}`);
  const y = await putDoc(a, 'y', '{"v":true}');
  await putDoc(a, 'y', `{"_rev":"${y}","_deleted":true}`);
  await putDoc(a, '_design/d', '{"views":{}}');

  const result = await run(couch, 'a', 'b');
  assert.equal(result['ok'], true);
  assert.equal(result['replication_id_version'], 4);
  assert.equal(result['source_last_seq'], 5);
  assert.match(result['session_id'] as string, /^[0-9a-f]{32}$/);
  const [entry] = historyOf(result);
  assert.deepEqual(Object.keys(entry!), [
    'session_id', 'start_time', 'end_time', 'start_last_seq', 'end_last_seq', 'recorded_seq',
    'missing_checked', 'missing_found', 'docs_read', 'docs_written', 'doc_write_failures',
    'bulk_get_docs', 'bulk_get_attempts',
  ]);
  assert.equal(entry!['start_last_seq'], 0);
  assert.equal(entry!['docs_read'], 3);
  assert.equal(entry!['docs_written'], 3);
  assert.equal(entry!['doc_write_failures'], 0);
  assert.match(entry!['start_time'] as string, /^Thu, 01 Jan 2026 00:00:00 GMT$/);

  const b = await couch.database('b');
  const copied = await b.getDoc('x', { revs: true });
  // number fidelity of a replicated body; ancestors arrive as ids only
  assert.equal(renderDoc({ ...copied, revisions: undefined }), `{"_id":"x","_rev":"${two}","n":2.0,"big":12345678901234567890}`);
  assert.equal(copied.revisions?.ids.length, 2);
  await assert.rejects(b.getDoc('x', { rev: parseRev(one) }), { status: 404 });
  await assert.rejects(b.getDoc('y'), { status: 404, reason: 'deleted' });
  assert.deepEqual(await summarize(b), await summarize(a));
  // checkpoints on both sides, the same body
  const source = await localEndpoint(couch, 'a').getLocal(replicationIdOf(couch, 'a', 'b'));
  const target = await localEndpoint(couch, 'b').getLocal(replicationIdOf(couch, 'a', 'b'));
  assert.equal(source?.['session_id'], result['session_id']);
  assert.deepEqual({ ...source, _rev: null }, { ...target, _rev: null });
  await couch.close();
});

function replicationIdOf(couch: Couch, source: string, target: string, options: ReplicationOptions = {}): string {
  return new Replication({
    source: localEndpoint(couch, source),
    target: localEndpoint(couch, target),
    serverUuid: testServerUuid,
    options,
  }).id.baseId;
}

test('a second run resumes from the checkpoint: no_changes, then only new changes', async () => {
  const couch = newCouch();
  const a = await couch.createDatabase('a');
  await couch.createDatabase('b');
  for (let i = 0; i < 10; i++) await putDoc(a, `d${i}`, `{"i":${i}}`);
  const first = await run(couch, 'a', 'b', { batchDocsMax: 3 });
  assert.equal(historyOf(first)[0]!['docs_written'], 10);

  const second = await run(couch, 'a', 'b', {}, 2);
  assert.equal(second['no_changes'], true);
  assert.equal(second['session_id'], first['session_id']);
  assert.deepEqual(second['history'], first['history']);

  await putDoc(a, 'new1', '{}');
  await putDoc(a, 'new2', '{}');
  const third = await run(couch, 'a', 'b', {}, 3);
  assert.equal(third['no_changes'], undefined);
  const [latest, previous] = historyOf(third);
  assert.equal(latest!['start_last_seq'], 10);
  assert.equal(latest!['end_last_seq'], 12);
  // counters carry on from the previous entry, as CouchDB's do
  assert.equal(latest!['missing_checked'], 12);
  assert.equal(latest!['docs_written'], 12);
  assert.equal(previous!['session_id'], first['session_id']);
  await couch.close();
});

test('concurrent edits replicated both ways: same winner and _conflicts on both sides', async () => {
  const couch = newCouch();
  const left = await couch.createDatabase('left');
  const right = await couch.createDatabase('right');
  const base = await putDoc(left, 'doc', '{"v":0}');
  await run(couch, 'left', 'right');
  await putDoc(left, 'doc', `{"_rev":"${base}","v":"left"}`);
  await putDoc(right, 'doc', `{"_rev":"${base}","v":"right"}`);
  const there = await run(couch, 'left', 'right');
  const back = await run(couch, 'right', 'left');
  assert.equal(historyOf(there)[0]!['docs_written'], 2);
  assert.equal(historyOf(back)[0]!['missing_checked'], 2);
  assert.equal(historyOf(back)[0]!['missing_found'], 1);
  const l = await left.getDoc('doc', { conflicts: true });
  const r = await right.getDoc('doc', { conflicts: true });
  assert.equal(l.rev, r.rev);
  assert.deepEqual(l.conflicts, r.conflicts);
  assert.equal(l.conflicts?.length, 1);
  // CouchDB's golden revision ids for this scenario
  assert.equal(base, '1-083d7391ec71ec717a762c87db469932');
  assert.equal(l.rev, '2-56bd30dc1db8ff7089ba479d91cff8db');
  assert.deepEqual(l.conflicts, ['2-01c25ac341b2bbadb5c0608b77c89439']);
  await couch.close();
});

test('doc_ids replicates only the listed documents and reports CouchDB’s extra members', async () => {
  const couch = newCouch();
  const a = await couch.createDatabase('a');
  await couch.createDatabase('b');
  for (const id of ['a', 'b', 'c']) await putDoc(a, id, '{"t":"x"}');
  const result = await run(couch, 'a', 'b', { docIds: ['c', 'a', 'nope'] });
  assert.deepEqual(Object.keys(result).slice(0, 6), ['ok', 'session_id', 'source_last_seq', 'replication_id_version', 'start_time', 'end_time']);
  assert.equal(result['docs_written'], 2);
  const b = await couch.database('b');
  assert.deepEqual([...(await summarize(b)).keys()].sort(), ['a', 'c']);
  assert.notEqual(replicationIdOf(couch, 'a', 'b', { docIds: ['a'] }), replicationIdOf(couch, 'a', 'b'));
  await couch.close();
});

test('create_target creates a missing target; a missing source is db_not_found', async () => {
  const couch = newCouch();
  const a = await couch.createDatabase('a');
  await putDoc(a, 'x', '{}');
  await assert.rejects(run(couch, 'a', 'missing'), { error: 'db_not_found', reason: 'could not open missing' });
  const result = await run(couch, 'a', 'made', { createTarget: true });
  assert.equal(historyOf(result)[0]!['docs_written'], 1);
  await assert.rejects(run(couch, 'nothere', 'a'), { error: 'db_not_found' });
  await couch.close();
});

/** A target that refuses documents whose id starts with `bad`, as a validate function would. */
function refusing(inner: Endpoint): Endpoint {
  return Object.assign(Object.create(inner) as Endpoint, {
    async bulkDocs(docs: readonly JsonObject[]): Promise<WriteFailure[]> {
      const good = docs.filter((doc) => !String(doc['_id']).startsWith('bad'));
      const bad = docs.filter((doc) => String(doc['_id']).startsWith('bad'));
      const failures = await inner.bulkDocs(good);
      return [...failures, ...bad.map((doc) => ({ id: String(doc['_id']), error: 'forbidden', reason: 'no' }))];
    },
  });
}

test('per-document write failures are counted, not fatal', async () => {
  const couch = newCouch();
  const a = await couch.createDatabase('a');
  await couch.createDatabase('b');
  for (const id of ['ok1', 'bad1', 'ok2', 'bad2', 'ok3']) await putDoc(a, id, '{}');
  const events: ReplicationEvent[] = [];
  const result = await replicate({
    source: localEndpoint(couch, 'a'),
    target: refusing(localEndpoint(couch, 'b')),
    serverUuid: testServerUuid,
    environment: testEnvironment(),
    onEvent: (event) => events.push(event),
  });
  const [entry] = historyOf(result);
  assert.equal(entry!['docs_read'], 5);
  assert.equal(entry!['docs_written'], 3);
  assert.equal(entry!['doc_write_failures'], 2);
  assert.equal(events.filter((event) => event.type === 'write_failures').length, 1);
  await couch.close();
});

test('continuous replication follows new writes and stops on cancel', async () => {
  const couch = newCouch();
  const a = await couch.createDatabase('a');
  const b = await couch.createDatabase('b');
  await putDoc(a, 'first', '{}');
  const states: JobState[] = [];
  let checkpoints = 0;
  const job = new Replication({
    source: localEndpoint(couch, 'a'),
    target: localEndpoint(couch, 'b'),
    serverUuid: testServerUuid,
    options: { continuous: true, longpollTimeoutMs: 5_000, checkpointIntervalMs: 0 },
    environment: testEnvironment(),
    onEvent: (event) => {
      if (event.type === 'state') states.push(event.to);
      if (event.type === 'checkpoint') checkpoints++;
    },
  });
  assert.match(job.id.id, /^[0-9a-f]{32}\+continuous$/);
  const done = job.run();
  await until(async () => (await summarize(b)).has('first'));
  await putDoc(a, 'second', '{}');
  await until(async () => (await summarize(b)).has('second'));
  await until(async () => job.state === 'waiting');
  job.cancel();
  const result = await done;
  assert.equal(job.state, 'cancelled');
  assert.equal(result['source_last_seq'], 2);
  assert.equal(checkpoints >= 2, true);
  assert.equal(states.includes('waiting'), true);
  await couch.close();
});

async function until(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('winning_revs_only sends only winners', async () => {
  const couch = newCouch();
  const a = await couch.createDatabase('a');
  await couch.createDatabase('b');
  await a.updateDoc(docJson('{"_id":"w","_revisions":{"start":1,"ids":["aaa"]}}'), { newEdits: false });
  await a.updateDoc(docJson('{"_id":"w","_revisions":{"start":1,"ids":["bbb"]}}'), { newEdits: false });
  await run(couch, 'a', 'b', { winningRevsOnly: true });
  const b = await couch.database('b');
  assert.deepEqual((await summarize(b)).get('w')?.leaves, ['1-bbb']);
  await couch.close();
});

function docJson(json: string) {
  return docUpdateFromJson(parseJson(json));
}

test('the job refuses illegal transitions and reports its state', async () => {
  const couch = newCouch();
  await couch.createDatabase('a');
  await couch.createDatabase('b');
  const config: ReplicationConfig = {
    source: localEndpoint(couch, 'a'),
    target: localEndpoint(couch, 'b'),
    serverUuid: testServerUuid,
    environment: testEnvironment(),
  };
  const states: JobState[] = [];
  const job = new Replication({ ...config, onEvent: (event) => event.type === 'state' && states.push(event.to) });
  assert.equal(job.state, 'starting');
  const result = await job.run();
  assert.equal(result['no_changes'], true);
  assert.deepEqual(states, ['checking_peers', 'reading_checkpoint', 'fetching_changes', 'checkpointing', 'completed']);
  assert.equal(await job.run(), result);
  await couch.close();
});
