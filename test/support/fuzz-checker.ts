/**
 * The fuzz test's judge: what every answer to every request must satisfy, and
 * which documents a request may legitimately have changed (read from the
 * server's own success replies, so "nothing lost" can be checked afterwards).
 */
import type { RawOutcome } from './raw-client.js';
import type { FuzzRequest } from './fuzz-requests.js';

/**
 * 500s that CouchDB 3.4.3 itself gives for these client mistakes (FINDINGS.md),
 * which Settee may reproduce for compatibility. Anything else at or above 500
 * is a bug. Matched on path, `error` and `reason` together, so an uncaught
 * exception (rendered as `unknown_error` with the exception's message) never
 * hides behind them.
 */
export const compatible500s: ReadonlyArray<{ readonly path: RegExp; readonly error: string; readonly reason: string; readonly why: string }> = [
  { path: /\/_bulk_docs$/, error: 'unknown_error', reason: 'function_clause', why: '"new_edits":"false" (a string)' },
  { path: /\/_revs_diff$/, error: 'unknown_error', reason: 'function_clause', why: 'a revs value that is not a list' },
  { path: /\/_bulk_get$/, error: 'unknown_error', reason: 'function_clause', why: '"docs":"x"' },
  { path: /\/_revs_limit$/, error: 'unknown_error', reason: 'function_clause', why: 'a revs limit that is not a positive integer' },
  { path: /\/_changes$/, error: 'unknown_error', reason: 'badarg', why: 'limit=abc, timeout=abc, style=bogus' },
  { path: /\/_security$/, error: 'error', reason: 'no_majority', why: 'an invalid security object' },
  { path: /\/_local\/[^/]*$/, error: 'error', reason: 'Invalid rev format', why: 'a _local doc rev that is not 0-N' },
];

/** Endpoints that must parse the body as JSON: a malformed body there can never succeed. */
export function parsesJsonBody(request: FuzzRequest): boolean {
  if (request.method !== 'PUT' && request.method !== 'POST') return false;
  const segments = pathOnly(request.path).split('/').slice(1);
  if (segments.length === 1) return request.method === 'POST' && segments[0] !== '' && !segments[0]?.startsWith('_');
  if (segments.length === 2) {
    const second = segments[1] ?? '';
    if (request.method === 'PUT') return !second.startsWith('_') && second !== '';
    return ['_bulk_docs', '_all_docs', '_revs_diff', '_bulk_get', '_purge', '_missing_revs'].includes(second);
  }
  return false;
}

export function pathOnly(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

/** Every rule an answer must satisfy; returns the broken ones (empty when fine). */
export function judge(request: FuzzRequest, outcome: RawOutcome): string[] {
  if (outcome.kind === 'not-sent') return [];
  if (outcome.kind === 'no-answer') return [`no answer: ${outcome.reason} (after ${outcome.elapsedMs} ms)`];
  const problems: string[] = [];
  const { status, text } = outcome;
  const contentType = String(outcome.headers['content-type'] ?? '');
  const isHead = request.method === 'HEAD';
  let parsed: unknown;
  let parsedOk = false;
  if (text.length > 0 && contentType.startsWith('application/json')) {
    try {
      parsed = JSON.parse(text);
      parsedOk = true;
    } catch {
      parsedOk = false;
    }
  }
  if (status >= 400 && !isHead) {
    if (text.length === 0) {
      // Node's parser answers malformed request lines itself: an empty 400/431 without a Content-Type
      const protocolReply = (status === 400 || status === 431 || status === 408) && contentType === '';
      if (!protocolReply) problems.push(`status ${status} with an empty body (content-type ${contentType || 'none'})`);
    } else if (!parsedOk) {
      problems.push(`status ${status} body is not JSON: ${text.slice(0, 200)}`);
    } else {
      const body = parsed as { error?: unknown; reason?: unknown };
      if (typeof body !== 'object' || body === null || typeof body.error !== 'string' || typeof body.reason !== 'string') {
        problems.push(`status ${status} body lacks string error/reason: ${text.slice(0, 200)}`);
      }
    }
  }
  if (status >= 500) {
    const body = (parsedOk ? parsed : {}) as { error?: unknown; reason?: unknown };
    const path = pathOnly(request.path);
    // 501 `not_implemented` is a typed, deliberate answer for a feature Settee
    // does not have yet (attachments, multipart), not a crash.
    const notImplemented = status === 501 && body.error === 'not_implemented';
    const allowed =
      notImplemented ||
      compatible500s.some((entry) => status === 500 && entry.path.test(path) && entry.error === body.error && entry.reason === body.reason);
    if (!allowed) problems.push(`server error ${status}: ${text.slice(0, 300)}`);
  }
  if (status === 413) {
    const body = (parsedOk ? parsed : {}) as { error?: unknown };
    if (body.error !== 'too_large' && body.error !== 'document_too_large') problems.push(`413 without too_large: ${text.slice(0, 200)}`);
  }
  const rejectedClass = ['malformed-json', 'invalid-utf8', 'deep-nesting', 'very-deep-nesting', 'oversized'].includes(request.bodyClass);
  if (rejectedClass && status >= 200 && status < 300 && parsesJsonBody(request)) {
    problems.push(`a ${request.bodyClass} body was accepted (${status}): ${text.slice(0, 200)}`);
  }
  if (status < 100 || status > 599) problems.push(`impossible status ${status}`);
  return problems;
}

export interface ChangeTracker {
  /** Decoded ids a successful fuzz write touched in the sentinel database. */
  readonly touched: Set<string>;
  /** Successful writes whose targets could not be read from the reply: every sentinel counts as touched. */
  unknownWrites: number;
  /** The first few of those, for the failure message. */
  readonly unknownWriteLabels: string[];
  sentinelDbDeleted: boolean;
}

const writeMethods = new Set(['PUT', 'POST', 'DELETE', 'COPY']);

/** Database endpoints whose success changes no document (reads by POST, settings, maintenance). */
const endpointsThatWriteNoDocument = new Set([
  '_all_docs', '_design_docs', '_local_docs', '_purged_infos', '_revs_diff', '_bulk_get', '_missing_revs', '_changes',
  '_find', '_explain', '_compact', '_ensure_full_commit', '_view_cleanup', '_security', '_revs_limit',
  '_purged_infos_limit',
]);

/** Records which sentinel documents a successful request may have changed, from the server's reply. */
export function trackChanges(tracker: ChangeTracker, sentinelDb: string, request: FuzzRequest, outcome: RawOutcome): void {
  if (outcome.kind !== 'response' || outcome.status < 200 || outcome.status >= 300) return;
  if (!writeMethods.has(request.method)) return;
  const segments = pathOnly(request.path).split('/').slice(1);
  if (safeDecode(segments[0] ?? '') !== sentinelDb) return;
  if (segments.length === 1) {
    if (request.method === 'DELETE') tracker.sentinelDbDeleted = true;
    // POST /db creates one doc: its id is in the reply
  }
  const endpoint = segments[1] ?? '';
  if (segments.length === 2 && endpointsThatWriteNoDocument.has(endpoint)) return;
  if (segments.length === 5 && endpoint === '_design' && segments[3] === '_view') return; // a view query by POST
  let reply: unknown;
  try {
    reply = JSON.parse(outcome.text);
  } catch {
    reply = undefined;
  }
  const idsFromReply = collectIds(reply);
  for (const id of idsFromReply) tracker.touched.add(id);
  if (endpoint === '_purge') return; // the reply's `purged` names every purged id, possibly none
  if (endpoint === '_bulk_docs') {
    // new_edits=false answers [] whatever it wrote: take the ids from the request
    try {
      const sent = JSON.parse(request.body?.toString('utf8') ?? '') as { docs?: Array<{ _id?: unknown }> };
      for (const doc of sent.docs ?? []) if (typeof doc?._id === 'string') tracker.touched.add(doc._id);
    } catch {
      noteUnknownWrite(tracker, request, outcome.text);
    }
    return;
  }
  if (segments.length === 1 && request.method !== 'POST') return;
  if (idsFromReply.length === 0) noteUnknownWrite(tracker, request, outcome.text);
}

function noteUnknownWrite(tracker: ChangeTracker, request: FuzzRequest, reply: string): void {
  tracker.unknownWrites += 1;
  if (tracker.unknownWriteLabels.length < 5) tracker.unknownWriteLabels.push(`${request.label} → ${reply.slice(0, 120)}`);
}

function collectIds(reply: unknown): string[] {
  const ids: string[] = [];
  const visit = (item: unknown): void => {
    if (typeof item !== 'object' || item === null) return;
    const record = item as { id?: unknown; ok?: unknown; rev?: unknown; error?: unknown; purged?: unknown };
    if (typeof record.id === 'string' && record.error === undefined) ids.push(record.id);
    if (typeof record.purged === 'object' && record.purged !== null) ids.push(...Object.keys(record.purged));
  };
  if (Array.isArray(reply)) reply.forEach(visit);
  else visit(reply);
  return ids;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment.replace(/\+/g, ' '));
  } catch {
    return segment;
  }
}
