/**
 * `multipart/related` document bodies as CouchDB's replicator writes them
 * (`couch_doc:doc_to_multi_part_stream` through
 * `couch_httpd_multipart:encode_multipart_stream`): `--B`, the JSON part,
 * then per attachment `Content-Disposition`, `Content-Type`,
 * `Content-Length` (and `Content-Encoding` when sent encoded), its bytes,
 * `\r\n--B`, and a final `--`. The Content-Length is counted the way
 * `length_multipart_stream` counts it, so a test notices if the two disagree.
 */

export interface CouchMultipartAttachment {
  readonly name: string;
  readonly contentType: string;
  /** The bytes as sent: gzip bytes when `encoding` is gzip. */
  readonly bytes: Uint8Array;
  readonly encoding?: 'gzip';
}

export interface CouchMultipartRequest {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

export function couchMultipartRequest(
  boundary: string,
  json: string,
  attachments: readonly CouchMultipartAttachment[],
): CouchMultipartRequest {
  const chunks: Buffer[] = [Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n`), Buffer.from(json), Buffer.from(`\r\n--${boundary}`)];
  let attachmentsSize = 0;
  for (const attachment of attachments) {
    const length = String(attachment.bytes.length);
    let headers = `\r\nContent-Disposition: attachment; filename="${attachment.name}"`;
    headers += `\r\nContent-Type: ${attachment.contentType}`;
    headers += `\r\nContent-Length: ${length}`;
    if (attachment.encoding !== undefined) headers += `\r\nContent-Encoding: ${attachment.encoding}`;
    chunks.push(Buffer.from(`${headers}\r\n\r\n`), Buffer.from(attachment.bytes), Buffer.from(`\r\n--${boundary}`));
    // length_multipart_stream's sum, term by term
    attachmentsSize += 4 + length.length + attachment.bytes.length + 4 + boundary.length;
    attachmentsSize += Buffer.byteLength(attachment.name) + Buffer.byteLength(attachment.contentType);
    attachmentsSize += '\r\nContent-Disposition: attachment; filename=""'.length + '\r\nContent-Type: '.length + '\r\nContent-Length: '.length;
    if (attachment.encoding !== undefined) attachmentsSize += attachment.encoding.length + '\r\nContent-Encoding: '.length;
  }
  chunks.push(Buffer.from('--'));
  const body = Buffer.concat(chunks);
  const declaredLength = 2 + boundary.length + 36 + Buffer.byteLength(json) + 4 + boundary.length + attachmentsSize + 2;
  if (declaredLength !== body.length) throw new Error(`assertion failed: multipart length ${declaredLength} != ${body.length}`);
  return {
    body,
    headers: { 'Content-Type': `multipart/related; boundary="${boundary}"`, 'Content-Length': String(body.length) },
  };
}

/** A body as nano's `multipart.insert` writes it: lower-case part headers, an unquoted boundary, CRLF after the end. */
export function nanoMultipartRequest(boundary: string, json: string, attachments: readonly CouchMultipartAttachment[]): CouchMultipartRequest {
  const chunks: Buffer[] = [];
  const parts = [{ contentType: 'application/json', bytes: Buffer.from(json) }, ...attachments];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-type: ${part.contentType}\r\ncontent-length: ${part.bytes.length}\r\n\r\n`));
    chunks.push(Buffer.from(part.bytes), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), headers: { 'Content-Type': `multipart/related; boundary=${boundary}` } };
}
