// A media worker that cannot even be spawned (its loader or Node missing, no /dev/null for an
// 'ignore' stdio in an empty root) fails the engine's start with a coded error instead of leaving
// it waiting for ever, and the engine tries again: once the cause is gone, it works.
import t from 'tap';
import { pino } from 'pino';
import { MediaEngine } from '../../../gb28181/media/MediaEngine.ts';
import { waitFor } from '../../helpers/wait.ts';

const log = pino({ level: 'silent' });
const base = 20000 + 2 * Math.floor(Math.random() * 10000);

t.test('a spawn that fails rejects start with ESEAL_ERR_GBMEDIA_WORKER, and the engine recovers', async (t) => {
  const saved = process.env['ESEAL_NODE_LOADER'];
  process.env['ESEAL_NODE_LOADER'] = '/nonexistent/ld-linux-x86-64.so.2';
  const engine = new MediaEngine({ host: '127.0.0.1', ports: { min: base, max: base + 20 }, noMediaSeconds: 15, log });
  t.teardown(async () => {
    if (saved === undefined) delete process.env['ESEAL_NODE_LOADER'];
    else process.env['ESEAL_NODE_LOADER'] = saved;
    await engine.close();
  });
  await t.rejects(engine.start(), { code: 'ESEAL_ERR_GBMEDIA_WORKER', message: /could not be started/ });
  // the cause goes away: the restart (100 ms backoff) spawns a worker that serves requests
  if (saved === undefined) delete process.env['ESEAL_NODE_LOADER'];
  else process.env['ESEAL_NODE_LOADER'] = saved;
  await waitFor(async () => {
    try {
      await engine.start();
      return true;
    } catch {
      return false;
    }
  }, 30_000, 'the worker started on a later try');
  const { port } = await engine.openIncoming({ streamId: 's1', transport: 'udp', ssrc: '0100000001' });
  t.ok(port >= base && port <= base + 20 && port % 2 === 0, `an even port of the range: ${port}`);
  t.ok(engine.workerStarts >= 2, 'spawned again after the failure');
});
