import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleLogger, logBufferCharsMax, logFlushIntervalMs } from './logger.js';

test('info lines are buffered and written together; warnings and errors at once, in order', async () => {
  const writes: string[] = [];
  const logger = consoleLogger('info', (text) => writes.push(text));
  logger.debug('hidden');
  logger.info('one');
  logger.info('two');
  assert.equal(writes.length, 0);
  logger.error('bad');
  assert.equal(writes.length, 1);
  assert.match(writes[0] ?? '', /^\[[^\]]+\] \[info\] one\n\[[^\]]+\] \[info\] two\n\[[^\]]+\] \[error\] bad\n$/);
  logger.info('three');
  await new Promise((resolve) => setTimeout(resolve, logFlushIntervalMs * 2));
  assert.equal(writes.length, 2);
  assert.match(writes[1] ?? '', /\[info\] three\n$/);
  logger.info('four');
  logger.flush?.();
  assert.match(writes[2] ?? '', /\[info\] four\n$/);
});

test('the log buffer is written once it reaches its bound', () => {
  const writes: string[] = [];
  const logger = consoleLogger('info', (text) => writes.push(text));
  const message = 'm'.repeat(1000);
  for (let index = 0; index < logBufferCharsMax / 1000 + 1; index++) logger.info(message);
  assert.equal(writes.length, 1);
  assert.ok((writes[0] ?? '').length >= logBufferCharsMax);
  logger.flush?.();
});
