/**
 * Turns a request's credentials into a `UserCtx`, CouchDB 3.4 style:
 *
 * 1. an `AuthSession` cookie, if valid, wins (a malformed one is a 400; an
 *    expired or forged one is ignored);
 * 2. else `Authorization: Basic` (invalid base64 → 400; no colon, `_:_` or any
 *    other scheme → anonymous; unknown user or wrong password → 401);
 * 3. else anonymous. There is no "admin party": anonymous is never admin.
 *
 * Password checks go through the lockout (403 after too many failures per peer
 * and user) and the credential cache (PBKDF2 only on a cache miss).
 */
import { accountLocked, badCredentials, invalidBasicAuth } from '../core/errors.js';
import type { HttpLimits } from '../core/limits.js';
import { CredentialCache, samePasswordHash } from './credential-cache.js';
import { Lockout } from './lockout.js';
import type { PasswordHash } from './password-hash.js';
import { verifyPassword } from './password-hash.js';
import {
  makeSessionCookieValue,
  parseSessionCookieValue,
  verifySessionCookieHmac,
} from './session-cookie.js';
import type { UserCtx } from './user-ctx.js';
import { anonymousUser, serverAdminRole } from './user-ctx.js';

/** A user whose password can be checked: a server admin now, `_users` documents later. */
export interface StoredUser {
  readonly name: string;
  readonly roles: readonly string[];
  readonly hash: PasswordHash;
}

/** Where users come from besides the configured admins (the `_users` database, later). */
export interface UserSource {
  findUser(name: string): Promise<StoredUser | undefined>;
}

export type AuthMethod = 'cookie' | 'default';

export interface AuthResult {
  readonly user: UserCtx;
  /** CouchDB's `info.authenticated`: which handler authenticated the request. */
  readonly method?: AuthMethod;
  /** A fresh cookie value to send back, when a cookie session passed 10% of its lifetime. */
  readonly refreshedCookie?: string;
}

const anonymousResult: AuthResult = Object.freeze({ user: anonymousUser });

export interface AuthenticatorOptions {
  /** Server admins: name → password hash (from `[admins]`). */
  readonly admins: ReadonlyMap<string, PasswordHash>;
  /** `[chttpd_auth] secret`: signs session cookies. */
  readonly secret: string;
  /** `[chttpd_auth] timeout`: session lifetime in seconds. */
  readonly sessionTimeoutSeconds: number;
  readonly limits: HttpLimits;
  readonly users?: UserSource;
  readonly now?: () => number;
}

export interface RequestCredentials {
  readonly authorization?: string | undefined;
  readonly sessionCookie?: string | undefined;
  /** The peer address, for lockout. */
  readonly peer: string;
}

export class Authenticator {
  readonly sessionTimeoutSeconds: number;
  readonly #admins: ReadonlyMap<string, PasswordHash>;
  readonly #secret: string;
  readonly #users: UserSource | undefined;
  readonly #now: () => number;
  readonly #cache: CredentialCache;
  readonly #lockout: Lockout;
  /** Slow checks in progress, so concurrent requests with the same credentials share one PBKDF2. */
  readonly #pending = new Map<string, Promise<boolean>>();

  constructor(options: AuthenticatorOptions) {
    this.#admins = options.admins;
    this.#secret = options.secret;
    this.sessionTimeoutSeconds = options.sessionTimeoutSeconds;
    this.#users = options.users;
    this.#now = options.now ?? Date.now;
    this.#cache = new CredentialCache({
      entriesMax: options.limits.credentialCacheEntriesMax,
      ttlMs: options.limits.credentialCacheTtlMs,
      now: this.#now,
    });
    this.#lockout = new Lockout({
      failuresMax: options.limits.authFailuresMax,
      lockoutMs: options.limits.authLockoutMs,
      entriesMax: options.limits.authLockoutEntriesMax,
      now: this.#now,
    });
  }

  get hasAdmins(): boolean {
    return this.#admins.size > 0;
  }

  async findUser(name: string): Promise<StoredUser | undefined> {
    const adminHash = this.#admins.get(name);
    const fromDb = this.#users ? await this.#users.findUser(name) : undefined;
    if (adminHash) {
      return { name, roles: [serverAdminRole, ...(fromDb?.roles ?? [])], hash: adminHash };
    }
    return fromDb;
  }

  async authenticate(credentials: RequestCredentials): Promise<AuthResult> {
    if (credentials.sessionCookie) {
      const fromCookie = await this.#authenticateCookie(credentials.sessionCookie);
      if (fromCookie) return fromCookie;
    }
    const authorization = credentials.authorization;
    if (authorization === undefined) return { user: anonymousUser };
    const remembered = await this.#rememberedBasic(authorization, credentials.peer);
    if (remembered) return remembered;
    const basic = parseBasicAuthorization(authorization);
    if (!basic) return { user: anonymousUser };
    const stored = await this.findUser(basic.name);
    if (!stored) throw badCredentials();
    if (!(await this.#verify(stored, basic.password, credentials.peer, authorization))) throw badCredentials();
    return { user: { name: stored.name, roles: stored.roles }, method: 'default' };
  }

  /**
   * `authenticate`'s answer when it needs no I/O and no promise, else
   * undefined (then call `authenticate`): no cookie, and either no
   * `Authorization` header or a Basic header the credential cache remembers
   * for a configured admin whose hash is unchanged (users from a
   * `UserSource` are looked up asynchronously, so they take the slow path).
   */
  authenticateSync(credentials: RequestCredentials): AuthResult | undefined {
    if (credentials.sessionCookie || this.#users !== undefined) return undefined;
    const authorization = credentials.authorization;
    if (authorization === undefined) return anonymousResult;
    const remembered = this.#cache.lookup(authorization);
    if (remembered === undefined) return undefined;
    const adminHash = this.#admins.get(remembered.name);
    if (adminHash === undefined || !samePasswordHash(adminHash, remembered.hash)) return undefined;
    if (this.#lockout.isLockedOut(credentials.peer, remembered.name, adminHash.salt)) throw accountLocked();
    return { user: { name: remembered.name, roles: [serverAdminRole] }, method: 'default' };
  }

  /**
   * The fast path for a Basic header seen before: no parsing, no hashing. The
   * user is still looked up (roles and password may have changed) and the
   * lockout still applies.
   */
  async #rememberedBasic(authorization: string, peer: string): Promise<AuthResult | undefined> {
    const remembered = this.#cache.lookup(authorization);
    if (remembered === undefined) return undefined;
    const stored = await this.findUser(remembered.name);
    if (stored === undefined || !samePasswordHash(stored.hash, remembered.hash)) return undefined;
    if (this.#lockout.isLockedOut(peer, stored.name, stored.hash.salt)) throw accountLocked();
    return { user: { name: stored.name, roles: stored.roles }, method: 'default' };
  }

  /** `POST /_session`: unknown users count towards the lockout too, as in CouchDB. */
  async login(name: string, password: string, peer: string): Promise<UserCtx> {
    const stored = await this.findUser(name);
    if (!stored) {
      if (this.#lockout.isLockedOut(peer, name, '')) throw accountLocked();
      this.#lockout.recordFailure(peer, name, '');
      throw badCredentials();
    }
    if (!(await this.checkPassword(stored, password, peer))) throw badCredentials();
    return { name: stored.name, roles: stored.roles };
  }

  /** Lockout, then the cache, then PBKDF2. Failures are recorded for the lockout. */
  checkPassword(stored: StoredUser, password: string, peer: string): Promise<boolean> {
    // `\u0000` first: never the same key as an `Authorization` header (those start with `Basic `)
    return this.#verify(stored, password, peer, `\u0000${stored.name}\u0000${password}`);
  }

  /** `cacheKey` stands for exactly these credentials (see CredentialCache). */
  async #verify(stored: StoredUser, password: string, peer: string, cacheKey: string): Promise<boolean> {
    const salt = stored.hash.salt;
    if (this.#lockout.isLockedOut(peer, stored.name, salt)) throw accountLocked();
    const remembered = this.#cache.lookup(cacheKey);
    let valid = remembered !== undefined && remembered.name === stored.name && samePasswordHash(remembered.hash, stored.hash);
    if (!valid) {
      valid = await this.#slowCheck(stored, password);
      if (valid) this.#cache.remember(cacheKey, stored.name, stored.hash);
    }
    if (!valid) this.#lockout.recordFailure(peer, stored.name, salt);
    return valid;
  }

  #slowCheck(stored: StoredUser, password: string): Promise<boolean> {
    const key = `${stored.name}\u0000${stored.hash.salt}\u0000${password}`;
    const running = this.#pending.get(key);
    if (running) return running;
    const check = verifyPassword(password, stored.hash).finally(() => this.#pending.delete(key));
    this.#pending.set(key, check);
    return check;
  }

  /** A new `AuthSession` cookie value for a user who just logged in. */
  async sessionCookieFor(name: string): Promise<string> {
    const stored = await this.findUser(name);
    const salt = stored?.hash.salt ?? '';
    return makeSessionCookieValue(name, Math.floor(this.#now() / 1000), this.#secret + salt);
  }

  async #authenticateCookie(cookie: string): Promise<AuthResult | undefined> {
    const fields = parseSessionCookieValue(cookie);
    const stored = await this.findUser(fields.name);
    if (!stored) return undefined;
    const nowSeconds = Math.floor(this.#now() / 1000);
    const timeout = this.sessionTimeoutSeconds;
    if (!Number.isFinite(fields.timeSeconds) || nowSeconds >= fields.timeSeconds + timeout) return undefined;
    const key = this.#secret + stored.hash.salt;
    if (!verifySessionCookieHmac(fields, key)) return undefined;
    const timeLeft = fields.timeSeconds + timeout - nowSeconds;
    const user = { name: stored.name, roles: stored.roles };
    if (timeLeft < timeout * 0.9) {
      return { user, method: 'cookie', refreshedCookie: makeSessionCookieValue(stored.name, nowSeconds, key) };
    }
    return { user, method: 'cookie' };
  }
}

export interface BasicCredentials {
  readonly name: string;
  readonly password: string;
}

/**
 * `Authorization: Basic <base64>` → name and password; undefined for other
 * schemes, a value without a colon, or CouchDB's logout pair `_:_`.
 */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined || !header.startsWith('Basic ')) return undefined;
  const encoded = header.slice('Basic '.length).replace(/[\s]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 === 1) throw invalidBasicAuth();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const name = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (name === '_' && password === '_') return undefined;
  return { name, password };
}
