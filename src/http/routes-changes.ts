/** /{db}/_changes: all feeds. (Being written.) */
import type { Router } from './router.js';

export function registerChangesRoutes(_router: Router): void {}
