// RFC 6962 HTTP API of the CT log: add-pre-chain, add-chain, get-sth, get-roots,
// get-proof-by-hash, get-sth-consistency, get-entries (a page of at most CT_ENTRIES_PAGE), under
// `<prefix>/ct/v1/` (register with the prefix of the log's base URL, as Fulcio's
// `--ct-log-url` names it; the TrustedRoot `ctlogs[].baseUrl` is that URL).
import type { FastifyPluginAsync } from 'fastify';
import { base64Decode } from '../../core/encoding.js';
import { KeylessError } from '../../core/errors.js';
import { parseCertificate, sctToJson, type Certificate } from '../../x509/index.js';
import { HttpError } from '../http/index.js';
import type { CtLog } from './log.js';

export interface CtLogServiceOptions {
  log: CtLog;
}

/** Most entries one get-entries answer holds (RFC 6962 lets a log return fewer than asked). */
export const CT_ENTRIES_PAGE = 256;

/** Largest add-chain body: ten certificates of a few KiB each, base64. */
export const CT_MAX_REQUEST_BYTES = 128 * 1024;

function chainFromBody(body: unknown, maxLength: number): Certificate[] {
  const chain = (body as { chain?: unknown } | null)?.chain;
  if (typeof body !== 'object' || body === null || !Array.isArray(chain)) {
    throw new HttpError('REQUEST_INVALID', 'body must be {"chain": ["<base64 DER>", ...]}');
  }
  if (chain.length === 0) throw new HttpError('CT_CHAIN_EMPTY', 'chain is empty');
  if (chain.length > maxLength) throw new HttpError('CT_CHAIN_TOO_LONG', `chain has more than ${maxLength} certificates`);
  return chain.map((c, i) => {
    try {
      return parseCertificate(base64Decode(c, `chain[${i}]`));
    } catch (e) {
      if (e instanceof KeylessError) throw new HttpError('CT_CERTIFICATE_INVALID', `chain[${i}]: ${e.message}`);
      throw e;
    }
  });
}

function intParam(v: unknown, name: string): number {
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) throw new HttpError('REQUEST_INVALID', `${name} must be a non-negative integer`);
  return Number(v);
}

export function ctlogService(options: CtLogServiceOptions): FastifyPluginAsync {
  const { log } = options;
  const roots = { certificates: log.roots.map((r) => r.der.toString('base64')) };
  return async (app) => {
    const opts = { bodyLimit: CT_MAX_REQUEST_BYTES };
    app.post('/ct/v1/add-pre-chain', opts, async (request) => sctToJson(await log.addPreChain(chainFromBody(request.body, 10))));
    app.post('/ct/v1/add-chain', opts, async (request) => sctToJson(await log.addChain(chainFromBody(request.body, 10))));
    app.get('/ct/v1/get-sth', async () => log.getSth());
    app.get('/ct/v1/get-roots', async () => roots);
    app.get('/ct/v1/get-proof-by-hash', async (request) => {
      const q = request.query as Record<string, unknown>;
      return log.proofByHash(base64Decode(q.hash, 'hash'), intParam(q.tree_size, 'tree_size'));
    });
    app.get('/ct/v1/get-entries', async (request) => {
      const q = request.query as Record<string, unknown>;
      return log.entries(intParam(q.start, 'start'), intParam(q.end, 'end'), CT_ENTRIES_PAGE);
    });
    app.get('/ct/v1/get-sth-consistency', async (request) => {
      const q = request.query as Record<string, unknown>;
      return log.consistency(intParam(q.first, 'first'), intParam(q.second, 'second'));
    });
  };
}
