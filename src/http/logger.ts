/** The logger the http layer writes to; `server.ts` picks the level and the sink. */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'none';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const rank: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, notice: 2, warning: 3, error: 4, none: 5 };

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(rank, value);
}

/** Lines on stderr, filtered by level (CouchDB's `[log] level`). */
export function consoleLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (at: LogLevel, message: string): void => {
    if (rank[at] >= rank[level]) write(`[${new Date().toISOString()}] [${at}] ${message}\n`);
  };
  return {
    debug: (message) => emit('debug', message),
    info: (message) => emit('info', message),
    warn: (message) => emit('warning', message),
    error: (message) => emit('error', message),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
