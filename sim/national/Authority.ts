// Accounts and tokens of the simulated national platform, with the behaviour of its framework
// (pig, Spring Security OAuth2): a token is an opaque UUID that lives `ttlSeconds`; logging in
// again while it is valid returns the same token with what is left of its lifetime.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { SimOptionsInvalid } from '../errors.ts';
import type { SimAccount } from './SimTypes.ts';

interface IssuedToken {
  username: string;
  expiresAt: number;
}

export interface Issued {
  token: string;
  /** whole seconds left, as Spring's OAuth2AccessToken#getExpiresIn */
  expiresIn: number;
  reused: boolean;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function checkAccount(input: unknown): SimAccount {
  const bad = (field: string, rule: string): never => {
    throw SimOptionsInvalid(`account.${field}: ${rule}`, { field: `account.${field}` });
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return bad('', 'must be an object {username, password, org?, mines?}');
  const o = input as Record<string, unknown>;
  const { username, password, org, mines } = o;
  if (typeof username !== 'string' || username === '' || /[\s:]/.test(username)) bad('username', `must be a non-empty string without white space or ':', got ${JSON.stringify(username)}`);
  if (typeof password !== 'string' || password === '') bad('password', 'must be a non-empty string');
  const account: SimAccount = { username: username as string, password: password as string };
  if (org !== undefined && org !== null) {
    if (typeof org !== 'string') bad('org', 'must be a string');
    account.org = org as string;
  }
  if (mines !== undefined && mines !== null) {
    if (!Array.isArray(mines) || !mines.every((m) => typeof m === 'string' && (m.length === 12 || m === '*'))) {
      bad('mines', `must be a list of 12-character mine codes (or *), got ${JSON.stringify(mines)}`);
    }
    account.mines = [...(mines as string[])];
  }
  return account;
}

export class Authority {
  readonly #accounts = new Map<string, SimAccount>();
  readonly #tokens = new Map<string, IssuedToken>();
  /** the current token of each username */
  readonly #current = new Map<string, string>();

  constructor(
    private readonly client: { id: string; secret: string },
    private readonly ttlSeconds: number,
    private readonly now: () => number,
  ) {}

  /** Adds an account, or replaces the one of the same name (its tokens stay valid). */
  addAccount(account: SimAccount): void {
    const a = checkAccount(account);
    this.#accounts.set(a.username, a);
  }

  accountNames(): string[] {
    return [...this.#accounts.keys()];
  }

  /** An error message for a wrong or missing `Authorization: Basic`, or undefined when it is right. */
  checkClient(header: string | undefined): string | undefined {
    const m = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header ?? '');
    if (!m) return 'Authorization: Basic client credentials are required on the token endpoint (base64 of client:secret, pcfront:pcfront in the guide)';
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const id = colon < 0 ? decoded : decoded.slice(0, colon);
    const secret = colon < 0 ? '' : decoded.slice(colon + 1);
    const idOk = sameText(id, this.client.id);
    const secretOk = sameText(secret, this.client.secret);
    return idOk && secretOk ? undefined : 'Authorization: unknown client or wrong client secret in the Basic credentials';
  }

  /** The account when username and password match. */
  verifyPassword(username: string, password: string): SimAccount | undefined {
    const account = this.#accounts.get(username);
    if (!account) return undefined;
    return sameText(password, account.password) ? account : undefined;
  }

  /** The valid token of `username`, or a new one. */
  issue(username: string): Issued {
    const now = this.now();
    const current = this.#current.get(username);
    const held = current === undefined ? undefined : this.#tokens.get(current);
    if (current !== undefined && held && held.expiresAt > now) {
      return { token: current, expiresIn: Math.floor((held.expiresAt - now) / 1000), reused: true };
    }
    if (current !== undefined) this.#tokens.delete(current);
    const token = randomUUID();
    this.#tokens.set(token, { username, expiresAt: now + this.ttlSeconds * 1000 });
    this.#current.set(username, token);
    return { token, expiresIn: this.ttlSeconds, reused: false };
  }

  /** The account behind a valid token. */
  verify(token: string): SimAccount | undefined {
    if (!token) return undefined;
    const held = this.#tokens.get(token);
    if (!held || held.expiresAt <= this.now()) return undefined;
    return this.#accounts.get(held.username);
  }

  /** Every token issued so far stops working; returns how many were valid. */
  expireAll(): number {
    const now = this.now();
    let valid = 0;
    for (const t of this.#tokens.values()) if (t.expiresAt > now) valid++;
    this.#tokens.clear();
    this.#current.clear();
    return valid;
  }

  mayUseMine(account: SimAccount, mineId: string): boolean {
    return !account.mines || account.mines.length === 0 || account.mines.includes(mineId) || account.mines.includes('*');
  }
}
