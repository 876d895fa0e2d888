/**
 * Replicating one batch of changes: ask the target which revisions it lacks
 * (`_revs_diff`), then fetch them from the source and write them to the
 * target in chunks of at most `fetchRevisionsMax` revisions. Chunks of every
 * batch in flight share the job's bounds: at most `fetchConcurrencyMax`
 * fetches and `writeConcurrencyMax` writes at once, and at most their sum of
 * chunks holding documents, so memory holds a bounded number of documents
 * whatever the database size.
 *
 * A batch resolves only when all its chunks are written (per-document
 * failures are counted, not fatal); a request that fails after its retries
 * rejects it, and the job fails.
 */
import { CouchError } from '../core/errors.js';
import type { JsonObject } from '../core/json-value.js';
import type { ReplicationStats } from './checkpoint.js';
import type { ChangeRow, DocRevisionRequest, Endpoint, FetchedRevision, WriteFailure } from './endpoint.js';
import { BulkGetUnsupportedError } from './endpoint.js';
import type { ResolvedOptions } from './options.js';
import { Slots } from './slots.js';

export interface BatchTransferConfig {
  readonly source: Endpoint;
  readonly target: Endpoint;
  readonly options: ResolvedOptions;
  /** The job's counters, updated in place. */
  readonly counters: ReplicationStats;
  readonly onFailures: (failures: readonly WriteFailure[]) => void;
}

interface MissingDoc {
  readonly id: string;
  readonly revs: readonly string[];
  readonly attsSince: readonly string[];
}

export class BatchTransfer {
  private readonly fetchSlots: Slots;
  private readonly writeSlots: Slots;
  /** Chunks holding documents (being fetched, fetched, or being written). */
  private readonly chunkSlots: Slots;
  private bulkGetSupported = true;

  constructor(private readonly config: BatchTransferConfig) {
    this.fetchSlots = new Slots(config.options.fetchConcurrencyMax);
    this.writeSlots = new Slots(config.options.writeConcurrencyMax);
    this.chunkSlots = new Slots(config.options.fetchConcurrencyMax + config.options.writeConcurrencyMax);
  }

  /** Replicates one page of changes; stops at its next step once `signal` aborts. */
  async replicate(rows: readonly ChangeRow[], signal: AbortSignal): Promise<void> {
    const missing = await this.diff(rows);
    const chunks = chunked(missing, this.config.options.fetchRevisionsMax);
    const outcomes = await Promise.allSettled(chunks.map((chunk) => this.chunkSlots.run(() => this.transferChunk(chunk, signal))));
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  }

  private async diff(rows: readonly ChangeRow[]): Promise<MissingDoc[]> {
    const request = new Map<string, string[]>();
    for (const row of rows) {
      const revs = request.get(row.id) ?? [];
      for (const change of row.changes) if (!revs.includes(change.rev)) revs.push(change.rev);
      request.set(row.id, revs);
    }
    for (const revs of request.values()) this.config.counters.missing_checked += revs.length;
    const answer = await this.config.target.revsDiff(request);
    const missing: MissingDoc[] = [];
    for (const [id] of request) {
      const entry = answer.get(id);
      if (entry === undefined || entry.missing.length === 0) continue;
      this.config.counters.missing_found += entry.missing.length;
      missing.push({ id, revs: entry.missing, attsSince: entry.possibleAncestors });
    }
    return missing;
  }

  private async transferChunk(chunk: readonly DocRevisionRequest[], signal: AbortSignal): Promise<void> {
    throwIfStopped(signal);
    const results = await this.fetchSlots.run(() => this.fetchRevisions(chunk));
    const docs: JsonObject[] = [];
    const failures: WriteFailure[] = [];
    for (const result of results) {
      if (result.ok) {
        this.config.counters.docs_read++;
        docs.push(result.doc);
      } else if (result.error !== 'not_found') {
        // A revision compacted away since the diff is superseded by a later change; anything else is a failure.
        failures.push({ id: result.id, rev: result.rev, error: result.error, reason: result.reason });
      }
    }
    this.recordFailures(failures);
    if (docs.length === 0) return;
    throwIfStopped(signal);
    const writeFailures = await this.writeSlots.run(() => this.config.target.bulkDocs(docs));
    this.config.counters.docs_written += docs.length - writeFailures.length;
    this.recordFailures(writeFailures);
  }

  private async fetchRevisions(requests: readonly DocRevisionRequest[]): Promise<FetchedRevision[]> {
    const { source, counters } = this.config;
    if (this.bulkGetSupported) {
      counters.bulk_get_attempts += requests.length;
      try {
        const results = await source.bulkGet(requests);
        for (const result of results) if (result.ok) counters.bulk_get_docs++;
        return results;
      } catch (error) {
        if (!(error instanceof BulkGetUnsupportedError)) throw error;
        this.bulkGetSupported = false;
      }
    }
    const byDoc = new Map<string, DocRevisionRequest[]>();
    for (const request of requests) byDoc.set(request.id, [...(byDoc.get(request.id) ?? []), request]);
    const results: FetchedRevision[] = [];
    for (const [id, revisions] of byDoc) {
      const revs = revisions.map((revision) => revision.rev);
      results.push(...(await source.openRevs(id, revs, revisions[0]?.attsSince ?? [])));
    }
    return results;
  }

  private recordFailures(failures: readonly WriteFailure[]): void {
    if (failures.length === 0) return;
    this.config.counters.doc_write_failures += failures.length;
    this.config.onFailures(failures);
  }
}

/** Requests in chunks of at most `revisionsMax` (a document's revisions stay together unless it alone has more). */
function chunked(missing: readonly MissingDoc[], revisionsMax: number): DocRevisionRequest[][] {
  const chunks: DocRevisionRequest[][] = [];
  let chunk: DocRevisionRequest[] = [];
  for (const doc of missing) {
    if (chunk.length > 0 && chunk.length + doc.revs.length > revisionsMax) {
      chunks.push(chunk);
      chunk = [];
    }
    for (const rev of doc.revs) chunk.push({ id: doc.id, rev, attsSince: doc.attsSince });
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function throwIfStopped(signal: AbortSignal): void {
  if (signal.aborted) throw new CouchError(500, 'replication_stopped', 'the replication stopped');
}
