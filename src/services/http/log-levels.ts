// The log levels of `keyless serve --log-level`, apart from app.ts: the CLI declares the flag
// on every start, and importing app.ts would load fastify into every command.
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
