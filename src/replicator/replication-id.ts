/**
 * Replication ids, computed like CouchDB's version 4 (couch_replicator_ids):
 * the MD5 of `term_to_binary` of
 *
 *     [ServerUuid, SourceInfo, TargetInfo | Filter ++ WinningRevsOnly ++ SinceSeq]
 *
 * where each endpoint is `{remote, User, Host, NonDefaultPort, Path, Headers,
 * undefined}` (user from basic auth or `undefined`; host and path as Erlang
 * strings; the port, or `default` for 80/443/5984; the extra headers as
 * `{Name, Value}` strings), the filter part is `[DocIds]` or `[Selector]`, and
 * `<<"winning_revs_only">>` / the `since_seq` follow when given. The id gets
 * `+continuous` and `+create_target` appended; the checkpoint documents use
 * the base id only (`_local/<base>`).
 *
 * So for the same server uuid, URLs and options Settee derives the id CouchDB
 * 3.x would, and a Settee replicator finds checkpoints a CouchDB replicator
 * with that uuid left (and the other way round). Known differences: CouchDB
 * normalises a Mango selector before hashing it (Settee hashes it as given),
 * and URLs are parsed by WHATWG `URL` rather than ibrowse (percent-encoding and
 * IPv6 hosts may differ). Custom JavaScript filters are not supported yet.
 */
import { createHash } from 'node:crypto';
import { TermWriter, TermTag } from '../core/erlang-term.js';
import type { JsonObject } from '../core/json-value.js';
import type { EndpointIdentity, Seq } from './endpoint.js';

export const replicationIdVersion = 4;

export interface ReplicationIdInput {
  readonly serverUuid: string;
  readonly source: EndpointIdentity;
  readonly target: EndpointIdentity;
  readonly docIds?: readonly string[];
  readonly selector?: JsonObject;
  readonly winningRevsOnly?: boolean;
  readonly sinceSeq?: Seq;
  readonly continuous?: boolean;
  readonly createTarget?: boolean;
}

export interface ReplicationId {
  /** 32 hex digits; names the checkpoint documents. */
  readonly baseId: string;
  /** `baseId` plus `+continuous` / `+create_target`. */
  readonly id: string;
}

export function replicationId(input: ReplicationIdInput): ReplicationId {
  const writer = new TermWriter(512);
  writer.byte(TermTag.Version);
  const parts: ((w: TermWriter) => void)[] = [
    (w) => w.binaryString(input.serverUuid),
    (w) => writeEndpoint(w, input.source),
    (w) => writeEndpoint(w, input.target),
  ];
  if (input.docIds !== undefined) {
    const docIds = input.docIds;
    parts.push((w) => {
      if (docIds.length === 0) return w.nil();
      w.listHeader(docIds.length);
      for (const id of docIds) w.binaryString(id);
      w.nil();
    });
  } else if (input.selector !== undefined) {
    const selector = input.selector;
    parts.push((w) => w.json(selector));
  }
  if (input.winningRevsOnly === true) parts.push((w) => w.binaryString('winning_revs_only'));
  if (input.sinceSeq !== undefined) {
    const since = input.sinceSeq;
    parts.push((w) => w.json(since));
  }
  writer.listHeader(parts.length);
  for (const part of parts) part(writer);
  writer.nil();
  const baseId = createHash('md5').update(writer.bytes()).digest('hex');
  let suffix = '';
  if (input.continuous === true) suffix += '+continuous';
  if (input.createTarget === true) suffix += '+create_target';
  return { baseId, id: baseId + suffix };
}

function writeEndpoint(writer: TermWriter, identity: EndpointIdentity): void {
  const url = parseUrl(identity.url);
  writer.tupleHeader(7);
  writer.atom('remote');
  if (identity.user === undefined) writer.atom('undefined');
  else erlangString(writer, identity.user);
  if (url === undefined) {
    erlangString(writer, identity.url);
    writer.atom('undefined');
    writer.atom('undefined');
  } else {
    erlangString(writer, url.host);
    if (url.port === undefined) writer.atom('default');
    else writer.integer(url.port);
    erlangString(writer, url.path);
  }
  if (identity.headers.length === 0) {
    writer.nil();
  } else {
    writer.listHeader(identity.headers.length);
    for (const [name, value] of identity.headers) {
      writer.tupleHeader(2);
      erlangString(writer, name);
      erlangString(writer, value);
    }
    writer.nil();
  }
  writer.atom('undefined');
}

/** Host, non-default port and path as ibrowse reports them. */
function parseUrl(text: string): { host: string; port: number | undefined; path: string } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const scheme = url.protocol.replace(/:$/, '');
  const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
  const isDefault = (scheme === 'https' && port === 443) || (scheme === 'http' && (port === 80 || port === 5984));
  return { host: url.hostname, port: isDefault ? undefined : port, path: url.pathname + url.search };
}

/** An Erlang string (a list of bytes): `STRING_EXT`, or nil when empty. */
function erlangString(writer: TermWriter, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) {
    writer.nil();
    return;
  }
  if (bytes.length > 0xffff) {
    writer.listHeader(bytes.length);
    for (const byte of bytes) writer.integer(byte);
    writer.nil();
    return;
  }
  writer.byte(TermTag.String);
  writer.byte(bytes.length >> 8);
  writer.byte(bytes.length & 0xff);
  for (const byte of bytes) writer.byte(byte);
}
