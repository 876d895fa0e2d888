/**
 * JSON values with CouchDB's number fidelity.
 *
 * CouchDB keeps integers and floats apart (`1` and `1.0` are different documents
 * with different revision ids) and keeps integers of any size exact. A plain
 * `JSON.parse` loses both, so Settee's document path uses these types:
 *
 * - `number` whose value is an integer: a JSON integer (within ±(2^53 - 1));
 * - `number` whose value is not an integer: a JSON float (`1.5`);
 * - `JsonFloat`: a float whose value happens to be integral (`1.0`, `1e3`, `-0.0`,
 *   `1.5e300`), which a plain `number` would mistake for an integer;
 * - `bigint`: an integer outside the safe range (`9007199254740993`).
 *
 * So the common document (no floats with integral values, no huge integers) is
 * exactly what `JSON.parse` returns, and the fast path can use it.
 */
export class JsonFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  valueOf(): number {
    return this.value;
  }
}

export type JsonValue = null | boolean | number | bigint | string | JsonFloat | JsonArray | JsonObject;
export type JsonArray = JsonValue[];
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonFloat);
}

/** The numeric value of a JSON number of any representation (bigints may lose precision). */
export function numericValue(value: number | bigint | JsonFloat): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return value.value;
}

export function isJsonNumber(value: unknown): value is number | bigint | JsonFloat {
  return typeof value === 'number' || typeof value === 'bigint' || value instanceof JsonFloat;
}
