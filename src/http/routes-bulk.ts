/** /{db}/_bulk_docs, _bulk_get, _revs_diff, _missing_revs. (Being written.) */
import type { Router } from './router.js';

export function registerBulkRoutes(_router: Router): void {}
