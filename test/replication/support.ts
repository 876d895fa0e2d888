/**
 * Settee servers as child processes for replication tests: `node <dist>/src/cli.js`
 * on a free port with its own data directory, which a test may stop and start
 * again on the same port and data (to test resuming), plus a small JSON client.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cliPath = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
export const admin = { name: 'admin', password: 'password' } as const;
const authHeader = `Basic ${Buffer.from(`${admin.name}:${admin.password}`).toString('base64')}`;

export interface Settee {
  readonly port: number;
  readonly url: string;
  /** With credentials, for replication endpoints. */
  readonly adminUrl: string;
  readonly dataDir: string;
  /** SIGTERM and wait for the exit (the data stays). */
  stop(): Promise<void>;
  /** Starts again on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops and removes the data. */
  dispose(): Promise<void>;
}

export async function startSettee(): Promise<Settee> {
  const workDir = mkdtempSync(join(tmpdir(), 'settee-repl-'));
  const dataDir = join(workDir, 'data');
  const iniPath = join(workDir, 'test.ini');
  writeFileSync(iniPath, '[chttpd_auth]\niterations = 10\n[log]\nlevel = error\n');
  let child: ChildProcess | undefined;
  let port = 0;
  const launch = async (): Promise<void> => {
    const started = spawn(
      process.execPath,
      [cliPath, '--port', String(port), '--host', '127.0.0.1', '--data', dataDir, '--config', iniPath, '--admin', `${admin.name}:${admin.password}`],
      { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    let stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`settee did not start: ${seen} ${stderr}`)), 15_000);
      started.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(seen);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] ?? '');
        }
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`settee exited with ${code}: ${stderr}`));
      });
    });
    port = Number(new URL(url).port);
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const killer = setTimeout(() => running.kill('SIGKILL'), 20_000);
      running.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      running.kill('SIGTERM');
    });
  };
  await launch();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://${admin.name}:${admin.password}@127.0.0.1:${port}`,
    dataDir,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly body: any;
}

/** One JSON request as the admin (a string body is sent as is). */
export async function api(base: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: authHeader, 'content-type': 'application/json', accept: 'application/json' },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined };
}

/** Polls `check` until it returns a value other than undefined (or fails after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let counter = 0;
export function dbName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
