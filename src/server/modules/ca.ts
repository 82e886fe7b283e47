import { caService } from '../../services/ca/index.js';
import type { ServiceModule } from '../module.js';

/** The CA (Fulcio API): last in the list, so that it sees every issuer and the CT log the modules before it set up. */
export const caModule: ServiceModule = {
  name: 'ca',
  configSections: ['issuers', 'keys', 'validity', 'organization'],
  async setup(ctx) {
    if (ctx.issuers.length === 0)
      ctx.warn(
        'no identity issuers are configured and the development IdP is off: the CA will refuse every token (set "issuers" in the configuration)',
      );
    const ca = ctx.caMaterial();
    return {
      services: ['ca'],
      register: (app) =>
        app.register(
          caService({
            issuers: ctx.issuers,
            issuer: ca.intermediate,
            parents: [ca.root.certificate],
            ...(ctx.ctSubmitter ? { submitToCtLog: ctx.ctSubmitter } : {}),
            validityMs: ctx.config.validity.leafCertificateMinutes * 60_000,
          }),
        ),
      describe(trust) {
        trust.ca = {
          uri: ctx.publicUrl,
          chain: [ca.intermediate.certificate.der, ca.root.certificate.der],
          start: ca.root.certificate.notBefore,
          commonName: `${ctx.config.organization} root CA`,
        };
      },
    };
  },
};
