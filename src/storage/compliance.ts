/**
 * The storage-engine compliance suite: every engine runs these tests, and an
 * engine skips one only by declaring the matching capability false (the
 * persistence test consults `capabilities.persistent`; nothing else skips).
 *
 * Usage, in an engine's test file:
 *   runEngineCompliance('sqlite', async () => ({ engine, cleanup, reopen }));
 * The factory is called once per test and must return a fresh, empty engine.
 */
import { describe } from 'node:test';
import { registerAttachmentTests } from './compliance/attachments.js';
import { registerDatabaseTests } from './compliance/databases.js';
import { registerDocumentTests } from './compliance/documents.js';
import { registerMaintenanceTests } from './compliance/maintenance.js';
import { registerRecordReadTests } from './compliance/record-reads.js';
import type { EngineFactory, EngineFixture } from './compliance/fixtures.js';

export type { EngineFactory, EngineFixture };

export function runEngineCompliance(label: string, factory: EngineFactory): void {
  describe(`storage engine compliance: ${label}`, () => {
    registerDatabaseTests(factory);
    registerDocumentTests(factory);
    registerRecordReadTests(factory);
    registerMaintenanceTests(factory);
    registerAttachmentTests(factory);
  });
}
