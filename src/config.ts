/**
 * Settee's configuration: defaults < CouchDB-style ini files < environment
 * (`SETTEE_*`) < command-line flags. See docs/configuration.md for every
 * option.
 *
 * Two ini files are read: the one named by `--config`/`SETTEE_CONFIG` (yours,
 * never written), and `<data>/settee.ini`, where Settee persists what it
 * generates (the first admin, the cookie secret, the server uuid). Yours wins
 * where both set a key.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { HttpLimits, Limits } from './core/limits.js';
import { defaultHttpLimits, defaultLimits } from './core/limits.js';
import type { LogLevel } from './http/logger.js';
import type { UuidAlgorithm } from './http/uuids.js';
import { uuidAlgorithms } from './http/uuids.js';

/** Settee's own version (kept equal to package.json's by a test). */
export const setteeVersion = '0.1.0';

/** The CouchDB version Settee reports and whose behaviour it reproduces. */
export const couchdbCompatibleVersion = '3.4.3';

export const persistedIniName = 'settee.ini';

export type IniSections = Map<string, Map<string, string>>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * A strict reader of CouchDB's ini dialect: `[section]`, `key = value`, whole
 * line comments starting with `;` or `#`, inline comments after ` ;`. Anything
 * else is an error naming the line, so a typo never silently does nothing.
 */
export function parseIni(text: string, source = 'ini'): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, string> | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return;
    const section = /^\[([^\]]+)\]$/.exec(trimmed);
    if (section) {
      const name = (section[1] ?? '').trim();
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      return;
    }
    const equals = trimmed.indexOf('=');
    if (equals <= 0 || current === undefined) {
      throw new ConfigError(`${source}:${index + 1}: expected "[section]" or "key = value", got ${JSON.stringify(line)}`);
    }
    const key = trimmed.slice(0, equals).trim();
    const value = (trimmed.slice(equals + 1).split(/[ \t];/)[0] ?? '').trim();
    current.set(key, value);
  });
  return sections;
}

/** Writes sections back as ini text (for `<data>/settee.ini`). */
export function formatIni(sections: IniSections, header: string): string {
  const parts = [header.trimEnd(), ''];
  for (const [name, entries] of sections) {
    if (entries.size === 0) continue;
    parts.push(`[${name}]`);
    for (const [key, value] of entries) parts.push(`${key} = ${value}`);
    parts.push('');
  }
  return parts.join('\n');
}

export function readIniFile(path: string, options: { optional: boolean }): IniSections {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (options.optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  return parseIni(text, path);
}

export interface SetteeConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** The user's ini file, if any. */
  readonly configFile: string | undefined;
  /** Server admins: name → stored password (a CouchDB hash, or clear text to hash at start). */
  readonly admins: ReadonlyMap<string, string>;
  readonly logLevel: LogLevel;
  /** `[chttpd_auth] secret`; undefined until generated and persisted. */
  readonly secret: string | undefined;
  readonly sessionTimeoutSeconds: number;
  /** PBKDF2 iterations for passwords Settee hashes (`[chttpd_auth] iterations`). */
  readonly passwordIterations: number;
  readonly uuidAlgorithm: UuidAlgorithm;
  readonly utcIdSuffix: string;
  /** `[couchdb] uuid`: this server's id; undefined until generated and persisted. */
  readonly serverUuid: string | undefined;
  readonly limits: Limits;
  readonly httpLimits: HttpLimits;
  /**
   * `[couchdb] write_worker`: run storage write transactions in a worker
   * thread (`defaultWriteWorker` when absent, as in configs built by hand).
   */
  readonly writeWorker?: boolean;
}

export interface ConfigInputs {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against (the process's cwd). */
  readonly cwd: string;
}

export interface ParsedFlags {
  readonly port?: string;
  readonly host?: string;
  readonly data?: string;
  readonly admin?: string;
  readonly config?: string;
  readonly help?: boolean;
  readonly version?: boolean;
}

export function parseFlags(argv: readonly string[]): ParsedFlags {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        data: { type: 'string' },
        admin: { type: 'string' },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** Resolves the configuration; reads the ini files but writes nothing. */
export function resolveConfig(inputs: ConfigInputs): SetteeConfig {
  const flags = parseFlags(inputs.argv);
  const env = inputs.env;
  const configFileRaw = flags.config ?? nonEmpty(env['SETTEE_CONFIG']);
  const configFile = configFileRaw === undefined ? undefined : resolve(inputs.cwd, configFileRaw);
  const userIni = configFile === undefined ? new Map() : readIniFile(configFile, { optional: false });
  const dataRaw = flags.data ?? nonEmpty(env['SETTEE_DATA']) ?? get(userIni, 'couchdb', 'database_dir') ?? './data';
  const dataDir = resolve(inputs.cwd, dataRaw);
  const persisted = readIniFile(join(dataDir, persistedIniName), { optional: true });
  const ini = mergeIni(persisted, userIni);

  const port = parsePort(flags.port ?? nonEmpty(env['SETTEE_PORT']) ?? get(ini, 'chttpd', 'port') ?? '5984');
  const host = flags.host ?? nonEmpty(env['SETTEE_HOST']) ?? get(ini, 'chttpd', 'bind_address') ?? '127.0.0.1';

  const admins = new Map(ini.get('admins') ?? []);
  const adminFlag = flags.admin ?? nonEmpty(env['SETTEE_ADMIN']);
  if (adminFlag !== undefined) {
    const colon = adminFlag.indexOf(':');
    if (colon <= 0) throw new ConfigError('--admin / SETTEE_ADMIN must be "name:password"');
    admins.set(adminFlag.slice(0, colon), adminFlag.slice(colon + 1));
  }

  const auth = (key: string): string | undefined => get(ini, 'chttpd_auth', key) ?? get(ini, 'couch_httpd_auth', key);
  const algorithm = get(ini, 'uuids', 'algorithm') ?? 'sequential';
  if (!(uuidAlgorithms as readonly string[]).includes(algorithm)) {
    throw new ConfigError(`[uuids] algorithm must be one of ${uuidAlgorithms.join(', ')}, got ${algorithm}`);
  }
  const limits: Limits = {
    ...defaultLimits,
    requestBytesMax: positiveInt(get(ini, 'chttpd', 'max_http_request_size'), defaultLimits.requestBytesMax, '[chttpd] max_http_request_size'),
    docBytesMax: positiveInt(get(ini, 'couchdb', 'max_document_size'), defaultLimits.docBytesMax, '[couchdb] max_document_size'),
    attachmentBytesMax: attachmentSizeLimit(get(ini, 'couchdb', 'max_attachment_size')),
    uuidsCountMax: positiveInt(get(ini, 'uuids', 'max_count'), defaultLimits.uuidsCountMax, '[uuids] max_count'),
    viewFunctionTimeoutMs: positiveInt(get(ini, 'couchdb', 'os_process_timeout'), defaultLimits.viewFunctionTimeoutMs, '[couchdb] os_process_timeout'),
    viewIndexesMax: positiveInt(get(ini, 'couchdb', 'view_indexes_max'), defaultLimits.viewIndexesMax, '[couchdb] view_indexes_max'),
    viewIndexRowsMax: positiveInt(get(ini, 'couchdb', 'view_index_rows_max'), defaultLimits.viewIndexRowsMax, '[couchdb] view_index_rows_max'),
  };
  const httpLimits: HttpLimits = {
    ...defaultHttpLimits,
    authFailuresMax: positiveInt(get(ini, 'chttpd_auth_lockout', 'threshold'), defaultHttpLimits.authFailuresMax, '[chttpd_auth_lockout] threshold'),
  };
  return {
    host,
    port,
    dataDir,
    configFile,
    admins,
    logLevel: parseLogLevel(get(ini, 'log', 'level') ?? 'info'),
    secret: nonEmpty(auth('secret')),
    sessionTimeoutSeconds: positiveInt(auth('timeout'), 600, '[chttpd_auth] timeout'),
    passwordIterations: positiveInt(auth('iterations'), 600_000, '[chttpd_auth] iterations'),
    uuidAlgorithm: algorithm as UuidAlgorithm,
    utcIdSuffix: get(ini, 'uuids', 'utc_id_suffix') ?? '',
    serverUuid: nonEmpty(get(ini, 'couchdb', 'uuid')),
    limits,
    httpLimits,
    writeWorker: parseBoolean(get(ini, 'couchdb', 'write_worker'), defaultWriteWorker, '[couchdb] write_worker'),
  };
}

/** Whether storage writes run in a worker thread unless `[couchdb] write_worker` says otherwise. */
export const defaultWriteWorker = false;

function parseBoolean(text: string | undefined, fallback: boolean, what: string): boolean {
  if (text === undefined || text === '') return fallback;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new ConfigError(`${what} must be true or false, got ${text}`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function get(ini: IniSections, section: string, key: string): string | undefined {
  return ini.get(section)?.get(key);
}

/** `over` wins key by key. */
export function mergeIni(under: IniSections, over: IniSections): IniSections {
  const merged: IniSections = new Map();
  for (const source of [under, over]) {
    for (const [name, entries] of source) {
      const target = merged.get(name) ?? new Map<string, string>();
      for (const [key, value] of entries) target.set(key, value);
      merged.set(name, target);
    }
  }
  return merged;
}

function parsePort(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > 65535) throw new ConfigError(`port must be an integer 0..65535, got ${text}`);
  return Number(text);
}

/** `[couchdb] max_attachment_size`: bytes, or `infinity` (then only the request size limit bounds attachments). */
function attachmentSizeLimit(text: string | undefined): number {
  if (text === 'infinity') return Number.POSITIVE_INFINITY;
  return positiveInt(text, defaultLimits.attachmentBytesMax, '[couchdb] max_attachment_size');
}

function positiveInt(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new ConfigError(`${what} must be a positive integer, got ${text}`);
  }
  return Number(text);
}

const logLevelAliases: Readonly<Record<string, LogLevel>> = {
  debug: 'debug',
  info: 'info',
  notice: 'notice',
  warn: 'warning',
  warning: 'warning',
  err: 'error',
  error: 'error',
  crit: 'error',
  critical: 'error',
  alert: 'error',
  emerg: 'error',
  emergency: 'error',
  none: 'none',
};

function parseLogLevel(text: string): LogLevel {
  const level = logLevelAliases[text.toLowerCase()];
  if (!level) throw new ConfigError(`[log] level must be one of ${Object.keys(logLevelAliases).join(', ')}, got ${text}`);
  return level;
}

export const usage = `Usage: settee [options]

  --port, -p N          port to listen on (default 5984; 0 picks a free one)   env SETTEE_PORT
  --host ADDRESS        address to bind (default 127.0.0.1)                    env SETTEE_HOST
  --data DIR            data directory (default ./data)                         env SETTEE_DATA
  --admin NAME:PASS     a server admin (in addition to [admins])               env SETTEE_ADMIN
  --config, -c FILE     a CouchDB-style ini file                                env SETTEE_CONFIG
  --version             print the version
  --help, -h            print this help

Precedence: flags > environment > ini files > defaults. See docs/configuration.md.
`;
