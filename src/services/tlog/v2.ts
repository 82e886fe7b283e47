import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { FormatError } from '../../core/errors.js';
import { parseCreateEntryRequestV2 } from '../../formats/index.js';
import { parseTilePath } from '../../merkle/index.js';
import { HttpError } from '../http/index.js';
import { admitV2 } from './admit.js';
import { appendOrBusy } from './append.js';
import type { RekorV2Log } from './logs.js';
import { inlineDigestVerifier, type DigestVerifier } from './verify-pool.js';

export interface RekorV2ServiceOptions {
  log: RekorV2Log;
  verifier?: DigestVerifier;
  /** Path prefix of the tlog-tiles read API (default: none, i.e. `/checkpoint`, `/tile/...`). */
  tilesPrefix?: string;
  /** A retired shard: reads only; appends answer LOG_SHARD_RETIRED naming `successor`. */
  retired?: { successor: string };
}

/** Checkpoints change with every batch; a CDN may keep them a second. */
const CHECKPOINT_CACHE = 'public, max-age=1';
/** Tiles and entry bundles (full or partial of a given width) never change. */
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';

/** Rekor v2 API: POST /api/v2/log/entries and the C2SP tlog-tiles read API. */
export function rekorV2Service(options: RekorV2ServiceOptions): FastifyPluginAsync {
  const { log: rekor } = options;
  const log = rekor.log;
  const verifier = options.verifier ?? inlineDigestVerifier;
  const prefix = (options.tilesPrefix ?? '').replace(/\/+$/, '');

  async function sendTile(wildcard: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    let ref;
    try {
      ref = parseTilePath(`tile/${wildcard}`);
    } catch (e) {
      if (e instanceof FormatError) throw new HttpError('TILE_NOT_FOUND', 'not a tlog-tiles path');
      throw e;
    }
    let data: Buffer | undefined;
    try {
      data =
        ref.level === 'entries' ? await log.readEntryBundle(ref.index, ref.width) : await log.readTile(ref.level, ref.index, ref.width);
    } catch (e) {
      // Part of the published tree cannot be served: the log's fault, never the reader's.
      request.server.metrics
        .counter('keyless_tlog_tile_failures_total', 'Tiles or entry bundles of the published tree that could not be built')
        .inc({ log: rekor.info.origin });
      request.log.error({ err: e, tile: wildcard.slice(0, 200), log: rekor.info.origin }, 'tile cannot be built');
      throw new HttpError('TLOG_TILE_UNAVAILABLE', 'this tile cannot be served; the operator has been alerted', { cause: e });
    }
    if (!data) throw new HttpError('TILE_NOT_FOUND', 'tile not available');
    return reply.header('Cache-Control', IMMUTABLE_CACHE).type('application/octet-stream').send(data);
  }

  return async (app) => {
    app.post('/api/v2/log/entries', async (request, reply) => {
      if (options.retired) {
        throw new HttpError(
          'LOG_SHARD_RETIRED',
          `this Rekor v2 log shard is retired for writes (it stays readable); append to ${options.retired.successor}`,
        );
      }
      const req = parseCreateEntryRequestV2(request.body);
      const admitted = await admitV2(req, verifier);
      const result = await appendOrBusy(log, admitted, rekor.info.maxEntryBytes, app.metrics);
      if (result.duplicate) {
        void reply.header('x-log-index', String(result.index));
        throw new HttpError('ENTRY_EXISTS', `an equivalent entry already exists in the log at index ${result.index}`);
      }
      const tle = await rekor.transparencyLogEntryJson({ index: result.index, body: admitted.body }, result.checkpoint);
      return reply.code(201).type('application/json; charset=utf-8').send(tle);
    });

    for (const base of new Set([prefix, '/api/v2'])) {
      app.get(`${base}/checkpoint`, async (_request, reply) => {
        return reply.header('Cache-Control', CHECKPOINT_CACHE).type('text/plain; charset=utf-8').send(log.latestCheckpoint().signed);
      });
      app.get(`${base}/tile/*`, async (request, reply) => sendTile((request.params as { '*': string })['*'], request, reply));
    }
  };
}
