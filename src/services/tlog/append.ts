import { KeylessError } from '../../core/errors.js';
import type { AppendResult, TransparencyLog } from '../../log/index.js';
import { HttpError, type MetricsRegistry } from '../http/index.js';
import type { AdmittedEntry } from './admit.js';

/**
 * Appends an admitted entry; a full or closed sequencer answers 503 (retry later), as
 * rekor-tiles does. An entry larger than the log's read formats can serve is refused
 * here, the one place every admission path of every log goes through.
 */
export async function appendOrBusy(
  log: TransparencyLog,
  entry: AdmittedEntry,
  maxEntryBytes?: number,
  metrics?: MetricsRegistry,
): Promise<AppendResult> {
  if (maxEntryBytes !== undefined && entry.body.length > maxEntryBytes) {
    throw new HttpError(
      'TLOG_ENTRY_TOO_LARGE',
      `the entry's canonical body is ${entry.body.length} bytes; this log serves entries of at most ${maxEntryBytes} bytes`,
      { check: 'entry-size' },
    );
  }
  try {
    const result = await log.append(entry.body, { indexKeys: entry.indexKeys });
    if (metrics && !result.duplicate) {
      metrics
        .counter('keyless_tlog_entries_appended_total', 'Entries appended to a transparency log')
        .inc({ log: log.origin, kind: entry.kind });
      // Entries of one batch share its checkpoint; the first of them reports the batch size.
      if (result.index === result.checkpoint.size - result.batchSize) {
        metrics
          .histogram(
            'keyless_log_batch_size',
            'Entries integrated per batch (one transaction, one checkpoint)',
            [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
          )
          .observe(result.batchSize, { log: log.origin });
      }
    }
    return result;
  } catch (e) {
    if (e instanceof KeylessError && (e.code === 'LOG_OVERLOADED' || e.code === 'LOG_CLOSED')) throw new HttpError(e.code, e.message);
    throw e;
  }
}
