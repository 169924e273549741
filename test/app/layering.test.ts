// The dependency rule (docs/DESIGN.md), read off every import in the tree: the kernel (src/)
// imports nothing above it; a role (a top-level folder with a role.ts manifest: relay/, edge/,
// sim/, later gb28181/) imports the kernel and itself, never another role, app/ or tools/; only
// app/ knows every role. Static imports, `export … from`, dynamic `import()` and the files a module
// starts by path (`new URL('…', import.meta.url)`: workers, child processes) all count.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { tempDir } from '../helpers/relay.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOPS = ['app', 'src', 'relay', 'edge', 'gb28181', 'console', 'sim', 'tools'];

interface Reference {
  file: string;
  line: number;
  target: string;
}

function sources(root: string, top: string): string[] {
  const dir = join(root, top);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Every relative module a file names, with its line. */
export function references(file: string): Reference[] {
  const text = readFileSync(file, 'utf8');
  const lineOf = (pos: number) => text.slice(0, pos).split('\n').length;
  const found: { spec: string; pos: number }[] = ts.preProcessFile(text, true, true).importedFiles.map((f) => ({ spec: f.fileName, pos: f.pos }));
  for (const m of text.matchAll(/new URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url/g)) found.push({ spec: m[2]!, pos: m.index });
  return found
    .filter((f) => f.spec.startsWith('.'))
    .map((f) => ({ file, line: lineOf(f.pos), target: resolve(dirname(file), f.spec) }));
}

function topOf(root: string, path: string): string {
  return relative(root, path).split(sep)[0] ?? '';
}

/** `file:line: rule` for every import that breaks the dependency rule. */
export function violations(root: string): string[] {
  const roles = TOPS.filter((top) => existsSync(join(root, top, 'role.ts')));
  const out: string[] = [];
  for (const top of TOPS) {
    for (const file of sources(root, top)) {
      for (const ref of references(file)) {
        const to = topOf(root, ref.target);
        if (to === top || !TOPS.includes(to)) continue;
        const where = `${relative(root, file)}:${ref.line}`;
        const what = relative(root, ref.target);
        if (top === 'src') out.push(`${where}: the kernel (src/) imports ${what}; src/ imports nothing above it`);
        else if (roles.includes(top) && to !== 'src') out.push(`${where}: the ${top} role imports ${what}; a role imports only src/ and itself`);
        else if (top === 'app' && to === 'tools') out.push(`${where}: app/ imports ${what}; the tools are not part of the application`);
      }
    }
  }
  return out;
}

t.test('the tree keeps the dependency rule', async (t) => {
  const found = violations(ROOT);
  t.same(found, [], found.join('\n'));
  // the reader sees the imports it must: app/ names every role, the edge's role.ts its dynamic imports
  const app = references(join(ROOT, 'app/roles.ts')).map((r) => relative(ROOT, r.target));
  t.ok(app.includes('relay/role.ts') && app.includes('edge/role.ts') && app.includes('sim/role.ts'), 'app/roles.ts imports every role');
  t.ok(references(join(ROOT, 'edge/role.ts')).some((r) => r.target.endsWith('EdgeService.ts')), 'a dynamic import() is read');
});

t.test('every kind of back-import is caught, naming its file and line', async (t) => {
  const root = await tempDir(t, 'eseal-layering-');
  const files: Record<string, string> = {
    'src/ok.ts': "import { x } from './other.ts';\n",
    'src/other.ts': 'export const x = 1;\n',
    'src/static.ts': "// a comment with import('../relay/no.ts') is not an import\nimport { a } from '../relay/a.ts';\n",
    'src/dynamic.ts': "export async function f() {\n  return import('../app/main.ts');\n}\n",
    'src/reexport.ts': "export { s } from '../sim/s.ts';\n",
    'src/worker.ts': "const w = new URL('../tools/w.ts', import.meta.url);\n",
    'relay/role.ts': "import { e } from '../edge/e.ts';\nimport { k } from '../src/ok.ts';\n",
    'relay/a.ts': 'export const a = 1;\n',
    'edge/role.ts': "export type { T } from '../relay/a.ts';\n",
    'edge/e.ts': 'export const e = 1;\n',
    'sim/role.ts': "import '../edge/e.ts';\n",
    'app/main.ts': "import { role } from '../relay/role.ts';\nimport { d } from '../tools/d.ts';\n",
  };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), text);
  }
  const found = violations(root).sort();
  t.same(
    found.map((v) => v.split(': ')[0]),
    ['app/main.ts:2', 'edge/role.ts:1', 'relay/role.ts:1', 'sim/role.ts:1', 'src/dynamic.ts:2', 'src/reexport.ts:1', 'src/static.ts:2', 'src/worker.ts:1'],
    found.join('\n'),
  );
  t.match(found.find((v) => v.startsWith('src/static.ts'))!, /src\/static\.ts:2: the kernel \(src\/\) imports relay\/a\.ts/);
  t.match(found.find((v) => v.startsWith('relay/role.ts'))!, /the relay role imports edge\/e\.ts; a role imports only src\/ and itself/);
});
