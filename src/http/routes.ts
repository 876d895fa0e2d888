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

export type RouteFamily = (router: Router) => void;

export const routeFamilies: readonly RouteFamily[] = [
  registerServerRoutes,
  registerSessionRoutes,
  registerAllDbsRoutes,
  // registerDatabaseRoutes,   /{db}: PUT, GET, HEAD, DELETE, POST — and setFallback for /{db}/_unknown
  // registerDocumentRoutes,   /{db}/{doc}, _design/{d}, _local/{d}, attachments
  // registerAllDocsRoutes, registerChangesRoutes, registerBulkRoutes, …
];

export function buildRouter(families: readonly RouteFamily[] = routeFamilies): Router {
  const router = new Router();
  for (const register of families) register(router);
  return router;
}
