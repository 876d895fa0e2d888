/**
 * Mango field paths: `a.b.c` names nested members, `a\.b` a member whose
 * name has a dot, and a numeric segment indexes an array (`pets.0.kind`).
 * CouchDB's `mango_util:parse_field` and `mango_doc:get_field`.
 */
import { isJsonObject, type JsonValue } from '../core/json-value.js';
import { invalidFieldName } from './selector-errors.js';

/** `a.b` → `["a","b"]`; `a\.b` → `["a.b"]` (every backslash is dropped); empty segments are a 400. */
export function parseFieldPath(field: string): string[] {
  if (!field.includes('\\')) {
    const parts = field.split('.');
    if (parts.includes('')) throw invalidFieldName(field);
    return parts;
  }
  return field.split(/(?<!\\)\./).map((part) => {
    if (part === '') throw invalidFieldName(field);
    return part.replace(/\\/g, '');
  });
}

/** What a path finds: a value, nothing (`not_found`), or a path through a non-container (`bad_path`). */
export type FieldLookup = { readonly found: true; readonly value: JsonValue } | { readonly found: false; readonly badPath: boolean };

const notFound: FieldLookup = { found: false, badPath: false };
const badPath: FieldLookup = { found: false, badPath: true };
/** What Erlang's `list_to_integer` accepts. */
const integerText = /^[+-]?[0-9]+$/;

export function getField(value: JsonValue, path: readonly string[]): FieldLookup {
  let current = value;
  for (const name of path) {
    if (isJsonObject(current)) {
      if (!Object.prototype.hasOwnProperty.call(current, name)) return notFound;
      current = current[name] as JsonValue;
    } else if (Array.isArray(current)) {
      if (!integerText.test(name)) return badPath;
      const index = Number(name);
      if (!(index >= 0 && index < current.length)) return badPath;
      current = current[index] as JsonValue;
    } else {
      return badPath;
    }
  }
  return { found: true, value: current };
}
