// The one way to start a Node child process of ours (the media worker, child roles). From the
// sources (this module's URL ends in .ts) the child is a .ts file run through tsx's loader; from the
// build it is the .js beside it. In the offline bundle Node runs through a dynamic loader
// (DESIGN.md, "Deployment on CentOS 7.6"): process.execPath is then the loader, not Node, so the
// bundle's launcher exports ESEAL_NODE_LOADER, ESEAL_NODE_LIBRARY_PATH and ESEAL_NODE_BIN and the
// child is started the same way: `<loader> --library-path <lib> <node> <file> …`.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FROM_SOURCES = import.meta.url.endsWith('.ts');

export interface NodeChildCommand {
  command: string;
  args: string[];
}

/**
 * The command line that runs `script` (a .ts or .js URL) with `args` under `env`. A .ts script is
 * run through tsx when we run from the sources, else as the .js beside it (the build's layout).
 */
export function nodeChildCommand(script: URL, args: readonly string[], env: NodeJS.ProcessEnv = process.env, fromSources = FROM_SOURCES): NodeChildCommand {
  let file = fileURLToPath(script);
  const isTs = /\.[cm]?ts$/.test(file);
  if (isTs && !fromSources) file = file.replace(/\.([cm]?)ts$/, '.$1js');
  // tsx resolved from here, not from the child's working directory (which may be anywhere)
  const loader = isTs && fromSources ? ['--import', import.meta.resolve('tsx')] : [];
  const dynamicLoader = env['ESEAL_NODE_LOADER'];
  if (dynamicLoader) {
    const libraryPath = env['ESEAL_NODE_LIBRARY_PATH'] ?? '';
    const nodeBin = env['ESEAL_NODE_BIN'] ?? 'node';
    return { command: dynamicLoader, args: ['--library-path', libraryPath, nodeBin, ...loader, file, ...args] };
  }
  return { command: process.execPath, args: [...loader, file, ...args] };
}

/**
 * Spawns `script` as a Node child (see nodeChildCommand); options as child_process.spawn's. An
 * 'ignore' for stdin, stdout or stderr becomes a pipe that is closed (stdin) or drained: libuv
 * opens /dev/null for 'ignore', and the bundle's empty root (or a container from scratch) has none,
 * where the spawn fails with ENOENT before the child runs.
 */
export function spawnNodeChild(script: URL, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const { command, args: argv } = nodeChildCommand(script, args, options.env ?? process.env);
  const given = options.stdio ?? 'pipe';
  const stdio = (typeof given === 'string' ? [given, given, given] : [...given]).map((s, fd) => (fd < 3 && s === 'ignore' ? 'pipe' : s));
  const child = spawn(command, argv, { ...options, stdio });
  const ignored = (fd: number): boolean => (typeof given === 'string' ? given : given[fd]) === 'ignore';
  if (ignored(0)) child.stdin?.end();
  if (ignored(1)) child.stdout?.resume();
  if (ignored(2)) child.stderr?.resume();
  return child;
}
