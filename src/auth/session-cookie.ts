/**
 * CouchDB's `AuthSession` cookie: base64url (no padding) of
 * `name ":" HEXTIME ":" HMAC`, where HEXTIME is the login time in Unix seconds
 * as upper-case hex and HMAC is the raw HMAC-SHA256 of `name:HEXTIME` keyed by
 * the server secret followed by the user's password salt (so a password change
 * invalidates sessions). CouchDB 3.4 also accepts HMAC-SHA1 (`hash_algorithms
 * = sha256, sha`); so do we, for cookies minted by older servers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { malformedSessionCookie } from '../core/errors.js';

export const sessionCookieName = 'AuthSession';

const verifyAlgorithms = ['sha256', 'sha1'] as const;

export interface SessionCookieFields {
  readonly name: string;
  readonly timeSeconds: number;
  readonly hmac: Buffer;
  /** The signed part, `name:HEXTIME`, as received. */
  readonly signed: Buffer;
}

export function makeSessionCookieValue(name: string, timeSeconds: number, key: string): string {
  const signed = `${name}:${timeSeconds.toString(16).toUpperCase()}`;
  const hmac = createHmac('sha256', Buffer.from(key, 'utf8')).update(signed, 'utf8').digest();
  return Buffer.concat([Buffer.from(`${signed}:`, 'utf8'), hmac]).toString('base64url');
}

/** Splits a cookie value; throws 400 "Malformed AuthSession cookie…" as CouchDB does. */
export function parseSessionCookieValue(value: string): SessionCookieFields {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value)) throw malformedSessionCookie();
  const decoded = Buffer.from(value, 'base64url');
  const firstColon = decoded.indexOf(0x3a);
  const secondColon = firstColon < 0 ? -1 : decoded.indexOf(0x3a, firstColon + 1);
  if (secondColon < 0) throw malformedSessionCookie();
  const timeHex = decoded.subarray(firstColon + 1, secondColon).toString('latin1');
  const timeSeconds = /^[0-9A-Fa-f]{1,13}$/.test(timeHex) ? parseInt(timeHex, 16) : Number.NaN;
  return {
    name: decoded.subarray(0, firstColon).toString('utf8'),
    timeSeconds,
    hmac: decoded.subarray(secondColon + 1),
    signed: decoded.subarray(0, secondColon),
  };
}

export function verifySessionCookieHmac(fields: SessionCookieFields, key: string): boolean {
  return verifyAlgorithms.some((algorithm) => {
    const expected = createHmac(algorithm, Buffer.from(key, 'utf8')).update(fields.signed).digest();
    return expected.length === fields.hmac.length && timingSafeEqual(expected, fields.hmac);
  });
}

export interface CookieAttributes {
  /** Seconds; CouchDB sends `Max-Age` (and `Expires`) when persistent cookies are allowed. */
  readonly maxAgeSeconds: number;
  readonly secure: boolean;
  readonly nowMs: number;
}

/** A `Set-Cookie` value in mochiweb's shape: `AuthSession=v; Version=1; Expires=…; Max-Age=600; Path=/; HttpOnly`. */
export function formatSessionSetCookie(value: string, attributes: CookieAttributes): string {
  const expires = new Date(attributes.nowMs + attributes.maxAgeSeconds * 1000).toUTCString();
  const parts = [`${sessionCookieName}=${value}`, 'Version=1', `Expires=${expires}`, `Max-Age=${attributes.maxAgeSeconds}`];
  if (attributes.secure) parts.push('Secure');
  parts.push('Path=/', 'HttpOnly');
  return parts.join('; ');
}

/** The value of one cookie in a `Cookie` header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const equals = part.indexOf('=');
    if (equals < 0) continue;
    if (part.slice(0, equals).trim() === name) {
      let value = part.slice(equals + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
  }
  return undefined;
}
