/**
 * The disk's raw durable-write rate: the yardstick for every write figure.
 *
 * One fsync per acknowledged write is the ceiling a naive database hits; a
 * group commit amortises one fsync over many writes, so its commits/s should
 * exceed this rate once writers are concurrent.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { percentile, perSecond } from './support.js';

export interface FsyncRate {
  readonly fsyncsPerSecond: number;
  readonly fsyncs: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const blockBytes = 4096;
/** The file cycles over this many blocks, as a reused write-ahead log does (no endless growth). */
const blocksCycled = 256;

/** Writes 4 KB and fsyncs, back to back, in a file under `dir` for about `durationMs`. */
export function measureFsyncRate(dir: string, durationMs: number): FsyncRate {
  const path = join(dir, 'fsync-probe.bin');
  const block = Buffer.alloc(blockBytes, 0x5a);
  const fd = openSync(path, 'w');
  const latenciesMs: number[] = [];
  let fsyncs = 0;
  const start = performance.now();
  try {
    const deadline = start + durationMs;
    while (performance.now() < deadline) {
      const begun = performance.now();
      writeSync(fd, block, 0, blockBytes, (fsyncs % blocksCycled) * blockBytes);
      fsyncSync(fd);
      latenciesMs.push(performance.now() - begun);
      fsyncs++;
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  const elapsedMs = performance.now() - start;
  latenciesMs.sort((a, b) => a - b);
  return {
    fsyncsPerSecond: perSecond(fsyncs, elapsedMs),
    fsyncs,
    elapsedMs,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
  };
}
