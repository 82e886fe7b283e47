import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { parseJson } from '../../core/json.js';
import { FormatError } from '../../core/errors.js';
import { toHttpError } from './errors.js';
import { HTTP_STATUS } from './status.js';
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from './metrics.js';
import { halfCloseAfterAnswer } from './drain.js';
import { createHttpServer, type ConnectionLimits } from './server.js';
import type { LogLevel } from './log-levels.js';

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
  /**
   * Structured logs (pino, JSON lines): one line per request and one per server-side
   * failure, written to `stream`. Never headers, query strings, bodies, tokens or keys.
   * Default: no logging.
   */
  log?: { level: LogLevel; stream: NodeJS.WritableStream };
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
    logger: options.log ? loggerOptions(options.log) : false,
    // fastify's own request lines would log URLs with their query strings; ours are below.
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
  observeRequests(app);

  const errorsByCode = app.metrics.counter('keyless_errors_total', 'Error answers by error code');

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
    errorsByCode.inc({ code: body.code });
    requestErrorCode.set(request, body.code);
    // The request line says what was refused; a failure on our side (or upstream) also gets its cause.
    if (status >= 500 && !internal) request.log.error({ code: body.code, err: error, route: routeOf(request) }, 'request failed');
    // Answered before the body was read: let the client read the answer (no reset).
    if (!request.raw.complete) halfCloseAfterAnswer(request.raw);
    if (internal) request.log.error({ err: error, route: routeOf(request) }, 'internal error');
    // Every 503 is temporary (overloaded, closing, storage unreachable): say when to come back.
    if (status === 503) void reply.header('Retry-After', '1');
    void reply.code(status).type('application/json').send(body);
  });

  app.get('/metrics', async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(app.metrics.render()));

  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(HTTP_STATUS.NOT_FOUND)
      .type('application/json')
      .send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.slice(0, 200)}` });
  });

  return app;
}

/** Fields that carry secrets, censored wherever they appear in a log line (belt and braces: we never log them). */
const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'id_token',
  '*.id_token',
  'access_token',
  '*.access_token',
  'client_secret',
  '*.client_secret',
  'privateKey',
  '*.privateKey',
  'password',
  '*.password',
];

function loggerOptions(log: { level: LogLevel; stream: NodeJS.WritableStream }): FastifyServerOptions['logger'] {
  return {
    level: log.level,
    stream: log.stream,
    base: { service: 'keyless' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}

/** The route pattern (never the raw URL: paths and query strings may carry identifiers and tokens). */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? '(no route)';
}

/** Levels at which an `info` line is written. */
const INFO_LOGGED = new Set<string>(['info', 'debug', 'trace']);

const requestErrorCode = new WeakMap<FastifyRequest, string>();

/** One log line and the request metrics per answered request. */
function observeRequests(app: FastifyInstance): void {
  const requests = app.metrics.counter('keyless_http_requests_total', 'HTTP requests answered, by method, route and status');
  const latency = app.metrics.histogram(
    'keyless_http_request_duration_seconds',
    'Time from request to answer, by route',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  const record = (request: FastifyRequest, reply: FastifyReply): void => {
    const route = routeOf(request);
    const status = reply.statusCode;
    const seconds = reply.elapsedTime / 1000;
    requests.inc({ method: request.method, route, status });
    latency.observe(seconds, { method: request.method, route });
    // Below the log level (e.g. `--log-level error` under load): no line to build.
    if (status < 500 && !INFO_LOGGED.has(request.log.level)) return;
    const line = {
      method: request.method,
      route,
      status,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      remote: request.ip,
      code: requestErrorCode.get(request),
    };
    if (status >= 500) request.log.warn(line, 'request');
    else request.log.info(line, 'request');
  };
  // A callback hook, not an async one: no promise per answered request.
  app.addHook('onResponse', (request, reply, done) => {
    try {
      record(request, reply);
    } finally {
      done();
    }
  });
}
