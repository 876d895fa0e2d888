/**
 * URL dispatch, CouchDB's way. A route family (one file per family) exports a
 * `register…Routes(router)` function; `routes.ts` calls them all, so the table
 * of what answers where is in one place. Levels:
 *
 *   /                           server route ''            (addServerRoute)
 *   /_name[/…]                  server route '_name'       (addServerRoute)
 *   /{db}                       database route             (addDatabaseRoute)
 *   /{db}/_name[/…]             database endpoint '_name'  (addDatabaseEndpoint: _all_docs, _changes, …)
 *   /{db}/_design/{d}/_name[/…] design endpoint '_name'    (addDesignEndpoint: _view, _info, …)
 *   /{db}/{doc}[/{att…}]        document route             (addDocumentRoute; also _design/{d}, _local/{d}
 *                                                            and design-doc attachments)
 *
 * A top-level `_name` with no server route is a database name (CouchDB
 * answers `GET /_foo` with "Database does not exist."), but only server admins
 * get that far, except for `_users` and `_replicator`, whose access the
 * database decides. Whatever matches no registered route goes to the
 * fallback, which by default says the database does not exist (true while no
 * database routes are registered; the database family replaces it with
 * `setFallback`).
 *
 * Authorization that needs no database (`access`) runs before the method
 * check, as in CouchDB (`PUT /_all_dbs` anonymously is 401, not 405). HEAD is
 * served by the GET handler.
 */
import { dbNotFound, methodNotAllowed, unauthorized } from '../core/errors.js';
import { requireServerAdmin } from '../auth/user-ctx.js';
import type { RequestContext } from './request.js';
import type { HttpServices } from './services.js';

export type Handler = (ctx: RequestContext, services: HttpServices) => Promise<void> | void;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'COPY';

/** Who may reach a route at all; finer checks (database security) belong to handlers. */
export type Access = 'public' | 'server-admin' | 'authenticated';

export interface Route {
  /** The allowed methods as CouchDB words them in 405 replies ("GET,HEAD", "GET,HEAD,POST,DELETE"). */
  readonly allowed: string;
  readonly methods: Readonly<Partial<Record<HttpMethod, Handler>>>;
  /** Default: 'public' for database-level routes; see `addServerRoute` for server routes. */
  readonly access?: Access;
}

export type RouteLevel = 'server' | 'database' | 'database-endpoint' | 'design-endpoint' | 'document' | 'fallback';

export interface ResolvedRoute {
  readonly level: RouteLevel;
  readonly route: Route;
}

/** Top-level `_` names that are databases whose own security decides access. */
const openSystemDatabases = new Set(['_users', '_replicator']);

const databaseNotFoundRoute: Route = {
  allowed: 'GET,HEAD,POST,PUT,DELETE,COPY',
  methods: {},
  access: 'public',
};

export class Router {
  readonly #server = new Map<string, Route>();
  readonly #databaseEndpoints = new Map<string, Route>();
  readonly #designEndpoints = new Map<string, Route>();
  #database: Route | undefined;
  #document: Route | undefined;
  #fallback: Route = databaseNotFoundRoute;

  /** `name` is '' for `/`, else `_name`. Server routes default to server-admin access, as in CouchDB. */
  addServerRoute(name: string, route: Route): void {
    this.#claim(this.#server, name, route);
  }

  addDatabaseRoute(route: Route): void {
    if (this.#database) throw new Error('assertion failed: database route registered twice');
    this.#database = route;
  }

  addDatabaseEndpoint(name: string, route: Route): void {
    if (!name.startsWith('_')) throw new Error(`assertion failed: database endpoint ${name} must start with _`);
    this.#claim(this.#databaseEndpoints, name, route);
  }

  addDesignEndpoint(name: string, route: Route): void {
    this.#claim(this.#designEndpoints, name, route);
  }

  addDocumentRoute(route: Route): void {
    if (this.#document) throw new Error('assertion failed: document route registered twice');
    this.#document = route;
  }

  /** What answers paths nothing else claims (default: 404 "Database does not exist."). */
  setFallback(route: Route): void {
    this.#fallback = route;
  }

  #claim(table: Map<string, Route>, name: string, route: Route): void {
    if (table.has(name)) throw new Error(`assertion failed: route ${name} registered twice`);
    table.set(name, route);
  }

  resolve(segments: readonly string[]): ResolvedRoute {
    const first = segments[0] ?? '';
    const server = this.#server.get(first);
    if (server) return { level: 'server', route: { ...server, access: server.access ?? 'server-admin' } };
    const second = segments[1];
    if (second === undefined) return this.#or('database', this.#database);
    if (second === '_design' && segments.length >= 4) {
      const endpoint = this.#designEndpoints.get(segments[3] ?? '');
      if (endpoint) return { level: 'design-endpoint', route: endpoint };
      return this.#or('document', this.#document);
    }
    if (second === '_design' || second === '_local' || !second.startsWith('_')) return this.#or('document', this.#document);
    return this.#or('database-endpoint', this.#databaseEndpoints.get(second));
  }

  #or(level: RouteLevel, route: Route | undefined): ResolvedRoute {
    return route ? { level, route } : { level: 'fallback', route: this.#fallback };
  }

  /** Resolves, authorizes and runs the handler for `ctx`. */
  dispatch(ctx: RequestContext, services: HttpServices): Promise<void> | void {
    const first = ctx.segments[0] ?? '';
    const resolved = this.resolve(ctx.segments);
    if (resolved.level !== 'server' && first.startsWith('_') && !openSystemDatabases.has(first)) {
      // an unknown `_name` is a database name only server admins may ask about
      requireServerAdmin(ctx.user);
    }
    authorize(ctx, resolved.route.access ?? 'public');
    const handler = resolved.route.methods[ctx.method as HttpMethod];
    if (handler) return handler(ctx, services);
    if (resolved.route === databaseNotFoundRoute) throw dbNotFound();
    throw methodNotAllowed(resolved.route.allowed);
  }
}

function authorize(ctx: RequestContext, access: Access): void {
  if (access === 'server-admin') requireServerAdmin(ctx.user);
  else if (access === 'authenticated' && ctx.user.name === null) throw unauthorized('You are not an authenticated user');
}

/** Where a document-level request points: `/{db}/{id}[/{attachment}]`, with `_design/` and `_local/` ids. */
export interface DocumentTarget {
  readonly database: string;
  readonly docId: string;
  /** The attachment name (may contain `/`), if the path goes below the document. */
  readonly attachment?: string;
}

export function documentTarget(segments: readonly string[]): DocumentTarget {
  const database = segments[0] ?? '';
  const second = segments[1] ?? '';
  const prefixed = (second === '_design' || second === '_local') && segments.length >= 3;
  const docId = prefixed ? `${second}/${segments[2] ?? ''}` : second;
  const rest = segments.slice(prefixed ? 3 : 2);
  return rest.length > 0 ? { database, docId, attachment: rest.join('/') } : { database, docId };
}
