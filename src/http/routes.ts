/**
 * The route table: every URL family registers here, in one place.
 *
 * To add a family, write `routes-<family>.ts` exporting
 * `register<Family>Routes(router: Router): void` that calls
 * `router.addDatabaseRoute / addDatabaseEndpoint / addDocumentRoute /
 * addDesignEndpoint / addServerRoute` (see `router.ts`), and call it below.
 */
import { registerAllDbsRoutes } from './routes-all-dbs.js';
import { registerServerRoutes } from './routes-server.js';
import { registerSessionRoutes } from './routes-session.js';
import { Router } from './router.js';
import { registerDatabaseRoutes } from './routes-database.js';
import { registerAllDocsRoutes } from './routes-all-docs.js';
import { registerBulkRoutes } from './routes-bulk.js';
import { registerDbAdminRoutes } from './routes-db-admin.js';
import { registerDocumentRoutes } from './routes-document.js';
import { registerChangesRoutes } from './routes-changes.js';
import { registerReplicateRoutes } from './routes-replicate.js';
import { registerViewRoutes } from './routes-views.js';

export type RouteFamily = (router: Router) => void;

export const routeFamilies: readonly RouteFamily[] = [
  registerServerRoutes,
  registerSessionRoutes,
  registerAllDbsRoutes,
  registerDatabaseRoutes,
  registerAllDocsRoutes,
  registerBulkRoutes,
  registerDbAdminRoutes,
  registerDocumentRoutes,
  registerChangesRoutes,
  registerReplicateRoutes,
  registerViewRoutes,
];

export function buildRouter(families: readonly RouteFamily[] = routeFamilies): Router {
  const router = new Router();
  for (const register of families) register(router);
  return router;
}
