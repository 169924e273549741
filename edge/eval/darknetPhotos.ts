// Real photographs for the evaluation set and the converter's check: Debian's `darknet` package
// ships the classic darknet sample photos (person.jpg: a person with a dog and a horse; dog.jpg:
// a dog, a bicycle and a pickup truck; kite.jpg: people on a beach; horses.jpg…). When the package
// is installed they are read from /usr/share/darknet/data; otherwise the .deb is fetched with
// `apt-get download` (Debian's mirrors are reachable where the appliance is built and tested)
// and unpacked, without root, into a cache folder.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { defineError } from '../../src/errors.ts';

const run = promisify(execFile);

export const PhotosMissing = defineError(
  'ESEAL_ERR_EVAL_PHOTOS',
  500,
  "the darknet sample photos are neither installed nor downloadable (apt-get install darknet, or set ESEAL_DARKNET_DATA)",
);

export const DARKNET_PHOTOS = ['person.jpg', 'dog.jpg', 'kite.jpg', 'horses.jpg', 'giraffe.jpg', 'eagle.jpg', 'scream.jpg'] as const;
export type DarknetPhoto = (typeof DARKNET_PHOTOS)[number];

const SYSTEM_DIR = '/usr/share/darknet/data';

/** Where the extracted package is kept between runs (inside node_modules, so a clean clone starts fresh). */
export function defaultCacheDir(): string {
  return resolve(process.env['ESEAL_CACHE_DIR'] ?? join(process.cwd(), 'node_modules', '.cache', 'eseal'));
}

let pending: Promise<string> | undefined;

/** The folder holding the darknet photos; downloads and unpacks the package once if needed. */
export function darknetDataDir(cacheDir = defaultCacheDir()): Promise<string> {
  pending ??= locate(cacheDir).catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function locate(cacheDir: string): Promise<string> {
  const override = process.env['ESEAL_DARKNET_DATA'];
  if (override) {
    if (!existsSync(join(override, 'person.jpg'))) throw PhotosMissing(`ESEAL_DARKNET_DATA=${override}: no person.jpg there`);
    return override;
  }
  if (existsSync(join(SYSTEM_DIR, 'person.jpg'))) return SYSTEM_DIR;
  const target = join(cacheDir, 'darknet');
  const data = join(target, 'usr', 'share', 'darknet', 'data');
  if (existsSync(join(data, 'person.jpg'))) return data;

  await mkdir(cacheDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'eseal-darknet-'));
  try {
    try {
      await run('apt-get', ['download', 'darknet'], { cwd: work, timeout: 120_000 });
    } catch (err) {
      throw PhotosMissing(`apt-get download darknet failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
    const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
    if (!deb) throw PhotosMissing('apt-get download darknet left no .deb');
    const unpacked = join(work, 'x');
    await run('dpkg-deb', ['-x', join(work, deb), unpacked], { timeout: 120_000 });
    // another process may have unpacked it meanwhile: its folder is whole (it came by rename too)
    await rename(unpacked, target).catch((err: unknown) => {
      if (!existsSync(join(data, 'person.jpg'))) throw err;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  if (!existsSync(join(data, 'person.jpg'))) throw PhotosMissing(`the darknet package unpacked into ${target} has no data/person.jpg`);
  return data;
}

export async function darknetPhoto(name: DarknetPhoto, cacheDir?: string): Promise<string> {
  return join(await darknetDataDir(cacheDir), name);
}
