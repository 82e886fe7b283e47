import { KeylessError } from '../../core/errors.js';
import type { AppendResult, TransparencyLog } from '../../log/index.js';
import { HttpError } from '../http/index.js';
import type { AdmittedEntry } from './admit.js';

/**
 * Appends an admitted entry; a full or closed sequencer answers 503 (retry later), as
 * rekor-tiles does. An entry larger than the log's read formats can serve is refused
 * here, the one place every admission path of every log goes through.
 */
export async function appendOrBusy(log: TransparencyLog, entry: AdmittedEntry, maxEntryBytes?: number): Promise<AppendResult> {
  if (maxEntryBytes !== undefined && entry.body.length > maxEntryBytes) {
    throw new HttpError('TLOG_ENTRY_TOO_LARGE', `the entry's canonical body is ${entry.body.length} bytes; this log serves entries of at most ${maxEntryBytes} bytes`, { check: 'entry-size' });
  }
  try {
    return await log.append(entry.body, { indexKeys: entry.indexKeys });
  } catch (e) {
    if (e instanceof KeylessError && (e.code === 'LOG_OVERLOADED' || e.code === 'LOG_CLOSED')) throw new HttpError(e.code, e.message);
    throw e;
  }
}
