/**
 * The Node HTTP server around the pipeline: timeouts named in `HttpLimits`
 * (long keep-alive for CouchDB's replicator connection pool), bounded headers,
 * protocol errors answered without reaching the pipeline, and graceful
 * shutdown: stop accepting, let in-flight requests finish, close idle
 * connections, and after `shutdownGraceMs` close whatever is left.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpLimits } from '../core/limits.js';
import type { Logger } from './logger.js';
import type { Pipeline } from './pipeline.js';

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests); `address` tells which. */
  readonly port: number;
  readonly limits: HttpLimits;
  readonly pipeline: Pipeline;
  readonly logger: Logger;
}

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (IPv6 hosts bracketed). */
  readonly url: string;
}

export class HttpServer {
  readonly #server: Server;
  readonly #logger: Logger;
  readonly #graceMs: number;
  #inFlight = 0;
  #closing: Promise<void> | undefined;
  #idleWaiters: Array<() => void> = [];

  private constructor(options: HttpServerOptions) {
    this.#logger = options.logger;
    this.#graceMs = options.limits.shutdownGraceMs;
    this.#server = createServer(
      {
        keepAliveTimeout: options.limits.keepAliveTimeoutMs,
        headersTimeout: options.limits.headersTimeoutMs,
        requestTimeout: options.limits.requestTimeoutMs,
        maxHeaderSize: options.limits.headerBytesMax,
      },
      (request, response) => this.#handle(options.pipeline, request, response),
    );
    this.#server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
      this.#logger.debug(`client error: ${error.code ?? error.message}`);
      if (!socket.writable || (error.code === 'ECONNRESET')) {
        socket.destroy();
        return;
      }
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      socket.end(`HTTP/1.1 ${timedOut ? '408 Request Timeout' : status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
  }

  static async listen(options: HttpServerOptions): Promise<HttpServer> {
    const server = new HttpServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(options.port, options.host, () => {
        server.#server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  get address(): BoundAddress {
    const address = this.#server.address() as AddressInfo;
    const host = address.address;
    const shown = host.includes(':') ? `[${host}]` : host;
    return { host, port: address.port, url: `http://${shown}:${address.port}` };
  }

  /** Requests being handled right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  #handle(pipeline: Pipeline, request: IncomingMessage, response: ServerResponse): void {
    this.#inFlight += 1;
    if (this.#closing) response.setHeader('Connection', 'close');
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.#inFlight -= 1;
      if (this.#closing) this.#server.closeIdleConnections();
      if (this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    };
    response.once('finish', finish);
    response.once('close', finish);
    pipeline(request, response).catch((error: unknown) => {
      // the pipeline renders its own errors; this is a last line of defence
      this.#logger.error(`unhandled request failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!response.headersSent) {
        response.statusCode = 500;
        response.end();
      } else {
        response.destroy();
      }
    });
  }

  /** Stops accepting, waits for in-flight requests (at most `shutdownGraceMs`), then closes every connection. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#graceMs);
      });
      await Promise.race([idle, grace]);
      clearTimeout(timer);
    }
    this.#server.closeAllConnections();
    await closed;
    this.#logger.flush?.();
  }
}
