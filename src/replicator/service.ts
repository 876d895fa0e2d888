/**
 * The replicator of one server: the scheduler, the `_replicator` database
 * processor, and the operations behind `POST /_replicate` and
 * `/_scheduler/*`. Built and closed by the composition root; the HTTP routes
 * only translate requests to these calls.
 */
import { CouchError, notFound, unauthorized } from '../core/errors.js';
import { parseJson } from '../core/json-parse.js';
import type { JsonObject } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import type { Couch } from '../db/couch.js';
import { renderDoc } from '../db/render.js';
import type { Endpoint } from './endpoint.js';
import type { EndpointContext, LocalIdentity } from './endpoints.js';
import { buildEndpoint, localDbUrl } from './endpoints.js';
import type { ReplicationEnvironment } from './environment.js';
import type { EndpointSpec, ReplicationRequest } from './replication-request.js';
import { displayUrl, parseReplicationRequest } from './replication-request.js';
import { ReplicatorDb, replicatorDbName } from './replicator-db.js';
import { jobReport, scheduledDocReport, terminalDocReport, unscheduledDocReport } from './scheduler-reports.js';
import type { SchedulerLogger, TaskSink } from './scheduler.js';
import { Scheduler } from './scheduler.js';

export interface ReplicationServiceOptions {
  readonly couch: Couch;
  readonly serverUuid: string;
  /** This server's own URL (`http://host:port`), for local names in `_replicator` documents. */
  readonly baseUrl: string;
  readonly tasks?: TaskSink;
  readonly logger?: SchedulerLogger;
  readonly replicationJobsMax?: number;
  readonly backoffMsInitial?: number;
  readonly backoffMsMax?: number;
  readonly environment?: ReplicationEnvironment;
}

/** Who asks for a replication, and how local names are checked for them. */
export interface Caller {
  readonly user: string | null;
  readonly isAdmin: boolean;
  /** Identity of local names (CouchDB rewrites them to this server's URL with the caller's credentials). */
  readonly local: LocalIdentity;
  /** Throws unless the caller may read (`source`) or write (`target`) the local database. */
  authorizeLocal(name: string, role: 'source' | 'target'): Promise<void>;
}

export interface ReplicateAnswer {
  readonly status: number;
  readonly body: JsonObject;
}

export interface PageQuery {
  readonly limit: number;
  readonly skip: number;
  /** Only documents in these states (`states=`); empty for all. */
  readonly states?: readonly string[];
}

/** The states `/_scheduler/docs?states=` accepts (couch_replicator:replication_states). */
export const replicationStates = ['initializing', 'error', 'running', 'pending', 'crashing', 'completed', 'failed'] as const;

export class ReplicationService {
  readonly scheduler: Scheduler;
  readonly replicatorDb: ReplicatorDb;
  private readonly couch: Couch;
  private readonly environment: ReplicationEnvironment | undefined;

  constructor(options: ReplicationServiceOptions) {
    this.couch = options.couch;
    this.environment = options.environment;
    this.scheduler = new Scheduler({
      serverUuid: options.serverUuid,
      ...(options.tasks !== undefined ? { tasks: options.tasks } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.replicationJobsMax !== undefined ? { replicationJobsMax: options.replicationJobsMax } : {}),
      ...(options.backoffMsInitial !== undefined ? { backoffMsInitial: options.backoffMsInitial } : {}),
      ...(options.backoffMsMax !== undefined ? { backoffMsMax: options.backoffMsMax } : {}),
      ...(options.environment !== undefined ? { environment: options.environment } : {}),
    });
    this.replicatorDb = new ReplicatorDb({
      couch: options.couch,
      scheduler: this.scheduler,
      baseUrl: options.baseUrl,
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.environment !== undefined ? { environment: options.environment } : {}),
    });
  }

  start(): Promise<void> {
    return this.replicatorDb.start();
  }

  async close(): Promise<void> {
    await this.replicatorDb.close();
    await this.scheduler.close();
  }

  /** `POST /_replicate`: runs, starts or cancels a replication. */
  async replicate(body: JsonObject, caller: Caller): Promise<ReplicateAnswer> {
    const parsed = parseReplicationRequest(body);
    if (parsed.kind === 'cancel-id') return this.cancel(parsed.replicationId, caller);
    const request = parsed.request;
    const context: EndpointContext = {
      couch: this.couch,
      local: caller.local,
      ...(this.environment !== undefined ? { environment: this.environment } : {}),
    };
    const source = buildEndpoint(request.source, request, context);
    const target = buildEndpoint(request.target, request, context);
    if (parsed.kind === 'cancel') return this.cancel(this.scheduler.idOf({ source, target, request }).id, caller);
    await this.authorize(request, caller);
    const job = this.scheduler.add({
      request,
      source,
      target,
      sourceUrl: this.display(request.source, caller.local),
      targetUrl: this.display(request.target, caller.local),
      user: caller.user,
      origin: { kind: 'replicate' },
    });
    if (request.options.continuous === true) return { status: 202, body: { ok: true, _local_id: job.id.id } };
    return { status: 200, body: await this.scheduler.wait(job) };
  }

  private async cancel(id: string, caller: Caller): Promise<ReplicateAnswer> {
    const job = this.scheduler.get(id);
    if (job === undefined) throw notFound('missing');
    if (!caller.isAdmin && job.spec.user !== caller.user) throw unauthorized('You are not a server admin.');
    await this.scheduler.remove(job.id.id);
    return { status: 200, body: { ok: true, _local_id: job.id.id } };
  }

  private async authorize(request: ReplicationRequest, caller: Caller): Promise<void> {
    if (caller.isAdmin) return;
    if (request.source.kind === 'local') await caller.authorizeLocal(request.source.name, 'source');
    if (request.target.kind === 'local') {
      if (request.options.createTarget === true && !(await this.couch.exists(request.target.name))) {
        throw unauthorized(`unauthorized to access or create database ${this.display(request.target, caller.local)}`);
      }
      await caller.authorizeLocal(request.target.name, 'target');
    }
  }

  private display(spec: EndpointSpec, local: LocalIdentity): string {
    return displayUrl(spec, (name) => localDbUrl(local.baseUrl, name));
  }

  // ---- /_scheduler ----

  jobs(query: PageQuery): JsonObject {
    const all = this.scheduler.list().sort((a, b) => (a.id.id < b.id.id ? -1 : a.id.id > b.id.id ? 1 : 0));
    const offset = Math.min(query.skip, all.length);
    return { total_rows: all.length, offset, jobs: all.slice(offset, offset + query.limit).map(jobReport) };
  }

  job(id: string): JsonObject {
    const job = this.scheduler.get(id);
    if (job === undefined) throw notFound('missing');
    return jobReport(job);
  }

  async docs(query: PageQuery): Promise<JsonObject> {
    const db = await this.replicatorDatabase();
    const { totalRows, records } = await db.allDocs({ limit: Number.MAX_SAFE_INTEGER, skip: 0 });
    const reports: JsonObject[] = [];
    for (const record of records) {
      if (record.id.startsWith('_design/')) continue;
      const report = await this.docReportOf(record.id);
      if (report === undefined) continue;
      if (query.states !== undefined && query.states.length > 0 && !query.states.includes(String(report['state']))) continue;
      reports.push(report);
    }
    const offset = Math.min(query.skip, reports.length);
    return { total_rows: totalRows, offset, docs: reports.slice(offset, offset + query.limit) };
  }

  async doc(docId: string): Promise<JsonObject> {
    await this.replicatorDatabase();
    const report = await this.docReportOf(docId);
    if (report === undefined) throw notFound('missing');
    return report;
  }

  private async replicatorDatabase() {
    try {
      return await this.couch.database(replicatorDbName);
    } catch (error) {
      throw error instanceof CouchError && error.status === 404 ? notFound('Database does not exist.') : error;
    }
  }

  private async docReportOf(docId: string): Promise<JsonObject | undefined> {
    const entry = this.replicatorDb.entries.get(docId);
    if (entry !== undefined) {
      if (entry.state !== 'scheduled') return unscheduledDocReport(replicatorDbName, entry);
      return scheduledDocReport(replicatorDbName, entry, entry.jobId === undefined ? undefined : this.scheduler.get(entry.jobId));
    }
    const db = await this.replicatorDatabase();
    let doc: JsonObject;
    try {
      const parsed = parseJson(renderDoc(await db.getDoc(docId)));
      if (!isJsonObject(parsed)) return undefined;
      doc = parsed;
    } catch {
      return undefined;
    }
    return terminalDocReport(replicatorDbName, doc);
  }
}

export type { Endpoint };
