/**
 * The one error catalogue. Every operating error Settee reports to a client is a
 * `CouchError` carrying CouchDB's HTTP status, `error` name and `reason` text;
 * `http/` renders it as `{"error","reason"}` and nothing else decides a status.
 *
 * Programmer errors are not CouchErrors: they are assertion failures (`assert`)
 * and surface as 500 `unknown_error`.
 */
export class CouchError extends Error {
  readonly status: number;
  readonly error: string;
  readonly reason: string;
  /** CouchDB's `ref` member (a stack hash), which a few errors carry (the reversed view range). */
  readonly ref?: number;

  constructor(status: number, error: string, reason: string, options: { readonly ref?: number } = {}) {
    super(`${error}: ${reason}`);
    this.name = 'CouchError';
    this.status = status;
    this.error = error;
    this.reason = reason;
    if (options.ref !== undefined) this.ref = options.ref;
  }

  toJSON(): { error: string; reason: string; ref?: number } {
    return this.ref === undefined ? { error: this.error, reason: this.reason } : { error: this.error, reason: this.reason, ref: this.ref };
  }
}

export function isCouchError(value: unknown): value is CouchError {
  return value instanceof CouchError;
}

// Constructors, named after CouchDB's error atoms. Reasons that CouchDB fixes
// are defaults; callers pass their own where CouchDB varies the text.

export const badRequest = (reason: string): CouchError => new CouchError(400, 'bad_request', reason);
export const invalidJson = (): CouchError => new CouchError(400, 'bad_request', 'invalid UTF-8 JSON');
export const queryParseError = (reason: string): CouchError => new CouchError(400, 'query_parse_error', reason);
export const invalidRevFormat = (): CouchError => new CouchError(400, 'bad_request', 'Invalid rev format');
export const illegalDocId = (reason: string): CouchError => new CouchError(400, 'illegal_docid', reason);
export const docValidation = (reason: string): CouchError => new CouchError(400, 'doc_validation', reason);
export const illegalDatabaseName = (name: string): CouchError =>
  new CouchError(
    400,
    'illegal_database_name',
    `Name: '${name}'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.`,
  );
export const unauthorized = (reason: string): CouchError => new CouchError(401, 'unauthorized', reason);
export const forbidden = (reason: string): CouchError => new CouchError(403, 'forbidden', reason);
export const notFound = (reason = 'missing'): CouchError => new CouchError(404, 'not_found', reason);
export const dbNotFound = (): CouchError => new CouchError(404, 'not_found', 'Database does not exist.');
export const methodNotAllowed = (allowed: string): CouchError =>
  new CouchError(405, 'method_not_allowed', `Only ${allowed} allowed`);
export const conflict = (): CouchError => new CouchError(409, 'conflict', 'Document update conflict.');
export const fileExists = (): CouchError =>
  new CouchError(412, 'file_exists', 'The database could not be created, the file already exists.');
export const preconditionFailed = (reason: string): CouchError => new CouchError(412, 'precondition_failed', reason);
export const tooLarge = (reason = 'Request entity too large'): CouchError =>
  new CouchError(413, 'too_large', reason);
export const badContentType = (reason = 'Content-Type must be application/json'): CouchError =>
  new CouchError(415, 'bad_content_type', reason);
export const notImplemented = (reason: string): CouchError => new CouchError(501, 'not_implemented', reason);
export const serviceUnavailable = (reason: string): CouchError => new CouchError(503, 'service_unavailable', reason);
export const internalError = (error: string, reason: string): CouchError => new CouchError(500, error, reason);

/** Assertion for programmer errors: never caught as an operating error. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new Error(`assertion failed: ${message}`);
  }
}

// HTTP framework and authentication (added by the http layer; CouchDB's exact texts).
export const notAServerAdmin = (): CouchError => unauthorized('You are not a server admin.');
export const badCredentials = (): CouchError => unauthorized('Name or password is incorrect.');
export const accountLocked = (): CouchError =>
  forbidden('Account is temporarily locked due to multiple authentication failures');
export const invalidBasicAuth = (): CouchError => badRequest('Authorization header has invalid base64 value');
export const malformedSessionCookie = (): CouchError =>
  badRequest('Malformed AuthSession cookie. Please clear your cookies.');
export const invalidUrlEncoding = (): CouchError => badRequest('invalid_url_encoding');
export const requestTooLarge = (): CouchError => tooLarge('the request entity is too large');

// Documents (added by the document endpoints; CouchDB's exact texts).
export const invalidDesignDoc = (reason: string): CouchError => new CouchError(400, 'invalid_design_doc', reason);
/** `couch_httpd:error_info(md5_mismatch)`: an attachment's declared `digest` does not match its bytes. */
export const contentMd5Mismatch = (): CouchError => new CouchError(400, 'content_md5_mismatch', 'Possible message corruption.');
export const documentTooLarge = (docId: string): CouchError => new CouchError(413, 'document_too_large', docId);
/** CouchDB's answer for an attachment over `max_attachment_size`: the reason is the attachment's name. */
export const attachmentTooLarge = (name: string): CouchError => new CouchError(413, 'attachment_too_large', name);
