import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { sha256 } from '../../core/hash.js';
import { HttpError } from '../http/index.js';
import { ActivityCache } from './activity.js';
import { DEFAULT_PAGE, MAX_OFFSET, MAX_PAGE, parseQuery, searchLogs, type ExplorerLog } from './search.js';

export interface ExplorerServiceOptions {
  /** The logs searched: Rekor v1 and v2, and the CT log (whose tree head the page reads through get-sth). */
  logs: readonly ExplorerLog[];
  /** The trusted root clients are given (its bytes, read on each request: the server rewrites it at start). */
  trustedRoot: () => Buffer | undefined;
  /** Folder of the built browser app (default: dist/explorer of this package). */
  appDir?: string;
}

/** The page may load only from this instance: no fonts, scripts or data from elsewhere. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** dist/explorer of the package this file belongs to (src/… under tsx, dist/… when bundled). */
export function defaultAppDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'explorer');
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), 'explorer');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Keyless</title><link rel="icon" href="data:,"><p>The log explorer is not built: run <code>npm run build</code>.`;

function intParam(value: unknown, field: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,6})$/.test(value))
    throw new HttpError('REQUEST_INVALID', `${field} must be a non-negative decimal integer`);
  const n = Number(value);
  if (n > max) throw new HttpError('REQUEST_INVALID', `${field} must be at most ${max}`);
  return n;
}

/**
 * The log explorer: the static page at `/` and a thin JSON API beside it. The API only
 * points at entries (log and index); the page reads entries, checkpoints and proofs
 * through the logs' own read APIs and checks them itself.
 */
export function explorerService(options: ExplorerServiceOptions): FastifyPluginAsync {
  const appDir = options.appDir ?? defaultAppDir();
  const assets = new Map<string, Buffer>();
  const asset = (name: string): Buffer | undefined => {
    let b = assets.get(name);
    if (!b && existsSync(join(appDir, name))) {
      b = readFileSync(join(appDir, name));
      assets.set(name, b);
    }
    return b;
  };
  // Signing events are the Rekor entries (each signing also logs its certificate in CT).
  const transparency = options.logs.filter((l) => l.name !== 'ct');
  const ctLog = options.logs.some((l) => l.name === 'ct');
  const activity = new ActivityCache(transparency);

  const sendIndex = (reply: FastifyReply): FastifyReply => {
    const html = asset('index.html');
    return reply
      .header('Content-Security-Policy', CSP)
      .header('Cache-Control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(html ?? NOT_BUILT);
  };

  return async (app) => {
    app.get('/', async (_request, reply) => sendIndex(reply));
    app.get('/explorer/:file', async (request, reply) => {
      const file = (request.params as { file: string }).file;
      const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
      const data = type ? asset(file) : undefined;
      if (!type || !data) throw new HttpError('NOT_FOUND', 'no such explorer file');
      return reply.header('Cache-Control', 'no-cache').type(type).send(data);
    });
    app.get('/favicon.ico', async (_request, reply) => {
      const data = asset('favicon.svg');
      if (!data) throw new HttpError('NOT_FOUND', 'no favicon');
      return reply.header('Cache-Control', 'public, max-age=86400').type('image/svg+xml').send(data);
    });

    app.get('/api/explorer/v1/search', async (request) => {
      const q = request.query as Record<string, unknown>;
      const query = parseQuery(q.q);
      const limit = intParam(q.limit, 'limit', DEFAULT_PAGE, MAX_PAGE);
      const offset = intParam(q.offset, 'offset', 0, MAX_OFFSET);
      if (limit === 0) throw new HttpError('REQUEST_INVALID', 'limit must be at least 1');
      const { results, more } = await searchLogs(options.logs, query, offset, limit);
      return { query: String(q.q).trim(), kind: query.kind, offset, limit, results, more };
    });

    app.get('/api/explorer/v1/logs', async () => ({
      logs: transparency.map(({ name, log }) => {
        const cp = log.latestCheckpoint();
        return { name, origin: log.origin, size: cp.size, checkpoint: cp.signed, timestamp: cp.timestamp };
      }),
      ctLog,
    }));

    app.get('/api/explorer/v1/activity', async () => activity.get());

    app.get('/api/explorer/v1/trusted-root', async (_request, reply) => {
      const root = options.trustedRoot();
      if (!root) throw new HttpError('NOT_FOUND', 'this instance has no trusted root yet');
      return reply
        .header('Cache-Control', 'no-cache')
        .header('x-keyless-sha256', sha256(root).toString('hex'))
        .type('application/json')
        .send(root);
    });
  };
}
