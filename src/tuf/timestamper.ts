import { applyOnlinePlan, planOnlineSigning, type RepositoryState, type TufPeriods } from './repository.js';
import { keyIdOf, type TufSigningKey } from './keys.js';

export interface TimestamperOptions {
  /** The repository directory. */
  dir: string;
  state: RepositoryState;
  periods: TufPeriods;
  /** The online (snapshot and timestamp) key. */
  key: TufSigningKey;
  now?: () => Date;
  /** A signing round failed (disk full, ...); it is retried shortly. */
  onError?: (e: unknown) => void;
  /** A round signed something (for logs and tests). */
  onSigned?: (state: RepositoryState) => void;
}

// setTimeout takes at most 2^31-1 ms; a longer wait is cut into pieces.
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The online timestamper: re-signs timestamp (and snapshot when targets changed) well
 * before they expire, while the server runs. The decision is planOnlineSigning's (a pure
 * function of state and clock); this only schedules it.
 */
export class Timestamper {
  private state: RepositoryState;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => Date;
  private readonly keyId: string;

  constructor(private readonly options: TimestamperOptions) {
    this.state = options.state;
    this.now = options.now ?? (() => new Date());
    this.keyId = keyIdOf(options.key.publicKey);
  }

  get current(): RepositoryState {
    return this.state;
  }

  /** Signs what is due now, then schedules the next round. */
  start(): RepositoryState {
    this.round();
    return this.state;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private round(): void {
    if (this.stopped) return;
    const { dir, periods, key } = this.options;
    let next: number;
    try {
      const now = this.now();
      const plan = planOnlineSigning(this.state, now, periods, this.keyId);
      if (plan.snapshot || plan.timestamp) {
        this.state = applyOnlinePlan(dir, this.state, plan, key, now, periods);
        this.options.onSigned?.(this.state);
      }
      next = plan.nextAt.getTime() - now.getTime();
    } catch (e) {
      this.options.onError?.(e);
      // Retry well within the timestamp's validity.
      next = Math.min(60_000, periods.timestamp / 14);
    }
    this.timer = setTimeout(() => this.round(), Math.min(Math.max(next, 250), MAX_DELAY_MS));
    this.timer.unref();
  }
}
