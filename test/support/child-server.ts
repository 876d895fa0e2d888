/**
 * A real Settee started the way a user starts it: `node dist/src/cli.js` as a
 * child process on a free port, with its own data directory and an admin
 * given by `--admin`. Black-box client tests talk to it over sockets only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled CLI beside this compiled helper (`<dist>/test/support` → `<dist>/src/cli.js`). */
const cliPath = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export const childAdmin = { name: 'admin', password: 'password' } as const;

export interface ChildServerOptions {
  /** Extra ini text appended to the generated config file. */
  readonly ini?: string;
  readonly startTimeoutMs?: number;
}

export interface ChildServer {
  /** `http://127.0.0.1:PORT` without credentials. */
  readonly baseUrl: string;
  readonly port: number;
  /** `http://admin:password@127.0.0.1:PORT`. */
  readonly adminUrl: string;
  readonly dataDir: string;
  /** What the server wrote to stderr so far (for assertion messages). */
  stderr(): string;
  /** SIGTERM, wait for exit, remove the data directory; returns the exit code. */
  stop(): Promise<number | null>;
}

export async function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  const workDir = mkdtempSync(join(tmpdir(), 'settee-child-'));
  const dataDir = join(workDir, 'data');
  const iniPath = join(workDir, 'test.ini');
  // cheap PBKDF2 so the clear-text admin is hashed fast; quiet logs
  writeFileSync(iniPath, `[chttpd_auth]\niterations = 10\n[log]\nlevel = error\n${options.ini ?? ''}`);
  const child = spawn(
    process.execPath,
    [
      cliPath,
      '--port', '0',
      '--host', '127.0.0.1',
      '--data', dataDir,
      '--config', iniPath,
      '--admin', `${childAdmin.name}:${childAdmin.password}`,
    ],
    { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const baseUrl = await waitForListening(child, options.startTimeoutMs ?? 15_000, {
    onStdout: (text) => (stdout += text),
    describe: () => `stdout=${stdout} stderr=${stderr}`,
  });
  const port = Number(new URL(baseUrl).port);
  let exited: Promise<number | null> | undefined;
  return {
    baseUrl,
    port,
    adminUrl: `http://${childAdmin.name}:${childAdmin.password}@127.0.0.1:${port}`,
    dataDir,
    stderr: () => stderr,
    stop() {
      exited ??= new Promise<number | null>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve(child.exitCode);
          return;
        }
        const killer = setTimeout(() => child.kill('SIGKILL'), 35_000);
        child.once('exit', (code) => {
          clearTimeout(killer);
          rmSync(workDir, { recursive: true, force: true });
          resolve(code);
        });
        child.kill('SIGTERM');
      });
      return exited;
    },
  };
}

function waitForListening(
  child: ChildProcess,
  timeoutMs: number,
  hooks: { onStdout(text: string): void; describe(): string },
): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`settee did not start within ${timeoutMs} ms; ${hooks.describe()}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      seen += text;
      hooks.onStdout(text);
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? '');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`settee exited early with ${code}; ${hooks.describe()}`));
    });
  });
}
