/**
 * Settee as a library: the engine in-process, with the same semantics as over
 * HTTP. See docs/engine.md.
 */
export { Couch, adminOnlySecurityJson } from './db/couch.js';
export type { CouchOptions } from './db/couch.js';
export { Database } from './db/database.js';
export type { AllDocsQuery, DatabaseInfo, RevsDiffEntry } from './db/database.js';
export { docUpdateFromJson } from './db/document.js';
export type { DocUpdate, RevHistory } from './db/document.js';
export type { DocRevision, ReadOptions, OpenRevsResult } from './db/read-doc.js';
export type { UpdateResult } from './db/writer.js';
export type { ChangesQuery, ChangeRow, ChangesPage } from './db/changes.js';
export { renderDoc } from './db/render.js';
export { SqliteEngine } from './storage/sqlite-engine.js';
export type { SqliteEngineOptions } from './storage/sqlite-engine.js';
export type { StorageEngine, DatabaseStore } from './storage/engine.js';
export { runEngineCompliance } from './storage/compliance.js';
export { parseJson } from './core/json-parse.js';
export { stringifyJson } from './core/json-write.js';
export { JsonFloat } from './core/json-value.js';
export type { JsonValue, JsonObject } from './core/json-value.js';
export { computeRevHash } from './core/revid.js';
export { parseRev, formatRev } from './core/rev.js';
export type { Rev, RevTree } from './core/rev.js';
export { CouchError } from './core/errors.js';
export { defaultLimits } from './core/limits.js';
export type { Limits } from './core/limits.js';
