/**
 * Chunked row-by-row responses (`_all_docs`, views, `_changes`, `_find`),
 * written as CouchDB frames them, in batches of up to `rowBatchCharsMax`, with
 * backpressure: `row()` waits while the socket's buffer is full, so a slow
 * client slows the producer instead of filling memory. Frames, from the golden
 * transcripts:
 *
 *   _all_docs / views  head `{"total_rows":5,"offset":0,"rows":[\r\n`, rows joined by `,\r\n`,
 *                      tail `\r\n]}\n`  (no rows: `…"rows":[\r\n\r\n]}\n`)
 *   _changes (normal)  head `{"results":[\n`, rows joined by `,\r\n`,
 *                      tail `\n],\n"last_seq":…,"pending":0}\n` then `\n`
 *   _find              head `{"docs":[\r\n`, rows joined by `,\r\n`,
 *                      tail `\r\n],\r\n"bookmark": "…"}\r\n\n`
 *
 * HEAD requests get the headers only (`Content-Length: 0`).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext } from './request.js';
import { stringifyJsonValue } from './json.js';
import { baseHeaders } from './response.js';

export interface RowStreamOptions {
  readonly status?: number;
  readonly headers?: OutgoingHttpHeaders;
  /** Text written before the first row. */
  readonly head: string;
  /** Text written between two rows. */
  readonly separator: string;
}

/** The frame `_all_docs` and views use. */
export const viewRowsSeparator = ',\r\n';

export function viewRowsHead(meta: Readonly<Record<string, unknown>>): string {
  const fields = Object.entries(meta).map(([name, value]) => `${stringifyJsonValue(name)}:${stringifyJsonValue(value)}`);
  return `{${[...fields, '"rows":['].join(',')}\r\n`;
}

export const viewRowsTail = '\r\n]}\n';

/**
 * Rows are gathered into strings of about this many characters and written
 * together: one HTTP chunk (and one socket write) per batch instead of one
 * per row, which cost a quarter of the CPU of a `_changes` read. Also the
 * most a stream holds back from the client.
 */
export const rowBatchCharsMax = 64 * 1024;

export class RowStream {
  readonly #ctx: RequestContext;
  readonly #separator: string;
  /** Text not yet handed to the response: the head, then rows. */
  #pending = '';
  #rows = 0;
  #ended = false;
  #gone = false;

  private constructor(ctx: RequestContext, separator: string) {
    this.#ctx = ctx;
    this.#separator = separator;
    ctx.response.once('close', () => {
      this.#gone = true;
    });
  }

  /** Sends the status and headers; `head` goes out with the first batch of rows (or the first `write`, or `end`). */
  static start(ctx: RequestContext, options: RowStreamOptions): Promise<RowStream> {
    const stream = new RowStream(ctx, options.separator);
    const headers = baseHeaders(ctx, { headers: options.headers ?? {} });
    if (ctx.isHead) headers['Content-Length'] = '0';
    ctx.response.writeHead(options.status ?? 200, headers);
    if (ctx.isHead) {
      ctx.response.end();
      stream.#ended = true;
      return Promise.resolve(stream);
    }
    stream.#pending = options.head;
    return Promise.resolve(stream);
  }

  /** Rows written so far. */
  get rowCount(): number {
    return this.#rows;
  }

  /** True once the client is gone (or the stream ended): producers should stop. */
  get closed(): boolean {
    return this.#gone || this.#ended;
  }

  /**
   * Adds one row (already JSON text), writing once a batch is full. Resolves
   * false if the client went away.
   */
  async row(json: string): Promise<boolean> {
    if (this.closed) return false;
    this.#pending += this.#rows === 0 ? json : this.#separator + json;
    this.#rows += 1;
    if (this.#pending.length < rowBatchCharsMax) return true;
    return this.#flush();
  }

  /**
   * Writes raw text (heartbeats, continuous-feed lines) now, after any rows
   * held back. Resolves false if the client went away.
   */
  async write(text: string): Promise<boolean> {
    if (this.closed) return false;
    this.#pending += text;
    return this.#flush();
  }

  /** Hands the held text to the response; waits while the socket's buffer is full. */
  async #flush(): Promise<boolean> {
    const text = this.#pending;
    this.#pending = '';
    const response = this.#ctx.response;
    // An empty write still sends the headers, as the first write always did.
    if (response.write(text, 'utf8')) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        response.off('drain', done);
        response.off('close', done);
        resolve();
      };
      response.on('drain', done);
      response.on('close', done);
    });
    return !this.#gone;
  }

  /** Writes what is held and `tail`, and finishes the response. */
  async end(tail: string): Promise<void> {
    if (this.closed) return;
    this.#ended = true;
    const text = this.#pending + tail;
    this.#pending = '';
    const response = this.#ctx.response;
    await new Promise<void>((resolve) => {
      response.once('finish', resolve);
      response.once('close', resolve);
      response.end(text, 'utf8');
    });
  }
}
