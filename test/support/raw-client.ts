/**
 * A raw HTTP client for robustness tests: sends exactly the bytes it is given,
 * never throws for what the server does, and bounds every request with a
 * timeout. The outcome says whether an answer came back (and what), or why
 * none did, so a checker can judge every request the same way.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export interface RawRequest {
  readonly method: string;
  /** Sent as is. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** Send the body chunked (no Content-Length). */
  readonly chunked?: boolean;
}

export type RawOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      readonly text: string;
      readonly elapsedMs: number;
    }
  /** No complete answer: a timeout, a reset before the response, or a cut-off body. */
  | { readonly kind: 'no-answer'; readonly reason: string; readonly elapsedMs: number }
  /** Node's client refused to send it (e.g. a header with a character HTTP forbids): not the server's fault. */
  | { readonly kind: 'not-sent'; readonly reason: string };

export function sendRaw(baseUrl: string, raw: RawRequest, timeoutMs: number): Promise<RawOutcome> {
  const url = new URL(baseUrl);
  const started = Date.now();
  const headers: Record<string, string> = { ...(raw.headers ?? {}) };
  if (raw.body !== undefined && !raw.chunked) headers['Content-Length'] ??= String(raw.body.length);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: RawOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    let request: ReturnType<typeof httpRequest>;
    try {
      request = httpRequest({
        host: url.hostname,
        port: url.port,
        method: raw.method,
        path: raw.path,
        headers,
        agent: false,
        setHost: true,
      });
    } catch (error) {
      settle({ kind: 'not-sent', reason: (error as Error).message });
      return;
    }
    const timer = setTimeout(() => {
      settle({ kind: 'no-answer', reason: `timeout after ${timeoutMs} ms`, elapsedMs: Date.now() - started });
      request.destroy();
    }, timeoutMs);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        settle({
          kind: 'response',
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
          elapsedMs: Date.now() - started,
        }),
      );
      response.on('error', (error) =>
        settle({ kind: 'no-answer', reason: `response cut: ${error.message}`, elapsedMs: Date.now() - started }),
      );
      response.on('aborted', () =>
        settle({ kind: 'no-answer', reason: 'response aborted', elapsedMs: Date.now() - started }),
      );
    });
    // A server that answers early (413) and closes may reset our upload: only
    // an error *before* any response counts as no answer.
    request.on('error', (error: NodeJS.ErrnoException) =>
      settle({ kind: 'no-answer', reason: `${error.code ?? ''} ${error.message}`.trim(), elapsedMs: Date.now() - started }),
    );
    try {
      if (raw.body !== undefined && raw.body.length > 0) request.write(raw.body);
      request.end();
    } catch (error) {
      settle({ kind: 'not-sent', reason: (error as Error).message });
      request.destroy();
    }
  });
}
