/**
 * Child process for the crash-safety test: writes continuously to one
 * database from several concurrent loops and prints `ack <id> <rev>` on
 * stdout after each write is acknowledged (pipes are synchronous on Linux, so
 * a printed line was acknowledged before anything after it ran).
 *
 * argv: <dataDir> <seed> [inline|worker]  (worker: write transactions in the engine's write worker)
 */
import { SqliteEngine } from '../../src/storage/sqlite-engine.js';
import { Couch } from '../../src/db/couch.js';
import { docUpdateFromJson } from '../../src/db/document.js';
import { createPrng } from '../support/prng.js';
import type { JsonObject } from '../../src/core/json-value.js';

const [dataDir, seedText, mode] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: crash-writer <dataDir> <seed> [inline|worker]');
const random = createPrng(Number(seedText ?? '1'));
const loops = 8;

const couch = new Couch({ engine: new SqliteEngine({ dataDir, writeWorker: mode === 'worker' }) });
const db = (await couch.exists('crash')) ? await couch.database('crash') : await couch.createDatabase('crash');
process.stdout.write('ready\n');

async function loop(worker: number): Promise<void> {
  let counterRev: string | undefined;
  const counterId = `counter-${worker}`;
  try {
    counterRev = (await db.getDoc(counterId)).rev;
  } catch {
    counterRev = undefined;
  }
  for (let i = 0; ; i++) {
    const choice = random();
    if (choice < 0.5) {
      const id = `w${worker}-${process.pid}-${i}`;
      const body = { worker, i, pad: 'x'.repeat(Math.floor(random() * 200)) };
      const result = await db.updateDoc(docUpdateFromJson(body, { id }));
      process.stdout.write(`ack ${result.id} ${result.rev}\n`);
    } else {
      const body: JsonObject = { worker, i };
      if (counterRev !== undefined) body['_rev'] = counterRev;
      const result = await db.updateDoc(docUpdateFromJson(body, { id: counterId }));
      counterRev = result.rev;
      process.stdout.write(`ack ${result.id} ${result.rev}\n`);
    }
  }
}

await Promise.all(Array.from({ length: loops }, (_, worker) => loop(worker)));
