import { publishTufRepository } from '../../services/tuf/index.js';
import type { ServiceModule } from '../module.js';
import { tufKeyProvider, tufTargetsFromTrustFiles } from '../tuf.js';

/**
 * The TUF repository at `<public URL><tuf.path>`: once the trust files are written it
 * brings the repository up to date with them, serves it, and starts the timestamper.
 */
export const tufModule: ServiceModule = {
  name: 'tuf',
  configSections: ['tuf'],
  async setup(ctx) {
    if (!ctx.config.tuf.enabled) return undefined;
    return {
      services: ['tuf'],
      register: async () => {},
      async afterTrustFiles(app, trustFiles) {
        const published = await publishTufRepository(app, {
          dataDir: ctx.dataDir,
          config: ctx.config.tuf,
          keys: tufKeyProvider(ctx.keyStore),
          contents: tufTargetsFromTrustFiles(trustFiles),
          publicUrl: ctx.publicUrl,
          warn: ctx.warn,
        });
        return {
          tuf: { mirror: published.mirror, rootPath: published.rootPath, rootSha256: published.rootSha256, signed: published.signed },
        };
      },
    };
  },
};
