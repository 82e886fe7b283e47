export { createHttpApp, DEFAULT_BODY_LIMIT, type HttpAppOptions } from './app.js';
export { LOG_LEVELS, type LogLevel } from './log-levels.js';
export { HttpError, toHttpError, type ErrorBody } from './errors.js';
export { HTTP_STATUS, httpStatusOf, type HttpStatusCode } from './status.js';
export { MetricsRegistry, Counter, Histogram, PROMETHEUS_CONTENT_TYPE } from './metrics.js';
export { createHttpServer, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './server.js';
