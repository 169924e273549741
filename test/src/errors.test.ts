// Every error code the code base can raise is in the README's error table, like fastify's
// "every code is documented" test.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { errorCatalogue } from '../../src/errors.ts';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every source module that declares an error kind, found by reading the tree (so none is forgotten). */
async function modulesWithErrors(): Promise<string[]> {
  const out: string[] = [];
  for (const top of ['app', 'src', 'relay', 'edge', 'gb28181', 'console', 'sim', 'tools']) {
    // a role folder with no code yet is not in a clean clone (git keeps no empty folders)
    if (!existsSync(join(ROOT, top))) continue;
    const entries = await readdir(join(ROOT, top), { recursive: true, withFileTypes: true });
    for (const e of entries) {
      if (!e.isFile() || !e.name.endsWith('.ts')) continue;
      const path = join(e.parentPath, e.name);
      if ((await readFile(path, 'utf8')).includes('defineError(')) out.push(path);
    }
  }
  return out;
}

t.test('every error code is documented in the README', async (t) => {
  const modules = await modulesWithErrors();
  t.ok(modules.length > 10, `${modules.length} modules declare errors`);
  for (const m of modules) await import(m);
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = readme.split('\n').filter((l) => l.includes('ESEAL_ERR_'));
  t.ok(errorCatalogue().size > 20, `${errorCatalogue().size} codes`);
  for (const [code, kind] of errorCatalogue()) {
    const area = code.split('_').slice(0, 3).join('_') + '_';
    const suffix = code.slice(area.length);
    const documented = rows.some(
      (row) => row.includes(code) || (row.includes(area) && (row.includes(`_${suffix}\``) || row.includes(`\`${suffix}\``))),
    );
    t.ok(documented, `${code} (${kind.summary}) is in the README`);
  }
});
