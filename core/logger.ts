export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export type LogMeta = Record<string, unknown>;

/** Logs a fixed message with its variables in `meta`: `logger.warn({ stage }, 'gate has too few samples')`. */
export interface Logger {
  debug(meta: LogMeta, message: string): void;
  info(meta: LogMeta, message: string): void;
  warn(meta: LogMeta, message: string): void;
  error(meta: LogMeta, message: string): void;
}

// Values under these keys never reach a log line, whatever calls the logger.
const SECRET_KEY = /token|password|secret|authorization|private.?key/i;

export function redact(meta: LogMeta): LogMeta {
  const out: LogMeta = {};
  for (const [key, value] of Object.entries(meta)) out[key] = SECRET_KEY.test(key) ? '[redacted]' : value;
  return out;
}

/** A line logger: `level message key=value …`, written by `write` (stderr by default). */
export function createLogger(options: { level: LogLevel; write?: (line: string) => void; json?: boolean }): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const threshold = LOG_LEVELS.indexOf(options.level);
  const emit = (level: Exclude<LogLevel, 'silent'>) => (meta: LogMeta, message: string) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const safe = redact(meta);
    if (options.json) {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...safe }));
      return;
    }
    const pairs = Object.entries(safe).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    write([level.padEnd(5), message, ...pairs].join(' '));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
