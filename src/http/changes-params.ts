/**
 * `_changes` parameters, read as CouchDB 3.4.3's `chttpd_db:parse_changes_query`
 * reads them: names are case-insensitive, parameters are folded in order (so
 * the first malformed one answers), booleans are lenient (only `true` is
 * true). Where CouchDB crashes with a 500 `badarg` (`limit=abc`,
 * `timeout=abc`, `style=bogus`), Settee answers a clean 400.
 *
 * Sequences are integers. `since` also takes CouchDB's opaque forms
 * (`12-g1AAA…`, `"12-…"`, `[12,"…"]`) by their leading integer, so a peer's
 * checkpoint still parses; `now` is the current update sequence.
 */
import { badRequest, queryParseError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { erlangQuoted } from './query.js';
import type { QueryParams } from './query.js';

export type FeedKind = 'normal' | 'longpoll' | 'continuous' | 'eventsource';

export type ChangesStyle = 'main_only' | 'all_docs';

export interface ChangesParams {
  /** As given (`live` already mapped to `continuous`); checked by `feedKind`. */
  readonly feed: string;
  /** As given; resolved by `resolveSince` once the database is open. */
  readonly since: string | undefined;
  /** Rows at most; CouchDB's default is 10^15 (it also drives `seq_interval`). */
  readonly limit: number;
  readonly descending: boolean;
  readonly includeDocs: boolean;
  readonly conflicts: boolean;
  /** Accepted; attachment stubs are always sent (no inline bodies yet). */
  readonly attachments: boolean;
  readonly attEncodingInfo: boolean;
  readonly style: ChangesStyle;
  /** Interval of blank heartbeat lines; with one, `timeout` is ignored. */
  readonly heartbeatMs: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly seqInterval: number | undefined;
  /** `''` when none. */
  readonly filter: string;
}

/** CouchDB's `#changes_args.limit` default: it matters for `seq_interval` (see changes-feed.ts). */
export const changesLimitDefault = 1_000_000_000_000_000;

const integerPattern = /^[+-]?[0-9]+$/;

function integerOrBadarg(value: string): number {
  if (!integerPattern.test(value)) throw queryParseError(`Invalid value for integer: ${erlangQuoted(value)}`);
  return Number(value);
}

export function parseChangesQuery(query: QueryParams, limits: Limits, lastEventId: string | undefined): ChangesParams {
  let feed = 'normal';
  let since: string | undefined;
  let limit = changesLimitDefault;
  let descending = false;
  let includeDocs = false;
  let conflicts = false;
  let attachments = false;
  let attEncodingInfo = false;
  let style: ChangesStyle = 'main_only';
  let heartbeatMs: number | undefined;
  let timeoutMs: number | undefined;
  let seqInterval: number | undefined;
  let filter = '';
  for (const { name, value } of query.entries) {
    switch (name.toLowerCase()) {
      case 'feed':
        feed = value === 'live' ? 'continuous' : value;
        break;
      case 'descending':
        if (value === 'true') descending = true;
        break;
      case 'since':
      case 'last-event-id':
        since = value;
        break;
      case 'limit':
        limit = integerOrBadarg(value);
        break;
      case 'style':
        if (value !== 'main_only' && value !== 'all_docs') {
          throw badRequest(`Invalid style ${erlangQuoted(value)}: expected main_only or all_docs`);
        }
        style = value;
        break;
      case 'heartbeat':
        heartbeatMs = parseHeartbeat(value, limits);
        break;
      case 'timeout':
        timeoutMs = Math.max(0, integerOrBadarg(value));
        break;
      case 'include_docs':
        if (value === 'true') includeDocs = true;
        break;
      case 'conflicts':
        if (value === 'true') conflicts = true;
        break;
      case 'attachments':
        if (value === 'true') attachments = true;
        break;
      case 'att_encoding_info':
        if (value === 'true') attEncodingInfo = true;
        break;
      case 'filter':
        filter = value;
        break;
      case 'seq_interval':
        if (!integerPattern.test(value) || Number(value) <= 0) throw badRequest('invalid_seq_interval');
        seqInterval = Number(value);
        break;
      default:
        break;
    }
  }
  // A browser's EventSource reconnects with Last-Event-ID: it wins over `since`.
  if (feed === 'eventsource' && lastEventId !== undefined) since = lastEventId;
  return {
    feed,
    since,
    limit,
    descending,
    includeDocs,
    conflicts,
    attachments,
    attEncodingInfo,
    style,
    heartbeatMs,
    timeoutMs,
    seqInterval,
    filter,
  };
}

function parseHeartbeat(value: string, limits: Limits): number {
  if (value === 'true') return limits.changesTimeoutMsDefault;
  if (!integerPattern.test(value)) {
    throw badRequest('Invalid heartbeat value. Expecting a positive integer value (in milliseconds).');
  }
  const ms = Number(value);
  if (ms <= 0) throw badRequest('The heartbeat value should be a positive integer (in milliseconds).');
  return ms;
}

export function feedKind(feed: string): FeedKind {
  if (feed === 'normal' || feed === 'longpoll' || feed === 'continuous' || feed === 'eventsource') return feed;
  throw badRequest('Supported `feed` types: normal, continuous, live, longpoll, eventsource');
}

const malformedSince = (): Error => badRequest("Malformed sequence supplied in 'since' parameter.");

/**
 * The sequence to start after: an integer, `now`, or a CouchDB opaque
 * sequence by its leading integer. Anything else (`garbage`, `-1`) is 400.
 */
export function resolveSince(raw: string | undefined, currentSeq: number): number {
  if (raw === undefined || raw === '') return 0;
  if (raw === 'now') return currentSeq;
  const unquoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  const match = /^([0-9]+)(?:-.*)?$/s.exec(unquoted) ?? /^\[\s*([0-9]+)\s*,/.exec(unquoted);
  if (match === null) throw malformedSince();
  const seq = Number(match[1]);
  if (!Number.isSafeInteger(seq)) throw malformedSince();
  return seq;
}
