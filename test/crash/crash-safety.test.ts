/**
 * Crash safety: a writer process under concurrent load is killed with SIGKILL
 * at random moments, many times; after each kill the store is reopened and
 * every acknowledged write must be there, and the store must be consistent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteEngine } from '../../src/storage/sqlite-engine.js';
import { Couch } from '../../src/db/couch.js';
import { findRev, winner } from '../../src/core/revtree.js';
import { parseRev } from '../../src/core/rev.js';
import { createPrng, seedFromEnv } from '../support/prng.js';

const writerScript = fileURLToPath(new URL('./crash-writer.js', import.meta.url));
const rounds = 12;

interface Ack {
  readonly id: string;
  readonly rev: string;
}

type WriteMode = 'inline' | 'worker';

function runUntilKilled(dataDir: string, seed: number, killAfterMs: number, mode: WriteMode): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerScript, dataDir, String(seed), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        else if (line.startsWith('ack ')) {
          const [, id, rev] = line.split(' ');
          acks.push({ id: id as string, rev: rev as string });
        }
        newline = buffered.indexOf('\n');
      }
    });
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code} ${signal}: ${stderr}`));
      else resolve(acks);
    });
  });
}

for (const mode of ['inline', 'worker'] as const) {
  test(`acknowledged writes survive SIGKILL and the store stays consistent (${mode} writes)`, async () => {
    const seed = seedFromEnv();
    const random = createPrng(seed);
    const dataDir = mkdtempSync(join(tmpdir(), 'settee-crash-'));
    const acked = new Map<string, string[]>();
    try {
      for (let round = 0; round < rounds; round++) {
        const killAfterMs = 30 + Math.floor(random() * 250);
        const acks = await runUntilKilled(dataDir, seed + round, killAfterMs, mode);
        for (const ack of acks) {
          const list = acked.get(ack.id) ?? [];
          list.push(ack.rev);
          acked.set(ack.id, list);
        }
        const couch = new Couch({ engine: new SqliteEngine({ dataDir }) });
        try {
          const db = await couch.database('crash');
          for (const [id, revs] of acked) {
            const record = await db.record(id);
            assert.ok(record, `seed ${seed} round ${round}: acknowledged doc ${id} lost`);
            for (const rev of revs) {
              assert.ok(findRev(record.tree, parseRev(rev)), `seed ${seed}: acknowledged ${id} ${rev} lost`);
            }
            // The winner is the last acknowledged revision or a later one that
            // committed just before the kill, unacknowledged.
            const last = parseRev(revs[revs.length - 1]);
            assert.ok(parseRev(record.winningRev).pos >= last.pos, `seed ${seed}: ${id} went back before an acknowledged rev`);
            const top = winner(record.tree);
            assert.equal(`${top.pos}-${top.hash}`, record.winningRev);
            await db.getDoc(id);
          }
          const info = await db.info();
          const page = await db.changes({ since: 0, limit: 1_000_000 });
          const seqs = page.rows.map((row) => row.seq);
          assert.equal(new Set(page.rows.map((row) => row.id)).size, page.rows.length, 'one change row per doc');
          assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
          assert.equal(page.rows.length, info.doc_count + info.doc_del_count);
          if (seqs.length > 0) assert.equal(info.update_seq, seqs[seqs.length - 1]);
          const all = await db.allDocs({ limit: 1_000_000, skip: 0 });
          assert.equal(all.records.length, info.doc_count);
        } finally {
          await couch.close();
        }
      }
      assert.ok(acked.size > 0, 'the writer acknowledged nothing: the test proved nothing');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
