// The relay's session with the national platform (or the relay above): one login per mine account,
// with the national credentials the account store holds for it (given with --upstream-password, or
// confirmed by a passthrough login). The session itself is the shared one in src/client.
import type { NationalClient } from '../../src/client/NationalClient.ts';
import { UpstreamSession } from '../../src/client/UpstreamSession.ts';
import type { Logger } from '../../src/log.ts';
import type { AccountStore } from '../auth/AccountStore.ts';

export function relayUpstreamSession(client: NationalClient, accounts: AccountStore, log?: Logger): UpstreamSession {
  return new UpstreamSession({
    client,
    credentials: (username) => {
      const account = accounts.get(username);
      return account && accounts.upstreamCredentials(account);
    },
    noCredentialsHint: 'add them with eseal accounts add … --upstream-password, or let the mine log in through the relay (passthrough)',
    refusedHint: 'fix them with eseal accounts add … --upstream-password, or the mine logs in again in passthrough; its items wait',
    ...(log ? { log } : {}),
  });
}
