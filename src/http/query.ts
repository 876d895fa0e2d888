/**
 * Query strings and CouchDB's parameter styles.
 *
 * Parameters keep their order and duplicates (`get` is the first occurrence,
 * as `couch_httpd:qs_value` reads; `last` the last one, as view parameter
 * folding ends up with). Helpers reproduce CouchDB's exact error texts:
 *
 * - JSON-valued (`startkey="a"`, `keys=[…]`): 400 `bad_request` "invalid UTF-8 JSON";
 * - strict booleans (views, `_all_docs`): 400 `query_parse_error`
 *   `Invalid boolean parameter: "maybe"`; lenient ones (`_changes`) read
 *   anything but `true` as false;
 * - integers: `Invalid value for integer: "abc"`, and for counts that must not
 *   be negative `Invalid value for positive integer: "-1"`.
 */
import { invalidJson, queryParseError } from '../core/errors.js';
import type { JsonValue } from '../core/json-value.js';
import { parseJsonText } from './json.js';
import { decodeComponentBytes } from './path.js';

export interface QueryParam {
  readonly name: string;
  readonly value: string;
  /** false when the decoded bytes were not UTF-8 (such a value can never be valid JSON). */
  readonly validUtf8: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeParamPart(encoded: string): { text: string; validUtf8: boolean } {
  const bytes = decodeComponentBytes(encoded);
  try {
    return { text: strictUtf8.decode(bytes), validUtf8: true };
  } catch {
    return { text: bytes.toString('utf8'), validUtf8: false };
  }
}

export class QueryParams {
  readonly entries: readonly QueryParam[];

  constructor(rawQuery: string) {
    const entries: QueryParam[] = [];
    for (const pair of rawQuery.split('&')) {
      if (pair.length === 0) continue;
      const equals = pair.indexOf('=');
      const name = decodeParamPart(equals < 0 ? pair : pair.slice(0, equals));
      const value = decodeParamPart(equals < 0 ? '' : pair.slice(equals + 1));
      entries.push({ name: name.text, value: value.text, validUtf8: value.validUtf8 && name.validUtf8 });
    }
    this.entries = entries;
  }

  has(name: string): boolean {
    return this.entries.some((entry) => entry.name === name);
  }

  /** The first occurrence's value. */
  get(name: string): string | undefined {
    return this.entries.find((entry) => entry.name === name)?.value;
  }

  /** The last occurrence's value. */
  last(name: string): string | undefined {
    return this.param(name, 'last')?.value;
  }

  all(name: string): string[] {
    return this.entries.filter((entry) => entry.name === name).map((entry) => entry.value);
  }

  param(name: string, which: 'first' | 'last' = 'first'): QueryParam | undefined {
    if (which === 'first') return this.entries.find((entry) => entry.name === name);
    for (let index = this.entries.length - 1; index >= 0; index--) {
      const entry = this.entries[index];
      if (entry?.name === name) return entry;
    }
    return undefined;
  }
}

/** Erlang's `~p` rendering of a string, as CouchDB's messages quote values. */
export function erlangQuoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A JSON-encoded parameter value (`startkey="a"`). */
export function parseJsonParam(param: QueryParam, depthMax?: number): JsonValue {
  if (!param.validUtf8) throw invalidJson();
  return parseJsonText(param.value, depthMax === undefined ? {} : { depthMax });
}

/** The JSON value of the first `name` parameter, or undefined if absent. */
export function jsonParam(query: QueryParams, name: string, which: 'first' | 'last' = 'first'): JsonValue | undefined {
  const param = query.param(name, which);
  return param === undefined ? undefined : parseJsonParam(param);
}

/** Views and `_all_docs`: `true`/`false` in any case, anything else is an error. */
export function parseStrictBoolean(value: string): boolean {
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw queryParseError(`Invalid boolean parameter: ${erlangQuoted(value)}`);
}

/** `_changes` and most document parameters: only `true` is true. */
export function parseLenientBoolean(value: string): boolean {
  return value === 'true';
}

const integerPattern = /^[+-]?[0-9]+$/;

export function parseIntegerParam(value: string): number {
  if (!integerPattern.test(value)) throw queryParseError(`Invalid value for integer: ${erlangQuoted(value)}`);
  // CouchDB takes integers of any size; beyond 2^53 no count or offset can
  // matter, and storage needs exact integers, so clamp.
  const parsed = Number(value);
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, parsed));
}

export function parsePositiveIntegerParam(value: string): number {
  const parsed = parseIntegerParam(value);
  if (parsed < 0) throw queryParseError(`Invalid value for positive integer: ${erlangQuoted(value)}`);
  return parsed;
}
