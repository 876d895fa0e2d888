/** /{db}/_all_docs, _design_docs, _local_docs. (Being written.) */
import type { Router } from './router.js';

export function registerAllDocsRoutes(_router: Router): void {}
