/**
 * What route handlers may use: the server's shared services, built once by
 * the composition root (`server.ts`) and handed to every handler.
 */
import type { Authenticator } from '../auth/authenticator.js';
import type { HttpLimits, Limits } from '../core/limits.js';
import type { Couch } from '../db/couch.js';
import type { Logger } from './logger.js';
import type { TaskRegistry } from './task-registry.js';
import type { UuidGenerator } from './uuids.js';
import type { ViewIndexes } from '../views/index-cache.js';

/** The fields of `GET /` that are not fixed. */
export interface WelcomeInfo {
  readonly version: string;
  readonly gitSha: string;
  /** This server's stable id (`[couchdb] uuid`). */
  readonly uuid: string;
  readonly features: readonly string[];
  readonly vendor: Readonly<Record<string, string>>;
}

export interface HttpServices {
  readonly couch: Couch;
  readonly authenticator: Authenticator;
  readonly uuids: UuidGenerator;
  readonly tasks: TaskRegistry;
  readonly limits: Limits;
  readonly httpLimits: HttpLimits;
  readonly logger: Logger;
  readonly welcome: WelcomeInfo;
  /** The server's in-memory view indexes (bounded by `limits.viewIndexesMax` / `viewIndexRowsMax`). */
  readonly views: ViewIndexes;
}
