import type { CtLogStore } from '../services/ctlog/index.js';
import type { TransparencyLog } from '../log/index.js';

/**
 * Keeps the CT log's Merkle tree in the log engine (the same SQLite file as the
 * transparency logs), so the CT log survives restarts and continues where it stopped.
 * Only the MerkleTreeLeaf is stored: SCTs do not depend on the extra data.
 */
export class EngineCtLogStore implements CtLogStore {
  constructor(private readonly log: TransparencyLog) {}

  async append(leaf: Buffer): Promise<number> {
    return (await this.log.append(leaf)).index;
  }

  async head(): Promise<{ size: number; rootHash: Buffer }> {
    const { size, rootHash } = this.log.latestCheckpoint();
    return { size, rootHash };
  }
}
