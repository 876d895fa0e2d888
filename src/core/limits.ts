/**
 * Every bound Settee enforces, named with the qualifier last. Defaults only:
 * the composition root (`server.ts`) may override them from configuration and
 * passes them down; nothing in `core`, `storage` or `db` reads config itself.
 */
export interface Limits {
  /** Largest HTTP request body accepted (CouchDB's `max_http_request_size`). */
  readonly requestBytesMax: number;
  /** Largest single document body (CouchDB's `max_document_size`). */
  readonly docBytesMax: number;
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
  /** `/_uuids?count=` maximum. */
  readonly uuidsCountMax: number;
}

export const defaultLimits: Limits = Object.freeze({
  requestBytesMax: 64 * 1024 * 1024,
  docBytesMax: 8 * 1024 * 1024,
  jsonDepthMax: 512,
  bulkDocsMax: 100_000,
  commitDocsMax: 2_000,
  commitBytesMax: 16 * 1024 * 1024,
  writeQueueDocsMax: 200_000,
  revsLimitDefault: 1000,
  revsLimitMax: 1_000_000,
  openDatabasesMax: 500,
  scanBatchRowsMax: 1_000,
  changesTimeoutMsMax: 3_600_000,
  uuidsCountMax: 1000,
});
