// `npm run demo [-- --quick] [-- --keep DIR]`: the demo as a command of its own (a tool of the
// source tree; the installed `eseal` does not carry it).
import { runCli } from '../../src/cli/run.ts';
import { loadConfig } from '../../src/config/load.ts';
import { kernelSection } from '../../src/config/kernel.ts';
import { demoCommand } from './demo.ts';

const argv = process.argv.slice(2);
process.exitCode = await runCli(argv[0] === '--help' || argv[0] === '-h' ? ['demo', '--help'] : ['demo', ...argv], {
  commands: [demoCommand],
  overview: demoCommand.summary,
  loadConfig: (file, env) => loadConfig([kernelSection([])], { ...(file ? { file } : {}), env }),
});
