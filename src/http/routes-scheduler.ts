/**
 * `/_scheduler/jobs[/{id}]` and `/_scheduler/docs[/_replicator[/{docid}]]`
 * (CouchDB's couch_replicator_httpd:handle_scheduler_req): server admins only.
 */
import { queryParseError } from '../core/errors.js';
import { replicationStates } from '../replicator/service.js';
import type { PageQuery } from '../replicator/service.js';
import type { RequestContext } from './request.js';
import { sendJson } from './response.js';
import type { Router } from './router.js';
import { replicationService } from './routes-replicate-service.js';
import type { HttpServices } from './services.js';

/** `limit` when none is given (CouchDB's `DEFAULT_TASK_LIMIT` for jobs). */
export const schedulerJobsLimitDefault = 100;
/** Largest `limit`/`skip` accepted. */
export const schedulerPageMax = 1_000_000;

export function registerSchedulerRoutes(router: Router): void {
  router.addServerRoute('_scheduler', { allowed: 'GET,HEAD', access: 'server-admin', methods: { GET: scheduler } });
}

async function scheduler(ctx: RequestContext, services: HttpServices): Promise<void> {
  const replicator = replicationService(services);
  const [, kind, ...rest] = ctx.segments;
  if (kind === 'jobs' && rest.length === 0) {
    sendJson(ctx, 200, replicator.jobs(pageQuery(ctx, schedulerJobsLimitDefault)));
    return;
  }
  if (kind === 'jobs' && rest.length === 1) {
    sendJson(ctx, 200, replicator.job(rest[0] ?? ''));
    return;
  }
  if (kind === 'docs') {
    const path = rest.join('/');
    if (path === '' || path === '_replicator') {
      sendJson(ctx, 200, await replicator.docs({ ...pageQuery(ctx, schedulerPageMax), states: states(ctx) }));
      return;
    }
    if (rest.length === 2 && rest[0] === '_replicator') {
      sendJson(ctx, 200, await replicator.doc(rest[1] ?? ''));
      return;
    }
  }
  sendJson(ctx, 404, { error: 'not found' });
}

function pageQuery(ctx: RequestContext, limitDefault: number): PageQuery {
  return { limit: integer(ctx, 'limit', limitDefault), skip: integer(ctx, 'skip', 0) };
}

/** CouchDB's `parse_int_param`: an integer in range, else `query_parse_error`. */
function integer(ctx: RequestContext, name: string, fallback: number): number {
  const text = ctx.query.get(name);
  if (text === undefined) return fallback;
  if (!/^[+-]?[0-9]+$/.test(text)) throw queryParseError(`${name} must be an integer`);
  const value = Number(text);
  if (value < 0 || value > schedulerPageMax) throw queryParseError(`${name} not in range of [0,${schedulerPageMax}]`);
  return value;
}

function states(ctx: RequestContext): string[] {
  const text = ctx.query.get('states');
  if (text === undefined) return [];
  const wanted = text.split(',').filter((state) => state.length > 0).map((state) => state.toLowerCase());
  const known: readonly string[] = replicationStates;
  const unknown = wanted.filter((state) => !known.includes(state));
  if (unknown.length > 0) throw queryParseError(`Unknown states [${unknown.join(',')}]. Choose from: [${known.join(',')}]`);
  return wanted;
}
