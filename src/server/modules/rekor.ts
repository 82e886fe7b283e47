import { KeylessError } from '../../core/errors.js';
import { RekorV1Log, RekorV2Log, rekorV1Service, rekorV2Service, inlineDigestVerifier } from '../../services/tlog/index.js';
import type { ServiceModule } from '../module.js';

/** Rekor v1 (ECDSA P-256: SETs and checkpoints) and Rekor v2 (Ed25519 signed notes), same base URL and engine. */
export const rekorModule: ServiceModule = {
  name: 'rekor',
  configSections: ['keys', 'storage'],
  async setup(ctx) {
    const engine = (await ctx.storage()).transparency;
    const v1Key = ctx.keyStore.loadOrCreate('rekor-v1', ctx.config.keys.rekorV1);
    const v2Key = ctx.keyStore.loadOrCreate('rekor-v2', ctx.config.keys.rekorV2);
    const v1 = await RekorV1Log.open({ engine, baseUrl: ctx.publicUrl, signer: v1Key });
    const v2 = await RekorV2Log.open({ engine, baseUrl: ctx.publicUrl, signer: v2Key }).catch((e: unknown) => {
      // The v2 checkpoint origin is the public URL's host name and is fixed when the log is created.
      if (e instanceof KeylessError && e.code === 'LOG_ORIGIN_MISMATCH') {
        throw new KeylessError('PUBLIC_URL_CHANGED', `${e.message}: the Rekor v2 log in ${ctx.dataDir} was created for another host name; keep the public URL's host (--public-url) or use a new data directory`);
      }
      throw e;
    });
    return {
      services: ['rekor-v1', 'rekor-v2'],
      async register(app) {
        await app.register(rekorV1Service({ log: v1, verifier: inlineDigestVerifier }));
        await app.register(rekorV2Service({ log: v2, verifier: inlineDigestVerifier }));
      },
      describe(trust) {
        trust.rekorV1 = { baseUrl: ctx.publicUrl, publicKey: v1Key.publicKey, logId: v1.info.logId, start: v1Key.createdAt };
        trust.rekorV2 = { baseUrl: ctx.publicUrl, publicKey: v2Key.publicKey, logId: v2.info.logId, start: v2Key.createdAt };
      },
    };
  },
};
