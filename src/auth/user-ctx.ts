/**
 * Who a request runs as: CouchDB's `userCtx`. `name` is null for anonymous
 * requests; server admins carry the `_admin` role.
 */
import { notAServerAdmin } from '../core/errors.js';

export interface UserCtx {
  readonly name: string | null;
  readonly roles: readonly string[];
}

export const anonymousUser: UserCtx = Object.freeze({ name: null, roles: Object.freeze([]) });

export const serverAdminRole = '_admin';

export function isServerAdmin(user: UserCtx): boolean {
  return user.roles.includes(serverAdminRole);
}

/** Throws CouchDB's 401 "You are not a server admin." (for users too, as CouchDB does). */
export function requireServerAdmin(user: UserCtx): void {
  if (!isServerAdmin(user)) throw notAServerAdmin();
}
