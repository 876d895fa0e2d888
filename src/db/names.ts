/**
 * Database names and document ids: CouchDB 3.x's validation rules.
 */
import { illegalDatabaseName, illegalDocId, badRequest } from '../core/errors.js';

const dbNamePattern = /^[a-z][a-z0-9_$()+/-]*$/;
const systemDbNames = new Set(['_users', '_replicator', '_global_changes']);
/** CouchDB refuses names longer than this (file-name limits). */
export const dbNameLengthMax = 238;

export function isSystemDbName(name: string): boolean {
  if (systemDbNames.has(name)) return true;
  const slash = name.lastIndexOf('/');
  return slash > 0 && systemDbNames.has(name.slice(slash)) && dbNamePattern.test(name.slice(0, slash));
}

/** Throws 400 `illegal_database_name` unless `name` is a valid database name. */
export function validateDbName(name: string): void {
  if (name.length > dbNameLengthMax) throw illegalDatabaseName(name);
  if (isSystemDbName(name)) return;
  if (!dbNamePattern.test(name)) throw illegalDatabaseName(name);
}

export const designPrefix = '_design/';
export const localPrefix = '_local/';

/**
 * Validates the id of a document written through the normal (non-local) path.
 * Local ids (`_local/…`) are accepted here; callers route them elsewhere.
 */
export function validateDocId(id: unknown): asserts id is string {
  if (typeof id !== 'string') throw illegalDocId('Document id must be a string');
  if (id === '') throw illegalDocId('Document id must not be empty');
  if (id === designPrefix) throw illegalDocId('Illegal document id `_design/`');
  if (id === localPrefix) throw illegalDocId('Illegal document id `_local/`');
  if (id.charCodeAt(0) === 0x5f && !id.startsWith(designPrefix) && !id.startsWith(localPrefix)) {
    throw illegalDocId('Only reserved document ids may start with underscore.');
  }
  if (hasLoneSurrogate(id)) throw illegalDocId('Document id must be valid UTF-8');
}

export function isLocalId(id: string): boolean {
  return id.startsWith(localPrefix);
}

export function isDesignId(id: string): boolean {
  return id.startsWith(designPrefix);
}

/** Validates a `_local/` id (the bare prefix is refused as CouchDB does). */
export function validateLocalId(id: string): void {
  if (!id.startsWith(localPrefix) || id.length === localPrefix.length) {
    throw badRequest('Invalid _local document id.');
  }
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return true;
    }
  }
  return false;
}

