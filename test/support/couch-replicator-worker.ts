/**
 * One replication worker's handling of a batch of changes, as
 * `couch_replicator_worker:queue_fetch_loop` does it: `_revs_diff` on the
 * target (skipped, as in 3.4, while nearly everything turns out missing),
 * design documents opened one by one, the rest through `_bulk_get`
 * (attachments=false) where a result with attachments or an error is opened
 * again with `open_revs`; documents with attachments and design documents
 * are written at once with `PUT ?new_edits=false`, the others batched into
 * `_bulk_docs` `new_edits:false` (flushed past 512 KiB and at the end of the
 * batch, in the reverse of their batching order).
 *
 * Documents are fetched one after another (CouchDB runs up to
 * `http_connections` doc readers at once).
 */
import type { CouchDoc } from './couch-doc-json.js';
import { docToJson, parseRev } from './couch-doc-json.js';
import type { BulkGetItem, ChangeRow, SourceEndpoint, TargetEndpoint } from './couch-replicator-api.js';
import { bulkGetKey, DocWriteError } from './couch-replicator-api.js';

export interface ReplicationStats {
  missingChecked: number;
  missingFound: number;
  docsRead: number;
  docsWritten: number;
  docWriteFailures: number;
  bulkGetDocs: number;
  bulkGetAttempts: number;
}

export function newStats(): ReplicationStats {
  return { missingChecked: 0, missingFound: 0, docsRead: 0, docsWritten: 0, docWriteFailures: 0, bulkGetDocs: 0, bulkGetAttempts: 0 };
}

export interface WorkerOptions {
  readonly source: SourceEndpoint;
  readonly target: TargetEndpoint;
  /** `use_bulk_get` (default true). */
  readonly useBulkGet?: boolean;
  /** `missing_doc_retry_msec` (CouchDB's default 2000). */
  readonly missingDocRetryMs?: number;
}

const docBufferBytesMax = 512 * 1024;
/** Failure-ratio rules of couch_replicator_worker (`BULK_GET_*`, `REVS_DIFF_*`). */
const bulkGetRule = { threshold: 0.5, decay: 0.25, retrySec: 37 };
const revsDiffRule = { threshold: 0.95, decay: 0.4, retrySec: 37 };

interface FetchStats {
  ratio: number;
  atSec: number;
}

function nowSec(): number {
  return Math.floor(performance.now() / 1000);
}

function attempt(stats: FetchStats, rule: typeof bulkGetRule): boolean {
  return nowSec() - stats.atSec > rule.retrySec || stats.ratio <= rule.threshold;
}

function updateRatio(stats: FetchStats, successes: number, attempts: number, rule: typeof bulkGetRule): void {
  const ratio = attempts > 0 ? (attempts - successes) / attempts : 0;
  stats.ratio += rule.decay * (ratio - stats.ratio);
  stats.atSec = nowSec();
}

/** Erlang term order of `{Id, {Pos, RevId}}` keys (ids and rev ids compared as bytes). */
function compareIdRevs(a: { id: string; rev: string }, b: { id: string; rev: string }): number {
  const byId = Buffer.compare(Buffer.from(a.id), Buffer.from(b.id));
  if (byId !== 0) return byId;
  const [revA, revB] = [parseRev(a.rev), parseRev(b.rev)];
  return revA.pos !== revB.pos ? revA.pos - revB.pos : Buffer.compare(Buffer.from(revA.id), Buffer.from(revB.id));
}

interface Missing {
  readonly id: string;
  readonly rev: string;
  readonly possibleAncestors: readonly string[];
}

/** One replication worker: its fetch statistics, and the batch handling of queue_fetch_loop. */
export class Worker {
  readonly #bulkGetStats: FetchStats = { ratio: 0, atSec: nowSec() };
  readonly #revsDiffStats: FetchStats = { ratio: 0, atSec: nowSec() };

  constructor(
    readonly options: WorkerOptions,
    readonly stats: ReplicationStats,
  ) {}

  async processBatch(changes: readonly ChangeRow[]): Promise<void> {
    const missing = await this.#findMissing(changes);
    const design = missing.filter((item) => item.id.startsWith('_design/'));
    const rest = missing.filter((item) => !item.id.startsWith('_design/'));
    const batch: DocBatch = { docs: [], bytes: 0 };
    for (const item of design) await this.#fetchDoc(item, batch);
    const fetched = await this.#bulkGet(rest);
    for (const item of rest) {
      const doc = fetched.get(bulkGetKey(item.id, item.rev));
      if (doc !== undefined) await this.#batchDoc(doc, batch);
    }
    for (const item of rest) if (!fetched.has(bulkGetKey(item.id, item.rev))) await this.#fetchDoc(item, batch);
    await this.#flushDocs(batch.docs);
  }

  /** find_missing: `_revs_diff`, or everything when the target has lately been missing nearly all. */
  async #findMissing(changes: readonly ChangeRow[]): Promise<Missing[]> {
    const idRevs = changes.filter((change) => change.revs.length > 0).map((change) => [change.id, change.revs] as const);
    const allCount = idRevs.reduce((sum, [, revs]) => sum + revs.length, 0);
    let missing: Missing[];
    if (attempt(this.#revsDiffStats, revsDiffRule)) {
      const answer = await this.options.target.getMissingRevs(idRevs);
      missing = answer.flatMap((entry) => entry.missing.map((rev) => ({ id: entry.id, rev, possibleAncestors: entry.possibleAncestors })));
      const withoutAncestors = missing.filter((item) => item.possibleAncestors.length === 0).length;
      updateRatio(this.#revsDiffStats, allCount - withoutAncestors, allCount, revsDiffRule);
    } else {
      missing = idRevs.flatMap(([id, revs]) => revs.map((rev) => ({ id, rev, possibleAncestors: [] })));
    }
    this.stats.missingChecked += allCount;
    this.stats.missingFound += missing.length;
    return missing.sort(compareIdRevs);
  }

  /** `_bulk_get` with attachments=false; documents with attachments (stubs) or errors are left to open_revs. */
  async #bulkGet(items: readonly Missing[]): Promise<Map<string, CouchDoc>> {
    const docs = new Map<string, CouchDoc>();
    if (this.options.useBulkGet === false || !attempt(this.#bulkGetStats, bulkGetRule)) return docs;
    // sent even when empty (a batch of design documents only, or nothing missing)
    const request: BulkGetItem[] = items.map((item) => ({ id: item.id, rev: item.rev, attsSince: item.possibleAncestors }));
    const answer = await this.options.source.bulkGet(request);
    for (const [key, value] of answer ?? []) if (!('error' in value) && value.atts.length === 0) docs.set(key, value);
    this.stats.bulkGetDocs += docs.size;
    this.stats.bulkGetAttempts += items.length;
    updateRatio(this.#bulkGetStats, docs.size, items.length, bulkGetRule);
    return docs;
  }

  /** fetch_doc: open_revs for one revision; missing docs and missing stubs are fetched again without atts_since. */
  async #fetchDoc(item: Missing, batch: DocBatch): Promise<void> {
    try {
      await this.#openAndHandle(item, item.possibleAncestors, batch);
    } catch (error) {
      const retry = error instanceof MissingDoc || (error instanceof DocWriteError && error.error === 'missing_stub');
      if (!retry) throw error;
      await new Promise((resolve) => setTimeout(resolve, this.options.missingDocRetryMs ?? 2000));
      await this.#openAndHandle(item, [], batch);
    }
  }

  async #openAndHandle(item: Missing, attsSince: readonly string[], batch: DocBatch): Promise<void> {
    for (const result of await this.options.source.openDocRevs(item.id, [item.rev], { attsSince })) {
      // remote_doc_handler
      if ('missing' in result) throw new MissingDoc(item.id);
      const doc = result.ok;
      if (doc.id.startsWith('_design/') || doc.atts.length > 0) await this.#flushDoc(doc);
      else await this.#batchDoc(doc, batch);
    }
  }

  /** flush_doc: one `PUT ?new_edits=false`; validation-type failures are counted, others end the replication. */
  async #flushDoc(doc: CouchDoc): Promise<void> {
    this.stats.docsRead += 1;
    try {
      await this.options.target.updateDoc(doc, { replicated: true, delayCommit: false });
      this.stats.docsWritten += 1;
    } catch (error) {
      if (!(error instanceof DocWriteError) || error.error === 'missing_stub') throw error;
      const skipped = [401, 403, 413, 415].includes(error.status) || (error.status === 400 && error.reason.startsWith('Attachment name '));
      if (!skipped) throw new Error(`doc_write_failed: ${doc.id} ${error.message}`);
      this.stats.docWriteFailures += 1;
    }
  }

  /** maybe_flush_docs: batch the JSON, writing the batch once it passes DOC_BUFFER_BYTE_SIZE. */
  async #batchDoc(doc: CouchDoc, batch: DocBatch): Promise<void> {
    this.stats.docsRead += 1;
    const json = docToJson(doc, { revs: true, attachments: true });
    const bytes = batch.bytes + Buffer.byteLength(json);
    if (bytes > docBufferBytesMax) {
      await this.#flushDocs([json, ...batch.docs]);
      batch.docs = [];
      batch.bytes = 0;
      return;
    }
    batch.docs = [json, ...batch.docs];
    batch.bytes = bytes;
  }

  /** flush_docs: `_bulk_docs` `new_edits:false`; a 413 splits the batch in two. */
  async #flushDocs(docs: readonly string[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      const errors = await this.options.target.updateDocs(docs, { replicated: true, delayCommit: true });
      this.stats.docsWritten += docs.length - errors.length;
      this.stats.docWriteFailures += errors.length;
    } catch (error) {
      if (!(error instanceof DocWriteError) || error.error !== 'request_body_too_large') throw error;
      if (docs.length === 1) {
        this.stats.docWriteFailures += 1;
        return;
      }
      const half = Math.floor(docs.length / 2);
      await this.#flushDocs(docs.slice(0, half));
      await this.#flushDocs(docs.slice(half));
    }
  }
}

interface DocBatch {
  docs: string[];
  bytes: number;
}

class MissingDoc extends Error {
  constructor(id: string) {
    super(`missing_doc: ${id}`);
  }
}
