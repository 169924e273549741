#!/usr/bin/env node
// The installed `eseal` command: runs the compiled CLI (npm ci builds it through `prepare`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/app/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('eseal: the TypeScript sources are not built yet; run `npm run build` (npm ci does it too)\n');
  process.exit(1);
}
const { runProcess } = await import(entry.href);
await runProcess();
