/**
 * Mango's selector errors (`mango_error:info/2` for `mango_selector` and
 * `mango_util`), with CouchDB's names and reason texts. `_find` reports them
 * as they are; the `_selector` changes filter as 400 `bad_request` with the
 * same reason (`couch_changes:check_selector`).
 */
import { CouchError } from '../core/errors.js';
import type { JsonValue } from '../core/json-value.js';
import { erlangTermText } from './erlang-text.js';

export const selectorBadArg = (operator: string, argument: JsonValue): CouchError =>
  new CouchError(400, 'bad_arg', `Bad argument for operator ${operator}: ${erlangTermText(argument)}`);

export const selectorMissingFieldName = (): CouchError =>
  new CouchError(400, 'invalid_selector', 'One or more conditions is missing a field name.');

export const selectorNotSupported = (operator: string): CouchError =>
  new CouchError(400, 'not_supported', `Unsupported operator: ${operator}`);

export const selectorInvalidOperator = (operator: string): CouchError =>
  new CouchError(400, 'invalid_operator', `Invalid operator: ${operator}`);

export const selectorBadField = (selector: JsonValue): CouchError =>
  new CouchError(400, 'bad_field', `Invalid field normalization on selector: ${erlangTermText(selector)}`);

export const invalidFieldName = (field: string): CouchError =>
  new CouchError(400, 'invalid_field_name', `Invalid field name: ${field}`);
