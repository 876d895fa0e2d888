/**
 * Document query parameters, read as CouchDB's `parse_doc_query` folds them:
 * in order, booleans set only by the exact value `true` (anything else,
 * `TRUE` included, leaves them unset, never an error), `rev`/`open_revs`
 * parsed at each occurrence (so a bad one fails even if a later one is good)
 * with the last one winning, unknown parameters ignored.
 */
import { badRequest } from '../core/errors.js';
import type { Rev } from '../core/rev.js';
import { parseRev } from '../core/rev.js';
import type { QueryParam, QueryParams } from './query.js';
import { parseJsonParam } from './query.js';

export interface DocQuery {
  readonly rev?: Rev;
  readonly openRevs?: 'all' | readonly Rev[];
  readonly revs: boolean;
  readonly revsInfo: boolean;
  readonly conflicts: boolean;
  readonly deletedConflicts: boolean;
  readonly latest: boolean;
  readonly localSeq: boolean;
  readonly meta: boolean;
  /** Open a deleted winner instead of answering 404 `deleted`. */
  readonly deleted: boolean;
  readonly attachments: boolean;
  readonly attEncodingInfo: boolean;
  readonly attsSince?: readonly Rev[];
  /** `new_edits=false` makes a write replicated. */
  readonly newEdits: boolean;
}

const flags = {
  revs: 'revs',
  revs_info: 'revsInfo',
  conflicts: 'conflicts',
  deleted_conflicts: 'deletedConflicts',
  latest: 'latest',
  local_seq: 'localSeq',
  meta: 'meta',
  deleted: 'deleted',
  attachments: 'attachments',
  att_encoding_info: 'attEncodingInfo',
} as const;

type Flag = (typeof flags)[keyof typeof flags];

/** What a request without query parameters asks for (most do): shared, so built once. */
const noDocQuery: DocQuery = Object.freeze({
  revs: false,
  revsInfo: false,
  conflicts: false,
  deletedConflicts: false,
  latest: false,
  localSeq: false,
  meta: false,
  deleted: false,
  attachments: false,
  attEncodingInfo: false,
  newEdits: true,
});

export function parseDocQuery(query: QueryParams): DocQuery {
  if (query.entries.length === 0) return noDocQuery;
  const set = new Set<Flag>();
  let rev: Rev | undefined;
  let openRevs: 'all' | Rev[] | undefined;
  let attsSince: Rev[] | undefined;
  let newEdits = true;
  for (const param of query.entries) {
    const flag = (flags as Record<string, Flag | undefined>)[param.name];
    if (flag !== undefined) {
      if (param.value === 'true') set.add(flag);
      continue;
    }
    switch (param.name) {
      case 'rev':
        rev = parseRev(param.value);
        break;
      case 'open_revs':
        openRevs = param.value === 'all' ? 'all' : revList(param);
        break;
      case 'atts_since':
        attsSince = revList(param);
        break;
      case 'new_edits':
        if (param.value === 'false') newEdits = false;
        else if (param.value === 'true') newEdits = true;
        break;
    }
  }
  return {
    ...(rev !== undefined ? { rev } : {}),
    ...(openRevs !== undefined ? { openRevs } : {}),
    ...(attsSince !== undefined ? { attsSince } : {}),
    revs: set.has('revs'),
    revsInfo: set.has('revsInfo'),
    conflicts: set.has('conflicts'),
    deletedConflicts: set.has('deletedConflicts'),
    latest: set.has('latest'),
    localSeq: set.has('localSeq'),
    meta: set.has('meta'),
    deleted: set.has('deleted'),
    attachments: set.has('attachments'),
    attEncodingInfo: set.has('attEncodingInfo'),
    newEdits,
  };
}

/** A JSON list of revisions (`couch_doc:parse_revs`). */
function revList(param: QueryParam): Rev[] {
  const value = parseJsonParam(param);
  if (!Array.isArray(value)) throw badRequest('Invalid list of revisions');
  return value.map((item) => parseRev(item));
}
