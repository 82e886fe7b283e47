export { leafHash, nodeHash, emptyRoot, splitPoint, rootFromLeafHashes, rootFromEntries, HASH_SIZE } from './hash.js';
export {
  rootFromInclusionProof, verifyInclusion, verifyConsistency, inclusionProof, consistencyProof, treeRoot, rangeHash,
  memoryNodeReader, type PerfectNodeReader,
} from './proofs.js';
export {
  TILE_WIDTH, TILE_HEIGHT, MAX_TILE_LEVEL, tileIndexPath, tilePath, entriesPath, parseTilePath, partialTileWidth,
  fullTileCount, splitTileHashes, fullTileRoot, encodeEntryBundle, decodeEntryBundle, MAX_ENTRY_BUNDLE_ENTRY_BYTES, type TileRef,
} from './tiles.js';
export {
  parseSignedNote, formatSignedNote, signNote, noteSigner, signNoteSignature, verifyNote, noteKeyHash, noteKeyId,
  MAX_NOTE_SIZE, MAX_NOTE_SIGNATURES, type SignedNote, type NoteSignature, type NoteVerifier,
} from './notes.js';
export { parseCheckpoint, formatCheckpoint, verifySignedCheckpoint, signCheckpoint, type Checkpoint } from './checkpoint.js';
