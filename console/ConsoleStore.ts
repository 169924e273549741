// The console's own data, and only that: its users, their sessions, the audit log and the
// province's settings, in one LMDB environment at <dataDir>/console (the relay's data stays in the
// relay's stores, read through its admin API). The CLI opens it beside a running console: LMDB
// serialises writers across processes.
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { openLmdb } from '../src/store/lmdb/open.ts';
import { UserStore } from './auth/UserStore.ts';
import { SessionStore } from './auth/SessionStore.ts';
import { AuditLog } from './audit/AuditLog.ts';
import { ThresholdStore } from './settings/thresholds.ts';

export class ConsoleStore {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly audit: AuditLog;
  /** the province's thresholds (默认参数设置) */
  readonly thresholds: ThresholdStore;
  readonly #root: RootDatabase;

  private constructor(root: RootDatabase) {
    this.#root = root;
    this.sessions = new SessionStore(root.openDB({ name: 'sessions' }));
    this.users = new UserStore(root.openDB({ name: 'users' }), this.sessions);
    this.audit = new AuditLog(root, root.openDB({ name: 'audit' }));
    this.thresholds = new ThresholdStore(root.openDB({ name: 'settings' }));
  }

  static open(dataDir: string): ConsoleStore {
    return new ConsoleStore(openLmdb(join(dataDir, 'console'), { mapSize: 64 * 1024 * 1024 }));
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}
