import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/config.ts';

/** Pino, JSON lines; human-readable only when writing to a terminal. Secrets never reach it. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'landlord' },
    redact: { paths: ['req.headers.authorization', '*.apiKey', '*.clientSecret', '*.password', '*.secret'], censor: '[redacted]' },
    ...(process.stdout.isTTY
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } }
      : {}),
  });
}
