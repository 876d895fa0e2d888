/** `/{db}`: PUT, GET, HEAD, DELETE, POST; and the fallback for unknown `/{db}/_x` endpoints. (Being written.) */
import type { Router } from './router.js';

export function registerDatabaseRoutes(_router: Router): void {}
