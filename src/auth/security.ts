/**
 * Database security objects (`_security`) and who may do what with a
 * database, as CouchDB 3.x decides it:
 *
 * - a db admin is a server admin, or a user named in `admins.names`, or one
 *   holding a role in `admins.roles`;
 * - a member is a db admin, or anyone at all when `members` lists no names and
 *   no roles (a public database), or a user named or holding a role in
 *   `members`.
 *
 * Refusals: an anonymous request gets 401, an authenticated one 403, with
 * CouchDB's wording.
 */
import { CouchError, forbidden, unauthorized } from '../core/errors.js';
import type { JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { isServerAdmin } from './user-ctx.js';
import type { UserCtx } from './user-ctx.js';

export interface SecurityGroup {
  readonly names: readonly string[];
  readonly roles: readonly string[];
}

export interface SecurityObject {
  readonly admins: SecurityGroup;
  readonly members: SecurityGroup;
}

const emptyGroup: SecurityGroup = { names: [], roles: [] };

/** The groups of a stored `_security` object (missing parts are empty). */
export function readSecurity(json: string): SecurityObject {
  const value = JSON.parse(json) as unknown;
  if (!isJsonObject(value)) return { admins: emptyGroup, members: emptyGroup };
  return { admins: readGroup(value['admins']), members: readGroup(value['members']) };
}

function readGroup(value: JsonValue | undefined): SecurityGroup {
  if (!isJsonObject(value)) return emptyGroup;
  const names = value['names'];
  const roles = value['roles'];
  return {
    names: Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [],
    roles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [],
  };
}

/**
 * Validates a `_security` object submitted by a client. CouchDB answers bad
 * ones with 500 `no_majority`; Settee keeps the error name with a 400.
 */
export function validateSecurity(value: JsonValue): void {
  const invalid = (): CouchError => new CouchError(400, 'error', 'no_majority');
  if (!isJsonObject(value)) throw invalid();
  for (const groupName of ['admins', 'members']) {
    const group = value[groupName];
    if (group === undefined) continue;
    if (!isJsonObject(group)) throw invalid();
    for (const listName of ['names', 'roles']) {
      const list = group[listName];
      if (list === undefined) continue;
      if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) throw invalid();
    }
  }
}

function inGroup(user: UserCtx, group: SecurityGroup): boolean {
  if (user.name !== null && group.names.includes(user.name)) return true;
  return user.roles.some((role) => group.roles.includes(role));
}

export function isDbAdmin(user: UserCtx, security: SecurityObject): boolean {
  return isServerAdmin(user) || inGroup(user, security.admins);
}

export function isDbMember(user: UserCtx, security: SecurityObject): boolean {
  if (isDbAdmin(user, security)) return true;
  const members = security.members;
  if (members.names.length === 0 && members.roles.length === 0) return true;
  return inGroup(user, members);
}

/** Throws unless the user may read and write documents of the database. */
export function requireDbMember(user: UserCtx, security: SecurityObject): void {
  if (isDbMember(user, security)) return;
  if (user.name === null) throw unauthorized('You are not authorized to access this db.');
  throw forbidden('You are not allowed to access this db.');
}

/** Throws unless the user is a db admin (design documents, `_security`, …). */
export function requireDbAdmin(user: UserCtx, security: SecurityObject, reason = 'You are not a db or server admin.'): void {
  if (isDbAdmin(user, security)) return;
  if (user.name === null) throw unauthorized(reason);
  throw forbidden(reason);
}
