/**
 * The composition root: builds the storage engine, the `Couch`, the
 * authenticator and the HTTP server from a resolved `SetteeConfig`. Nothing
 * else constructs these, and nothing below reads configuration itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Authenticator } from './auth/authenticator.js';
import type { PasswordHash } from './auth/password-hash.js';
import { formatPasswordHash, hashPassword, parsePasswordHash } from './auth/password-hash.js';
import type { SetteeConfig } from './config.js';
import { couchdbCompatibleVersion, defaultWriteWorker, formatIni, mergeIni, persistedIniName, readIniFile, setteeVersion } from './config.js';
import { Couch } from './db/couch.js';
import type { BoundAddress } from './http/http-server.js';
import { HttpServer } from './http/http-server.js';
import type { Logger } from './http/logger.js';
import { consoleLogger } from './http/logger.js';
import { createPipeline } from './http/pipeline.js';
import type { RouteFamily } from './http/routes.js';
import { buildRouter, routeFamilies } from './http/routes.js';
import type { HttpServices } from './http/services.js';
import { ViewIndexes } from './views/index-cache.js';
import { TaskRegistry } from './http/task-registry.js';
import { UuidGenerator } from './http/uuids.js';
import { attachReplicationService } from './http/routes-replicate-service.js';
import { ReplicationService } from './replicator/service.js';
import type { StorageEngine } from './storage/engine.js';
import { SqliteEngine } from './storage/sqlite-engine.js';

/** The `Server` header: CouchDB's shape first, so tools that sniff `CouchDB/` keep working. */
export const serverHeader = `CouchDB/${couchdbCompatibleVersion} (Settee/${setteeVersion}; Node.js/${process.versions.node})`;

/** Running tasks shown by `/_active_tasks` at most. */
const activeTasksMax = 10_000;

export interface PreparedData {
  readonly config: SetteeConfig;
  /** Set when no admin was configured anywhere and one was created: show it once. */
  readonly createdAdmin?: { readonly name: string; readonly password: string };
}

/**
 * Makes the data directory usable: creates it, and generates and persists in
 * `<data>/settee.ini` what must survive restarts — a server admin if none is
 * configured anywhere (never an "admin party"), the cookie secret, the server
 * uuid. Returns the configuration completed with them.
 */
export async function prepareDataDir(config: SetteeConfig): Promise<PreparedData> {
  mkdirSync(config.dataDir, { recursive: true });
  const path = join(config.dataDir, persistedIniName);
  const additions = new Map<string, Map<string, string>>();
  const add = (section: string, key: string, value: string): void => {
    const entries = additions.get(section) ?? new Map<string, string>();
    entries.set(key, value);
    additions.set(section, entries);
  };
  let createdAdmin: PreparedData['createdAdmin'];
  const admins = new Map(config.admins);
  if (admins.size === 0) {
    const password = randomBytes(18).toString('base64url');
    const hash = formatPasswordHash(await hashPassword(password, { iterations: config.passwordIterations }));
    admins.set('admin', hash);
    add('admins', 'admin', hash);
    createdAdmin = { name: 'admin', password };
  }
  const secret = config.secret ?? randomBytes(16).toString('hex');
  if (config.secret === undefined) add('chttpd_auth', 'secret', secret);
  const serverUuid = config.serverUuid ?? randomBytes(16).toString('hex');
  if (config.serverUuid === undefined) add('couchdb', 'uuid', serverUuid);
  if (additions.size > 0) {
    const merged = mergeIni(readIniFile(path, { optional: true }), additions);
    const header = '; Written by Settee: generated settings that must survive restarts.\n; Passwords are stored hashed.';
    const temporary = `${path}.tmp-${process.pid}`;
    writeFileSync(temporary, formatIni(merged, header), { mode: 0o600 });
    renameSync(temporary, path);
  }
  const prepared: PreparedData = { config: { ...config, admins, secret, serverUuid } };
  return createdAdmin ? { ...prepared, createdAdmin } : prepared;
}

/** Hashes clear-text admin passwords (in memory only) and parses stored hashes. */
export async function adminHashes(config: SetteeConfig): Promise<Map<string, PasswordHash>> {
  const hashes = new Map<string, PasswordHash>();
  for (const [name, stored] of config.admins) {
    hashes.set(name, parsePasswordHash(stored) ?? (await hashPassword(stored, { iterations: config.passwordIterations })));
  }
  return hashes;
}

export interface StartOptions {
  readonly config: SetteeConfig;
  readonly logger?: Logger;
  /** Defaults to a `SqliteEngine` on `config.dataDir`. */
  readonly engine?: StorageEngine;
  /** Defaults to every family in `http/routes.ts`. */
  readonly routeFamilies?: readonly RouteFamily[];
}

export interface RunningServer {
  readonly address: BoundAddress;
  readonly services: HttpServices;
  /** Graceful: stop accepting, finish in-flight requests, then close the databases. */
  close(): Promise<void>;
}

export function createEngine(config: SetteeConfig): StorageEngine {
  return new SqliteEngine({
    dataDir: config.dataDir,
    openDatabasesMax: config.limits.openDatabasesMax,
    writeWorker: config.writeWorker ?? defaultWriteWorker,
  });
}

/**
 * CouchDB creates `_users` and `_replicator` at startup. Both get the
 * admin-only default `_security`. TODO(users): CouchDB also lets a user read
 * and update only their own `_users` document; that belongs to the users layer.
 */
export const systemDatabaseNames: readonly string[] = ['_users', '_replicator'];

async function createSystemDatabases(couch: Couch): Promise<void> {
  for (const name of systemDatabaseNames) {
    if (!(await couch.exists(name))) await couch.createDatabase(name);
  }
}

/** Starts serving `config` (which `prepareDataDir` should have completed). */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const config = options.config;
  const logger = options.logger ?? consoleLogger(config.logLevel);
  const engine = options.engine ?? createEngine(config);
  const couch = new Couch({ engine, limits: config.limits });
  await createSystemDatabases(couch);
  const authenticator = new Authenticator({
    admins: await adminHashes(config),
    secret: config.secret ?? randomBytes(16).toString('hex'),
    sessionTimeoutSeconds: config.sessionTimeoutSeconds,
    limits: config.httpLimits,
  });
  const services: HttpServices = {
    couch,
    authenticator,
    uuids: new UuidGenerator({ algorithm: config.uuidAlgorithm, utcIdSuffix: config.utcIdSuffix }),
    tasks: new TaskRegistry({ tasksMax: activeTasksMax }),
    limits: config.limits,
    httpLimits: config.httpLimits,
    logger,
    welcome: {
      version: couchdbCompatibleVersion,
      gitSha: '',
      uuid: config.serverUuid ?? randomBytes(16).toString('hex'),
      features: [],
      vendor: { name: 'Settee', version: setteeVersion },
    },
    views: new ViewIndexes({
      indexesMax: config.limits.viewIndexesMax,
      rowsMax: config.limits.viewIndexRowsMax,
      timeoutMs: config.limits.viewFunctionTimeoutMs,
      pageRowsMax: config.limits.scanBatchRowsMax,
      log: (message) => logger.info(`views: ${message}`),
    }),
  };
  const router = buildRouter(options.routeFamilies ?? routeFamilies);
  const pipeline = createPipeline(router, services, {
    serverHeader,
    sessionTimeoutSeconds: config.sessionTimeoutSeconds,
    logger,
  });
  let http: HttpServer;
  try {
    http = await HttpServer.listen({ host: config.host, port: config.port, limits: config.httpLimits, pipeline, logger });
  } catch (error) {
    await couch.close();
    throw error;
  }
  // Jobs of `_replicator` documents resume now; `_replicate` jobs are not kept across restarts (as CouchDB).
  const replicator = new ReplicationService({ couch, serverUuid: services.welcome.uuid, baseUrl: http.address.url, tasks: services.tasks, logger });
  attachReplicationService(services, replicator);
  await replicator.start();
  let closing: Promise<void> | undefined;
  return {
    address: http.address,
    services,
    close: () => {
      closing ??= (async () => {
        await replicator.close();
        const drained = http.close(); // stops accepting at once
        couch.endLiveFeeds(); // live _changes feeds answer now instead of holding the drain
        await drained;
        await couch.close();
      })();
      return closing;
    },
  };
}
