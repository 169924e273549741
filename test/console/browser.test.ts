// The console in a real browser (headless Debian Chromium): log in, walk the overview and the
// items, replay a dead letter made by a national simulator that refused it, switch to English,
// log out; screenshots under test-results/console-*.png.
import t from 'tap';
import { stat } from 'node:fs/promises';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { forwardingSetup, waitFor } from '../helpers/forwarding.ts';
import { MINE } from '../helpers/relay.ts';
import { browserMissing, launchBrowser, logIn, screenshot, watchedPage } from '../helpers/browser.ts';
import { startTestConsole } from './fixture.ts';

const missing = browserMissing();

t.test('an operator walks the console in Chromium and replays a dead letter', { skip: missing ?? false }, async (t) => {
  const { sim, relay, mine } = await forwardingSetup(t, {
    sim: { faults: { reject: { endpoint: 'infoReport/truck', status: 400, code: 400, msg: 'truck gate not registered' } } },
  });
  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'op1', role: 'operator', password: 'operator-pass-1' });
  const truck = { mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: '0003', time: formatJsonTime() };
  t.equal((await mine.record(RECORD_ENDPOINTS.truck, truck)).status, 200);
  await waitFor(() => relay.ctx.queue.stats().byState.dead === 1, 10_000, 'a dead letter');

  const browser = await launchBrowser(t);
  const { page, errors, refused } = await watchedPage(browser, { viewport: { width: 1280, height: 800 } }, 15_000);

  await page.goto(c.url + '/items?state=dead');
  t.match(page.url(), /\/login\?next=%2Fitems%3Fstate%3Ddead$/, 'anonymous: to the login page');
  await screenshot(page, 'console-login');
  await page.fill('#name', 'op1');
  await page.fill('#password', 'wrong-password');
  await page.click('button[type=submit]');
  t.equal(await page.textContent('[role=alert]'), '用户名或密码错误');
  await logIn(page, 'op1', 'operator-pass-1', /\/items\?state=dead$/);
  t.pass('logged in, back where it was going');

  await page.click('a[data-nav="/"]');
  await page.waitForSelector('#lanes');
  t.equal(await page.textContent('#dead .v'), '1', 'the overview counts the dead letter');
  t.match(await page.textContent('#relay-admin .v'), '正常');
  await screenshot(page, 'console-overview');

  await page.click('#dead a');
  await page.waitForSelector('#items tbody tr[data-seq]');
  const rows = await page.$$eval('#items tbody tr[data-seq]', (trs) => trs.map((tr) => (tr as unknown as { innerText: string }).innerText));
  t.equal(rows.length, 1);
  t.match(rows[0], /dead\s+record\s+infoReport\/truck\s+140421007866\s+30/);
  t.match(rows[0], /truck gate not registered/);
  await screenshot(page, 'console-items');

  await sim.setFaults({ reject: null });
  await page.click('#items tbody tr[data-seq] a');
  await page.waitForSelector('#replay');
  await screenshot(page, 'console-item-dead');
  await Promise.all([page.waitForURL(/done=replayed$/), page.click('#replay')]);
  t.equal(await page.textContent('[role=status]'), '已重新排队发送');
  await waitFor(() => sim.received({ endpoint: 'infoReport/truck' }).length === 1, 15_000, 'the replayed record delivered');
  await page.reload();
  await screenshot(page, 'console-item-replayed');

  // every page of the nav answers, in English too
  await page.goto(c.url + '/?lang=en');
  t.equal(await page.textContent('h1'), 'Overview');
  const nav = await page.$$eval('nav a', (as) => as.map((a) => a.getAttribute('href')));
  t.same(nav, ['/', '/mines', '/items', '/alarms', '/devices', '/live', '/acceptance', '/settings', '/audit']);
  for (const href of nav) {
    const res = await page.goto(c.url + href);
    t.equal(res?.status(), href === '/audit' ? 403 : 200, `${href} (an operator may not read the audit log)`);
    if (href === '/settings') await screenshot(page, 'console-settings');
  }
  t.equal(await page.textContent('h1'), 'Your role does not allow this', 'the language is remembered');
  await page.goto(c.url + '/?lang=zh');
  await Promise.all([page.waitForURL(/\/login$/), page.click('#logout')]);
  await page.goto(c.url + '/');
  t.match(page.url(), /\/login/, 'logged out');

  t.same(errors, [], 'no script errors, no CSP violations');
  t.same(refused, ['401 /login', '403 /audit'], 'nothing else refused (assets, favicon)');
  for (const name of ['console-login', 'console-overview', 'console-items', 'console-item-dead', 'console-item-replayed', 'console-settings']) {
    t.ok((await stat(new URL(`../../test-results/${name}.png`, import.meta.url))).size > 5000, `${name}.png`);
  }
  t.match(c.ctx.store.audit.list({ limit: 10 }).map((e) => e.action), ['logout', 'replay', 'login', 'login']);
});
