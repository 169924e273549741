// Console users: a name, a role and a scrypt hash. Removing a user ends its sessions at once.
import type { Database } from 'lmdb';
import { ConsoleInvalid, ConsoleUserExists, ConsoleUserUnknown } from '../errors.ts';
import { hashPassword } from '../../src/crypto/password.ts';
import { isConsoleRole, CONSOLE_ROLES, type ConsoleRole } from './roles.ts';
import type { SessionStore } from './SessionStore.ts';

export interface ConsoleUser {
  name: string;
  role: ConsoleRole;
  passwordHash: string;
  createdAt: number;
}

export const USER_NAME = /^[A-Za-z0-9._-]{1,32}$/;
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

export function checkUserName(name: unknown): string {
  if (typeof name !== 'string' || !USER_NAME.test(name)) {
    throw ConsoleInvalid(`name: 1 to 32 characters of A-Z a-z 0-9 . _ -, got ${JSON.stringify(String(name).slice(0, 40))}`, { field: 'name' });
  }
  return name;
}

export class UserStore {
  readonly #db: Database<ConsoleUser, string>;
  readonly #sessions: SessionStore;

  constructor(db: Database<ConsoleUser, string>, sessions: SessionStore) {
    this.#db = db;
    this.#sessions = sessions;
  }

  async add(input: { name: string; role: string; password: string }): Promise<ConsoleUser> {
    const name = checkUserName(input.name);
    if (!isConsoleRole(input.role)) throw ConsoleInvalid(`role: one of ${CONSOLE_ROLES.join(', ')}, got ${JSON.stringify(input.role)}`, { field: 'role' });
    if (typeof input.password !== 'string' || input.password.length < PASSWORD_MIN || input.password.length > PASSWORD_MAX) {
      throw ConsoleInvalid(`password: ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`, { field: 'password' });
    }
    const user: ConsoleUser = { name, role: input.role, passwordHash: await hashPassword(input.password), createdAt: Date.now() };
    const added = await this.#db.ifNoExists(name, () => this.#db.put(name, user));
    if (!added) throw ConsoleUserExists(`name: a console user "${name}" exists already`, { field: 'name' });
    return user;
  }

  get(name: string): ConsoleUser | undefined {
    return USER_NAME.test(name) ? this.#db.get(name) : undefined;
  }

  list(): ConsoleUser[] {
    return [...this.#db.getRange().map(({ value }) => value)];
  }

  /** Removes the user and ends every session of it; the number of sessions ended. */
  async remove(name: string): Promise<number> {
    checkUserName(name);
    if (!this.#db.get(name)) throw ConsoleUserUnknown(`name: no console user "${name}"`, { field: 'name' });
    await this.#db.remove(name);
    return this.#sessions.endAllOf(name);
  }
}
