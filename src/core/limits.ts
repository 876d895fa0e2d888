/**
 * Every bound Settee enforces, named with the qualifier last. Defaults only:
 * the composition root (`server.ts`) may override them from configuration and
 * passes them down; nothing in `core`, `storage` or `db` reads config itself.
 */
export interface Limits {
  /** Largest HTTP request body accepted (CouchDB's `max_http_request_size`). */
  readonly requestBytesMax: number;
  /** Largest single document body (CouchDB's `max_document_size`), as `core/json-size.ts` estimates it. */
  readonly docBytesMax: number;
  /** Largest attachment, in decoded bytes (CouchDB's `max_attachment_size`); requests are bounded by `requestBytesMax` too. */
  readonly attachmentBytesMax: number;
  /** Deepest JSON nesting the parser accepts. */
  readonly jsonDepthMax: number;
  /** Documents per `_bulk_docs` / `_bulk_get` request. */
  readonly bulkDocsMax: number;
  /** Documents one group commit may hold. */
  readonly commitDocsMax: number;
  /** Body bytes one group commit may hold (a larger single doc still commits alone). */
  readonly commitBytesMax: number;
  /** Pending writes queued per database before new writes are refused (503). */
  readonly writeQueueDocsMax: number;
  /** Default and maximum revision history kept per document. */
  readonly revsLimitDefault: number;
  readonly revsLimitMax: number;
  /** Open database handles kept by the storage engine (LRU beyond that). */
  readonly openDatabasesMax: number;
  /** Rows one changes/all_docs read pulls from storage at a time. */
  readonly scanBatchRowsMax: number;
  /** Longest a `_changes` longpoll/continuous feed may wait without a timeout given. */
  readonly changesTimeoutMsMax: number;
  /** `_changes` wait without `timeout`, and the interval of `heartbeat=true` (CouchDB's `[httpd] changes_timeout`). */
  readonly changesTimeoutMsDefault: number;
  /** Live `_changes` feeds (longpoll, continuous, eventsource) open at once per server; beyond: 503. */
  readonly liveFeedsMax: number;
  /** `/_uuids?count=` maximum. */
  readonly uuidsCountMax: number;
  /** Longest one call into a view function may run (CouchDB's `os_process_timeout`); beyond: 500. */
  readonly viewFunctionTimeoutMs: number;
  /** View indexes kept in memory (least recently used dropped beyond; rebuilt on the next query). */
  readonly viewIndexesMax: number;
  /** Rows kept in memory over all view indexes (least recently used indexes dropped beyond). */
  readonly viewIndexRowsMax: number;
}

export const defaultLimits: Limits = Object.freeze({
  requestBytesMax: 64 * 1024 * 1024,
  docBytesMax: 8 * 1024 * 1024,
  attachmentBytesMax: 1024 * 1024 * 1024,
  jsonDepthMax: 512,
  bulkDocsMax: 100_000,
  commitDocsMax: 500,
  commitBytesMax: 16 * 1024 * 1024,
  writeQueueDocsMax: 200_000,
  revsLimitDefault: 1000,
  revsLimitMax: 1_000_000,
  openDatabasesMax: 500,
  scanBatchRowsMax: 1_000,
  changesTimeoutMsMax: 3_600_000,
  changesTimeoutMsDefault: 60_000,
  liveFeedsMax: 10_000,
  uuidsCountMax: 1000,
  viewFunctionTimeoutMs: 5000,
  viewIndexesMax: 100,
  viewIndexRowsMax: 5_000_000,
});

/**
 * Bounds of the HTTP server and of authentication (added by the http layer).
 * Kept apart from `Limits` because only `http/`, `auth/` and the composition
 * root use them.
 */
export interface HttpLimits {
  /**
   * How long an idle keep-alive connection stays open. Long on purpose: CouchDB's
   * replicator pools connections and broke when Node's default 5 s closed them.
   */
  readonly keepAliveTimeoutMs: number;
  /** Time to receive one request's headers, from its first byte (slowloris bound). */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request (headers and body); 0 would disable it, so it is large instead. */
  readonly requestTimeoutMs: number;
  /** Largest request header block. */
  readonly headerBytesMax: number;
  /** How long graceful shutdown waits for in-flight requests before closing sockets. */
  readonly shutdownGraceMs: number;
  /** Failed logins per (peer, user) before lockout, and how long a lockout lasts. */
  readonly authFailuresMax: number;
  readonly authLockoutMs: number;
  /** (peer, user) pairs tracked for lockout. */
  readonly authLockoutEntriesMax: number;
  /** Verified credentials remembered (so Basic auth skips PBKDF2), and for how long. */
  readonly credentialCacheEntriesMax: number;
  readonly credentialCacheTtlMs: number;
  /** Longest `X-Couch-Request-ID` echoed back (CouchDB's bound). */
  readonly requestIdCharsMax: number;
  /** Parts of one `multipart/related` document body (the JSON and its attachments); beyond: 413. */
  readonly multipartPartsMax: number;
  /** Header bytes of one part of such a body (a `Content-Disposition` names the attachment); beyond: 400. */
  readonly multipartPartHeaderBytesMax: number;
}

export const defaultHttpLimits: HttpLimits = Object.freeze({
  keepAliveTimeoutMs: 10 * 60_000,
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 60 * 60_000,
  headerBytesMax: 64 * 1024,
  shutdownGraceMs: 30_000,
  authFailuresMax: 5,
  authLockoutMs: 5 * 60_000,
  authLockoutEntriesMax: 10_000,
  credentialCacheEntriesMax: 10_000,
  credentialCacheTtlMs: 10 * 60_000,
  requestIdCharsMax: 36,
  multipartPartsMax: 10_000,
  multipartPartHeaderBytesMax: 64 * 1024,
});
