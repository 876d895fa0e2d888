/**
 * Live `_changes` feeds: `longpoll`, `continuous` and `eventsource`.
 *
 * One loop serves all three (CouchDB's `fabric_view_changes:keep_sending_changes`):
 * send what is stored, then wait for the next change, a heartbeat or the
 * timeout. Waiting costs a closure and a timer in the database's
 * `ChangeNotifier`, no storage handle, so thousands of idle feeds are cheap;
 * the number of live feeds per server is still bounded (`liveFeedsMax`, 503
 * beyond). A client that goes away aborts the wait at once.
 *
 * Timing, as CouchDB does it: without `heartbeat` each wait lasts `timeout`
 * (default `changesTimeoutMsDefault`) and its expiry ends the feed; with
 * `heartbeat` a blank line (eventsource: a heartbeat event) is sent every
 * interval and `timeout` is ignored. Settee also ends every live feed after
 * `changesTimeoutMsMax` in total (CouchDB's `[fabric] changes_duration`).
 * Before the first wait, a feed that has sent nothing sends `\n` so the
 * client sees the headers (CouchDB's `waiting_for_updates`).
 */
import { serviceUnavailable } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import type { Database } from '../db/database.js';
import type { ChangesReader, RenderedRow } from './changes-feed.js';
import type { FeedKind } from './changes-params.js';
import type { RequestContext } from './request.js';
import { RowStream } from './row-stream.js';
import type { HttpServices } from './services.js';

/** How one feed type frames its rows. */
interface Framing {
  readonly head: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Text for the row at `index` (0-based) of this response. */
  row(row: RenderedRow, index: number): string;
  readonly heartbeat: string;
  tail(lastSeq: number, pending: number): string;
  /** longpoll answers as soon as it has sent rows. */
  readonly endsAfterRows: boolean;
}

/** The normal feed's frame (also longpoll's). */
export const normalHead = '{"results":[\n';
export const normalRowSeparator = ',\r\n';
export function normalTail(lastSeq: number, pending: number): string {
  return `\n],\n"last_seq":${lastSeq},"pending":${pending}}\n\n`;
}

const framings: Readonly<Record<Exclude<FeedKind, 'normal'>, Framing>> = {
  longpoll: {
    head: normalHead,
    headers: {},
    row: (row, index) => (index === 0 ? row.json : normalRowSeparator + row.json),
    heartbeat: '\n',
    tail: normalTail,
    endsAfterRows: true,
  },
  continuous: {
    head: '',
    headers: {},
    row: (row) => `${row.json}\n`,
    heartbeat: '\n',
    tail: (lastSeq, pending) => `{"last_seq":${lastSeq},"pending":${pending}}\n\n`,
    endsAfterRows: false,
  },
  eventsource: {
    head: '',
    headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' },
    row: (row) => `data: ${row.json}\nid: ${row.seq === null ? 'null' : row.seq}\n\n`,
    heartbeat: 'event: heartbeat\ndata: \n\n',
    tail: () => '',
    endsAfterRows: false,
  },
};

/** Counts live feeds per server (one registry per `HttpServices`). */
export class LiveFeeds {
  #open = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get open(): number {
    return this.#open;
  }

  /** Takes a slot or throws 503. */
  acquire(): void {
    if (this.#open >= this.#max) {
      throw serviceUnavailable(`Too many live _changes feeds (at most ${this.#max}); try again later.`);
    }
    this.#open += 1;
  }

  release(): void {
    this.#open -= 1;
  }
}

const registries = new WeakMap<HttpServices, LiveFeeds>();

export function liveFeedsOf(services: HttpServices): LiveFeeds {
  let feeds = registries.get(services);
  if (feeds === undefined) {
    feeds = new LiveFeeds(services.limits.liveFeedsMax);
    registries.set(services, feeds);
  }
  return feeds;
}

export interface LiveFeedTiming {
  readonly heartbeatMs: number | undefined;
  readonly timeoutMs: number | undefined;
}

export async function serveLiveFeed(
  ctx: RequestContext,
  services: HttpServices,
  db: Database,
  feed: Exclude<FeedKind, 'normal'>,
  reader: ChangesReader,
  timing: LiveFeedTiming,
): Promise<void> {
  const framing = framings[feed];
  const feeds = liveFeedsOf(services);
  feeds.acquire();
  const disconnected = new AbortController();
  const onClose = (): void => disconnected.abort();
  ctx.response.once('close', onClose);
  try {
    const stream = await RowStream.start(ctx, { headers: framing.headers, head: framing.head, separator: '' });
    if (stream.closed) return;
    const lastSeq = await sendUntilDone(stream, db, reader, framing, waitPlan(services.limits, timing), disconnected.signal);
    if (lastSeq === undefined) return;
    const pending = await reader.pending().catch(() => 0);
    await stream.end(framing.tail(lastSeq, pending));
  } finally {
    ctx.response.off('close', onClose);
    feeds.release();
  }
}

interface WaitPlan {
  /** Length of one wait. */
  readonly waitMs: number;
  /** Whether an expired wait sends a heartbeat (and goes on) rather than ending the feed. */
  readonly heartbeat: boolean;
  readonly deadlineMs: number;
}

function waitPlan(limits: Limits, timing: LiveFeedTiming): WaitPlan {
  const cap = limits.changesTimeoutMsMax;
  const deadlineMs = Date.now() + cap;
  if (timing.heartbeatMs !== undefined) return { waitMs: Math.min(timing.heartbeatMs, cap), heartbeat: true, deadlineMs };
  return { waitMs: Math.min(timing.timeoutMs ?? limits.changesTimeoutMsDefault, cap), heartbeat: false, deadlineMs };
}

/** Sends rows and heartbeats until the feed is over; the `last_seq` to report, or undefined if the client left. */
async function sendUntilDone(
  stream: RowStream,
  db: Database,
  reader: ChangesReader,
  framing: Framing,
  plan: WaitPlan,
  signal: AbortSignal,
): Promise<number | undefined> {
  let rowIndex = 0;
  let sentAnything = false;
  for (;;) {
    for (;;) {
      const batch = await reader.read();
      for (const row of batch.rows) {
        if (!(await stream.write(framing.row(row, rowIndex)))) return undefined;
        rowIndex += 1;
        sentAnything = true;
      }
      if (batch.atEnd) break;
    }
    if (reader.limitReached || (framing.endsAfterRows && rowIndex > 0)) return reader.lastSeq;
    if (!sentAnything) {
      if (!(await stream.write('\n'))) return undefined;
      sentAnything = true;
    }
    const leftMs = plan.deadlineMs - Date.now();
    if (leftMs <= 0) return reader.lastSeq;
    // A deleted database ends its feeds (the wait rejects once the name is gone).
    const changed = await db.waitForChange(reader.lastSeq, Math.min(plan.waitMs, leftMs), signal).catch(() => undefined);
    if (signal.aborted || stream.closed) return undefined;
    if (changed === undefined) return reader.lastSeq;
    if (changed) continue;
    if (!plan.heartbeat) return reader.lastSeq;
    if (!(await stream.write(framing.heartbeat))) return undefined;
  }
}
