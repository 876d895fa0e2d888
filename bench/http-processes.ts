/**
 * The processes of the HTTP benchmark: the servers under test (Settee's CLI,
 * the minimal reference server), each a child on a port the OS picks, and the
 * load generator, a forked child driven over IPC. Every child is stopped by
 * the benchmark that started it, by its own pid, whatever happens.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadReply, LoadRequest, LoadResult } from './http-jobs.js';

/** How long a server may take to print its address (Settee hashes its admin password first). */
const listenTimeoutMs = 30_000;
/** How long a child may take to exit after SIGTERM (or a disconnect) before it is killed. */
const exitTimeoutMs = 35_000;

export interface ServerChild {
  readonly name: string;
  readonly baseUrl: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL if it is still running after `exitTimeoutMs`; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  readonly name: string;
  readonly script: URL;
  readonly args: readonly string[];
  /** Node flags placed before the script (`--cpu-prof`, say). */
  readonly nodeArgs?: readonly string[];
  /** The child's stderr (request log, errors) goes here. */
  readonly logFile: string;
  readonly cwd: string;
}

/** Starts a server and resolves once it has printed `listening on http://…`. */
export async function startServer(options: ServerOptions): Promise<ServerChild> {
  const logFd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), fileURLToPath(options.script), ...options.args], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', logFd],
    });
  } finally {
    closeSync(logFd);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), exitTimeoutMs);
    await exited;
    clearTimeout(timer);
  };
  try {
    const baseUrl = await new Promise<string>((resolve, reject) => {
      let printed = '';
      const timer = setTimeout(() => reject(new Error(`no address printed within ${listenTimeoutMs} ms`)), listenTimeoutMs);
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        printed += chunk;
        const match = /listening on (http:\/\/[^\s/]+)/.exec(printed);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited (${code ?? signal}) before listening: ${printed.trim()} ${tail(options.logFile)}`));
      });
      child.once('error', reject);
    });
    // Keep draining stdout so the child can never block on a full pipe.
    child.stdout?.resume();
    return { name: options.name, baseUrl, pid: child.pid as number, stop };
  } catch (error) {
    await stop();
    throw new Error(`${options.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The last lines of a log file, to explain a failure. */
export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The forked load generator (`http-load.js`): one job at a time. */
export class LoadGenerator {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(result: LoadResult): void; reject(error: Error): void }>();
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (message: LoadReply) => {
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if ('error' in message) waiter.reject(new Error(`load generator: ${message.error}`));
      else waiter.resolve(message.result);
    });
    child.once('exit', (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`load generator exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  static start(script: URL): LoadGenerator {
    return new LoadGenerator(fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  run(job: LoadJob): Promise<LoadResult> {
    const id = this.nextId++;
    return new Promise<LoadResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: LoadRequest = { id, job };
      this.child.send(request, (error) => {
        if (error === null) return;
        this.pending.delete(id);
        reject(error);
      });
    });
  }

  /** Disconnects (the child exits on that); kills it if it has not exited in time. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), exitTimeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
