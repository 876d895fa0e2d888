/**
 * Where the routes of `_replicate` and `_scheduler` find the server's
 * `ReplicationService`: the composition root attaches it to the services
 * object it built.
 *
 * TODO(lead): a `replicator: ReplicationService` member of `HttpServices`
 * would say this directly; kept apart while `services.ts` is shared work.
 */
import { serviceUnavailable } from '../core/errors.js';
import type { ReplicationService } from '../replicator/service.js';
import type { HttpServices } from './services.js';

const attached = new WeakMap<HttpServices, ReplicationService>();

export function attachReplicationService(services: HttpServices, replicator: ReplicationService): void {
  attached.set(services, replicator);
}

/** The server's replicator; 503 on a server built without one. */
export function replicationService(services: HttpServices): ReplicationService {
  const replicator = attached.get(services);
  if (replicator === undefined) throw serviceUnavailable('The replicator is not running.');
  return replicator;
}
