/**
 * The http layer's one bridge to JSON text: CouchDB's number fidelity and
 * error text come from `core/json-parse.ts` and `core/json-write.ts`; nothing
 * else in `http/` parses or writes JSON.
 */
import type { JsonValue } from '../core/json-value.js';
import { parseJson } from '../core/json-parse.js';
import { stringifyJson } from '../core/json-write.js';

export interface ParseOptions {
  readonly depthMax?: number;
}

/** Parses JSON text; any syntax problem is CouchDB's 400 "invalid UTF-8 JSON". */
export function parseJsonText(text: string, options: ParseOptions = {}): JsonValue {
  return parseJson(text, options);
}

/** Compact JSON text, CouchDB's output form. Response bodies are JSON values by construction. */
export function stringifyJsonValue(value: unknown): string {
  return stringifyJson(value as JsonValue);
}
