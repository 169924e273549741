// The edge role as the tests run it: reporting as relayWithMine's account, everything on loopback,
// logs silent. Tests set the cameras and whatever else they check.
import { join } from 'node:path';
import { loadAppConfig as loadConfig } from '../../app/config.ts';
import type { AppConfig as EsealConfig } from '../../app/config.ts';
import { buildEvalSet } from '../../edge/eval/buildEvalSet.ts';
import { defaultCacheDir } from '../../edge/eval/darknetPhotos.ts';
import { readTruthFile, type TruthFile } from '../../edge/eval/truth.ts';
import { MINE, MINE_PASSWORD } from './relay.ts';

export async function edgeTestConfig(dataDir: string, reportUrl: string, cameras: Record<string, unknown>[]): Promise<EsealConfig> {
  const cfg = await loadConfig({ env: {}, set: { dataDir, 'log.level': 'silent' } });
  cfg.roles = ['edge'];
  cfg.edge.mineId = MINE;
  cfg.edge.mineStatus = 'producing';
  cfg.edge.report.url = reportUrl;
  cfg.edge.report.username = 'mine001';
  cfg.edge.report.password = MINE_PASSWORD;
  cfg.edge.live.host = '127.0.0.1';
  cfg.edge.cameras = cameras;
  return cfg;
}

/** A clip of the quick evaluation set (built once into the shared cache) and its ground truth. */
export async function quickClip(name: string): Promise<{ clip: string; url: string; truth: TruthFile }> {
  const [built] = await buildEvalSet(join(defaultCacheDir(), 'eval-quick'), { only: [name] });
  return { clip: built!.clip, url: `file://${built!.clip}`, truth: await readTruthFile(built!.truth) };
}
