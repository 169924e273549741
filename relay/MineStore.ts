// What the relay knows of each mine: the status camera/mineStatus answers (set by the operator in
// local mode; taken from the national platform once forwarding exists).
import type { Database, RootDatabase } from 'lmdb';
import { checkMineId } from '../src/contract/index.ts';
import { AccountInvalid } from './errors.ts';

export interface MineInfo {
  mineId: string;
  /** the national platform's wording, e.g. 生产矿井 */
  status: string;
  updatedAt: number;
  source: 'operator' | 'upstream';
}

export class MineStore {
  readonly #db: Database<MineInfo, string>;

  constructor(root: RootDatabase) {
    this.#db = root.openDB<MineInfo, string>({ name: 'mines' });
  }

  get(mineId: string): MineInfo | undefined {
    return this.#db.get(mineId);
  }

  async setStatus(mineId: string, status: string, source: MineInfo['source'] = 'operator', now = Date.now()): Promise<MineInfo> {
    checkMineId(mineId, [], 'mineId');
    const s = status.trim();
    if (s.length === 0 || s.length > 32) throw AccountInvalid('status: 1 to 32 characters, e.g. 生产矿井', { field: 'status' });
    const info: MineInfo = { mineId, status: s, updatedAt: now, source };
    await this.#db.put(mineId, info);
    return info;
  }

  list(): MineInfo[] {
    return [...this.#db.getRange({}).map(({ value }) => value)];
  }
}
