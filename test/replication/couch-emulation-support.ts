/**
 * Helpers for the CouchDB-replicator emulation tests: endpoints of a Settee
 * server as the emulated replicator opens them, and comparable snapshots of
 * a database (every leaf with its path, body and attachments, the winner and
 * the conflicts) read from Settee over HTTP or from the in-memory source.
 */
import { Agent } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { MemoryCouchSource } from '../support/couch-memory-source.js';
import { HttpCouchEndpoint } from '../support/couch-replicator-api.js';
import type { RecordedRequest } from '../support/couch-replicator-httpc.js';
import { CouchHttpDb } from '../support/couch-replicator-httpc.js';
import { revString } from '../support/couch-doc-json.js';
import { admin, api } from './support.js';

export interface EndpointOptions {
  readonly adminUrl: string;
  readonly db: string;
  readonly name: string;
  readonly log: RecordedRequest[];
  /** Sockets in the endpoint's pool (CouchDB's `http_connections` is 20). */
  readonly maxSockets?: number;
}

export function settee(options: EndpointOptions): { endpoint: HttpCouchEndpoint; agent: Agent } {
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 20, maxFreeSockets: options.maxSockets ?? 20 });
  const http = new CouchHttpDb({ url: `${options.adminUrl}/${options.db}`, name: options.name, agent, log: options.log, waitMs: 50 });
  return { endpoint: new HttpCouchEndpoint(http), agent };
}

export interface AttachmentSnapshot {
  readonly content_type: string;
  readonly revpos: number;
  readonly digest: string;
  readonly length: number;
  readonly encoding?: string;
  readonly encoded_length?: number;
  /** The decoded bytes, base64. */
  readonly bytes: string;
}

export interface LeafSnapshot {
  readonly deleted: boolean;
  readonly revisions: { readonly start: number; readonly ids: readonly string[] };
  readonly body: Record<string, unknown>;
  readonly attachments: Record<string, AttachmentSnapshot>;
}

export interface DocSnapshot {
  readonly winner: string;
  readonly deleted: boolean;
  /** Live losing leaves, in CouchDB's order (as `?conflicts=true` lists them); [] for a deleted winner. */
  readonly conflicts: readonly string[];
  readonly leaves: Record<string, LeafSnapshot>;
}

function bodyOf(doc: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(doc).filter(([name]) => !name.startsWith('_')));
}

/** Every document of a Settee database: `_changes` for ids and winners, open_revs=all for leaves, attachment GETs for bytes. */
export async function setteeSnapshot(base: string, db: string): Promise<Record<string, DocSnapshot>> {
  const changes = await api(base, 'GET', `/${db}/_changes?style=all_docs`);
  const snapshot: Record<string, DocSnapshot> = {};
  for (const row of changes.body.results as { id: string; deleted?: boolean; changes: { rev: string }[] }[]) {
    const path = `/${db}/${encodeURIComponent(row.id)}`;
    const open = await api(base, 'GET', `${path}?open_revs=all&revs=true&att_encoding_info=true`);
    const leaves: Record<string, LeafSnapshot> = {};
    for (const item of open.body as { ok: Record<string, any> }[]) {
      const doc = item.ok;
      const attachments: Record<string, AttachmentSnapshot> = {};
      for (const [name, stub] of Object.entries((doc['_attachments'] ?? {}) as Record<string, Record<string, unknown>>)) {
        const bytes = await fetch(`${base}${path}/${encodeURIComponent(name)}?rev=${doc['_rev']}`, { headers: { authorization: adminAuthorization } });
        const { stub: _stub, ...meta } = stub;
        attachments[name] = { ...(meta as Omit<AttachmentSnapshot, 'bytes'>), bytes: Buffer.from(await bytes.arrayBuffer()).toString('base64') };
      }
      leaves[doc['_rev']] = { deleted: doc['_deleted'] === true, revisions: doc['_revisions'], body: bodyOf(doc), attachments };
    }
    const winner = row.changes[0]?.rev ?? '';
    let conflicts: string[] = [];
    if (row.deleted !== true) conflicts = (await api(base, 'GET', `${path}?conflicts=true`)).body._conflicts ?? [];
    snapshot[row.id] = { winner, deleted: row.deleted === true, conflicts, leaves };
  }
  return snapshot;
}

/** The same view of the in-memory source. */
export function memorySnapshot(source: MemoryCouchSource): Record<string, DocSnapshot> {
  const snapshot: Record<string, DocSnapshot> = {};
  for (const id of source.ids()) {
    const all = source.leaves(id);
    const leaves: Record<string, LeafSnapshot> = {};
    for (const doc of all) {
      const attachments: Record<string, AttachmentSnapshot> = {};
      for (const att of doc.atts) {
        if (!Buffer.isBuffer(att.data)) throw new Error('the memory source holds attachment data');
        attachments[att.name] = {
          content_type: att.type,
          revpos: att.revpos ?? 0,
          digest: att.digest ?? '',
          length: att.length,
          ...(att.encoding === 'gzip' ? { encoding: 'gzip', encoded_length: att.encodedLength } : {}),
          bytes: (att.encoding === 'gzip' ? gunzipSync(att.data) : att.data).toString('base64'),
        };
      }
      leaves[revString(doc.revs.start, doc.revs.ids[0] ?? '')] = { deleted: doc.deleted, revisions: doc.revs, body: { ...doc.body }, attachments };
    }
    const [winner] = all;
    const deleted = winner?.deleted === true;
    const conflicts = deleted ? [] : all.slice(1).filter((doc) => !doc.deleted).map((doc) => revString(doc.revs.start, doc.revs.ids[0] ?? ''));
    snapshot[id] = { winner: winner === undefined ? '' : revString(winner.revs.start, winner.revs.ids[0] ?? ''), deleted, conflicts, leaves };
  }
  return snapshot;
}

const adminAuthorization = `Basic ${Buffer.from(`${admin.name}:${admin.password}`).toString('base64')}`;

/** Requests of the log that went to `endpoint`, as `METHOD url`. */
export function requestLines(log: readonly RecordedRequest[], endpoint: string): string[] {
  return log.filter((entry) => entry.endpoint === endpoint).map((entry) => `${entry.method} ${entry.url}`);
}
