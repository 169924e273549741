// Types of the login session with the upstream (src/client/UpstreamSession.ts).
import type { Logger } from '../log.ts';
import type { NationalClient } from './NationalClient.ts';

/** What an account logs in upstream with; the password is sent SM2-encrypted and never logged. */
export interface UpstreamCredentials {
  username: string;
  password: string;
}

/** One account's logins, for status output. */
export interface AccountLoginState {
  lastLoginAt?: number;
  lastError?: string;
  lastErrorAt?: number;
}

export interface UpstreamSessionOptions {
  client: NationalClient;
  /**
   * The upstream credentials of an account (the key the session is used with); undefined when it
   * has none (ESEAL_ERR_UPSTREAM_NO_CREDENTIALS). The relay reads its account store, the edge has one.
   */
  credentials: (account: string) => UpstreamCredentials | undefined | Promise<UpstreamCredentials | undefined>;
  /** what an operator does about an account without credentials (ends that error's message) */
  noCredentialsHint?: string;
  /** what an operator does about refused credentials (ends ESEAL_ERR_UPSTREAM_LOGIN's message) */
  refusedHint?: string;
  log?: Logger;
}

/** An answer, and whether it is the one after a fresh login (the first refused the token). */
export interface TokenCallResult<A> {
  answer: A;
  relogged: boolean;
}
