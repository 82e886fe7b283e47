import { idpService, devIdpIssuerConfigs } from '../../services/idp/index.js';
import type { ServiceModule } from '../module.js';

/** Path of the development IdP below the public URL (its issuer is `<publicUrl>/oidc`). */
export const DEV_IDP_PATH = '/oidc';

/** The development IdP; the CA checks its tokens with its key in-process (no discovery round trip). */
export const devIdpModule: ServiceModule = {
  name: 'dev-idp',
  configSections: ['devIdp', 'keys'],
  async setup(ctx) {
    if (!ctx.devIdp) return undefined;
    const key = ctx.keyStore.loadOrCreate('idp', ctx.config.keys.idp);
    const issuerUrl = `${ctx.publicUrl}${DEV_IDP_PATH}`;
    ctx.issuers.push(...(await devIdpIssuerConfigs(issuerUrl, key)));
    return {
      services: ['dev-idp'],
      register: (app) => app.register(idpService({ issuerUrl, signingKey: key }), { prefix: DEV_IDP_PATH }),
      describe: (trust) => void trust.oidcIssuers.push({ url: issuerUrl, start: key.createdAt }),
    };
  },
};
