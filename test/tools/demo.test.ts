// `npm run demo -- --quick` end to end, as a user runs it: the CLI in a process of its own, which
// starts the relay as its child. It must end with the PROOF line and exit code 0; with --keep, the
// videos the platform received are checked here once more, byte for byte, against those sent.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';

const LIMIT_MS = 60_000;

function runDemo(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/demo/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGTERM'), LIMIT_MS);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

async function sm3s(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return (await Promise.all(names.map(async (n) => sm3Hex(await readFile(join(dir, n)))))).sort();
}

t.test('npm run demo -- --quick proves every item arrived exactly as sent', async (t) => {
  const keep = join(await mkdtemp(join(tmpdir(), 'eseal-demo-test-')), 'kept');
  t.teardown(() => rm(join(keep, '..'), { recursive: true, force: true }));
  const started = Date.now();
  const { code, out, err } = await runDemo(['--quick', '--keep', keep]);
  const lines = out.trimEnd().split('\n');
  t.equal(code, 0, `exit code 0 (stderr: ${err.slice(-500)})`);
  t.match(lines.at(-1), /^PROOF: all 84 items arrived exactly as sent \(49 records, 35 videos\), \d+ duplicates$/, 'the last line is the proof');
  t.comment(`the quick demo ran in ${Date.now() - started} ms`);
  t.match(out, /national platform DOWN/, 'the platform went down');
  t.match(out, /round \d\/7 \(platform down\): 7 records, 5 videos → all answered success by the relay/, 'the relay answered success while it was down');
  t.match(out, /relay holds \d+ items/, 'the relay reported what it held');
  for (const e of [...Object.values(RECORD_ENDPOINTS), ...Object.values(EVIDENCE_ENDPOINTS)]) {
    t.match(out, new RegExp(`^\\s+${e.id.replace(/[/-]/g, '\\$&')}\\s+${e.lane}\\s+7\\s+7\\s+7\\s`, 'm'), `${e.id}: 7 sent, received, identical`);
  }
  t.match(out, /relay stopped \(SIGTERM, exit code 0\)/, 'the relay stopped cleanly');

  // What the platform kept is what the mine sent, byte for byte.
  const sent = await sm3s(join(keep, 'videos'));
  const received = await sm3s(join(keep, 'platform-received'));
  t.equal(sent.length, 35, '35 distinct videos sent');
  t.equal(new Set(sent).size, 35, 'all different');
  t.same([...new Set(received)], sent, 'the platform received exactly those bytes');
});
