import { FormatError } from '../core/errors.js';
import { HASH_SIZE, nodeHash } from './hash.js';

/** C2SP tlog-tiles: a full tile holds 256 hashes (or entries). */
export const TILE_WIDTH = 256;
/** Merkle levels per tile level (256 = 2^8). */
export const TILE_HEIGHT = 8;
export const MAX_TILE_LEVEL = 63;

/** `<N>` as 3-digit path elements, all but the last prefixed with `x`: 1234067 → x001/x234/067. */
export function tileIndexPath(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new FormatError('tileIndex', `must be a non-negative integer, got ${String(index)}`);
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

function widthSuffix(width: number | undefined): string {
  if (width === undefined || width === TILE_WIDTH) return '';
  if (!Number.isInteger(width) || width < 1 || width > 255)
    throw new FormatError('tileWidth', `partial tile width must be 1-255, got ${String(width)}`);
  return `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]` (a width of 256 or none means the full tile). */
export function tilePath(level: number, index: number, width?: number): string {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL)
    throw new FormatError('tileLevel', `must be 0-${MAX_TILE_LEVEL}, got ${String(level)}`);
  return `tile/${level}/${tileIndexPath(index)}${widthSuffix(width)}`;
}

/** `tile/entries/<N>[.p/<W>]`. */
export function entriesPath(index: number, width?: number): string {
  return `tile/entries/${tileIndexPath(index)}${widthSuffix(width)}`;
}

export interface TileRef {
  /** The tile level, or 'entries' for an entry bundle. */
  level: number | 'entries';
  index: number;
  /** 1-256; 256 is a full tile. */
  width: number;
}

const TILE_PATH_RE = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * Parses a tile path strictly, accepting only the canonical spelling (so that one tile
 * has one URL and caches never hold two copies): no leading `x000`, widths 1–255.
 */
export function parseTilePath(path: string): TileRef {
  const m = TILE_PATH_RE.exec(path);
  if (!m) throw new FormatError('tilePath', 'is not a tlog-tiles path');
  const levelText = m[1]!;
  const level = levelText === 'entries' ? 'entries' : Number(levelText);
  if (level !== 'entries' && level > MAX_TILE_LEVEL) throw new FormatError('tilePath', `level ${level} is above ${MAX_TILE_LEVEL}`);
  const prefix = m[2]
    ? m[2]
        .split('/')
        .filter(Boolean)
        .map((g) => g.slice(1))
    : [];
  if (prefix.length > 0 && prefix[0] === '000') throw new FormatError('tilePath', 'index has a leading zero element');
  if (prefix.length > 4) throw new FormatError('tilePath', 'index is too large');
  let index = 0;
  for (const g of [...prefix, m[3]!]) index = index * 1000 + Number(g);
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (m[4] !== undefined && width > 255) throw new FormatError('tilePath', `partial width ${width} is above 255`);
  return { level, index, width };
}

/** Width of the rightmost (possibly partial) tile at `level` for a tree of `size` leaves; 0 when it is empty. */
export function partialTileWidth(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level) % TILE_WIDTH;
}

/** Number of full tiles at `level` for a tree of `size` leaves. */
export function fullTileCount(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** (level + 1));
}

/** Splits tile bytes into 32-byte hashes; the length must be a multiple of 32. */
export function splitTileHashes(tile: Uint8Array): Uint8Array[] {
  if (tile.byteLength % HASH_SIZE !== 0) throw new FormatError('tile', `length ${tile.byteLength} is not a multiple of ${HASH_SIZE}`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < tile.byteLength; i += HASH_SIZE) out.push(tile.subarray(i, i + HASH_SIZE));
  return out;
}

/** The Merkle hash of a full tile's 256 hashes: the hash one tile level up. */
export function fullTileRoot(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length !== TILE_WIDTH) throw new FormatError('tile', `a full tile has ${TILE_WIDTH} hashes, got ${hashes.length}`);
  let level: Uint8Array[] = hashes.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    level = next;
  }
  return level[0]!;
}

/** The largest entry a C2SP entry bundle can hold (its length prefix is a uint16). */
export const MAX_ENTRY_BUNDLE_ENTRY_BYTES = 0xffff;

/** An entry bundle: each entry as a big-endian uint16 length, then its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const e of entries) {
    if (e.byteLength > MAX_ENTRY_BUNDLE_ENTRY_BYTES)
      throw new FormatError('entry', `entry of ${e.byteLength} bytes does not fit an entry bundle`);
    total += 2 + e.byteLength;
  }
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (const e of entries) {
    out.writeUInt16BE(e.byteLength, off);
    out.set(e, off + 2);
    off += 2 + e.byteLength;
  }
  return out;
}

export function decodeEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < bundle.byteLength) {
    if (off + 2 > bundle.byteLength) throw new FormatError('entryBundle', 'truncated length prefix');
    const len = (bundle[off]! << 8) | bundle[off + 1]!;
    if (off + 2 + len > bundle.byteLength) throw new FormatError('entryBundle', 'truncated entry');
    out.push(bundle.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}
