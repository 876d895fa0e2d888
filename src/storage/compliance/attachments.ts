/** Compliance: attachment data stored per (document, digest), shared by revisions, dropped by compaction. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RevisionBody } from '../engine.js';
import { docWrite, hash, linearTree, withDatabase, type EngineFactory } from './fixtures.js';

const bytesA = new Uint8Array([0, 1, 2, 255]);
const bytesB = new Uint8Array([9, 8, 7]);

/** A body whose attachment metadata names `digests` (the only part an engine reads). */
function bodyNaming(rev: string, digests: readonly string[]): RevisionBody {
  const members = digests.map(
    (digest, index) => `"a${index}.bin":{"content_type":"application/octet-stream","revpos":1,"digest":"${digest}","length":1}`,
  );
  return { rev, json: '{}', attachmentsJson: `{${members.join(',')}}` };
}

export function registerAttachmentTests(factory: EngineFactory): void {
  test('attachment data is written with its revision and read back by (doc, digest)', async () => {
    await withDatabase(factory, async ({ store }) => {
      const rev = `1-${hash('a')}`;
      await store.write({
        docs: [
          {
            ...docWrite({ id: 'a', tree: linearTree(1, [hash('a')]), winningRev: rev, newBodies: [bodyNaming(rev, ['md5-A'])] }),
            newAttachments: [{ digest: 'md5-A', bytes: bytesA }],
          },
        ],
      });
      assert.deepEqual([...((await store.getAttachmentData('a', 'md5-A')) ?? [])], [...bytesA]);
      assert.equal(await store.getAttachmentData('a', 'md5-B'), undefined);
      assert.equal(await store.getAttachmentData('other', 'md5-A'), undefined, 'data belongs to its document');
      const bodies = await store.getBodies('a', [rev]);
      assert.equal(bodies.get(rev)?.attachmentsJson, bodyNaming(rev, ['md5-A']).attachmentsJson);
    });
  });

  test('an empty attachment and data written again under the same digest', async () => {
    await withDatabase(factory, async ({ store }) => {
      const rev1 = `1-${hash('e1')}`;
      const rev2 = `2-${hash('e2')}`;
      await store.write({
        docs: [
          {
            ...docWrite({ id: 'e', tree: linearTree(1, [hash('e1')]), winningRev: rev1, newBodies: [bodyNaming(rev1, ['md5-E'])] }),
            newAttachments: [{ digest: 'md5-E', bytes: new Uint8Array(0) }],
          },
        ],
      });
      await store.write({
        docs: [
          {
            ...docWrite({
              id: 'e',
              tree: linearTree(2, [hash('e2'), hash('e1')]),
              winningRev: rev2,
              newBodies: [bodyNaming(rev2, ['md5-E'])],
            }),
            newAttachments: [{ digest: 'md5-E', bytes: new Uint8Array(0) }],
          },
        ],
      });
      assert.equal((await store.getAttachmentData('e', 'md5-E'))?.length, 0);
    });
  });

  test('compaction keeps data a stored body names and drops the rest', async () => {
    await withDatabase(factory, async ({ store }) => {
      const rev1 = `1-${hash('c1')}`;
      const rev2 = `2-${hash('c2')}`;
      await store.write({
        docs: [
          {
            ...docWrite({ id: 'c', tree: linearTree(1, [hash('c1')]), winningRev: rev1, newBodies: [bodyNaming(rev1, ['md5-A', 'md5-B'])] }),
            newAttachments: [
              { digest: 'md5-A', bytes: bytesA },
              { digest: 'md5-B', bytes: bytesB },
            ],
          },
        ],
      });
      // rev 2 keeps A (shared, not written again) and drops B
      await store.write({
        docs: [
          docWrite({ id: 'c', tree: linearTree(2, [hash('c2'), hash('c1')]), winningRev: rev2, newBodies: [bodyNaming(rev2, ['md5-A'])] }),
        ],
      });
      assert.ok((await store.getAttachmentData('c', 'md5-B')) !== undefined, 'data stays until compaction');
      await store.compact();
      assert.deepEqual([...((await store.getAttachmentData('c', 'md5-A')) ?? [])], [...bytesA]);
      assert.equal(await store.getAttachmentData('c', 'md5-B'), undefined);
    });
  });

  test('compaction drops the data of a purged document', async () => {
    await withDatabase(factory, async ({ store }) => {
      const rev = `1-${hash('p')}`;
      await store.write({
        docs: [
          {
            ...docWrite({ id: 'p', tree: linearTree(1, [hash('p')]), winningRev: rev, newBodies: [bodyNaming(rev, ['md5-A'])] }),
            newAttachments: [{ digest: 'md5-A', bytes: bytesA }],
          },
        ],
      });
      await store.purge([{ id: 'p', record: null, purgedRevs: [rev] }]);
      await store.compact();
      assert.equal(await store.getAttachmentData('p', 'md5-A'), undefined);
    });
  });
}
