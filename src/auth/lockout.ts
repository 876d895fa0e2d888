/**
 * CouchDB 3.4's `chttpd_auth_lockout` in enforce mode: after `failuresMax`
 * failed logins for one user from one peer address, every authentication of
 * that user from that address is refused (403) until `lockoutMs` after the
 * *first* failure. Bounded: the oldest pairs are forgotten beyond `entriesMax`.
 */
export interface LockoutOptions {
  readonly failuresMax: number;
  readonly lockoutMs: number;
  readonly entriesMax: number;
  readonly now?: () => number;
}

interface Failures {
  count: number;
  readonly firstAt: number;
}

export class Lockout {
  readonly #failures = new Map<string, Failures>();
  readonly #options: LockoutOptions;
  readonly #now: () => number;

  constructor(options: LockoutOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  #key(peer: string, name: string, salt: string): string {
    return `${peer}\u0000${name}\u0000${salt}`;
  }

  #live(key: string): Failures | undefined {
    const failures = this.#failures.get(key);
    if (failures && failures.firstAt + this.#options.lockoutMs <= this.#now()) {
      this.#failures.delete(key);
      return undefined;
    }
    return failures;
  }

  isLockedOut(peer: string, name: string, salt: string): boolean {
    if (this.#failures.size === 0) return false; // the usual case: no key to build
    const failures = this.#live(this.#key(peer, name, salt));
    return failures !== undefined && failures.count >= this.#options.failuresMax;
  }

  recordFailure(peer: string, name: string, salt: string): void {
    const key = this.#key(peer, name, salt);
    const failures = this.#live(key);
    if (failures) {
      failures.count += 1;
      return;
    }
    while (this.#failures.size >= this.#options.entriesMax) {
      const oldest = this.#failures.keys().next();
      if (oldest.done) break;
      this.#failures.delete(oldest.value);
    }
    this.#failures.set(key, { count: 1, firstAt: this.#now() });
  }
}
