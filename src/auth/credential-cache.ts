/**
 * Remembers passwords that passed the slow PBKDF2 check, so Basic auth on
 * every request costs one HMAC instead of 600,000 PBKDF2 iterations (CouchDB's
 * `couch_passwords_cache` does the same). Entries are keyed by user name and
 * salt, so a changed password (new salt) never matches an old entry, and hold
 * only a keyed digest of the password under a per-process random key.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface CredentialCacheOptions {
  readonly entriesMax: number;
  readonly ttlMs: number;
  readonly now?: () => number;
}

interface Entry {
  readonly digest: Buffer;
  readonly expiresAt: number;
}

export class CredentialCache {
  readonly #entries = new Map<string, Entry>();
  readonly #key = randomBytes(32);
  readonly #entriesMax: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: CredentialCacheOptions) {
    this.#entriesMax = options.entriesMax;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  #digest(password: string): Buffer {
    return createHmac('sha256', this.#key).update(password, 'utf8').digest();
  }

  /** true / false when an unexpired entry decides; undefined when the slow check is needed. */
  check(name: string, salt: string, password: string): boolean | undefined {
    const cacheKey = `${name}\u0000${salt}`;
    const entry = this.#entries.get(cacheKey);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(cacheKey);
      return undefined;
    }
    return timingSafeEqual(entry.digest, this.#digest(password));
  }

  remember(name: string, salt: string, password: string): void {
    const cacheKey = `${name}\u0000${salt}`;
    this.#entries.delete(cacheKey);
    while (this.#entries.size >= this.#entriesMax) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(cacheKey, { digest: this.#digest(password), expiresAt: this.#now() + this.#ttlMs });
  }

  get size(): number {
    return this.#entries.size;
  }
}
