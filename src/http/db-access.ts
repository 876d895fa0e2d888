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
  const security = securityOf(db);
  if (!isServerAdmin(ctx.user)) {
    if (access === 'db-admin') requireDbAdmin(ctx.user, security);
    else requireDbMember(ctx.user, security);
  }
  return { db, security };
}

interface ParsedSecurity {
  readonly json: string;
  readonly security: SecurityObject;
}

/**
 * The last `_security` text each open database had, parsed: every request
 * checks it, and it changes rarely. Weakly held, so a closed database's entry
 * goes with it; the parsed object is frozen because requests share it.
 */
const parsedSecurity = new WeakMap<Database, ParsedSecurity>();

function securityOf(db: Database): SecurityObject {
  const json = db.securityJson;
  const cached = parsedSecurity.get(db);
  if (cached !== undefined && cached.json === json) return cached.security;
  const security = deepFreeze(readSecurity(json));
  parsedSecurity.set(db, { json, security });
  return security;
}

function deepFreeze(security: SecurityObject): SecurityObject {
  for (const group of [security.admins, security.members]) {
    Object.freeze(group.names);
    Object.freeze(group.roles);
    Object.freeze(group);
  }
  return Object.freeze(security);
}
