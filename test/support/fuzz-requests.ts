/**
 * Random requests for the HTTP fuzz test, drawn from a seeded PRNG so any run
 * replays from its seed. Each request carries the facts the checker needs
 * (which body class it has, whether a success would be a bug).
 *
 * Deliberately never generated: `/_replicate` (starts jobs that may outlive
 * the test), an authenticated `DELETE` of the sentinel database (it would make
 * the "nothing lost" check vacuous; it is swapped for the scratch database),
 * log-ins or wrong passwords for `admin` (five failures lock the test's own
 * admin out for five minutes), and streaming `_changes` without a short
 * `timeout` (those wait by design).
 */

export type BodyClass =
  | 'none'
  | 'json'
  | 'malformed-json'
  | 'invalid-utf8'
  | 'deep-nesting'
  | 'very-deep-nesting'
  | 'oversized'
  | 'duplicate-keys'
  | 'odd-numbers'
  | 'not-json';

export interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
  readonly bodyClass: BodyClass;
  /** Short description for failure messages. */
  readonly label: string;
}

export interface FuzzUniverse {
  readonly sentinelDb: string;
  readonly scratchDb: string;
  /** Sentinel ids as URL path segments (already encoded). */
  readonly sentinelSegments: readonly string[];
  /** Sentinel ids, decoded (used in bodies). */
  readonly sentinelIds: readonly string[];
  /** Known revs of the sentinels, so the fuzzer can also make legitimate edits. */
  readonly sentinelRevs: readonly string[];
  readonly adminAuthorization: string;
  readonly requestBytesMax: number;
  readonly jsonDepthMax: number;
}

type Random = () => number;

export class FuzzRequestGenerator {
  readonly #random: Random;
  readonly #universe: FuzzUniverse;

  constructor(random: Random, universe: FuzzUniverse) {
    this.#random = random;
    this.#universe = universe;
  }

  #int(below: number): number {
    return Math.floor(this.#random() * below);
  }

  #chance(probability: number): boolean {
    return this.#random() < probability;
  }

  #pick<T>(items: readonly T[]): T {
    const item = items[this.#int(items.length)];
    if (item === undefined) throw new Error('assertion failed: pick from an empty list');
    return item;
  }

  next(): FuzzRequest {
    const template = this.#pick(pathTemplates);
    // mostly a method the endpoint serves, so requests get past the 405 into the handler
    const method = this.#chance(0.7) ? this.#pick(plausibleMethods(template)) : this.#pick(methods);
    let db = this.#dbSegment();
    if (method === 'DELETE' && template === '/{db}' && db === this.#universe.sentinelDb) db = this.#universe.scratchDb;
    const path = template
      .replace('{db}', db)
      .replace('{doc}', this.#docSegment())
      .replace('{att}', this.#pick(attachmentSegments))
      .replace('{ddoc}', this.#pick(['keep', 'x', 'missing', '%2E%2E']))
      .replace('{view}', this.#pick(['v', 'missing', '_all_docs']))
      .replace('{local}', this.#pick(['keep', 'x', '', '%2F', 'l'.repeat(300)]));
    const query = path.endsWith('/_changes') ? this.#changesQuery() : this.#query();
    const { body, bodyClass } = this.#body(method);
    const headers = this.#headers(method, bodyClass);
    return {
      method,
      path: `${path}${query}`,
      headers,
      ...(body === undefined ? {} : { body }),
      bodyClass,
      label: `${method} ${truncate(path + query, 160)} body=${bodyClass}${body ? `(${body.length}B)` : ''}`,
    };
  }

  #dbSegment(): string {
    const universe = this.#universe;
    const roll = this.#random();
    if (roll < 0.45) return universe.sentinelDb;
    if (roll < 0.7) return universe.scratchDb;
    return this.#pick(oddDbSegments);
  }

  #docSegment(): string {
    const roll = this.#random();
    if (roll < 0.3) return this.#pick(this.#universe.sentinelSegments);
    if (roll < 0.55) return `scratch-${this.#int(20)}`;
    return this.#pick(oddDocSegments);
  }

  #query(): string {
    if (!this.#chance(0.5)) return '';
    const parts: string[] = [];
    const count = 1 + this.#int(3);
    for (let index = 0; index < count; index += 1) {
      parts.push(`${this.#pick(queryNames)}=${this.#queryValue()}`);
    }
    return `?${parts.join('&')}`;
  }

  #queryValue(): string {
    if (this.#chance(0.15)) return encodeURIComponent(JSON.stringify(this.#pick(this.#universe.sentinelRevs)));
    if (this.#chance(0.1)) return this.#pick(this.#universe.sentinelRevs);
    return this.#pick(queryValues);
  }

  /** `_changes`: random parameters, but a streaming feed always gets a short timeout and no heartbeat. */
  #changesQuery(): string {
    const parts: string[] = [];
    const feed = this.#pick(['', 'normal', 'longpoll', 'continuous', 'eventsource', 'live', 'bogus', 'LONGPOLL']);
    if (feed !== '') parts.push(`feed=${feed}`);
    const streaming = ['longpoll', 'continuous', 'eventsource', 'live'].includes(feed);
    if (streaming) parts.push('timeout=50');
    const count = this.#int(3);
    for (let index = 0; index < count; index += 1) {
      const name = this.#pick(changesQueryNames);
      parts.push(`${name}=${this.#pick(queryValues)}`);
    }
    if (!streaming && this.#chance(0.2)) parts.push(`timeout=${this.#pick(['abc', '-1', '0', '10'])}`);
    return parts.length === 0 ? '' : `?${parts.join('&')}`;
  }

  #headers(method: string, bodyClass: BodyClass): Record<string, string> {
    const headers: Record<string, string> = {};
    const authRoll = this.#random();
    if (authRoll < 0.8) headers['Authorization'] = this.#universe.adminAuthorization;
    else if (authRoll < 0.95) headers['Authorization'] = this.#pick(badAuthorizations);
    if (this.#chance(0.05)) headers['Cookie'] = this.#pick(['AuthSession=garbage', 'AuthSession=', 'AuthSession=YWRtaW46MDA6MDA', 'other=1']);
    if (bodyClass !== 'none') {
      headers['Content-Type'] = this.#chance(0.8) ? 'application/json' : this.#pick(contentTypes);
    } else if (this.#chance(0.05)) {
      headers['Content-Type'] = this.#pick(contentTypes);
    }
    if (this.#chance(0.1)) headers['If-Match'] = this.#pick(ifMatchValues(this.#universe.sentinelRevs));
    if (this.#chance(0.05)) headers['If-None-Match'] = this.#pick(ifMatchValues(this.#universe.sentinelRevs));
    if (method === 'COPY' || this.#chance(0.03)) {
      if (this.#chance(0.9)) headers['Destination'] = this.#pick(destinations);
    }
    if (this.#chance(0.1)) headers['Accept'] = this.#pick(['application/json', 'multipart/mixed', 'multipart/related', 'text/html', '*/*', 'garbage', '']);
    if (this.#chance(0.05)) headers['X-Couch-Request-ID'] = this.#pick(['abc', 'x'.repeat(100), 'a b', '\u00e9']);
    if (this.#chance(0.03)) headers['X-Couch-Full-Commit'] = this.#pick(['true', 'false', 'maybe']);
    if (this.#chance(0.03)) headers['Range'] = this.#pick(['bytes=0-1', 'bytes=5-1', 'bytes=-', 'lines=1-2']);
    return headers;
  }

  #body(method: string): { body?: Buffer; bodyClass: BodyClass } {
    const wantsBody = method === 'PUT' || method === 'POST' || method === 'COPY';
    if (!(wantsBody ? this.#chance(0.9) : this.#chance(0.1))) return { bodyClass: 'none' };
    const roll = this.#random();
    if (roll < 0.4) return { body: Buffer.from(this.#jsonShape(), 'utf8'), bodyClass: 'json' };
    if (roll < 0.55) return { body: Buffer.from(this.#pick(malformedJsonBodies), 'utf8'), bodyClass: 'malformed-json' };
    if (roll < 0.62) return { body: this.#pick(invalidUtf8Bodies), bodyClass: 'invalid-utf8' };
    if (roll < 0.67) return { body: Buffer.from(nested(this.#universe.jsonDepthMax + 1 + this.#int(100)), 'utf8'), bodyClass: 'deep-nesting' };
    if (roll < 0.69) return { body: Buffer.from(nested(20_000), 'utf8'), bodyClass: 'very-deep-nesting' };
    if (roll < 0.73) {
      const size = this.#universe.requestBytesMax + 1 + this.#int(this.#universe.requestBytesMax);
      return { body: Buffer.from(`{"big":"${'x'.repeat(size)}"}`, 'utf8'), bodyClass: 'oversized' };
    }
    if (roll < 0.8) return { body: Buffer.from(this.#pick(duplicateKeyBodies), 'utf8'), bodyClass: 'duplicate-keys' };
    if (roll < 0.9) return { body: Buffer.from(`{"n":${this.#pick(oddNumbers)},"m":[${this.#pick(oddNumbers)}]}`, 'utf8'), bodyClass: 'odd-numbers' };
    return { body: Buffer.from(this.#pick(nonJsonBodies), 'utf8'), bodyClass: 'not-json' };
  }

  /** A JSON text shaped like something an endpoint expects, with random parts. */
  #jsonShape(): string {
    const doc = (): string => this.#object(2);
    switch (this.#int(9)) {
      case 0:
        return `{"docs":[${Array.from({ length: this.#int(4) }, doc).join(',')}]${this.#chance(0.3) ? `,"new_edits":${this.#pick(['false', 'true', '"false"', '0', 'null'])}` : ''}}`;
      case 1:
        return `{"keys":${this.#value(2)}}`;
      case 2:
        return `{"docs":[{"id":${this.#stringOrValue()},"rev":${this.#revValue()}}]}`;
      case 3:
        return `{${this.#idString()}:[${this.#revValue()}]}`;
      case 4:
        return `{${this.#idString()}:${this.#value(1)}}`;
      case 5:
        return `{"name":${this.#pick(['"fuzzer"', '""', '1', 'null'])},"password":"nope"}`;
      case 6:
        return `{"_id":${this.#stringOrValue()},"_rev":${this.#revValue()}${this.#chance(0.5) ? `,"_deleted":${this.#pick(['true', 'false', '"yes"'])}` : ''},"v":${this.#value(1)}}`;
      case 7:
        return this.#value(3);
      default:
        return doc();
    }
  }

  #object(depth: number): string {
    const count = this.#int(4);
    const members: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const key = this.#pick(jsonKeys);
      const value = key === '_id' ? this.#stringOrValue() : key === '_rev' ? this.#revValue() : this.#value(depth - 1);
      members.push(`${JSON.stringify(key)}:${value}`);
    }
    return `{${members.join(',')}}`;
  }

  #value(depth: number): string {
    const roll = this.#int(depth <= 0 ? 4 : 6);
    switch (roll) {
      case 0:
        return this.#pick(oddNumbers);
      case 1:
        return this.#pick(jsonStrings);
      case 2:
        return this.#pick(['true', 'false', 'null']);
      case 3:
        return String(this.#int(1000));
      case 4:
        return `[${Array.from({ length: this.#int(3) }, () => this.#value(depth - 1)).join(',')}]`;
      default:
        return this.#object(depth - 1);
    }
  }

  #idString(): string {
    return this.#chance(0.5) ? JSON.stringify(this.#pick(this.#universe.sentinelIds)) : this.#pick(jsonStrings);
  }

  #stringOrValue(): string {
    return this.#chance(0.8) ? this.#idString() : this.#value(0);
  }

  #revValue(): string {
    return this.#chance(0.4) ? JSON.stringify(this.#pick(this.#universe.sentinelRevs)) : this.#pick(revValues);
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

function nested(depth: number): string {
  return `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

function ifMatchValues(revs: readonly string[]): string[] {
  return ['garbage', '"1-abc"', '*', '"', '""', 'W/"1-abc"', ...revs.slice(0, 3).map((rev) => `"${rev}"`), ...revs.slice(0, 2)];
}

const methods = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'PUT', 'PUT', 'PUT', 'PUT', 'POST', 'POST', 'POST', 'POST', 'DELETE', 'DELETE', 'HEAD', 'COPY', 'OPTIONS', 'PATCH', 'FOO'] as const;

function plausibleMethods(template: string): readonly string[] {
  if (template === '/{db}') return ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];
  if (/\/\{doc\}|_design\/\{ddoc\}$|_local\/\{local\}$/.test(template)) return ['GET', 'PUT', 'PUT', 'DELETE', 'COPY', 'HEAD', 'POST'];
  if (/_bulk_docs|_bulk_get|_revs_diff|_missing_revs|_purge$|_compact|_ensure_full_commit|_view_cleanup|_find|_explain/.test(template)) return ['POST'];
  if (/_security|_revs_limit|_purged_infos_limit/.test(template)) return ['GET', 'PUT'];
  if (/_all_docs|_changes|_local_docs|_design_docs|_session/.test(template)) return ['GET', 'POST', 'HEAD'];
  return ['GET', 'HEAD'];
}

const pathTemplates = [
  '/', '/_up', '/_uuids', '/_all_dbs', '/_session', '/_dbs_info', '/_active_tasks', '/_all_dbs/extra', '/_uuids/x',
  '/_config', '/_node/_local/_config', '/_membership', '/_scheduler/jobs', '/_utils', '/_foo',
  '/{db}', '/{db}', '/{db}',
  '/{db}/_all_docs', '/{db}/_all_docs', '/{db}/_changes', '/{db}/_changes', '/{db}/_bulk_docs', '/{db}/_bulk_docs',
  '/{db}/_bulk_get', '/{db}/_revs_diff', '/{db}/_missing_revs', '/{db}/_purge', '/{db}/_compact',
  '/{db}/_security', '/{db}/_revs_limit', '/{db}/_ensure_full_commit', '/{db}/_local_docs', '/{db}/_design_docs',
  '/{db}/_find', '/{db}/_index', '/{db}/_explain', '/{db}/_purged_infos', '/{db}/_purged_infos_limit',
  '/{db}/_view_cleanup', '/{db}/_foo', '/{db}/_design', '/{db}/_local',
  '/{db}/{doc}', '/{db}/{doc}', '/{db}/{doc}', '/{db}/{doc}', '/{db}/{doc}', '/{db}/{doc}',
  '/{db}/{doc}/{att}', '/{db}/_design/{ddoc}', '/{db}/_design/{ddoc}/_view/{view}', '/{db}/_design/{ddoc}/_info',
  '/{db}/_local/{local}', '/{db}/_local/{local}',
] as const;

const oddDbSegments = [
  'fuzz-missing', 'Bad', 'bad%20name', '_users', '_replicator', '_foo', 'a%2Fb', 'd'.repeat(300), '%C3%A9t%C3%A9',
  '..', '%2E%2E', '%zz', '%', 'a+b', 'caf\u00e9', '%00', '1starts-with-digit',
];

const oddDocSegments = [
  'a%2Fb', 'a+b', 'a%2Bb', '%C3%A9t%C3%A9', '%F0%9F%98%80', '_foo', '_design', '_design%2Fx', '_design%2Fkeep', '_local',
  '_local%2Fkeep', '..', '.', '%2E%2E', 'i'.repeat(4000), '%', '%zz', '%00', '%C3%28', '%ED%A0%80', '%FF', 'caf\u00e9',
  '%2520', 'a;b', 'a?b=1', '%3F', '%23', 'keep-0%00', '_all_docs',
];

const attachmentSegments = ['att.txt', 'a%2Fb', '_bad', 'dir/sub.txt', '%zz', 'x'.repeat(500)];

const queryNames = [
  'rev', 'revs', 'revs_info', 'conflicts', 'deleted_conflicts', 'open_revs', 'latest', 'include_docs', 'keys', 'key',
  'startkey', 'endkey', 'start_key', 'end_key', 'startkey_docid', 'limit', 'skip', 'descending', 'inclusive_end',
  'since', 'new_edits', 'batch', 'count', 'q', 'n', 'attachments', 'atts_since', 'local_seq', 'meta', 'update_seq',
  'att_encoding_info', 'w', 'r', 'style', 'filter', 'doc_ids', 'stale', 'update', 'reduce', 'group', 'group_level',
  'unknown_param', '%zz', '',
];

const changesQueryNames = [
  'since', 'limit', 'include_docs', 'descending', 'style', 'filter', 'doc_ids', 'conflicts', 'attachments',
  'seq_interval', 'view', 'selector', 'unknown',
];

const queryValues = [
  '', 'true', 'false', 'maybe', 'TRUE', '1', '0', '-1', '1e400', 'abc', '%22str%22', '%5B1%2C2%5D', '%7B', '%ZZ', '%FF',
  '%C3%A9', 'now', 'all', '%5B%22all%22%5D', 'null', '99999999999999999999', 'x'.repeat(2000), '%22keep-0%22', '%5B%22keep-0%22%2C%22zz%22%5D',
  'bogus', '_doc_ids', '_selector', '_view', 'all_docs', 'a%2Fb', '1-abc', '0-1', '%00', '+', '%2B',
  '1.5', '1e3', '0x10', '-0', '%2B1', '%201', '9007199254740993', '2147483648', '-99999999999999999999', '1%2C2',
];

const badAuthorizations = [
  `Basic ${Buffer.from('fuzzer:nope').toString('base64')}`,
  'Basic !!!',
  `Basic ${Buffer.from('nocolon').toString('base64')}`,
  'Bearer token',
  'Basic',
  'Basic ',
  `Basic ${'A'.repeat(5000)}`,
  'Digest username="x"',
  `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x80]).toString('base64')}`,
  `Basic ${Buffer.from(':').toString('base64')}`,
];

const contentTypes = [
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/related; boundary=x', 'multipart/form-data; boundary=y',
  'application/json; charset=latin1', 'APPLICATION/JSON', 'garbage', '', 'application/octet-stream',
];

const destinations = ['copy-target', 'copy-target?rev=1-abc', 'keep-0', '', '%zz', '_foo', '_local/copy', 'a%2Fb', 'x'.repeat(300)];

const malformedJsonBodies = [
  '{"a":', '{"a":1}x', '{"a":1,}', '{"a":NaN}', '{"a":01}', "{'a':1}", '', '{"a":"\\ud800"}', '{"a":1e400}', '{"a":-1e400}',
  '[1,]', '{"a" 1}', '{"a":1', '"unterminated', '{"a":"\\x41"}', '{"a":tru}', '{"a":Infinity}', '\u0000', '{"a":"\u0001"}',
  '{"a":1}{"b":2}', '{"a":"\\u12"}', ' ', '{,}', '{"docs":[{]}', '{"keys":',
];

const invalidUtf8Bodies = [
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
  Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
  Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x22, 0x7d]),
  Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]),
];

const duplicateKeyBodies = [
  '{"a":1,"b":2,"a":3}',
  '{"_id":"dup-a","_id":"dup-b"}',
  '{"_rev":"1-abc","_rev":"garbage"}',
  '{"docs":[],"docs":"x"}',
  '{"keys":["a"],"keys":"b"}',
  '{"_deleted":true,"_deleted":false}',
];

const oddNumbers = [
  '1.0', '1e3', '1E3', '1e+2', '1e-7', '1.5e300', '-0.0', '-0', '5e-324', '123456789012345678901234567890.5',
  '3.141592653589793238462643383279', '9007199254740993', '18446744073709551616', '-9223372036854775809', '1e308',
  '0.1', '2.5e-308', '1' + '0'.repeat(400),
];

const jsonStrings = [
  '""', '"a"', '"\u00e9"', '"\\u00e9"', '"\\ud83d\\ude00"', '"\u{1f600}"', '"\\u0000"', `"${'s'.repeat(1000)}"`, '"_id"',
  '"_design/x"', '"_local/x"', '"_foo"', '"a/b"', '"scratch-1"', '"e\\u0301"',
];

const jsonKeys = [
  '_id', '_rev', '_deleted', '_attachments', '_revisions', '_conflicts', '_foo', '_local_seq', 'docs', 'keys', 'new_edits',
  'selector', 'doc_ids', 'a', 'b', 'views', 'language', 'validate_doc_update', 'members', 'admins', '',
];

const revValues = ['"1-abc"', '"garbage"', '""', '"0-1"', '1', 'null', '"1-ABCDEF0123456789ABCDEF0123456789"', `"${'r'.repeat(100)}"`, '"2-"', '"-1-abc"', '["1-abc"]'];

const nonJsonBodies = ['name=fuzzer&password=nope', 'hello world', '<xml/>', '--x\r\nContent-Type: application/json\r\n\r\n{}\r\n--x--'];
