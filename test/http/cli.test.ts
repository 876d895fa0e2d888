import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cliPath = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

test('the CLI starts on a free port, serves /, prints the generated admin once, and exits 0 on SIGTERM', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'settee-cli-'));
  writeFileSync(join(cwd, 'fast.ini'), '[chttpd_auth]\niterations = 10\n[log]\nlevel = error\n');
  const child = spawn(process.execPath, [cliPath, '--port', '0', '--config', 'fast.ini'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line; stdout=${stdout} stderr=${stderr}`)), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? '');
      }
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
  });
  const password = /password "([^"]+)"/.exec(stdout)?.[1];
  assert.ok(password, 'the generated admin password is printed');

  const welcome = await fetch(`${url}/`);
  assert.equal(welcome.status, 200);
  assert.equal(((await welcome.json()) as { couchdb: string }).couchdb, 'Welcome');
  const asAdmin = await fetch(`${url}/_all_dbs`, {
    headers: { Authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
  });
  assert.equal(asAdmin.status, 200);

  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
  assert.equal(exitCode, 0, stderr);

  // restart: the admin persists, nothing is printed again
  const again = spawn(process.execPath, [cliPath, '--port', '0', '--config', 'fast.ini'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let againOut = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no restart')), 15_000);
    again.stdout.on('data', (chunk: Buffer) => {
      againOut += chunk.toString();
      if (againOut.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  assert.ok(!againOut.includes('password'), 'the admin is created only once');
  const code = await new Promise<number | null>((resolve) => {
    again.once('exit', (exit) => resolve(exit));
    again.kill('SIGINT');
  });
  assert.equal(code, 0);
});

test('the CLI rejects bad flags with exit code 2', async () => {
  const child = spawn(process.execPath, [cliPath, '--nope'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 2);
});
