/** /{db}/{doc}, _design/{d}, _local/{d}: GET, HEAD, PUT, DELETE, COPY. (Being written.) */
import type { Router } from './router.js';

export function registerDocumentRoutes(_router: Router): void {}
