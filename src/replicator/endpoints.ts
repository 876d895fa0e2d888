/**
 * Turning an `EndpointSpec` into an `Endpoint`: a local name becomes a
 * `LocalEndpoint` on this server's `Couch`, identified (for the replication
 * id and in errors) by the URL CouchDB would have rewritten it to; a URL
 * becomes an `HttpEndpoint`.
 */
import type { Couch } from '../db/couch.js';
import type { Endpoint } from './endpoint.js';
import type { ReplicationEnvironment } from './environment.js';
import { HttpEndpoint } from './http-endpoint.js';
import { LocalEndpoint } from './local-endpoint.js';
import type { EndpointSpec, ReplicationRequest } from './replication-request.js';

/** How local names are identified: this server's base URL and, for `_replicate`, the caller's credentials. */
export interface LocalIdentity {
  /** `http://host:port` (no trailing slash). */
  readonly baseUrl: string;
  readonly user?: string;
  readonly headers?: readonly (readonly [string, string])[];
}

export interface EndpointContext {
  readonly couch: Couch;
  readonly local: LocalIdentity;
  readonly environment?: ReplicationEnvironment;
}

/** CouchDB's `couch_util:url_encode` of a database name: letters, digits and `_.-` stay. */
export function quoteDbName(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function localDbUrl(baseUrl: string, name: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${quoteDbName(name)}/`;
}

export function buildEndpoint(spec: EndpointSpec, request: ReplicationRequest, context: EndpointContext): Endpoint {
  if (spec.kind === 'local') {
    return new LocalEndpoint({
      couch: context.couch,
      dbName: spec.name,
      identityUrl: localDbUrl(context.local.baseUrl, spec.name),
      ...(context.local.user !== undefined ? { identityUser: context.local.user } : {}),
      identityHeaders: context.local.headers ?? [],
    });
  }
  return new HttpEndpoint({
    url: spec.url,
    headers: Object.fromEntries(spec.headers),
    ...(spec.auth !== undefined ? { auth: { basic: spec.auth } } : {}),
    ...(request.http.timeoutMs !== undefined ? { timeoutMs: request.http.timeoutMs } : {}),
    ...(request.http.retriesMax !== undefined ? { retriesMax: request.http.retriesMax } : {}),
    ...(context.environment !== undefined ? { environment: context.environment } : {}),
  });
}
