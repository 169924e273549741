// The mines, alarms and acceptance pages in a real browser (headless Debian Chromium) with a day of
// two mines sent through the national API: sort and filter the mines, open one (its chart drawn by the
// bundled ECharts, its timeline linked to the items), the shut-down mine's suspected illegal production
// and its evidence, a mine's self-test and its record downloaded; screenshots in test-results/.
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { browserMissing, launchBrowser, logIn, screenshot, watchedPage } from '../helpers/browser.ts';
import { startTestConsole } from './fixture.ts';
import { PRODUCING, SHUT, sendDay } from './w2aData.ts';

const missing = browserMissing();

t.test('a viewer walks the mines, alarms and acceptance pages in Chromium and exports a self-test record', { skip: missing ?? false }, async (t) => {
  const { relay } = await sendDay(t);
  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'v1', role: 'viewer', password: 'viewer-pass-1' });

  const browser = await launchBrowser(t);
  const { page, errors, refused } = await watchedPage(browser, { viewport: { width: 1360, height: 860 }, acceptDownloads: true }, 15_000);

  await page.goto(c.url + '/login?next=%2Fmines');
  await logIn(page, 'v1', 'viewer-pass-1', /\/mines$/);

  // 煤矿: both mines, sorted by the day's calls on a click, filtered to the shut-down one
  t.same(await page.$$eval('#mines tbody tr[data-mine]', (trs) => trs.map((tr) => tr.getAttribute('data-mine'))), [SHUT, PRODUCING]);
  await Promise.all([page.waitForURL(/sort=total&order=asc/), page.click('a[data-sort="total"]')]);
  await Promise.all([page.waitForURL(/sort=total&order=desc/), page.click('a[data-sort="total"]')]);
  t.same(await page.$$eval('#mines tbody tr[data-mine]', (trs) => trs.map((tr) => tr.getAttribute('data-mine'))), [PRODUCING, SHUT], 'most calls first');
  t.match(await page.textContent(`#mines tr[data-mine="${PRODUCING}"]`), /生产矿井/);
  await screenshot(page, 'console-mines');
  await page.selectOption('#f-status', 'shutDown');
  await Promise.all([page.waitForURL(/status=shutDown/), page.click('#mines-filter button[type=submit]')]);
  t.same(await page.$$eval('#mines tbody tr[data-mine]', (trs) => trs.map((tr) => tr.getAttribute('data-mine'))), [SHUT]);

  // a mine's page: cameras, the 31-day chart drawn, the timeline linked to the items
  await page.goto(`${c.url}/mines/${PRODUCING}`);
  await page.waitForSelector('#chart-daily[data-drawn="1"] canvas');
  t.equal(await page.textContent('#m-today .v'), '10');
  t.equal(await page.textContent('#cameras tr[data-camera="20"] td:nth-child(3)'), '离线');
  await screenshot(page, 'console-mine');
  const firstSeq = await page.getAttribute('#timeline tbody tr[data-seq]', 'data-seq');
  await Promise.all([page.waitForURL(new RegExp(`/items/${firstSeq}$`)), page.click('#timeline tbody tr[data-seq] a')]);
  t.pass('the timeline opens the item');

  // 报警管理: the shut-down mine highlighted, its evidence one click away
  await page.click('a[data-nav="/alarms"]');
  await page.waitForSelector('#chart-trend[data-drawn="1"] canvas');
  t.equal(await page.textContent('#a-suspected .v'), '1');
  t.equal(await page.getAttribute(`#alarms tr[data-mine="${SHUT}"]`, 'class'), 'suspect');
  t.equal(await page.textContent(`#alarms tr[data-mine="${SHUT}"] .suspected`), '疑似违法生产');
  t.equal(await page.textContent(`#alarms tr[data-mine="${PRODUCING}"] td[data-kind="personsInPerDay"]`), '8 / 0');
  await screenshot(page, 'console-alarms');
  await Promise.all([page.waitForURL(/\/items\?mine=140421005555&endpoint=fileOperator%2FpersonVideo$/), page.click(`#alarms tr[data-mine="${SHUT}"] a.evidence`)]);
  t.equal((await page.$$('#items tbody tr[data-seq]')).length, 1, 'the evidence item');

  // 企业自测: the list, a mine, its record downloaded as CSV and JSON
  await page.click('a[data-nav="/acceptance"]');
  await page.waitForSelector('#acceptance tbody tr[data-mine]');
  t.equal(await page.textContent('#c-failed .v'), '2');
  await screenshot(page, 'console-acceptance');
  await Promise.all([page.waitForURL(new RegExp(`/acceptance/${PRODUCING}\\?`)), page.click(`#acceptance tr[data-mine="${PRODUCING}"] a`)]);
  t.equal(await page.textContent('#acceptance-items tr[data-endpoint="infoReport/person"] .verdict'), '通过');
  t.equal(await page.textContent('#acceptance-items tr[data-endpoint="camera/online-offine"] .verdict'), '未通过');
  await page.fill('#f-gapHours', '24');
  await Promise.all([page.waitForURL(/gapHours=24/), page.click('#acceptance-filter button[type=submit]')]);
  await screenshot(page, 'console-acceptance-mine');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  t.match(csv.suggestedFilename(), new RegExp(`^self-test-${PRODUCING}-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
  const csvText = await readFile((await csv.path())!, 'utf8');
  t.match(csvText, /"中断阈值\(小时\) gapHours","24"/);
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
  const record = JSON.parse(await readFile((await json.path())!, 'utf8'));
  t.match(record, { kind: 'eseal-mine-self-test', mineId: PRODUCING, generatedBy: 'v1', rules: { gapHours: 24 }, verdict: 'fail' });

  // English, and the overview's late items of today
  await page.goto(`${c.url}/alarms?lang=en`);
  t.equal(await page.textContent('h1'), 'Alarms');
  t.equal(await page.textContent(`#alarms tr[data-mine="${SHUT}"] .suspected`), 'Suspected illegal production');
  await page.goto(`${c.url}/`);
  t.equal(await page.textContent('#late-today .v'), '0');

  t.same(errors, [], 'no script errors, no CSP violations');
  t.same(refused, [], 'nothing refused');
  for (const name of ['console-mines', 'console-mine', 'console-alarms', 'console-acceptance', 'console-acceptance-mine']) {
    t.ok((await stat(new URL(`../../test-results/${name}.png`, import.meta.url))).size > 5000, `${name}.png`);
  }
  t.match(c.ctx.store.audit.list({ limit: 3 }).map((e) => `${e.action} ${e.target}`), [/^export self-test 140421007866 .* json$/, /^export self-test 140421007866 .* csv$/, /^login/]);
});
