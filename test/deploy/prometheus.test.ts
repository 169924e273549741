// The operations kit's monitoring: the Prometheus alert rules pass `promtool check rules` and their
// unit tests (`promtool test rules`, every alert seen firing and not firing), and every metric the
// rules and the Grafana dashboard name is one a running relay exports, so neither can drift from
// relay/metrics.ts. promtool comes from Debian's `prometheus` package; without it this fails.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { parse } from 'yaml';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { createSelfSignedCertificate } from '../../src/crypto/selfSigned.ts';
import { MINE, relayWithMine, startTestRelay, tempDir } from '../helpers/relay.ts';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const RULES_DIR = join(ROOT, 'deploy', 'prometheus');
const RULES = join(RULES_DIR, 'eseal-rules.yml');
const RULES_TEST = join(RULES_DIR, 'eseal-rules.test.yml');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'eseal.json');

interface Rule {
  alert?: string;
  expr: string;
}
interface RulesFile {
  groups: { name: string; rules: Rule[] }[];
}
interface RulesTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: { alertname: string; eval_time: string; exp_alerts?: unknown[] }[] }[];
}

const rules = parse(await readFile(RULES, 'utf8')) as RulesFile;
const alerts = rules.groups.flatMap((g) => g.rules).filter((r): r is Rule & { alert: string } => r.alert !== undefined);

/** promtool on PATH, or a failure that says how to get it (a skipped test would hide a missing check). */
async function promtool(t: Test): Promise<string | undefined> {
  const found = await run('/bin/sh', ['-c', 'command -v promtool']).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  if (!found) t.fail('promtool not found on PATH: apt-get install prometheus (Debian\'s package provides /usr/bin/promtool)');
  return found || undefined;
}

t.test('promtool check rules: the rules parse and their expressions are valid PromQL', async (t) => {
  const bin = await promtool(t);
  if (!bin) return;
  const { stdout } = await run(bin, ['check', 'rules', RULES]);
  t.match(stdout, new RegExp(`SUCCESS: ${rules.groups.flatMap((g) => g.rules).length} rules found`));
});

t.test('promtool test rules: every alert fires where it should and nowhere else', async (t) => {
  const bin = await promtool(t);
  if (!bin) return;
  const result = await run(bin, ['test', 'rules', RULES_TEST], { cwd: RULES_DIR }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
  );
  t.equal(result.code, 0, result.out);
  t.match(result.out, /SUCCESS/);
});

t.test('the rule tests cover every alert, firing and not firing', async (t) => {
  const tests = parse(await readFile(RULES_TEST, 'utf8')) as RulesTestFile;
  t.same(tests.rule_files, ['eseal-rules.yml']);
  const cases = tests.tests.flatMap((c) => c.alert_rule_test ?? []);
  t.same(
    alerts.map((a) => a.alert).sort(),
    [...new Set(cases.map((c) => c.alertname))].sort(),
    'no test names an alert that does not exist, and every alert is tested',
  );
  for (const { alert } of alerts) {
    t.ok(cases.some((c) => c.alertname === alert && (c.exp_alerts?.length ?? 0) > 0), `${alert} is seen firing`);
    t.ok(cases.some((c) => c.alertname === alert && (c.exp_alerts?.length ?? 0) === 0), `${alert} is seen not firing`);
  }
  t.ok(alerts.length >= 10, 'budget, upstream, dead letters, disk, mines, certificate: all there');
});

/** Metric names in a PromQL expression: eseal_* and the scrape's own `up`. */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b(eseal_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g)) names.add(m[1]!);
  return [...names];
}

function dashboardExprs(dashboard: { panels: { targets?: { expr?: string }[] }[]; templating: { list: { query?: { query?: string } }[] } }): string[] {
  return [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr ?? '')),
    ...dashboard.templating.list.map((v) => v.query?.query ?? ''),
  ].filter(Boolean);
}

/** The metric families a scrape declares (`# TYPE name kind`), with the series names each one yields. */
function exported(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, kind] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name! + s);
  }
  return names;
}

async function scrape(url: string, token: string, dispatcher?: Agent): Promise<string> {
  const res = await request(url + '/metrics', { headers: { authorization: `Bearer ${token}` }, dispatcher });
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
  return res.body.text();
}

t.test('every metric the rules and the dashboard name is exported by a running relay', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const a = await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '10', alarm: 1, time: formatJsonTime() });
  t.equal(a.status, 200);
  const text = await scrape(relay.url, relay.ctx.adminToken);
  const names = exported(text);
  names.add('up'); // Prometheus's own, per scrape target
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Parameters<typeof dashboardExprs>[0];
  const used = new Map<string, string>();
  for (const r of alerts) for (const n of metricNames(r.expr)) used.set(n, `rule ${r.alert}`);
  for (const e of dashboardExprs(dashboard)) for (const n of metricNames(e)) used.set(n, `dashboard: ${e}`);
  t.ok(used.size >= 20, `${used.size} metrics used`);
  for (const [name, where] of used) t.ok(names.has(name), `${name} (${where}) is exported`);

  // the gauges the kit added carry values: budgets from the contract, the disk as DiskWatch saw it,
  // the mine that just called
  t.match(text, /^eseal_forward_budget_seconds\{lane="record"\} 30$/m);
  t.match(text, /^eseal_forward_budget_seconds\{lane="evidence"\} 300$/m);
  t.match(text, /^eseal_disk_high_watermark_percent 90$/m);
  const disk = Number(/^eseal_disk_used_percent (\S+)$/m.exec(text)?.[1]);
  t.ok(disk > 0 && disk <= 100, `disk used ${disk}%`);
  const seen = Number(new RegExp(`^eseal_mine_last_seen_timestamp_seconds\\{mine="${MINE}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
  t.ok(Math.abs(seen - Date.now() / 1000) < 300, `mine last seen ${seen}`);
  t.notMatch(text, /^eseal_tls_cert_expiry_seconds\b/m, 'no certificate, no expiry sample (relay.tls.mode: off), not 0');
});

t.test('eseal_tls_cert_expiry_seconds counts down to the served certificate’s notAfter', async (t) => {
  const dir = await tempDir(t);
  const made = createSelfSignedCertificate({ commonName: 'relay.test', altNames: ['127.0.0.1'], days: 10 });
  await writeFile(join(dir, 'relay.crt'), made.certPem);
  await writeFile(join(dir, 'relay.key'), made.keyPem, { mode: 0o600 });
  const relay = await startTestRelay(t, { 'relay.tls.mode': 'files', 'relay.tls.cert': join(dir, 'relay.crt'), 'relay.tls.key': join(dir, 'relay.key') });
  t.match(relay.url, /^https:/);
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  t.teardown(() => dispatcher.close());
  const text = await scrape(relay.url, relay.ctx.adminToken, dispatcher);
  const left = Number(/^eseal_tls_cert_expiry_seconds\{mode="files"\} (\S+)$/m.exec(text)?.[1]);
  t.ok(left > 10 * 86400 - 600 && left <= 10 * 86400, `${left} s left, 10 days`);
});
