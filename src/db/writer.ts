/**
 * One writer per database: it gathers the edits that arrive together into one
 * durable transaction (group commit). An edit is acknowledged only after the
 * storage engine reports its batch durable.
 *
 * Flow: `submit` queues a request and, if the writer is idle, schedules a flush
 * on the next turn of the event loop (so concurrent requests join the batch).
 * When the previous batch held several requests (clients write concurrently),
 * the flush waits one turn more: the requests those clients are sending now
 * (their answers went out together) then join one commit instead of trailing
 * into a second one, which would pay the per-commit cost again (the WAL
 * write and fsync). Measured: ~12% more PUTs/s at 32 clients. A lone writer
 * is never delayed.
 * A flush takes requests while they fit `commitDocsMax`/`commitBytesMax`,
 * applies their edits in arrival order to the documents' trees, stems, writes
 * the batch, then settles every request. While a flush runs, new requests
 * queue and form the next batch. The queue is bounded (`writeQueueDocsMax`).
 */
import { CouchError, isCouchError, serviceUnavailable } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { formatRev } from '../core/rev.js';
import type { RevTree } from '../core/rev.js';
import { stem, winner } from '../core/revtree.js';
import { stringifyJson, stringifyPlainJson } from '../core/json-write.js';
import type { AttachmentBlob, DatabaseStore, DocRecord, DocWrite, RevisionBody } from '../storage/engine.js';
import { encodeMetas } from './attachments.js';
import { BatchAttachments, type PendingEdit } from './attachments-edit.js';
import { noAttachments, updateAttachmentInputs, type MergedAttachments } from './attachments-merge.js';
import type { DocUpdate } from './document.js';
import { applyInteractiveEdit, applyReplicatedEdit } from './edit.js';

export type UpdateResult =
  | { readonly ok: true; readonly id: string; readonly rev: string }
  | { readonly ok: false; readonly id: string; readonly rev?: string; readonly error: CouchError };

export interface WriteRequest {
  readonly updates: readonly DocUpdate[];
  readonly newEdits: boolean;
}

interface Pending {
  readonly request: WriteRequest;
  readonly bytes: number;
  resolve(results: UpdateResult[]): void;
  reject(error: unknown): void;
}

export interface WriterHooks {
  /** Current revs limit of the database (read at each flush). */
  revsLimit(): number;
  /** Called after each durable commit with the new update sequence. */
  committed(updateSeq: number): void;
}

/** Event-loop turns a flush waits beyond the first when writes arrive concurrently (see the top). */
const concurrentExtraTurns = 1;

export class DatabaseWriter {
  private readonly store: DatabaseStore;
  private readonly limits: Limits;
  private readonly hooks: WriterHooks;
  private readonly queue: Pending[] = [];
  private queuedDocs = 0;
  private flushing = false;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(store: DatabaseStore, limits: Limits, hooks: WriterHooks) {
    this.store = store;
    this.limits = limits;
    this.hooks = hooks;
  }

  /** Queues edits; resolves with one result per update, in order, once durable. */
  submit(request: WriteRequest): Promise<UpdateResult[]> {
    const count = request.updates.length;
    if (count === 0) return Promise.resolve([]);
    if (this.queuedDocs + count > this.limits.writeQueueDocsMax) {
      return Promise.reject(serviceUnavailable('Too many pending writes for this database; retry later.'));
    }
    const chunkDocsMax = this.limits.commitDocsMax;
    if (count <= chunkDocsMax) return this.enqueue(request);
    // A large request commits in several transactions (CouchDB's _bulk_docs is
    // not atomic either), so no single commit blocks the event loop for long.
    const chunks: Promise<UpdateResult[]>[] = [];
    for (let start = 0; start < count; start += chunkDocsMax) {
      const updates = request.updates.slice(start, start + chunkDocsMax);
      chunks.push(this.enqueue({ updates, newEdits: request.newEdits }));
    }
    return Promise.all(chunks).then((parts) => parts.flat());
  }

  private enqueue(request: WriteRequest): Promise<UpdateResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, bytes: estimateBytes(request.updates), resolve, reject });
      this.queuedDocs += request.updates.length;
      this.schedule();
    });
  }

  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void> {
    if (!this.flushing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Whether a flush is scheduled or running. */
  get busy(): boolean {
    return this.flushing || this.scheduled;
  }

  get pendingDocs(): number {
    return this.queuedDocs;
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    let turns = this.lastBatchRequests > 1 ? 1 + concurrentExtraTurns : 1;
    const next = (): void => {
      if (--turns > 0) {
        setImmediate(next);
        return;
      }
      this.scheduled = false;
      void this.flush();
    };
    setImmediate(next);
  }

  /** Requests in the batch last taken: more than one means clients write concurrently. */
  private lastBatchRequests = 0;

  private takeBatch(): Pending[] {
    let docs = 0;
    let bytes = 0;
    let taken = 0;
    while (taken < this.queue.length) {
      const next = this.queue[taken] as Pending;
      const count = next.request.updates.length;
      if (taken > 0 && (docs + count > this.limits.commitDocsMax || bytes + next.bytes > this.limits.commitBytesMax)) {
        break;
      }
      taken++;
      docs += count;
      bytes += next.bytes;
    }
    this.queuedDocs -= docs;
    this.lastBatchRequests = taken;
    return this.queue.splice(0, taken);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    // Storage calls resolve without a macrotask turn: yield between batches so
    // requests (and reads) are served while a long queue drains.
    let yieldBetweenBatches = false;
    try {
      while (this.queue.length > 0) {
        if (yieldBetweenBatches) await yieldToEventLoop();
        yieldBetweenBatches = true;
        const batch = this.takeBatch();
        try {
          const results = await this.commit(batch);
          batch.forEach((pending, index) => pending.resolve(results[index] as UpdateResult[]));
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.flushing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async commit(batch: readonly Pending[]): Promise<UpdateResult[][]> {
    const ids = uniqueIds(batch);
    const records = await this.store.getDocs(ids, { forUpdate: true });
    const states = new Map<string, PendingDoc>();
    const winningRevs = new Map<string, string>();
    ids.forEach((id, index) => {
      const record = records[index];
      if (record !== undefined) {
        states.set(id, { record, tree: record.tree, bodies: [], attachments: [] });
        winningRevs.set(id, record.winningRev);
      }
    });
    const edits = batch.map((pending) => pending.request.updates.map(prepareEdit));
    const valid = edits.flat().filter((edit): edit is PendingEdit => !('error' in edit));
    const attachments = valid.some((edit) => edit.inputs.length > 0)
      ? await BatchAttachments.load(this.store, valid, winningRevs)
      : BatchAttachments.empty();
    const touched = new Map<string, PendingDoc>();
    const results = batch.map((pending, index) =>
      (edits[index] as PreparedEdit[]).map((edit): UpdateResult =>
        'error' in edit
          ? { ok: false, id: edit.update.id, error: edit.error }
          : this.applyOne(states, touched, edit, pending.request.newEdits, attachments),
      ),
    );
    const docs = this.toWrites(touched);
    if (docs.length > 0) {
      const written = await this.store.write({ docs });
      this.hooks.committed(written.updateSeq);
    }
    return results;
  }

  private applyOne(
    states: Map<string, PendingDoc>,
    touched: Map<string, PendingDoc>,
    edit: PendingEdit,
    newEdits: boolean,
    attachments: BatchAttachments,
  ): UpdateResult {
    const update = edit.update;
    const state = states.get(update.id);
    const pendingBodies = state?.bodies ?? [];
    let merged: MergedAttachments = noAttachments;
    let outcome;
    if (newEdits) {
      const interactive = attachments.interactive(edit, pendingBodies);
      outcome = applyInteractiveEdit(state, update, interactive.attachmentsOf);
      merged = interactive.merged();
    } else {
      outcome = applyReplicatedEdit(state, update);
      if (outcome.ok && edit.inputs.length > 0) {
        const result = attachments.replicated(edit, outcome.rev, pendingBodies);
        if (result instanceof CouchError) return { ok: false, id: update.id, error: result };
        merged = result;
      }
    }
    if (!outcome.ok) {
      return { ok: false, id: update.id, error: outcome.error };
    }
    const rev = formatRev(outcome.rev);
    const newBody = (): RevisionBody => ({
      rev,
      json: update.plainBody === true ? stringifyPlainJson(update.body) : stringifyJson(update.body),
      attachmentsJson: encodeMetas(merged.metas),
    });
    if (outcome.tree === state?.tree) {
      // A replicated revision already in the tree of a document this batch
      // created (it arrived first as an ancestor) still gets its body, as
      // CouchDB fills in a revision it only knew by id.
      if (!newEdits && state !== undefined && state.record === undefined && !state.bodies.some((body) => body.rev === rev)) {
        state.bodies.push(newBody());
        state.attachments.push(...merged.data);
        touched.set(update.id, state);
      }
      return { ok: true, id: update.id, rev };
    }
    const next: PendingDoc = {
      record: state?.record,
      tree: outcome.tree,
      bodies: pendingBodies,
      attachments: state?.attachments ?? [],
    };
    if (outcome.stored) {
      next.bodies.push(newBody());
      next.attachments.push(...merged.data);
    }
    states.set(update.id, next);
    touched.set(update.id, next);
    return { ok: true, id: update.id, rev };
  }

  private toWrites(touched: Map<string, PendingDoc>): DocWrite[] {
    const limit = this.hooks.revsLimit();
    const writes: DocWrite[] = [];
    for (const [id, state] of touched) {
      const stemmed = stem(state.tree, limit);
      const tree = stemmed.tree;
      const removedRevs = stemmed.removed.map(formatRev);
      const removed = new Set(removedRevs);
      const top = winner(tree);
      writes.push({
        id,
        tree,
        winningRev: `${top.pos}-${top.hash}`,
        deleted: top.deleted,
        newBodies: state.bodies.filter((body) => !removed.has(body.rev)),
        removedRevs,
        ...(state.attachments.length > 0 ? { newAttachments: state.attachments } : {}),
      });
    }
    return writes;
  }
}

interface PendingDoc {
  readonly record: DocRecord | undefined;
  readonly tree: RevTree;
  readonly bodies: RevisionBody[];
  /** Attachment data the new bodies bring. */
  readonly attachments: AttachmentBlob[];
}

type PreparedEdit = PendingEdit | { readonly update: DocUpdate; readonly error: CouchError };

/** Parses an update's attachments up front, so a bad one fails only its own document. */
function prepareEdit(update: DocUpdate): PreparedEdit {
  try {
    return { update, inputs: updateAttachmentInputs(update) };
  } catch (error) {
    if (!isCouchError(error)) throw error;
    return { update, error };
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function uniqueIds(batch: readonly Pending[]): string[] {
  const ids = new Set<string>();
  for (const pending of batch) for (const update of pending.request.updates) ids.add(update.id);
  return [...ids];
}

/** Rough size of a request, for batch bounds only (bodies are serialised later). */
function estimateBytes(updates: readonly DocUpdate[]): number {
  let bytes = 0;
  for (const update of updates) {
    bytes += 64 + Object.keys(update.body).length * 32;
    for (const input of update.attachmentInputs ?? []) if (input.kind === 'data') bytes += input.bytes.length;
  }
  return bytes;
}
