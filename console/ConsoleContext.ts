// What every part of the console works with: its configuration, its own store, the relay's admin
// client, its log, and the limiter of failed logins.
import type { Logger } from 'pino';
import type { ConsoleConfig } from './config.ts';
import type { ConsoleStore } from './ConsoleStore.ts';
import type { AdminClient } from './upstream/RelayAdmin.ts';
import type { LoginLimiter } from './auth/LoginLimiter.ts';

export interface ConsoleContext {
  config: ConsoleConfig;
  store: ConsoleStore;
  relay: AdminClient;
  log: Logger;
  logins: LoginLimiter;
}
