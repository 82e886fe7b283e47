// CT entries in the shared log engine (src/log): each MerkleTreeLeaf is one entry body,
// so the engine's tree is the RFC 6962 tree of the CT log, durable and batched like the
// transparency logs. The engine signs a checkpoint per batch (a C2SP signed note with
// the CT key); get-sth signs the RFC 6962 tree head itself.
import type { Signer } from '../../core/signer.js';
import { noteCheckpointSigner, type LogEngine, type TransparencyLog } from '../../log/index.js';
import type { CtLogStore } from './log.js';
import { CT_INDEX_VERSION, ctIndexKeys } from './index-keys.js';

export interface EngineCtStoreOptions {
  /** Name of the log inside the engine (default "ct"). */
  name?: string;
  /** Checkpoint origin and key name: the log's base URL without scheme, e.g. `example.com/ctlog`. */
  origin: string;
  signer: Signer;
  /** Told when the stored entries are re-indexed for search before the log opens (once, after an upgrade). */
  reindexing?: (entries: number) => void;
}

export class EngineCtLogStore implements CtLogStore {
  private constructor(readonly log: TransparencyLog) {}

  static async open(engine: LogEngine, options: EngineCtStoreOptions): Promise<EngineCtLogStore> {
    const keyName = options.origin.replace(/[\s+]/g, '_');
    const log = await engine.openLog({
      name: options.name ?? 'ct',
      origin: options.origin,
      signer: ({ origin }) => noteCheckpointSigner({ origin, keyName, signer: options.signer }),
      index: { version: CT_INDEX_VERSION, keysOf: ctIndexKeys, ...(options.reindexing ? { reindexing: options.reindexing } : {}) },
    });
    return new EngineCtLogStore(log);
  }

  async append(leaf: Buffer, extraData?: Buffer): Promise<number> {
    const r = await this.log.append(leaf, { indexKeys: ctIndexKeys(leaf), ...(extraData ? { extra: extraData } : {}) });
    return r.index;
  }

  async readEntries(start: number, count: number): Promise<{ leaf: Buffer; extraData?: Buffer }[]> {
    return (await this.log.getEntries(start, count)).map((e) => (e.extra ? { leaf: e.body, extraData: e.extra } : { leaf: e.body }));
  }

  async findLeaf(leafHash: Buffer, treeSize: number): Promise<number | undefined> {
    const i = await this.log.findByLeafHash(leafHash);
    return i !== undefined && i < treeSize ? i : undefined;
  }

  inclusionProof(index: number, treeSize: number): Promise<Buffer[]> {
    return this.log.inclusionProof(index, treeSize);
  }

  consistencyProof(first: number, second: number): Promise<Buffer[]> {
    return this.log.consistencyProof(first, second);
  }

  async head(): Promise<{ size: number; rootHash: Buffer }> {
    const cp = this.log.latestCheckpoint();
    return { size: cp.size, rootHash: cp.rootHash };
  }
}
