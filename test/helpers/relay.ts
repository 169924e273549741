// A real relay for tests: its own temp data dir, a real LMDB, a real Fastify server on a
// loopback port (plain HTTP unless asked), torn down with the test.
import { tempDir } from './tempDir.ts';

export { tempDir };
import type { Test } from 'tap';
import { loadAppConfig as loadConfig } from '../../app/config.ts';
import type { AppConfig as EsealConfig } from '../../app/config.ts';
import { createLogger } from '../../src/log.ts';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { GuideMine } from './mineClient.ts';

export interface TestRelay extends RunningRelay {
  config: EsealConfig;
  dataDir: string;
}

export async function testConfig(dataDir: string, set: Record<string, string | number> = {}): Promise<EsealConfig> {
  return loadConfig({
    env: {},
    set: { dataDir, 'relay.listen': '127.0.0.1:0', 'relay.tls.mode': 'off', 'log.level': 'silent', ...set },
  });
}

export async function startTestRelay(t: Test, set: Record<string, string | number> = {}, dataDir?: string): Promise<TestRelay> {
  const dir = dataDir ?? (await tempDir(t));
  const config = await testConfig(dir, set);
  const relay = await startRelay(config, createLogger({ level: config.log.level }));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await relay.close();
  };
  t.teardown(close);
  return { ...relay, close, config, dataDir: dir };
}

export const MINE = '140421007866';
export const OTHER_MINE = '140421009999';
/** the password of relayWithMine's account mine001 */
export const MINE_PASSWORD = 'S3cret+pass/word=';

/** A relay with one account (`mine001`, allowed MINE) and a guide-following mine client logged in. */
export async function relayWithMine(
  t: Test,
  set: Record<string, string | number> = {},
  clientOptions: ConstructorParameters<typeof GuideMine>[3] = {},
): Promise<{ relay: TestRelay; mine: GuideMine }> {
  const relay = await startTestRelay(t, set);
  await relay.ctx.accounts.add({ username: 'mine001', password: MINE_PASSWORD, mines: [MINE], org: 'XX煤矿' });
  const mine = new GuideMine(relay.url, 'mine001', MINE_PASSWORD, clientOptions);
  const login = await mine.login();
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  return { relay, mine };
}
