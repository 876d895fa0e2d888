/** The logger the http layer writes to; `server.ts` picks the level and the sink. */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'none';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Writes out whatever the logger still holds (at shutdown). */
  flush?(): void;
}

const rank: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, notice: 2, warning: 3, error: 4, none: 5 };

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(rank, value);
}

/** How long a debug or info line may wait in the buffer. */
export const logFlushIntervalMs = 100;
/** Buffered text beyond this is written at once. */
export const logBufferCharsMax = 64 * 1024;

/**
 * Lines on stderr, filtered by level (CouchDB's `[log] level`). One write per
 * request line cost ~4% of the CPU of a small GET, so debug and info lines
 * (the request log) are buffered and written together: every
 * `logFlushIntervalMs`, once `logBufferCharsMax` is reached, on `flush()` and
 * when the process exits. Warnings and errors are written at once, after
 * anything buffered before them. `write` receives one or more whole lines.
 */
export function consoleLogger(level: LogLevel, write: (text: string) => void = (text) => process.stderr.write(text)): Logger {
  const buffer = new LineBuffer(write);
  let stampMs = Number.NaN;
  let stamp = '';
  const emit = (at: LogLevel, message: string, urgent: boolean): void => {
    if (rank[at] < rank[level]) return;
    const nowMs = Date.now();
    if (nowMs !== stampMs) {
      stampMs = nowMs;
      stamp = new Date(nowMs).toISOString();
    }
    buffer.add(`[${stamp}] [${at}] ${message}\n`, urgent);
  };
  return {
    debug: (message) => emit('debug', message, false),
    info: (message) => emit('info', message, false),
    warn: (message) => emit('warning', message, true),
    error: (message) => emit('error', message, true),
    flush: () => buffer.flush(),
  };
}

/** Buffers holding text, written out synchronously if the process exits first. */
const unflushed = new Set<LineBuffer>();
let exitHookInstalled = false;

function flushAllAtExit(): void {
  for (const buffer of [...unflushed]) buffer.flush();
}

class LineBuffer {
  readonly #write: (text: string) => void;
  #text = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  add(line: string, urgent: boolean): void {
    this.#text += line;
    if (urgent || this.#text.length >= logBufferCharsMax) {
      this.flush();
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.flush(), logFlushIntervalMs);
    this.#timer.unref();
    unflushed.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', flushAllAtExit);
    }
  }

  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    unflushed.delete(this);
    if (this.#text.length === 0) return;
    const text = this.#text;
    this.#text = '';
    this.#write(text);
  }
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
