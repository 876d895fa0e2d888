import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '../core/json-value.js';
import { localEndpoint, newCouch, putDoc, testEnvironment, testServerUuid } from '../../test/support/replication-fixtures.js';
import { BatchPipeline } from './batch-pipeline.js';
import type { Endpoint, Seq, WriteFailure } from './endpoint.js';
import { Replication } from './replication.js';
import { Slots } from './slots.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('ordered completion: the written sequence passes a batch only when all before it are written', async () => {
  const written: Seq[] = [];
  const pipeline = new BatchPipeline(3, new AbortController().signal, (seq) => written.push(seq));
  const [one, two, three] = [deferred(), deferred(), deferred()];
  pipeline.start(1, () => one.promise);
  pipeline.start(2, () => two.promise);
  pipeline.start(3, () => three.promise);
  assert.equal(pipeline.hasRoom, false);
  three.resolve();
  two.resolve();
  await tick();
  assert.deepEqual(written, []);
  assert.equal(pipeline.inFlight, 3, 'finished batches behind an unfinished one still hold their place');
  one.resolve();
  await pipeline.drain();
  assert.deepEqual(written, [1, 2, 3]);
  assert.equal(pipeline.inFlight, 0);
});

test('a failed batch fails every wait, stops the others and is never passed', async () => {
  const written: Seq[] = [];
  const pipeline = new BatchPipeline(2, new AbortController().signal, (seq) => written.push(seq));
  const first = deferred();
  let secondSignal: AbortSignal | undefined;
  pipeline.start(1, () => first.promise);
  pipeline.start(2, async (signal) => {
    secondSignal = signal;
  });
  first.reject(new Error('boom'));
  await assert.rejects(pipeline.waitForRoom(), /boom/);
  await assert.rejects(pipeline.drain(), /boom/);
  assert.equal(secondSignal?.aborted, true);
  await pipeline.settle();
  assert.deepEqual(written, []);
  assert.throws(() => pipeline.start(3, async () => undefined), /boom/);
});

test('slots hold at most their bound, and waiters go in arrival order', async () => {
  const slots = new Slots(2);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 7 }, (_, index) =>
      slots.run(async () => {
        running++;
        most = Math.max(most, running);
        order.push(index);
        await tick();
        running--;
      }),
    ),
  );
  assert.equal(most, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6]);
});

/**
 * A target whose writes finish out of order (later calls sooner), recording
 * how many run at once and checking at every checkpoint that everything the
 * checkpoint covers is on the target.
 */
function shuffling(inner: Endpoint, stats: { writesAtOnce: number; writesMost: number; writes: number }): Endpoint {
  return Object.assign(Object.create(inner) as Endpoint, {
    async bulkDocs(docs: readonly JsonObject[]): Promise<WriteFailure[]> {
      stats.writes++;
      stats.writesAtOnce++;
      stats.writesMost = Math.max(stats.writesMost, stats.writesAtOnce);
      const delay = 12 - (stats.writes % 4) * 4;
      await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        return await inner.bulkDocs(docs);
      } finally {
        stats.writesAtOnce--;
      }
    },
  });
}

test('pipelined replication: writes overlap within their bound, checkpoints never run ahead of the target', async () => {
  const couch = newCouch();
  const a = await couch.createDatabase('a');
  const b = await couch.createDatabase('b');
  for (let i = 0; i < 60; i++) await putDoc(a, `d${String(i).padStart(2, '0')}`, `{"i":${i}}`);
  const stats = { writesAtOnce: 0, writesMost: 0, writes: 0 };
  const problems: string[] = [];
  const checks: Promise<void>[] = [];
  const job = new Replication({
    source: localEndpoint(couch, 'a'),
    target: shuffling(localEndpoint(couch, 'b'), stats),
    serverUuid: testServerUuid,
    options: { batchDocsMax: 7, fetchRevisionsMax: 3, batchesInFlightMax: 3, fetchConcurrencyMax: 2, writeConcurrencyMax: 2, checkpointIntervalMs: 0 },
    environment: testEnvironment(),
    onEvent: (event) => {
      if (event.type !== 'checkpoint') return;
      const seq = event.seq as number;
      checks.push(
        (async () => {
          const page = await a.changes({ since: 0, limit: seq, style: 'all_docs' });
          const there = await b.records(page.rows.map((row) => row.id));
          page.rows.forEach((row, index) => {
            if (there[index] === undefined) problems.push(`checkpoint ${seq} covers ${row.id}, not yet written`);
          });
        })(),
      );
    },
  });
  const result = await job.run();
  await Promise.all(checks);
  assert.deepEqual(problems, []);
  assert.equal((result['history'] as JsonObject[])[0]!['docs_written'], 60);
  assert.equal(result['source_last_seq'], 60);
  assert.equal(stats.writesMost, 2, 'two writes at once, never more');
  await couch.close();
});

test('a batch that fails fails the job; its checkpoint stays below the failed batch', async () => {
  const couch = newCouch();
  const a = await couch.createDatabase('a');
  await couch.createDatabase('b');
  for (let i = 0; i < 20; i++) await putDoc(a, `d${String(i).padStart(2, '0')}`, '{}');
  const inner = localEndpoint(couch, 'b');
  let writesAfterFailure = 0;
  let failed = false;
  const target = Object.assign(Object.create(inner) as Endpoint, {
    async bulkDocs(docs: readonly JsonObject[]): Promise<WriteFailure[]> {
      if (failed) writesAfterFailure++;
      if (docs.some((doc) => doc['_id'] === 'd12')) {
        failed = true;
        throw new Error('target unreachable');
      }
      return inner.bulkDocs(docs);
    },
  });
  const checkpoints: Seq[] = [];
  const job = new Replication({
    source: localEndpoint(couch, 'a'),
    target,
    serverUuid: testServerUuid,
    options: { batchDocsMax: 4, batchesInFlightMax: 2, checkpointIntervalMs: 0 },
    environment: testEnvironment(),
    onEvent: (event) => event.type === 'checkpoint' && checkpoints.push(event.seq),
  });
  await assert.rejects(job.run(), /target unreachable/);
  assert.equal(job.state, 'failed');
  assert.equal(checkpoints.every((seq) => (seq as number) <= 12), true, `checkpoints ${checkpoints.join()}`);
  assert.equal((job.checkpointedSeq as number) <= 12, true);
  // Nothing keeps writing once the job has reported its failure.
  const before = writesAfterFailure;
  await tick();
  assert.equal(writesAfterFailure, before);
  await couch.close();
});
