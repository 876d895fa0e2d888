/**
 * The yardstick of the HTTP benchmark: the least a Node HTTP server can do,
 * read the request body and answer a small JSON object, run as its own
 * process exactly like Settee. Prints `listening on http://HOST:PORT`.
 */
import { createServer } from 'node:http';

const body = Buffer.from(JSON.stringify({ ok: true, id: 'reference', rev: '1-967a00dff5e02add41819138abb3284d' }));
const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    response.end(body);
  });
});
// As Settee's (HttpLimits.keepAliveTimeoutMs): clients keep their sockets across idle gaps.
server.keepAliveTimeout = 600_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
