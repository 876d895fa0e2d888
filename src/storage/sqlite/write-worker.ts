/**
 * The write worker: a thread that runs every write operation of a SQLite
 * engine in `writeWorker` mode, so that transactions and their fsyncs leave
 * the main thread free to serve requests (reads stay there, on their own
 * connections: WAL lets them run beside this thread's writes).
 *
 * It owns one write connection per database file, in a bounded LRU of its
 * own, and handles messages one at a time, in arrival order: the main thread
 * relies on that order (an operation sent before `closeFile` runs before the
 * file closes). It knows nothing of the catalog: the main thread checks that a
 * database exists before sending, and closes its file here before deleting it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { dbNotFound } from '../../core/errors.js';
import { ConnectionPool } from './pool.js';
import { openDatabaseFile } from './schema.js';
import { runWriteOperation } from './transactions.js';
import { serializeError, type WorkerReply, type WorkerRequest, type WriteWorkerData } from './write-protocol.js';

const port = parentPort;
if (port === null) throw new Error('write-worker.js runs as a worker thread');
const { dataDir, openConnectionsMax } = workerData as WriteWorkerData;
const pool = new ConnectionPool({ openConnectionsMax, evictable: true });

function open(file: string) {
  const path = join(dataDir, file);
  if (!existsSync(path)) throw dbNotFound();
  return openDatabaseFile(path);
}

function handle(request: WorkerRequest): unknown {
  switch (request.kind) {
    case 'operation':
      return pool.use(request.file, () => open(request.file), (connection) => runWriteOperation(connection, request.operation));
    case 'closeFile':
      pool.close(request.file);
      return undefined;
    case 'closeAll':
      pool.closeAll();
      return undefined;
    case 'exitForTests':
      process.exit(1);
  }
}

port.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { requestId: request.requestId, ok: true, result: handle(request) };
  } catch (error) {
    reply = { requestId: request.requestId, ok: false, error: serializeError(error) };
  }
  port.postMessage(reply);
});
