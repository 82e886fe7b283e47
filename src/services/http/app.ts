import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { parseJson } from '../../core/json.js';
import { FormatError } from '../../core/errors.js';
import { toHttpError } from './errors.js';
import { HTTP_STATUS } from './status.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface HttpAppOptions {
  /** Largest request body accepted, in bytes (413 above). */
  bodyLimit?: number;
  /** A pino logger or `false`; keys and tokens are never logged by our code. */
  logger?: FastifyServerOptions['logger'];
  /** Builds the underlying HTTP server (e.g. one that holds requests back until the routes exist). */
  serverFactory?: FastifyServerOptions['serverFactory'];
}

/**
 * The one HTTP server every service registers into (as fastify plugins). It owns the
 * error contract: every failure is JSON `{code, message}`, the framework's own 404,
 * 413 and 415 included, and a service never answers 5xx to malformed input.
 */
export function createHttpApp(options: HttpAppOptions = {}): FastifyInstance {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: options.logger ?? false,
    // Per-request lines would log URLs with tokens in query strings; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: true,
    keepAliveTimeout: 65_000,
    // Very long URLs and odd paths are answered 404/400, not crashes.
    routerOptions: { maxParamLength: 2048 },
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
  });

  // JSON with a nesting limit and our error codes, for every service.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) {
      done(new FormatError('body', 'request body is empty'), undefined);
      return;
    }
    try {
      done(null, parseJson(buf, 'body'));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body, internal } = toHttpError(error);
    if (internal) request.log.error({ err: error, url: request.url }, 'internal error');
    // Every 503 is temporary (overloaded, closing, storage unreachable): say when to come back.
    if (status === 503) void reply.header('Retry-After', '1');
    void reply.code(status).type('application/json').send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(HTTP_STATUS.NOT_FOUND).type('application/json').send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.slice(0, 200)}` });
  });

  return app;
}
