/**
 * Revision ids identical to CouchDB's (spec/revision-ids.md): the MD5 of
 * `term_to_binary([Deleted, ParentPos, ParentHash, Body, Attachments])`.
 */
import * as crypto from 'node:crypto';
import type { JsonObject } from './json-value.js';
import type { Rev } from './rev.js';
import { TermTag, TermWriter } from './erlang-term.js';

export interface AttachmentDigest {
  readonly name: string;
  readonly contentType: string;
  /** MD5 of the bytes as stored (gzip-compressed for compressible types). */
  readonly md5: Uint8Array;
}

export interface RevHashInput {
  readonly deleted: boolean;
  /** The revision being edited; null for a new document. */
  readonly parent: Rev | null;
  /** The document without its top-level special members (`_id`, `_rev`, ...). */
  readonly body: JsonObject;
  /** In the order of the document's `_attachments` object (hashed in reverse). */
  readonly attachments: readonly AttachmentDigest[];
}

const hexHash = /^[0-9a-fA-F]{32}$/;

/** One-shot `crypto.hash` (Node 20.12+) where present: it skips the Hash object `createHash` builds. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;
const md5Hex: (bytes: Uint8Array) => string =
  oneShotHash !== undefined
    ? (bytes) => oneShotHash('md5', bytes, 'hex')
    : (bytes) => crypto.createHash('md5').update(bytes).digest('hex');

/** One writer reused by every call (calls are synchronous, so it is never shared mid-use). */
let writer = new TermWriter(64 * 1024);
/** A writer grown past this by a huge document is dropped rather than kept. */
const writerKeepBytesMax = 1024 * 1024;

/** The 32 lowercase hex digits of the revision CouchDB would give this edit. */
export function computeRevHash(input: RevHashInput): string {
  const hash = md5Hex(encodeRevTerm(input));
  if (writer.capacity() > writerKeepBytesMax) writer = new TermWriter(64 * 1024);
  return hash;
}

/** The revision id (position and hash) CouchDB would give this edit. */
export function computeRev(input: RevHashInput): Rev {
  return { pos: input.parent === null ? 1 : input.parent.pos + 1, hash: computeRevHash(input) };
}

/** The bytes that are hashed: a view valid until the next call. */
export function encodeRevTerm(input: RevHashInput): Buffer {
  const w = writer.reset();
  w.byte(TermTag.Version);
  w.listHeader(5);
  w.atom(input.deleted ? 'true' : 'false');
  if (input.parent === null) {
    w.integer(0);
    w.integer(0);
  } else {
    w.integer(input.parent.pos);
    if (!w.binaryHex16(input.parent.hash)) w.binaryBytes(parentHashBytes(input.parent.hash));
  }
  w.jsonObject(input.body);
  const attachments = input.attachments;
  if (attachments.length === 0) {
    w.nil();
  } else {
    w.listHeader(attachments.length);
    for (let i = attachments.length - 1; i >= 0; i--) {
      const attachment = attachments[i] as AttachmentDigest;
      w.tupleHeader(3);
      w.binaryString(attachment.name);
      w.binaryString(attachment.contentType);
      w.binaryBytes(attachment.md5);
    }
    w.nil();
  }
  w.nil();
  return w.bytes();
}

/** 16 bytes when the hash is 32 hex digits (any case), else its own bytes. */
export function parentHashBytes(hash: string): Buffer {
  return hexHash.test(hash) ? Buffer.from(hash, 'hex') : Buffer.from(hash, 'utf8');
}
