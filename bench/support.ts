/**
 * What every benchmark section shares: the row it reports, the context it is
 * run with, a timed loop with concurrent workers, percentiles, temporary
 * directories and the printed table.
 *
 * A benchmark measures; it asserts nothing. Figures are machine-dependent, so
 * each throughput row may carry a reference measured in the same run (the
 * disk's raw fsync rate) and the table prints the ratio beside it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface BenchReference {
  /** What the reference measures, with its unit (`disk fsync/s`). */
  readonly name: string;
  readonly value: number;
}

export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** A figure from the same run to read `value` against; the table prints value ÷ reference. */
  readonly reference?: BenchReference;
  readonly note?: string;
}

export interface BenchContext {
  /** A short run: fewer documents, shorter timed loops (for smoke checks, not figures). */
  readonly quick: boolean;
  /** Whether the workload of this name was asked for (`--only`). */
  selects(workloadName: string): boolean;
  /** Where sections make their temporary directories (the disk under test). */
  readonly tempRoot: string;
  /** Progress for the operator, on stderr so the table on stdout stays clean. */
  log(message: string): void;
}

// ---- timing ----

export interface TimedRun {
  readonly operations: number;
  readonly elapsedMs: number;
  /** Latency of each operation in ms, sorted ascending. */
  readonly latenciesMs: readonly number[];
}

export interface TimedRunOptions {
  readonly durationMs: number;
  /** Workers each running `operation` back to back. */
  readonly concurrency: number;
  /** One operation; `sequence` numbers operations across all workers from 0. */
  readonly operation: (sequence: number) => Promise<unknown>;
  /** Latencies kept at most (the rest are still counted): bounds memory on fast operations. */
  readonly latencySamplesMax?: number;
}

const latencySamplesMaxDefault = 1_000_000;

/** Runs `concurrency` workers until `durationMs` has passed; counts operations that finished. */
export async function runTimed(options: TimedRunOptions): Promise<TimedRun> {
  const samplesMax = options.latencySamplesMax ?? latencySamplesMaxDefault;
  const latenciesMs: number[] = [];
  let sequence = 0;
  let operations = 0;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const begun = performance.now();
      await options.operation(sequence++);
      const ended = performance.now();
      operations++;
      if (latenciesMs.length < samplesMax) latenciesMs.push(ended - begun);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - start;
  latenciesMs.sort((a, b) => a - b);
  return { operations, elapsedMs, latenciesMs };
}

/** Runs `action` once and returns its duration in ms. */
export async function timeOnce(action: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await action();
  return performance.now() - start;
}

export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

/** The value at `fraction` (0..1) of ascending `sorted`, nearest rank; NaN when empty. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

// ---- temporary directories ----

/** Directories of `withTempDir` still in use, removed too if the run is interrupted. */
const liveTempDirs = new Set<string>();
let interruptHandled = false;

function removeLiveTempDirsAndExit(): void {
  for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
  process.exit(130);
}

/** Makes a fresh directory under `root`, runs `action` in it, and removes it whatever happens. */
export async function withTempDir<T>(root: string, prefix: string, action: (dir: string) => Promise<T>): Promise<T> {
  if (!interruptHandled) {
    interruptHandled = true;
    process.once('SIGINT', removeLiveTempDirsAndExit);
  }
  const dir = mkdtempSync(join(root, `settee-bench-${prefix}-`));
  liveTempDirs.add(dir);
  try {
    return await action(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    liveTempDirs.delete(dir);
  }
}

export function defaultTempRoot(): string {
  return tmpdir();
}

// ---- formatting ----

/** Thousands separated above 100, otherwise three significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude === 0) return '0';
  return value.toPrecision(3).replace(/\.?0+$/, '');
}

export function formatMs(ms: number): string {
  return `${formatNumber(ms)} ms`;
}

const headers = ['workload', 'result', 'unit', 'reference', 'ratio', 'note'] as const;
/** Columns aligned to the right (numbers). */
const rightAligned = new Set<number>([1, 4]);

/** The rows as a plain-text table; ratio = value ÷ reference value. */
export function formatTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((row) => [
    row.name,
    formatNumber(row.value),
    row.unit,
    row.reference === undefined ? '' : `${formatNumber(row.reference.value)} ${row.reference.name}`,
    row.reference === undefined || row.reference.value === 0 ? '' : `×${formatNumber(row.value / row.reference.value)}`,
    row.note ?? '',
  ]);
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...cells.map((line) => (line[column] as string).length)),
  );
  const render = (line: readonly string[]): string =>
    line
      .map((cell, column) => {
        const width = widths[column] as number;
        if (column === line.length - 1) return cell;
        return rightAligned.has(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width, column) => '-'.repeat(column === widths.length - 1 ? Math.max(4, width) : width));
  return [render(headers), rule.join('  '), ...cells.map(render)].join('\n');
}
