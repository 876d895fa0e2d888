import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCheckpoints, checkpointBody, emptyStats } from './checkpoint.js';
import { replicationId } from './replication-id.js';

const entry = (session: string, seq: number) => ({ session_id: session, recorded_seq: seq });

test('resume: same session id uses source_last_seq', () => {
  const log = { session_id: 's2', source_last_seq: 7, history: [entry('s2', 7), entry('s1', 3)] };
  assert.deepEqual(compareCheckpoints(log, { ...log }), { startSeq: 7, history: log.history, found: true });
});

test('resume: differing sessions find the newest common history entry', () => {
  const source = { session_id: 's3', source_last_seq: 9, history: [entry('s3', 9), entry('s2', 7), entry('s1', 3)] };
  const target = { session_id: 's2', source_last_seq: 7, history: [entry('s2', 7), entry('s1', 3)] };
  assert.deepEqual(compareCheckpoints(source, target), { startSeq: 7, history: [entry('s1', 3)], found: true });
  // the target ahead of the source (the source's checkpoint write was lost)
  assert.equal(compareCheckpoints(target, source).startSeq, 7);
  const stranger = { session_id: 'x', history: [entry('x', 5)] };
  assert.deepEqual(compareCheckpoints(source, stranger), { startSeq: 0, history: [], found: false });
  assert.deepEqual(compareCheckpoints(undefined, undefined), { startSeq: 0, history: [], found: false });
  assert.deepEqual(compareCheckpoints(source, undefined), { startSeq: 0, history: [], found: false });
});

test('checkpoint history is capped at 50 entries, newest first', () => {
  const previous = Array.from({ length: 60 }, (_, i) => entry(`old${i}`, i));
  const body = checkpointBody({
    sessionId: 'new', startTime: 't0', endTime: 't1', startSeq: 1, throughSeq: 2,
    stats: emptyStats(), previousHistory: previous, docIdsReplication: false,
  });
  const history = body['history'] as { session_id: string }[];
  assert.equal(history.length, 50);
  assert.equal(history[0]!.session_id, 'new');
  assert.deepEqual(Object.keys(body), ['session_id', 'source_last_seq', 'replication_id_version', 'history']);
});

test('replication ids: stable, option-sensitive, password-blind, with CouchDB suffixes', () => {
  const base = {
    serverUuid: 'u',
    source: { url: 'http://127.0.0.1:5984/a/', headers: [] },
    target: { url: 'http://example.org:8000/b/', user: 'bob', headers: [['X-Token', 't'] as const] },
  };
  const id = replicationId(base);
  assert.match(id.baseId, /^[0-9a-f]{32}$/);
  assert.equal(replicationId(base).baseId, id.baseId);
  assert.equal(id.id, id.baseId);
  // port 5984 and 80 are both "default" for http, as in CouchDB
  assert.equal(replicationId({ ...base, source: { url: 'http://127.0.0.1/a/', headers: [] } }).baseId, id.baseId);
  const variants = [
    { ...base, serverUuid: 'v' },
    { ...base, docIds: ['x'] },
    { ...base, winningRevsOnly: true },
    { ...base, sinceSeq: 5 },
    { ...base, target: { ...base.target, user: 'alice' } },
  ];
  for (const variant of variants) assert.notEqual(replicationId(variant).baseId, id.baseId);
  const both = replicationId({ ...base, continuous: true, createTarget: true });
  assert.equal(both.baseId, id.baseId);
  assert.equal(both.id, `${id.baseId}+continuous+create_target`);
});
