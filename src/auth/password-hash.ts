/**
 * Server-admin password hashes as CouchDB writes them in the `[admins]` ini
 * section:
 *
 *   -pbkdf2:sha256-<derived key hex>,<salt>,<iterations>   (CouchDB 3.4 default)
 *   -pbkdf2-<derived key hex>,<salt>,<iterations>          (older, PRF sha1)
 *   -hashed-<sha1 hex>,<salt>                               (legacy "simple")
 *
 * Anything else in `[admins]` is a clear-text password that the server hashes
 * at start (as CouchDB does). PBKDF2 runs on libuv's thread pool
 * (`crypto.pbkdf2`), never on the event loop.
 */
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';

export type Prf = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export type PasswordHash =
  | {
      readonly scheme: 'pbkdf2';
      readonly prf: Prf;
      readonly derivedKeyHex: string;
      readonly salt: string;
      readonly iterations: number;
    }
  | { readonly scheme: 'simple'; readonly shaHex: string; readonly salt: string };

const prfByName: Readonly<Record<string, Prf>> = {
  sha: 'sha1',
  sha224: 'sha224',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
};

const digestBytes: Readonly<Record<Prf, number>> = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

/** CouchDB's own upper bound on iterations (`max_iterations`). */
export const iterationsMax = 1_000_000_000;

/** Parses a stored hash; undefined when the value is not a hash (a clear-text password). */
export function parsePasswordHash(stored: string): PasswordHash | undefined {
  const pbkdf2Match = /^-pbkdf2(?::(sha|sha224|sha256|sha384|sha512))?-([0-9a-fA-F]+),([^,]+),(\d+)$/.exec(stored);
  if (pbkdf2Match) {
    const iterations = Number(pbkdf2Match[4]);
    if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > iterationsMax) return undefined;
    return {
      scheme: 'pbkdf2',
      prf: prfByName[pbkdf2Match[1] ?? 'sha'] ?? 'sha1',
      derivedKeyHex: (pbkdf2Match[2] ?? '').toLowerCase(),
      salt: pbkdf2Match[3] ?? '',
      iterations,
    };
  }
  const simpleMatch = /^-hashed-([0-9a-fA-F]+),(.+)$/.exec(stored);
  if (simpleMatch) {
    return { scheme: 'simple', shaHex: (simpleMatch[1] ?? '').toLowerCase(), salt: simpleMatch[2] ?? '' };
  }
  return undefined;
}

export function isPasswordHash(stored: string): boolean {
  return parsePasswordHash(stored) !== undefined;
}

export function formatPasswordHash(hash: PasswordHash): string {
  if (hash.scheme === 'simple') return `-hashed-${hash.shaHex},${hash.salt}`;
  const prfName = hash.prf === 'sha1' ? 'sha' : hash.prf;
  return `-pbkdf2:${prfName}-${hash.derivedKeyHex},${hash.salt},${hash.iterations}`;
}

function pbkdf2Hex(password: string, salt: string, iterations: number, prf: Prf): Promise<string> {
  return new Promise((resolve, reject) => {
    pbkdf2(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), iterations, digestBytes[prf], prf, (error, key) => {
      if (error) reject(error);
      else resolve(key.toString('hex'));
    });
  });
}

export interface HashPasswordOptions {
  readonly iterations: number;
  readonly prf?: Prf;
  /** Injected for reproducible tests; 32 hex digits like CouchDB's salts. */
  readonly salt?: string;
}

/** Hashes a clear-text password the way CouchDB 3.4 hashes admins. */
export async function hashPassword(password: string, options: HashPasswordOptions): Promise<PasswordHash> {
  const prf = options.prf ?? 'sha256';
  const salt = options.salt ?? randomBytes(16).toString('hex');
  const derivedKeyHex = await pbkdf2Hex(password, salt, options.iterations, prf);
  return { scheme: 'pbkdf2', prf, derivedKeyHex, salt, iterations: options.iterations };
}

function equalHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Slow, constant-time check of a password against its stored hash. */
export async function verifyPassword(password: string, hash: PasswordHash): Promise<boolean> {
  if (hash.scheme === 'simple') {
    const sha = createHash('sha1').update(password, 'utf8').update(hash.salt, 'utf8').digest('hex');
    return equalHex(sha, hash.shaHex);
  }
  const derived = await pbkdf2Hex(password, hash.salt, hash.iterations, hash.prf);
  return equalHex(derived, hash.derivedKeyHex);
}

export function passwordSalt(hash: PasswordHash): string {
  return hash.salt;
}
