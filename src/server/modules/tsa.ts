import { tsaService } from '../../services/tsa/index.js';
import { loadOrCreateTsa } from '../pki.js';
import type { ServiceModule } from '../module.js';

/** The RFC 3161 timestamp authority, its chain generated once in the data directory. */
export const tsaModule: ServiceModule = {
  name: 'tsa',
  configSections: ['keys', 'validity', 'organization'],
  async setup(ctx) {
    const tsa = loadOrCreateTsa(ctx.dataDir, ctx.keyStore, ctx.config, (m) => ctx.warn(m));
    return {
      services: ['tsa'],
      register: (app) => app.register(tsaService({ signer: tsa.signer, chain: tsa.chain })),
      describe(trust) {
        trust.tsa = {
          uri: `${ctx.publicUrl}/api/v1/timestamp`,
          chain: tsa.chain.map((c) => c.der),
          start: tsa.signer.certificate.notBefore,
          commonName: `${ctx.config.organization} timestamp authority`,
        };
      },
    };
  },
};
