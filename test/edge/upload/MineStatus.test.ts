// The mine-status watcher asks camera/mineStatus of a real relay (status set by the operator) and
// of the national simulator, and maps the answers to producing / shutdown.
import t from 'tap';
import { createLogger } from '../../../src/log.ts';
import { MineStatusWatcher, mineStateOf, type MineState } from '../../../edge/upload/MineStatus.ts';
import { ReportSession } from '../../../edge/upload/ReportSession.ts';
import { Uploader } from '../../../edge/upload/Uploader.ts';
import { NATIONAL_PW, NATIONAL_USER, startSim, waitFor } from '../../helpers/forwarding.ts';
import { MINE, startTestRelay, tempDir } from '../../helpers/relay.ts';
import { RELAY_PW, RELAY_USER, openTestOutbox } from './uploadSetup.ts';

const log = createLogger({ level: 'silent' });

t.test('status strings by meaning', async (t) => {
  const cases: [string, MineState | undefined][] = [
    ['生产矿井', 'producing'],
    ['正常生产建设矿井', 'producing'],
    ['建设矿井', 'producing'],
    ['停产矿井', 'shutdown'],
    ['停产停工', 'shutdown'],
    ['停产停工矿井', 'shutdown'],
    ['停工', 'shutdown'],
    ['停建矿井', 'shutdown'],
    ['关闭矿井', 'shutdown'],
    ['停产整顿，恢复生产前', 'shutdown'],
    ['未知', undefined],
    ['', undefined],
  ];
  for (const [status, state] of cases) t.equal(mineStateOf(status), state, `${JSON.stringify(status)} → ${state}`);
});

t.test("a relay's answers (the operator's status) → producing / shutdown; unknown or unreachable keeps the last", async (t) => {
  const dir = await tempDir(t);
  const relay = await startTestRelay(t);
  await relay.ctx.accounts.add({ username: RELAY_USER, password: RELAY_PW, mines: [MINE], org: 'XX煤矿' });
  const outbox = await openTestOutbox(t, dir);
  const uploader = new Uploader({ outbox, url: relay.url, username: RELAY_USER, password: RELAY_PW, retry: { baseSeconds: 1, maxSeconds: 1 }, log });
  t.teardown(() => uploader.close());
  const changes: [MineState, string][] = [];
  const watcher = new MineStatusWatcher({ session: uploader.session, mineId: MINE, initial: 'shutdown', log, onChange: (s, text) => changes.push([s, text]) });
  t.teardown(() => watcher.close());

  t.equal(await watcher.start(), 'shutdown', 'no status known at the relay yet: the configured default');
  t.equal(watcher.lastAnswer().status, undefined);
  // the relay's refusal carries code 1, which by the guide means: log in again once
  const logins = uploader.session.logins;

  await relay.ctx.mines.setStatus(MINE, '生产矿井');
  t.equal(await watcher.refresh(), 'producing');
  t.equal(watcher.current(), 'producing');
  t.equal(watcher.lastAnswer().status, '生产矿井');

  await relay.ctx.mines.setStatus(MINE, '停产停工');
  t.equal(await watcher.refresh(), 'shutdown');

  await relay.ctx.mines.setStatus(MINE, '待定');
  t.equal(await watcher.refresh(), 'shutdown', 'a status that says neither keeps the last known state');
  t.equal(watcher.lastAnswer().status, '待定');

  await relay.ctx.mines.setStatus(MINE, '正常生产建设矿井');
  t.equal(await watcher.refresh(), 'producing');
  await relay.close();
  t.equal(await watcher.refresh(), 'producing', 'the relay cannot be reached: the last known state');
  t.same(changes, [
    ['producing', '生产矿井'],
    ['shutdown', '停产停工'],
    ['producing', '正常生产建设矿井'],
  ]);
  t.equal(uploader.session.logins, logins, 'the token is reused for every later ask');
});

t.test("the national simulator's mine status, refreshed on its own; a configured state asks nothing", async (t) => {
  const sim = await startSim(t, { mineStatuses: { [MINE]: '停产矿井' } });
  const session = new ReportSession({ url: sim.url, username: NATIONAL_USER, password: NATIONAL_PW, log });
  t.teardown(() => session.close());
  const watcher = new MineStatusWatcher({ session, mineId: MINE, configured: 'auto', refreshSeconds: 1, log });
  t.teardown(() => watcher.close());
  t.equal(watcher.current(), 'producing', 'before the first answer: the default');
  t.equal(await watcher.start(), 'shutdown');
  sim.setMineStatus(MINE, '生产矿井');
  await waitFor(() => watcher.current() === 'producing', 10_000, 'the refresh to see the new status');
  t.ok(sim.stats().mineStatusQueries >= 2);

  const queries = sim.stats().mineStatusQueries;
  watcher.close();
  const fixed = new MineStatusWatcher({ session, mineId: MINE, configured: 'shutdown', log });
  t.equal(await fixed.start(), 'shutdown');
  t.equal(await fixed.refresh(), 'shutdown');
  t.equal(sim.stats().mineStatusQueries, queries, 'configured: camera/mineStatus is not asked');
  t.throws(() => new MineStatusWatcher({ mineId: MINE, log }), /needs a session/);
});
