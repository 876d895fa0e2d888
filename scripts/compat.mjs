#!/usr/bin/env node
// Runs the shared CouchDB compatibility kit against a fresh Settee server.
//
//   node scripts/compat.mjs [kit options…]      e.g. --only changes_ --verbose
//   node scripts/compat.mjs --groups doc,rev,…   every scenario file of those groups
//   node scripts/compat.mjs --ci                  the groups CI requires (see ciGroups)
//
// Starts `node dist/src/cli.js` on a free port of 127.0.0.1 with an empty
// temporary data directory and admin `admin:password`, waits for `/_up`, runs
// `run.mjs check` from the kit (default ../shared/compat, or SETTEE_COMPAT_DIR)
// with the extra arguments passed through, prints its output, stops the server
// and exits with the kit's status. SETTEE_DIST picks another build folder.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = resolve(root, process.env.SETTEE_DIST ?? 'dist');
const kit = resolve(root, process.env.SETTEE_COMPAT_DIR ?? '../shared/compat');
const cli = join(dist, 'src', 'cli.js');
const admin = { name: 'admin', password: 'password' };
const startTimeoutMs = 30_000;

for (const [what, path] of [['server build', cli], ['compatibility kit', join(kit, 'run.mjs')]]) {
  if (!existsSync(path)) {
    console.error(`compat: ${what} not found at ${path}`);
    process.exit(2);
  }
}

/** A free TCP port (Node's fetch refuses a few "bad ports": pick again if so). */
async function freePort() {
  const refused = new Set([1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080]);
  for (;;) {
    const port = await new Promise((resolvePort, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const { port: found } = probe.address();
        probe.close(() => resolvePort(found));
      });
    });
    if (!refused.has(port)) return port;
  }
}

async function waitUntilUp(base, server) {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`server exited with status ${server.exitCode}`);
    try {
      const response = await fetch(`${base}/_up`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`server did not answer /_up within ${startTimeoutMs} ms`);
}

function stop(server) {
  return new Promise((done) => {
    if (server.exitCode !== null || server.signalCode !== null) return done();
    const force = setTimeout(() => server.kill('SIGKILL'), 10_000);
    server.once('exit', () => {
      clearTimeout(force);
      done();
    });
    server.kill('SIGTERM');
  });
}

const dataDir = mkdtempSync(join(tmpdir(), 'settee-compat-'));
const port = await freePort();
const serverLog = [];
const server = spawn(
  process.execPath,
  [cli, '--port', String(port), '--host', '127.0.0.1', '--data', dataDir, '--admin', `${admin.name}:${admin.password}`],
  { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
);
for (const output of [server.stdout, server.stderr]) {
  output.on('data', (chunk) => {
    serverLog.push(chunk);
    // keep only the tail, for a failed start
    if (serverLog.length > 200) serverLog.shift();
  });
}

/** The groups CI runs: the HTTP API issue's, replication's and views'; `ciExcluded` names known gaps (none now). */
const ciGroups = ['server', 'db', 'doc', 'rev', 'conflict', 'bulk', 'alldocs', 'changes', 'local', 'compact', 'purge', 'repl', 'view'];
const ciExcluded = new Set([]);

/** Expands `--groups a,b` and `--ci` into scenario file paths; other arguments pass through. */
function kitArguments(argv) {
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--ci' || arg === '--groups') {
      const ci = arg === '--ci';
      const groups = ci ? ciGroups : String(argv[++i] ?? '').split(',').filter(Boolean);
      const files = readdirSync(join(kit, 'scenarios'))
        .filter((name) => groups.some((group) => name.startsWith(`${group}_`)))
        .filter((name) => !(ci && ciExcluded.has(name)))
        .sort();
      out.push(...files.map((name) => join(kit, 'scenarios', name)));
    } else {
      out.push(arg);
    }
  }
  return out;
}

let status = 1;
try {
  await waitUntilUp(`http://127.0.0.1:${port}`, server);
  const base = `http://${admin.name}:${admin.password}@127.0.0.1:${port}`;
  const check = spawn(
    process.execPath,
    [join(kit, 'run.mjs'), 'check', '--base', base, '--golden', join(kit, 'golden'), ...kitArguments(process.argv.slice(2))],
    { cwd: kit, stdio: 'inherit' },
  );
  status = await new Promise((done) => check.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0))));
} catch (error) {
  console.error(`compat: ${error instanceof Error ? error.message : String(error)}`);
  process.stderr.write(Buffer.concat(serverLog));
  status = 2;
} finally {
  await stop(server);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(status);
