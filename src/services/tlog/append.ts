import { KeylessError } from '../../core/errors.js';
import type { AppendResult, TransparencyLog } from '../../log/index.js';
import { HttpError } from '../http/index.js';
import type { AdmittedEntry } from './admit.js';

/** Appends an admitted entry; a full or closed sequencer answers 503 (retry later), as rekor-tiles does. */
export async function appendOrBusy(log: TransparencyLog, entry: AdmittedEntry): Promise<AppendResult> {
  try {
    return await log.append(entry.body, { indexKeys: entry.indexKeys });
  } catch (e) {
    if (e instanceof KeylessError && (e.code === 'LOG_OVERLOADED' || e.code === 'LOG_CLOSED')) throw new HttpError(e.code, e.message);
    throw e;
  }
}
