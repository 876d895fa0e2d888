/** /{db}/_compact, _revs_limit, _security, _purge, _purged_infos, _purged_infos_limit, _ensure_full_commit, _view_cleanup. (Being written.) */
import type { Router } from './router.js';

export function registerDbAdminRoutes(_router: Router): void {}
