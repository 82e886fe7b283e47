export { createHttpApp, DEFAULT_BODY_LIMIT, type HttpAppOptions } from './app.js';
export { HttpError, toHttpError, type ErrorBody } from './errors.js';
