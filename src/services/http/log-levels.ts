// The log levels `keyless serve --log-level` accepts, apart from the app so that the CLI can
// check the flag without loading fastify (every command defines its flags at start).
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
