/**
 * The messages between a SQLite engine and its write worker (write-worker.ts,
 * write-client.ts). Everything in them survives the structured clone:
 * operations are plain data (transactions.ts), errors travel as their fields.
 */
import { CouchError } from '../../core/errors.js';
import type { WriteOperation } from './transactions.js';

export interface WriteWorkerData {
  readonly dataDir: string;
  readonly openConnectionsMax: number;
}

export type WorkerRequest =
  | { readonly requestId: number; readonly kind: 'operation'; readonly file: string; readonly operation: WriteOperation }
  /** Closes the file's connection (before the main thread deletes the file). */
  | { readonly requestId: number; readonly kind: 'closeFile'; readonly file: string }
  | { readonly requestId: number; readonly kind: 'closeAll' }
  /** Makes the worker die, to test that the engine survives it. */
  | { readonly requestId: number; readonly kind: 'exitForTests' };

export interface SerializedError {
  readonly message: string;
  readonly stack?: string;
  /** The `CouchError` fields, when it was one. */
  readonly couch?: { readonly status: number; readonly error: string; readonly reason: string };
  /** SQLite's error code (`SQLITE_FULL`, …), when it was a SQLite error. */
  readonly code?: string;
}

export type WorkerReply =
  | { readonly requestId: number; readonly ok: true; readonly result: unknown }
  | { readonly requestId: number; readonly ok: false; readonly error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof CouchError) {
    return { message: error.message, couch: { status: error.status, error: error.error, reason: error.reason } };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }), ...(typeof code === 'string' ? { code } : {}) };
  }
  return { message: String(error) };
}

export function deserializeError(serialized: SerializedError): Error {
  if (serialized.couch !== undefined) {
    return new CouchError(serialized.couch.status, serialized.couch.error, serialized.couch.reason);
  }
  const error = new Error(`write worker: ${serialized.message}`) as Error & { code?: string };
  if (serialized.stack !== undefined) error.stack = `${error.message}\n  in the write worker: ${serialized.stack}`;
  if (serialized.code !== undefined) error.code = serialized.code;
  return error;
}
