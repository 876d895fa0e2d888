/**
 * Opening the database a request names, with CouchDB's access checks. Every
 * `/{db}/…` handler starts here, so the security rules are applied in one way.
 */
import { isServerAdmin, requireServerAdmin } from '../auth/user-ctx.js';
import { readSecurity, requireDbAdmin, requireDbMember } from '../auth/security.js';
import type { SecurityObject } from '../auth/security.js';
import type { Database } from '../db/database.js';
import type { RequestContext } from './request.js';
import type { HttpServices } from './services.js';

/** Who must the user be: a member (read/write docs), a db admin, or a server admin. */
export type DbAccess = 'member' | 'db-admin' | 'server-admin';

export interface OpenedDatabase {
  readonly db: Database;
  readonly security: SecurityObject;
}

/** The database named by the first path segment (404 if missing), after the access check. */
export async function openDatabase(ctx: RequestContext, services: HttpServices, access: DbAccess = 'member'): Promise<OpenedDatabase> {
  const name = ctx.segments[0] ?? '';
  if (access === 'server-admin') requireServerAdmin(ctx.user);
  const db = await services.couch.database(name);
  const security = readSecurity(db.securityJson);
  if (!isServerAdmin(ctx.user)) {
    if (access === 'db-admin') requireDbAdmin(ctx.user, security);
    else requireDbMember(ctx.user, security);
  }
  return { db, security };
}
