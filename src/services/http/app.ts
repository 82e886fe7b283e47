import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { parseJson } from '../../core/json.js';
import { FormatError } from '../../core/errors.js';
import { toHttpError } from './errors.js';
import { HTTP_STATUS } from './status.js';
import { MetricsRegistry } from './metrics.js';
import { halfCloseAfterAnswer } from './drain.js';
import { createHttpServer, type ConnectionLimits } from './server.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's Prometheus metrics (served at /metrics). */
    metrics: MetricsRegistry;
  }
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface HttpAppOptions {
  /** Largest request body accepted, in bytes (413 above). */
  bodyLimit?: number;
  /** A pino logger or `false`; keys and tokens are never logged by our code. */
  logger?: FastifyServerOptions['logger'];
  /** Timeouts and connection caps of the underlying HTTP server. */
  connections?: Partial<ConnectionLimits>;
  /**
   * Runs before fastify sees a request (e.g. to answer 503 until the routes exist);
   * returns true when it has answered.
   */
  gate?: (req: IncomingMessage, res: ServerResponse) => boolean;
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
    // Very long URLs and odd paths are answered 404/400, not crashes.
    routerOptions: { maxParamLength: 2048 },
    serverFactory: (handler) =>
      createHttpServer((req, res) => {
        if (!options.gate?.(req, res)) handler(req, res);
      }, options.connections),
  });

  app.decorate('metrics', new MetricsRegistry());

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
    // Answered before the body was read: let the client read the answer (no reset).
    if (!request.raw.complete) halfCloseAfterAnswer(request.raw);
    if (internal) request.log.error({ err: error, url: request.url }, 'internal error');
    void reply.code(status).type('application/json').send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(HTTP_STATUS.NOT_FOUND).type('application/json').send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.slice(0, 200)}` });
  });

  return app;
}
