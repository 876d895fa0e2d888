/**
 * Helpers for the `_changes` tests: writing documents through the db layer
 * (the document endpoints are another family), and a streaming client that
 * shows a live feed's bytes as they arrive.
 */
import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders } from 'node:http';
import { parseJson } from '../../src/core/json-parse.js';
import type { Database } from '../../src/db/database.js';
import { docUpdateFromJson } from '../../src/db/document.js';
import { basicAuth, testAdmin } from '../support/http.js';

export const adminAuth = `${testAdmin.name}:${testAdmin.password}`;

/** Writes `json` as document `id` (interactive edit unless `newEdits` is false). */
export async function putDoc(db: Database, id: string, json: string, newEdits = true): Promise<string> {
  const result = await db.updateDoc(docUpdateFromJson(parseJson(json), { id }), { newEdits });
  return result.rev;
}

export interface OpenStream {
  readonly status: Promise<number>;
  readonly headers: Promise<IncomingHttpHeaders>;
  /** Everything received so far. */
  text(): string;
  /** Resolves once the received text satisfies `predicate` (rejects after `timeoutMs`). */
  waitFor(predicate: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with the whole body when the server ends the response. */
  readonly ended: Promise<string>;
  /** Drops the connection (a client going away). */
  close(): void;
  readonly request: ClientRequest;
}

export function openStream(baseUrl: string, path: string, options: { auth?: string; headers?: Record<string, string> } = {}): OpenStream {
  const url = new URL(baseUrl);
  let received = '';
  const listeners = new Set<() => void>();
  let resolveStatus: (status: number) => void = () => undefined;
  let resolveHeaders: (headers: IncomingHttpHeaders) => void = () => undefined;
  let resolveEnded: (text: string) => void = () => undefined;
  let rejectEnded: (error: Error) => void = () => undefined;
  const status = new Promise<number>((resolve) => (resolveStatus = resolve));
  const headers = new Promise<IncomingHttpHeaders>((resolve) => (resolveHeaders = resolve));
  const ended = new Promise<string>((resolve, reject) => {
    resolveEnded = resolve;
    rejectEnded = reject;
  });
  ended.catch(() => undefined);
  const requestHeaders: Record<string, string> = { ...(options.headers ?? {}), Authorization: basicAuth(options.auth ?? adminAuth) };
  const request = httpRequest({ host: url.hostname, port: url.port, path, headers: requestHeaders, agent: false }, (response) => {
    resolveStatus(response.statusCode ?? 0);
    resolveHeaders(response.headers);
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      received += chunk;
      for (const listener of [...listeners]) listener();
    });
    response.on('end', () => resolveEnded(received));
    response.on('error', (error) => rejectEnded(error));
  });
  request.on('error', (error) => rejectEnded(error));
  request.end();
  return {
    status,
    headers,
    text: () => received,
    waitFor: (predicate, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(received)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(received);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting; received so far: ${JSON.stringify(received)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    ended,
    close: () => request.destroy(),
    request,
  };
}

/** Polls `condition` every few ms until it holds (rejects after `timeoutMs`). */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
