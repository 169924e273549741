// The one starter of child processes (tools/esealChild.ts), on small scripts of its own: lines
// kept and waited for, /healthz polled, how a child ended, SIGTERM then SIGKILL.
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChildEnded, ChildTimeout, EsealChild, relayUrl } from '../../tools/esealChild.ts';
import { tempDir } from '../helpers/tempDir.ts';

async function script(t: Test, source: string): Promise<string> {
  const file = join(await tempDir(t, 'eseal-child-test-'), 'child.mjs');
  await writeFile(file, source);
  return file;
}

t.test('waits for a line, keeps the last lines of both streams, and tells how it ended', async (t) => {
  const file = await script(
    t,
    `for (let i = 0; i < 30; i++) console.log('line ' + i);
     console.error('to stderr');
     console.log(JSON.stringify({ msg: 'relay listening', url: 'http://127.0.0.1:1' }));
     setTimeout(() => process.exit(3), 50);`,
  );
  const seen: string[] = [];
  const child = EsealChild.spawn({ script: file, tsx: false, keepLines: 5, onLine: (line, stream) => seen.push(`${stream}:${line}`), guard: (kill) => t.teardown(kill) });
  t.equal(await relayUrl(child, 10_000), 'http://127.0.0.1:1');
  const end = await child.exited;
  t.same(end, { code: 3, signal: null, how: 'exit code 3' });
  t.equal(child.lines.length, 5, 'keeps the last 5 lines');
  t.ok(child.lines.includes('to stderr'), 'standard error too');
  t.equal(seen.length, 32, 'onLine sees every line');
  t.ok(seen.includes('stderr:to stderr'));
});

t.test('an early end or a timeout rejects with the tail; a timeout kills it', async (t) => {
  const ends = await script(t, `console.log('cannot open the store'); process.exit(1);`);
  const early = EsealChild.spawn({ script: ends, tsx: false, name: 'the test child' });
  const err1 = await early.waitForLine(() => false, 10_000).catch((e: unknown) => e);
  t.ok(ChildEnded.is(err1), 'ESEAL_ERR_CHILD_ENDED');
  t.match((err1 as Error).message, /^the test child ended \(exit code 1\) during start:\ncannot open the store$/);

  const hangs = await script(t, `console.log('starting'); setInterval(() => {}, 1000);`);
  const slow = EsealChild.spawn({ script: hangs, tsx: false });
  await slow.waitForLine((l) => l === 'starting', 10_000);
  const err2 = await slow.waitForHealthz('http://127.0.0.1:9', 300).catch((e: unknown) => e);
  t.ok(ChildTimeout.is(err2), 'ESEAL_ERR_CHILD_TIMEOUT');
  t.match((err2 as Error).message, /^the relay did not answer \/healthz within 0\.3 s:\nstarting$/);
  t.equal((await slow.exited).how, 'signal SIGKILL', 'killed');
});

t.test('waits for /healthz; stop sends SIGTERM, then SIGKILL after the grace', async (t) => {
  const file = await script(
    t,
    `import { createServer } from 'node:http';
     process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
     const server = createServer((req, res) => res.end(req.url === '/healthz' ? 'ok' : ''));
     server.listen(0, '127.0.0.1', () => console.log(String(server.address().port)));`,
  );
  const child = EsealChild.spawn({ script: file, tsx: false, guard: (kill) => t.teardown(kill) });
  const port = await child.waitForLine((l) => /^\d+$/.test(l), 10_000);
  await child.waitForHealthz(`http://127.0.0.1:${port}`, 10_000);
  t.ok(child.running());
  const end = await child.stop(300);
  t.equal(end.how, 'signal SIGKILL', 'SIGKILL once the grace ran out');
  t.ok(child.lines.includes('ignoring SIGTERM'), 'after SIGTERM');
  t.notOk(child.running());
});
