import { KeylessError } from '../../core/errors.js';
import { RekorV1Log, RekorV2Log, rekorV1Service, rekorV2Service, inlineDigestVerifier } from '../../services/tlog/index.js';
import type { LogDescription } from '../trust-files.js';
import type { ServiceModule } from '../module.js';
import { readLogShards, type LogShard } from '../shards.js';

/**
 * Rekor v1 (ECDSA P-256: SETs and checkpoints) and Rekor v2 (Ed25519 signed notes), same
 * base URL and engine. Rekor v2 has shards (../shards.ts): the current one takes entries at
 * its path, retired ones stay readable and stay in the trusted root with an end.
 */
export const rekorModule: ServiceModule = {
  name: 'rekor',
  configSections: ['keys', 'storage'],
  async setup(ctx) {
    const engine = (await ctx.storage()).transparency;
    const v1Key = ctx.keyStore.loadOrCreate('rekor-v1', ctx.config.keys.rekorV1);
    const v1 = await RekorV1Log.open({ engine, baseUrl: ctx.publicUrl, signer: v1Key });
    const shards = readLogShards(ctx.dataDir, ctx.keyStore);
    const current = shards[shards.length - 1]!;
    const v2: { shard: LogShard; log: RekorV2Log; description: LogDescription }[] = [];
    for (const shard of shards) {
      const key = shard === shards[0] ? ctx.keyStore.loadOrCreate(shard.name, ctx.config.keys.rekorV2) : ctx.keyStore.load(shard.name);
      if (!key) throw new KeylessError('LOG_SHARDS_INVALID', `the key of Rekor v2 shard ${shard.name} is missing from ${ctx.dataDir}/keys`);
      const baseUrl = shard.url ?? `${ctx.publicUrl}${shard.path}`;
      if (shard.url && new URL(shard.url).hostname === new URL(ctx.publicUrl).hostname)
        throw new KeylessError(
          'LOG_SHARDS_INVALID',
          `Rekor v2 shard ${shard.name} has the public URL's host name (${shard.url}); a shard URL of its own needs a host name of its own`,
        );
      const log = await RekorV2Log.open({ engine, baseUrl, name: shard.name, signer: key, origin: shard.origin }).catch((e: unknown) => {
        // The v2 checkpoint origin is the public URL's host name and is fixed when the log is created.
        if (e instanceof KeylessError && e.code === 'LOG_ORIGIN_MISMATCH') {
          throw new KeylessError(
            'PUBLIC_URL_CHANGED',
            `${e.message}: the Rekor v2 log in ${ctx.dataDir} was created for another host name; keep the public URL's host (--public-url) or use a new data directory`,
          );
        }
        throw e;
      });
      const description: LogDescription = {
        baseUrl,
        publicKey: key.publicKey,
        logId: log.info.logId,
        start: shard === shards[0] ? key.createdAt : shard.start,
      };
      if (shard.end) description.end = shard.end;
      v2.push({ shard, log, description });
    }
    return {
      services: ['rekor-v1', shards.length > 1 ? `rekor-v2 (${shards.length} shards)` : 'rekor-v2'],
      async register(app) {
        await app.register(rekorV1Service({ log: v1, verifier: inlineDigestVerifier }));
        for (const { shard, log } of v2) {
          const retired = shard === current ? undefined : { successor: current.url ?? `${ctx.publicUrl}${current.path}` };
          const service = rekorV2Service({ log, verifier: inlineDigestVerifier, ...(retired ? { retired } : {}) });
          if (shard.url) {
            // A shard with a host name of its own answers at that host's root, chosen by the Host header.
            const host = new URL(shard.url).host;
            await app.register(async (scoped) => {
              scoped.addHook('onRoute', (route) => {
                route.constraints = { ...route.constraints, host };
              });
              await scoped.register(service);
            });
          } else await app.register(service, shard.path ? { prefix: shard.path } : {});
        }
      },
      describe(trust) {
        trust.rekorV1 = { baseUrl: ctx.publicUrl, publicKey: v1Key.publicKey, logId: v1.info.logId, start: v1Key.createdAt };
        for (const { shard, description } of v2) {
          if (shard === current) trust.rekorV2 = description;
          else (trust.rekorV2Retired ??= []).push(description);
        }
      },
    };
  },
};
