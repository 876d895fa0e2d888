/**
 * Test helpers shared by every route family: a real Settee server on a free
 * port (in this process, in-memory SQLite) and `inject`, a small raw HTTP
 * client that sends exactly what it is given (bad encodings, odd headers) and
 * returns status, headers and body text.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { SetteeConfig } from '../../src/config.js';
import { resolveConfig } from '../../src/config.js';
import { formatPasswordHash, hashPassword } from '../../src/auth/password-hash.js';
import type { Logger } from '../../src/http/logger.js';
import { silentLogger } from '../../src/http/logger.js';
import type { RouteFamily } from '../../src/http/routes.js';
import type { RunningServer } from '../../src/server.js';
import { startServer } from '../../src/server.js';
import { SqliteEngine } from '../../src/storage/sqlite-engine.js';

export const testAdmin = { name: 'admin', password: 'secret-pw' } as const;

export interface TestServerOptions {
  /** Overrides of the resolved configuration. */
  readonly config?: Partial<SetteeConfig>;
  readonly logger?: Logger;
  readonly routeFamilies?: readonly RouteFamily[];
}

export interface TestServer extends RunningServer {
  readonly baseUrl: string;
  /** `inject` bound to this server. */
  request(options: InjectOptions): Promise<InjectResponse>;
}

let cachedAdminHash: string | undefined;

/** A server on 127.0.0.1:<free port> with admin `admin:secret-pw` (cheap hash) and in-memory storage. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  cachedAdminHash ??= formatPasswordHash(await hashPassword(testAdmin.password, { iterations: 10 }));
  const base = resolveConfig({ argv: ['--port', '0', '--data', ':memory:'], env: {}, cwd: process.cwd() });
  const config: SetteeConfig = {
    ...base,
    dataDir: ':memory:',
    admins: new Map([[testAdmin.name, cachedAdminHash]]),
    secret: 'test-secret',
    serverUuid: '0123456789abcdef0123456789abcdef',
    passwordIterations: 10,
    ...options.config,
  };
  const running = await startServer({
    config,
    logger: options.logger ?? silentLogger,
    engine: new SqliteEngine({ dataDir: ':memory:' }),
    ...(options.routeFamilies ? { routeFamilies: options.routeFamilies } : {}),
  });
  const baseUrl = running.address.url;
  return {
    ...running,
    baseUrl,
    request: (injectOptions) => inject(baseUrl, injectOptions),
  };
}

export interface InjectOptions {
  readonly method?: string;
  /** Sent as is (no encoding applied). */
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** A string or bytes sent as is; an object/array is sent as JSON with `Content-Type: application/json`. */
  readonly body?: string | Buffer | object;
  /** `"user:password"` for Basic auth, or 'admin' for the test admin. */
  readonly auth?: string;
}

export interface InjectResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON (undefined if it is not JSON). */
  readonly json: unknown;
  /** The body's bytes, as received. */
  readonly bytes: Buffer;
}

export function basicAuth(credentials: string): string {
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
}

/** One request over a fresh connection. */
export function inject(baseUrl: string, options: InjectOptions): Promise<InjectResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let payload: Buffer | undefined;
  if (typeof options.body === 'string') payload = Buffer.from(options.body, 'utf8');
  else if (Buffer.isBuffer(options.body)) payload = options.body;
  else if (options.body !== undefined) {
    payload = Buffer.from(JSON.stringify(options.body), 'utf8');
    headers['Content-Type'] ??= 'application/json';
  }
  if (options.auth !== undefined) {
    headers['Authorization'] = basicAuth(options.auth === 'admin' ? `${testAdmin.name}:${testAdmin.password}` : options.auth);
  }
  if (payload) headers['Content-Length'] ??= String(payload.length);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: url.hostname, port: url.port, method: options.method ?? 'GET', path: options.path, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          let json: unknown;
          try {
            json = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json, bytes });
        });
      },
    );
    request.on('error', reject);
    if (payload) request.write(payload);
    request.end();
  });
}
