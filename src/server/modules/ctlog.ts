import { CtLog, ctlogService, EngineCtLogStore } from '../../services/ctlog/index.js';
import { inProcessCtSubmitter } from '../../services/ca/index.js';
import type { ServiceModule } from '../module.js';

/** The CT log: accepts chains to our root and hands the CA its SCTs in-process. */
export const ctlogModule: ServiceModule = {
  name: 'ctlog',
  configSections: ['keys', 'storage'],
  async setup(ctx) {
    const key = ctx.keyStore.loadOrCreate('ctlog', ctx.config.keys.ctlog);
    // Internal tree only (clients see SCTs and get-sth), so its origin does not follow the public URL.
    const store = await EngineCtLogStore.open((await ctx.storage()).ct, {
      origin: 'keyless-ct',
      signer: key,
      reindexing: (entries) => ctx.warn(`indexing the CT log's ${entries} stored entries for search (once, after an upgrade)`),
    });
    const log = new CtLog({ signer: key, roots: [ctx.caMaterial().root.certificate], store });
    ctx.ctSubmitter = inProcessCtSubmitter(log);
    return {
      services: ['ctlog'],
      register: (app) => app.register(ctlogService({ log })),
      describe: (trust) =>
        void (trust.ctlog = { baseUrl: ctx.publicUrl, publicKey: key.publicKey, logId: log.logId, start: key.createdAt }),
    };
  },
};
