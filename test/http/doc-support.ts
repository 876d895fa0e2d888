/** Helpers shared by the document endpoint tests (test/http/doc-*.test.ts). */
import assert from 'node:assert/strict';
import type { InjectResponse, TestServer } from '../support/http.js';

/** A fresh database, created by the admin. */
export async function createDb(server: TestServer, name: string): Promise<string> {
  const created = await server.request({ method: 'PUT', path: `/${name}`, auth: 'admin' });
  assert.equal(created.status, 201, created.text);
  return name;
}

/** PUT as admin, expecting success; returns the new rev. */
export async function putDoc(server: TestServer, path: string, body: object | string, headers: Record<string, string> = {}): Promise<string> {
  const response = await server.request({ method: 'PUT', path, body, auth: 'admin', headers });
  assert.ok(response.status === 201 || response.status === 200, `${response.status} ${response.text}`);
  return (response.json as { rev: string }).rev;
}

/** Creates conflicting branches of `id` through `new_edits=false`. */
export async function putReplicated(server: TestServer, db: string, id: string, rev: string, ids: string[], body: Record<string, unknown>): Promise<void> {
  const start = Number(rev.split('-')[0]);
  const response = await server.request({
    method: 'PUT',
    path: `/${db}/${id}?new_edits=false`,
    auth: 'admin',
    body: { ...body, _rev: rev, _revisions: { start, ids } },
  });
  // a replicated deletion answers 200, as any write that deletes
  assert.equal(response.status, body['_deleted'] === true ? 200 : 201, response.text);
}

export function errorOf(response: InjectResponse): { error: string; reason: string } {
  return response.json as { error: string; reason: string };
}

export const h = (char: string): string => char.repeat(32);
