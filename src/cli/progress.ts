// A one-line progress bar on stderr for long commands (many files, large files). Drawn
// only when the stream is a terminal: piped or redirected output gets nothing extra, so
// logs and scripts see exactly what they saw before.

/** The part of a tty.WriteStream the bar needs; tests pass their own. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface Progress {
  /** Counts `n` more units done (files, or bytes). */
  advance(n?: number): void;
  /** Runs `print` (a line for the same terminal) with the bar out of its way; the bar comes back at the next redraw. */
  above(print: () => void): void;
  /** Erases the bar; later calls do nothing. */
  done(): void;
}

export interface ProgressOptions {
  /** What is being done, e.g. "verifying" or "signing". */
  label: string;
  /** Units expected in all. */
  total: number;
  unit: 'files' | 'bytes';
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
}

const NOTHING: Progress = { advance() {}, above: (print) => print(), done() {} };
/** Redraws at most this often: a terminal write per file would cost more than a small file's verification. */
const REDRAW_MS = 100;
const ERASE_LINE = '\r\x1b[K';

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
function amount(n: number, unit: 'files' | 'bytes'): string {
  if (unit === 'files') return String(Math.round(n));
  let i = 0;
  while (n >= 1024 && i < BINARY_UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${BINARY_UNITS[i]}`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.ceil(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A bar on `stream` when it is a terminal, else an object that does nothing. */
export function progressBar(stream: ProgressStream, options: ProgressOptions): Progress {
  if (stream.isTTY !== true || options.total <= 0) return NOTHING;
  const now = options.now ?? (() => performance.now());
  const start = now();
  let doneUnits = 0;
  let drawnAt = -Infinity;
  let shown = false;
  let finished = false;

  const line = (): string => {
    const fraction = Math.min(1, doneUnits / options.total);
    const elapsed = (now() - start) / 1000;
    const rate = elapsed > 0 ? doneUnits / elapsed : 0;
    const unitName = options.unit === 'files' ? ' files' : '';
    const tail =
      ` ${String(Math.floor(fraction * 100)).padStart(3)}% ${amount(doneUnits, options.unit)}/${amount(options.total, options.unit)}${unitName}` +
      (rate > 0
        ? `, ${amount(rate, options.unit)}${options.unit === 'files' ? ' files' : ''}/s, ${duration((options.total - doneUnits) / rate)} left`
        : '');
    const columns = stream.columns && stream.columns > 20 ? stream.columns : 80;
    const width = Math.max(10, Math.min(40, columns - options.label.length - tail.length - 4));
    const filled = Math.round(fraction * width);
    return `${options.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`.slice(0, columns - 1);
  };
  const draw = (): void => {
    drawnAt = now();
    stream.write(`${ERASE_LINE}${line()}`);
    shown = true;
  };
  const erase = (): void => {
    if (shown) stream.write(ERASE_LINE);
    shown = false;
  };

  return {
    advance(n = 1) {
      if (finished) return;
      doneUnits += n;
      if (now() - drawnAt >= REDRAW_MS) draw();
    },
    above(print) {
      erase();
      print();
    },
    done() {
      if (finished) return;
      finished = true;
      erase();
    },
  };
}
