/**
 * Request bodies: bounded by `requestBytesMax` (413 `too_large`, checked
 * against `Content-Length` before reading and again while reading chunked
 * bodies), strict UTF-8, JSON through the one parser, and CouchDB's
 * Content-Type rule (415 `bad_content_type` unless the media type matches).
 */
import { badContentType, badRequest, invalidJson, requestTooLarge } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { parseJsonText } from './json.js';
import type { RequestContext } from './request.js';

export interface BodyOptions {
  readonly bytesMax: number;
}

/** Reads the whole body (once). An oversized body answers 413 and closes the connection afterwards. */
export async function readBody(ctx: RequestContext, options: BodyOptions): Promise<Buffer> {
  if (ctx.bodyRead) throw new Error('assertion failed: request body read twice');
  ctx.bodyRead = true;
  const request = ctx.request;
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > options.bytesMax) {
    refuseRestOfBody(ctx);
    throw requestTooLarge();
  }
  if (request.readableEnded) return Buffer.alloc(0);
  return new Promise<Buffer>((resolve, reject) => {
    // Listeners rather than `for await`: no async iterator per request, and a
    // small body (one chunk, most documents) is returned without a copy.
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > options.bytesMax) {
        cleanup();
        refuseRestOfBody(ctx);
        reject(requestTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    // Closed before its end (the client went away): as `for await` reports it.
    const onClose = (): void => {
      cleanup();
      reject(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

/** After a 413 the unread body must not be parsed as the next request: close the connection. */
function refuseRestOfBody(ctx: RequestContext): void {
  ctx.response.shouldKeepAlive = false;
  ctx.response.setHeader('Connection', 'close');
  ctx.request.pause();
}

/** Reads and discards whatever body a request carries (handlers that ignore it). */
export async function drainBody(ctx: RequestContext): Promise<void> {
  if (ctx.bodyRead) return;
  ctx.bodyRead = true;
  for await (const _chunk of ctx.request) {
    // discarded
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes → text; invalid UTF-8 is CouchDB's 400 "invalid UTF-8 JSON". */
export function decodeUtf8Json(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw invalidJson();
  }
}

export interface JsonBodyOptions extends BodyOptions {
  readonly depthMax?: number;
}

/** The body as JSON; an empty body is "invalid UTF-8 JSON" too, as in CouchDB. */
export async function readJsonBody(ctx: RequestContext, options: JsonBodyOptions): Promise<JsonValue> {
  return (await readSizedJsonBody(ctx, options)).value;
}

/** The body as JSON, and how many bytes it had (for the size checks made after parsing). */
export async function readSizedJsonBody(ctx: RequestContext, options: JsonBodyOptions): Promise<{ value: JsonValue; bytes: number }> {
  const bytes = await readBody(ctx, options);
  const value = parseJsonText(decodeUtf8Json(bytes), options.depthMax === undefined ? {} : { depthMax: options.depthMax });
  return { value, bytes: bytes.length };
}

/** The body as a JSON object; other values → 400 "Request body must be a JSON object". */
export async function readJsonObjectBody(ctx: RequestContext, options: JsonBodyOptions): Promise<JsonObject> {
  return (await readSizedJsonObjectBody(ctx, options)).value;
}

export async function readSizedJsonObjectBody(ctx: RequestContext, options: JsonBodyOptions): Promise<{ value: JsonObject; bytes: number }> {
  const { value, bytes } = await readSizedJsonBody(ctx, options);
  if (!isJsonObject(value)) throw badRequest('Request body must be a JSON object');
  return { value, bytes };
}

/** The media type of the request, lower-case, without parameters; undefined if none sent. */
export function mediaType(ctx: RequestContext): string | undefined {
  const header = ctx.header('content-type');
  if (header === undefined) return undefined;
  return (header.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * CouchDB's `validate_ctype`: the Content-Type (before any `;`) must be
 * exactly `expected`, else 415 "Content-Type must be <expected>".
 */
export function requireContentType(ctx: RequestContext, expected = 'application/json'): void {
  const header = ctx.header('content-type');
  const type = header === undefined ? undefined : (header.split(';')[0] ?? '').trim();
  if (type !== expected) throw badContentType(`Content-Type must be ${expected}`);
}
