import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { explorerService, type ExplorerLog } from '../../services/explorer/index.js';
import type { ServiceModule } from '../module.js';
import { TRUSTED_ROOT_FILE } from '../trust-files.js';

/**
 * The log explorer at `/`: the page and its search API over the logs the modules before
 * it opened (Rekor v1, v2 and the CT log; none yet: a landing page). It adds nothing to the trust files; it serves
 * the trusted root the server wrote, read on each request.
 */
export const explorerModule: ServiceModule = {
  name: 'explorer',
  configSections: [],
  async setup(ctx) {
    const storage = await ctx.storage();
    const logs: ExplorerLog[] = [];
    for (const name of ['rekor-v1', 'rekor-v2'] as const) {
      const log = storage.transparency.getLog(name);
      if (log) logs.push({ name, log });
    }
    // The CT log module opened it (re-indexing a log stored before its index existed).
    const ct = storage.ct.getLog('ct');
    if (ct) logs.push({ name: 'ct', log: ct });
    const trustedRoot = (): Buffer | undefined => {
      try {
        return readFileSync(join(ctx.dataDir, TRUSTED_ROOT_FILE));
      } catch {
        return undefined;
      }
    };
    return {
      services: ['explorer'],
      register: (app) => app.register(explorerService({ logs, trustedRoot })),
    };
  },
};
