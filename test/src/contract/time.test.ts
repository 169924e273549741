import t from 'tap';
import fc from 'fast-check';
import { formatFileTime, formatJsonTime, parseFileTime, parseJsonTime } from '../../../src/contract/time.ts';

t.test('formats Beijing time whatever the process timezone', async (t) => {
  // 2021-01-04 14:45:15 UTC is 22:45:15 in Beijing (the guide's person example)
  const at = Date.UTC(2021, 0, 4, 14, 45, 15);
  t.equal(formatJsonTime(at), '2021-01-04 22:45:15');
  t.equal(formatFileTime(at), '20210104224515');
  // crossing midnight into the next Beijing day
  t.equal(formatJsonTime(Date.UTC(2020, 11, 31, 16, 0, 0)), '2021-01-01 00:00:00');
});

t.test('parses only real times', async (t) => {
  t.equal(parseJsonTime('2021-01-04 22:45:15'), Date.UTC(2021, 0, 4, 14, 45, 15));
  t.equal(parseFileTime('20210104224515'), Date.UTC(2021, 0, 4, 14, 45, 15));
  for (const bad of ['2021-02-30 10:00:00', '2021-13-01 10:00:00', '2021-01-01 24:00:00', '2021-01-01 10:60:00', '2021-1-01 10:00:00', '2021-01-01T10:00:00', ' 2021-01-01 10:00:00', '2021-01-01 10:00:00Z']) {
    t.equal(parseJsonTime(bad), undefined, bad);
  }
  t.equal(parseJsonTime('2024-02-29 23:59:59'), Date.UTC(2024, 1, 29, 15, 59, 59), 'leap day');
  t.equal(parseFileTime('20230229000000'), undefined, 'no leap day in 2023');
});

t.test('a child process in another timezone formats the same', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/contract/time.ts').then(m => process.stdout.write(m.formatJsonTime(1609771515000)))"], {
    env: { ...process.env, TZ: 'America/New_York' },
  }).toString();
  t.equal(out, '2021-01-04 22:45:15');
});

t.test('format and parse are inverse on whole seconds', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }), (ms) => {
      const s = Math.floor(ms / 1000) * 1000;
      return parseJsonTime(formatJsonTime(s)) === s && parseFileTime(formatFileTime(s)) === s;
    }),
  );
  t.pass('round trips');
});
