/**
 * The JSON of `/_scheduler/jobs` and `/_scheduler/docs`, in CouchDB 3.x's
 * shapes (couch_replicator_scheduler:job_ejson / job_summary,
 * couch_replicator_doc_processor:ejson_doc, couch_replicator:info_from_doc),
 * with `database` first as `couch_replicator_httpd_util:update_db_name`
 * puts it.
 */
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import type { DocEntry } from './replicator-db.js';
import type { Job } from './scheduler.js';
import { iso8601, nodeName } from './scheduler.js';

export function jobReport(job: Job): JsonObject {
  const origin = job.spec.origin;
  return {
    database: origin.kind === 'document' ? origin.database : null,
    id: job.id.id,
    pid: job.replication !== undefined && job.state === 'running' ? job.pid : null,
    source: job.spec.sourceUrl,
    target: job.spec.targetUrl,
    user: job.spec.user,
    doc_id: origin.kind === 'document' ? origin.docId : null,
    info: job.info,
    history: job.history.map((event) => {
      const entry: JsonObject = { timestamp: iso8601(event.timestamp), type: event.type };
      if (event.reason !== undefined) entry['reason'] = event.reason;
      return entry;
    }),
    node: nodeName,
    start_time: iso8601(job.startTime),
  };
}

/** A document with a job (`scheduled` in CouchDB's processor): the job's summary. */
export function scheduledDocReport(database: string, entry: DocEntry, job: Job | undefined): JsonObject {
  if (job === undefined) return unscheduledDocReport(database, entry, 'pending');
  const crashed = job.state === 'crashing' || (job.state === 'pending' && job.errorCount > 0);
  return {
    database,
    doc_id: entry.docId,
    id: job.id.id,
    node: nodeName,
    source: job.spec.sourceUrl,
    target: job.spec.targetUrl,
    state: crashed ? 'crashing' : job.state === 'completed' ? 'pending' : job.state,
    info: crashed ? { error: job.lastError ?? 'unknown' } : job.info,
    error_count: job.errorCount,
    last_updated: iso8601(job.history[0]?.timestamp ?? job.startTime),
    start_time: iso8601(job.startTime),
    source_proxy: null,
    target_proxy: null,
  };
}

/** A document without a job: it could not be turned into one. */
export function unscheduledDocReport(database: string, entry: DocEntry, state: string = entry.state): JsonObject {
  return {
    database,
    doc_id: entry.docId,
    id: entry.jobId ?? null,
    state,
    info: entry.info === null ? null : { error: entry.info },
    error_count: entry.errorCount,
    node: nodeName,
    last_updated: iso8601(entry.lastUpdated),
    start_time: iso8601(entry.startTime),
  };
}

/** A document in a terminal state, told by its own members (`info_from_doc`); undefined for other states. */
export function terminalDocReport(database: string, doc: JsonObject): JsonObject | undefined {
  const state = doc['_replication_state'];
  if (state !== 'completed' && state !== 'failed') return undefined;
  const stateTime = doc['_replication_state_time'] ?? null;
  let info: JsonValue = null;
  let startTime: JsonValue = null;
  if (state === 'completed') {
    const stats = isJsonObject(doc['_replication_stats']) ? { ...doc['_replication_stats'] } : {};
    startTime = stats['start_time'] ?? null;
    delete stats['start_time'];
    info = stats;
  } else {
    const reason = doc['_replication_state_reason'];
    info = reason === undefined || reason === null ? null : { error: reason };
  }
  return {
    database,
    doc_id: doc['_id'] ?? null,
    id: null,
    source: endpointUrl(doc['source']),
    target: endpointUrl(doc['target']),
    state,
    error_count: state === 'failed' ? 1 : 0,
    info,
    start_time: startTime,
    last_updated: stateTime,
  };
}

/** An endpoint as a document gives it, credentials removed (null when it cannot be read). */
function endpointUrl(value: JsonValue | undefined): JsonValue {
  const text = isJsonObject(value) ? value['url'] : value;
  if (typeof text !== 'string') return null;
  if (!/^https?:\/\//.test(text)) return text;
  try {
    const url = new URL(text);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return null;
  }
}
