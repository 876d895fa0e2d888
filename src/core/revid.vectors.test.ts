/**
 * Replays every edit recorded from CouchDB 3.4.3 (../shared/vectors/revision-ids.json)
 * and checks that Settee computes the same `_rev`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parseJson } from './json-parse.js';
import { filterJsonObject, orderedKeys } from './json-order.js';
import { isJsonObject, type JsonObject } from './json-value.js';
import { computeRev, type AttachmentDigest } from './revid.js';
import { formatRev, parseRev } from './rev.js';

interface Vector {
  readonly body: string;
  readonly parent: string | null;
  readonly deleted: boolean;
  readonly rev: string;
  readonly note?: string;
}

const compressibleTypes = new Set(['application/javascript', 'application/json', 'application/xml']);
const isCompressible = (contentType: string): boolean =>
  contentType.startsWith('text/') || compressibleTypes.has(contentType);

/**
 * CouchDB stores compressible attachments gzipped (level 8, reference zlib) and
 * digests the compressed bytes. Node's zlib compresses differently, and the
 * faithful port (pako) is not a dependency yet, so these digests were made once
 * with the reference zlib: MD5 of the raw bytes -> MD5 of CouchDB's gzip.
 */
const gzipDigests: Readonly<Record<string, string>> = {
  '018a953aae16b99c66e45b1f58ed7460': '44498048a9a2ce2835dae52233f69f68',
  '22b15f67cdc8dc795ecdd9546c5a3652': 'd6f5dc9aa8e9da1223b2114292dea6c3',
  '2d608861f033870c1d2c9ecd0fcc0157': 'cce0a24434f5782a0cda9d2297ec596f',
  '2f600131f565444fe32a9f088b0b7479': 'df62375afdd3f00716d5fe8fe7e1b7bc',
  '3a1309b33a456156f2454ac13ebfa50f': '91827f9f1589466cd1cefa5d45297819',
  '427086e7b736220b332879493573d8dc': 'b3f7b440429c0b51b99484268a0a36ca',
  '5813a3754c97c4e213fdd345c6e14336': '33ac6f5f0ab637479e1841a7bd172ed5',
  '5fc061daaee8c44568802a99dc79c43a': '21fa451a3a0371e6101b0c549bae4a0f',
  '63d7927c5bb321bd7aec81288cfb735d': '1f1534ebea86987bbe5cb886c6170d05',
  '7e4cd9014faedf655101f06dcb99ef33': '032c070b9bb49ca982c7b72e86f55037',
  '8634e731224b0468a5e9486d968d837d': '50e607e1058ca68de24784fd0f89802b',
  '93539e244bed697eb4f2f44bae2089c9': '96ae75974bd08d82b82fd23de4f17099',
  '94ba58ba754ca31fb7c053e83f3c6267': '304b3f05bd8d251b48a164a965d16243',
  'a69bf5044d1fa54c103e888689937023': 'dc06811e7b41bac7535de00e596a478c',
  'a99f77f93c34c8e5779100bdd8bd11c7': 'd7654b58ab6d41c0c2437e19f003da85',
  'aafceb9704906d0d26e359c4fed37eac': 'a48fa03cd4caedd7d557c9a9dd330608',
  'afcf1868077c565b39d17916dd459d38': '645a2901b3bac995cb16ccafef4b1795',
  'c26ac4876495328882b7425cab35ce36': '01ef493c78a59d63e48b51bfb484d6a6',
  'e193ac07f9d7579a3e807b3747501fba': '73103636ac4485bbc61c28b6f6dd88c2',
  'ebb0434e057f3d400da88fcd16a37cda': '6b6b5d3046e191059ae217841022de6d',
  'fbede79761a515e2c60779857f6d2f97': '338c52e125bddc4856cf5c15b2c51d72',
};

function md5(bytes: Uint8Array): Buffer {
  return createHash('md5').update(bytes).digest();
}

function attachmentDigests(doc: JsonObject): AttachmentDigest[] {
  const stubs = doc._attachments;
  if (!isJsonObject(stubs)) return [];
  return orderedKeys(stubs).map((name) => {
    const stub = stubs[name] as JsonObject;
    const contentType = stub.content_type as string;
    const raw = Buffer.from(stub.data as string, 'base64');
    if (!isCompressible(contentType)) return { name, contentType, md5: md5(raw) };
    const stored = gzipDigests[md5(raw).toString('hex')];
    assert.ok(stored !== undefined, `no reference gzip digest for attachment ${name}`);
    return { name, contentType, md5: Buffer.from(stored, 'hex') };
  });
}

const vectors = JSON.parse(readFileSync('../shared/vectors/revision-ids.json', 'utf8')) as Vector[];

test('replays all 1,029 CouchDB revision vectors', () => {
  assert.equal(vectors.length, 1029);
  const failures: string[] = [];
  for (const [index, vector] of vectors.entries()) {
    const doc = parseJson(vector.body);
    assert.ok(isJsonObject(doc));
    const body = filterJsonObject(doc, (key) => !key.startsWith('_'));
    const rev = computeRev({
      deleted: vector.deleted,
      parent: vector.parent === null ? null : parseRev(vector.parent),
      body,
      attachments: attachmentDigests(doc),
    });
    if (formatRev(rev) !== vector.rev) failures.push(`#${index} (${vector.note ?? 'edit'}): ${formatRev(rev)} != ${vector.rev}`);
  }
  assert.deepEqual(failures, []);
});

test('the reference gzip digests match pako when it is installed', async (t) => {
  let pako: { gzip(data: Uint8Array, options: { level: number }): Uint8Array };
  try {
    const module = (await import('pako' as string)) as { default?: typeof pako } & typeof pako;
    pako = module.default ?? module;
  } catch {
    t.skip('pako is not installed');
    return;
  }
  for (const vector of vectors.filter((v) => v.note === 'inline attachments')) {
    const stubs = (parseJson(vector.body) as JsonObject)._attachments as JsonObject;
    for (const name of orderedKeys(stubs)) {
      const stub = stubs[name] as JsonObject;
      if (!isCompressible(stub.content_type as string)) continue;
      const raw = Buffer.from(stub.data as string, 'base64');
      const expected = gzipDigests[md5(raw).toString('hex')];
      assert.equal(md5(pako.gzip(raw, { level: 8 })).toString('hex'), expected);
    }
  }
});
