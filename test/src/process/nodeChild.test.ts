import t from 'tap';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeChildCommand, spawnNodeChild } from '../../../src/process/nodeChild.ts';
import { tempDir } from '../../helpers/tempDir.ts';

const FIXTURE = new URL('./fixtures/echoChild.ts', import.meta.url);

function run(env: NodeJS.ProcessEnv): Promise<{ code: number | null; messages: unknown[]; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnNodeChild(FIXTURE, ['a b', 'c'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env });
    const messages: unknown[] = [];
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('message', (m) => messages.push(m));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, messages, stdout }));
  });
}

t.test('from the sources a .ts child runs through tsx with its arguments and an IPC channel', async (t) => {
  const { code, messages } = await run(process.env);
  t.equal(code, 0);
  t.same(messages, [{ argv: ['a b', 'c'], typed: 1 }]);
});

t.test('from the build the .js beside the script is run, without tsx', async (t) => {
  const cmd = nodeChildCommand(new URL('file:///opt/eseal/gb28181/media/worker/mediaWorker.ts'), ['x'], {}, false);
  t.equal(cmd.command, process.execPath);
  t.same(cmd.args, ['/opt/eseal/gb28181/media/worker/mediaWorker.js', 'x']);
  const js = nodeChildCommand(new URL('file:///opt/a.js'), [], {}, true);
  t.same(js.args, ['/opt/a.js'], 'a .js script needs no loader even from the sources');
});

t.test('with ESEAL_NODE_LOADER the child starts through the dynamic loader', async (t) => {
  const cmd = nodeChildCommand(new URL('file:///opt/w.ts'), ['1'], { ESEAL_NODE_LOADER: '/b/lib/ld.so', ESEAL_NODE_LIBRARY_PATH: '/b/lib', ESEAL_NODE_BIN: '/b/node' }, false);
  t.same(cmd, { command: '/b/lib/ld.so', args: ['--library-path', '/b/lib', '/b/node', '/opt/w.js', '1'] });
  // a real run through a stand-in loader that records its arguments, then runs the rest
  const dir = await tempDir(t);
  const log = join(dir, 'args');
  const loader = join(dir, 'ld.sh');
  await writeFile(loader, `#!/bin/sh\nprintf '%s\\n' "$@" > ${JSON.stringify(log)}\nshift 2\nexec "$@"\n`);
  await chmod(loader, 0o755);
  const { code, messages } = await run({ ...process.env, ESEAL_NODE_LOADER: loader, ESEAL_NODE_LIBRARY_PATH: '/nowhere/lib', ESEAL_NODE_BIN: process.execPath });
  t.equal(code, 0);
  t.same(messages, [{ argv: ['a b', 'c'], typed: 1 }]);
  const seen = (await readFile(log, 'utf8')).split('\n');
  t.same(seen.slice(0, 3), ['--library-path', '/nowhere/lib', process.execPath], 'the loader got the library path and Node');
});
