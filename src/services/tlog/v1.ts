import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { FormatError } from '../../core/errors.js';
import { base64Decode, hexEncode } from '../../core/encoding.js';
import { asArray, asObject } from '../../core/json.js';
import { leafHash } from '../../merkle/index.js';
import { parseRekorV1ProposedEntry } from '../../formats/index.js';
import { HttpError } from '../http/index.js';
import { admitV1 } from './admit.js';
import { appendOrBusy } from './append.js';
import { emailIndexKey, hashIndexKey, keyFromPem, publicKeyIndexKey } from './keys.js';
import type { RekorV1Log } from './logs.js';
import { inlineDigestVerifier, type DigestVerifier } from './verify-pool.js';

export interface RekorV1ServiceOptions {
  log: RekorV1Log;
  /** Where signatures over digests are checked (default: in the event loop thread). */
  verifier?: DigestVerifier;
}

const MAX_RETRIEVE = 10;

/**
 * Rekor answers errors as `{code: <HTTP status>, message}` (the Error model of its OpenAPI
 * spec), and clients generated from that spec (rekor-cli, cosign's Rekor client) cannot
 * read a string `code`: a 409 would not even be recognised as a duplicate. On the Rekor v1
 * routes the Keyless error code is therefore carried as `reason`.
 */
function asRekorError(status: number, payload: string): string {
  try {
    const body = JSON.parse(payload) as { code?: unknown; message?: unknown };
    if (typeof body?.code === 'string') return JSON.stringify({ code: status, message: body.message, reason: body.code });
  } catch {
    // not one of our JSON errors: sent as it is
  }
  return payload;
}

function intParam(value: unknown, field: string, required: boolean): number | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(value)) {
    throw new HttpError('REQUEST_INVALID', `${field} must be a non-negative decimal integer`);
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new HttpError('REQUEST_INVALID', `${field} is too large`);
  return n;
}

/** Rekor v1 API: POST/GET entries, log info, consistency proofs, public key, search index. */
export function rekorV1Service(options: RekorV1ServiceOptions): FastifyPluginAsync {
  const { log: rekor } = options;
  const log = rekor.log;
  const verifier = options.verifier ?? inlineDigestVerifier;

  async function entryAt(index: number): Promise<Record<string, unknown> | undefined> {
    const e = await log.getEntry(index);
    if (!e) return undefined;
    return rekor.entryResponse({ ...e, leafHash: leafHash(e.body) }, log.latestCheckpoint());
  }

  function checkTreeId(value: unknown): void {
    if (value === undefined) return;
    if (typeof value !== 'string' || value !== log.treeId) throw new HttpError('TREE_NOT_FOUND', 'unknown treeID');
  }

  async function byUuid(id: string): Promise<Record<string, unknown> | undefined> {
    if (!/^([0-9a-fA-F]{16})?[0-9a-fA-F]{64}$/.test(id))
      throw new HttpError('REQUEST_INVALID', 'entry UUID must be 64 or 80 hex characters');
    if (id.length === 80 && id.slice(0, 16).toLowerCase() !== BigInt(log.treeId).toString(16).padStart(16, '0')) return undefined;
    const idx = await log.findByLeafHash(Buffer.from(id.slice(-64), 'hex'));
    return idx === undefined ? undefined : entryAt(idx);
  }

  return async (app) => {
    app.addHook('onSend', (_request, reply, payload, done) => {
      done(null, reply.statusCode >= 400 && typeof payload === 'string' ? asRekorError(reply.statusCode, payload) : payload);
    });

    app.post('/api/v1/log/entries', async (request, reply: FastifyReply) => {
      const proposed = parseRekorV1ProposedEntry(request.body);
      const admitted = await admitV1(proposed, verifier);
      const result = await appendOrBusy(log, admitted, rekor.info.maxEntryBytes, app.metrics);
      const entryId = rekor.entryId(result.leafHash);
      const location = `/api/v1/log/entries/${entryId}`;
      if (result.duplicate) {
        void reply.header('Location', location);
        throw new HttpError('ENTRY_EXISTS', `an equivalent entry already exists in the log at index ${result.index}`);
      }
      const body = await rekor.entryResponse(
        { index: result.index, body: admitted.body, integratedTime: result.integratedTime, leafHash: result.leafHash },
        result.checkpoint,
      );
      return reply.code(201).header('ETag', entryId).header('Location', location).send(body);
    });

    app.get('/api/v1/log', async () => {
      const cp = log.latestCheckpoint();
      return { rootHash: hexEncode(cp.rootHash), treeSize: cp.size, signedTreeHead: cp.signed, treeID: log.treeId };
    });

    app.get('/api/v1/log/publicKey', async (request, reply) => {
      checkTreeId((request.query as Record<string, unknown>).treeID);
      return reply.type('application/x-pem-file').send(rekor.publicKeyPem());
    });

    app.get('/api/v1/log/proof', async (request) => {
      const q = request.query as Record<string, unknown>;
      checkTreeId(q.treeID);
      const firstSize = intParam(q.firstSize, 'firstSize', false) ?? 1;
      const lastSize = intParam(q.lastSize, 'lastSize', true)!;
      if (firstSize > lastSize) throw new HttpError('REQUEST_INVALID', `firstSize ${firstSize} is greater than lastSize ${lastSize}`);
      // Another frontend may have grown the log since this one last looked.
      if (lastSize > log.size) await log.refresh();
      if (lastSize > log.size) throw new HttpError('REQUEST_INVALID', `lastSize ${lastSize} exceeds the tree size ${log.size}`);
      const [hashes, root] = await Promise.all([log.consistencyProof(firstSize, lastSize), log.rootHash(lastSize)]);
      return { rootHash: hexEncode(root), hashes: hashes.map((h) => hexEncode(h)) };
    });

    app.get('/api/v1/log/entries', async (request) => {
      const index = intParam((request.query as Record<string, unknown>).logIndex, 'logIndex', true)!;
      const entry = await entryAt(index);
      if (!entry) throw new HttpError('ENTRY_NOT_FOUND', `no entry at index ${index}`);
      return entry;
    });

    app.get('/api/v1/log/entries/:entryUUID', async (request) => {
      const id = (request.params as { entryUUID: string }).entryUUID;
      const entry = await byUuid(id);
      if (!entry) throw new HttpError('ENTRY_NOT_FOUND', 'no entry with that UUID');
      return entry;
    });

    app.post('/api/v1/log/entries/retrieve', async (request) => {
      const body = asObject(request.body, 'body');
      const list = (name: string): unknown[] => {
        // Go clients (rekor-cli) send the lists they leave empty as null.
        if (body[name] === undefined || body[name] === null) return [];
        const a = asArray(body[name], name);
        if (a.length > MAX_RETRIEVE) throw new FormatError(name, `at most ${MAX_RETRIEVE} items are allowed`, { check: 'limit' });
        return a;
      };
      const uuids = list('entryUUIDs');
      const indexes = list('logIndexes');
      const entries = list('entries');
      if (uuids.length + indexes.length + entries.length === 0)
        throw new FormatError('body', 'one of entryUUIDs, logIndexes or entries is required', { check: 'required' });
      const out: Record<string, unknown>[] = [];
      for (const [i, u] of uuids.entries()) {
        if (typeof u !== 'string') throw new FormatError(`entryUUIDs[${i}]`, 'expected a string');
        const e = await byUuid(u);
        if (e) out.push(e);
      }
      for (const [i, n] of indexes.entries()) {
        if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
          throw new FormatError(`logIndexes[${i}]`, 'expected a non-negative integer');
        const e = await entryAt(n);
        if (e) out.push(e);
      }
      for (const p of entries) {
        const admitted = await admitV1(parseRekorV1ProposedEntry(p), verifier);
        const idx = await log.findByLeafHash(leafHash(admitted.body));
        if (idx !== undefined) {
          const e = await entryAt(idx);
          if (e) out.push(e);
        }
      }
      return out;
    });

    app.post('/api/v1/index/retrieve', async (request) => {
      const body = asObject(request.body, 'body');
      const keys: string[] = [];
      if (body.hash !== undefined) {
        const m = typeof body.hash === 'string' ? /^(?:(sha256|sha384|sha512):)?([0-9a-fA-F]+)$/.exec(body.hash) : null;
        const len = { sha256: 64, sha384: 96, sha512: 128 } as const;
        const alg = (m?.[1] ?? 'sha256') as keyof typeof len;
        if (!m || m[2]!.length !== len[alg]) throw new FormatError('hash', 'expected "<algorithm>:<hex digest>"');
        keys.push(hashIndexKey(alg, m[2]!));
      }
      if (body.email !== undefined) {
        if (typeof body.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(body.email))
          throw new FormatError('email', 'expected an email address');
        keys.push(emailIndexKey(body.email));
      }
      if (body.publicKey !== undefined) {
        const pk = asObject(body.publicKey, 'publicKey');
        if (pk.format !== 'x509')
          throw new FormatError('publicKey.format', 'only "x509" keys are indexed by this log', { check: 'format' });
        const key = keyFromPem(base64Decode(pk.content, 'publicKey.content'), 'publicKey.content');
        keys.push(publicKeyIndexKey(key.spki));
      }
      if (body.subject !== undefined && typeof body.subject !== 'string') throw new FormatError('subject', 'expected a string');
      if (keys.length === 0) throw new FormatError('body', 'one of hash, email or publicKey is required', { check: 'required' });
      const operator = body.operator === undefined ? 'or' : body.operator;
      if (operator !== 'and' && operator !== 'or') throw new FormatError('operator', 'must be "and" or "or"');
      const found = await log.search(keys, operator);
      const ids: string[] = [];
      for (const idx of found) {
        const e = await log.getEntry(idx);
        if (e) ids.push(rekor.entryId(leafHash(e.body)));
      }
      return ids;
    });
  };
}
