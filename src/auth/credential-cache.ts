/**
 * Remembers credentials that passed the slow PBKDF2 check, so Basic auth on
 * every request costs one Map lookup instead of 600,000 PBKDF2 iterations
 * (CouchDB's `couch_passwords_cache` does the same).
 *
 * Keys are the credentials exactly as the client sent them: for Basic auth
 * the whole `Authorization` header, so a repeated request needs neither
 * base64 decoding nor hashing. Keying by a digest of the header instead would
 * cost a keyed hash on every request (measured at ~4% of the CPU of a
 * single-document GET) to hide a secret that every such request carries in
 * its headers anyway. The price is that recently used passwords stay in
 * memory, so that is bounded: an entry lives `ttlMs` after its verification
 * (use does not extend it), the map holds at most `entriesMax` entries (the
 * oldest go first), and keys longer than `keyCharsMax` are never kept.
 *
 * An entry records the user name and the stored password hash it was verified
 * against. A hit counts only while the user's current hash is the same, so a
 * changed password (or salt) invalidates every entry made with the old one.
 */
import type { PasswordHash } from './password-hash.js';

export interface CredentialCacheOptions {
  readonly entriesMax: number;
  readonly ttlMs: number;
  readonly now?: () => number;
}

/** Longest credential key kept (a Basic header for a long name and password fits easily). */
export const credentialKeyCharsMax = 4096;

export interface VerifiedCredential {
  readonly name: string;
  /** The stored hash the password was checked against. */
  readonly hash: PasswordHash;
}

interface Entry extends VerifiedCredential {
  readonly expiresAt: number;
}

export class CredentialCache {
  readonly #entries = new Map<string, Entry>();
  readonly #entriesMax: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: CredentialCacheOptions) {
    this.#entriesMax = options.entriesMax;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  /** What an unexpired entry for exactly these credentials says was verified, if any. */
  lookup(key: string): VerifiedCredential | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Records that `key` carried the right password for `name`, as of `hash`. */
  remember(key: string, name: string, hash: PasswordHash): void {
    if (key.length > credentialKeyCharsMax || this.#entriesMax <= 0) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#entriesMax) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { name, hash, expiresAt: this.#now() + this.#ttlMs });
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** Whether two stored hashes are the same (same scheme, salt and key): a password verified against one holds for the other. */
export function samePasswordHash(a: PasswordHash, b: PasswordHash): boolean {
  if (a === b) return true;
  if (a.salt !== b.salt) return false;
  if (a.scheme === 'pbkdf2' && b.scheme === 'pbkdf2') {
    return a.derivedKeyHex === b.derivedKeyHex && a.prf === b.prf && a.iterations === b.iterations;
  }
  if (a.scheme === 'simple' && b.scheme === 'simple') return a.shaHex === b.shaHex;
  return false;
}
