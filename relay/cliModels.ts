// `eseal models …`: the province's model registry (relay/models/). Works on the data dir directly;
// a running relay serves the new manifest at once.
import { readFile } from 'node:fs/promises';
import { CONFIG_OPTION, type Command, type CommandIO } from '../src/cli/command.ts';
import type { RelayConfig } from './config.ts';
import { ModelPublish } from '../src/models/errors.ts';
import { MODEL_DECODERS, MODEL_LAYOUTS, MODEL_PATHS, type ModelEntry } from '../src/models/manifest.ts';
import { ModelRegistry, type ModelMeta } from './models/ModelRegistry.ts';

function usage(text: string, field?: string): never {
  throw ModelPublish(text, field ? { field } : {});
}

/** `0=person,2=vehicle` → { '0': 'person', '2': 'vehicle' } (checked with the rest of the entry) */
function parseClasses(text: string): ModelEntry['classes'] {
  const out: Record<string, string> = {};
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [id, cls] = pair.split('=').map((s) => s.trim());
    if (!id || !cls) usage(`--classes: pairs of id=class separated by commas (e.g. 0=person,2=vehicle), got ${JSON.stringify(pair)}`, 'classes');
    out[id] = cls;
  }
  return out as ModelEntry['classes'];
}

function parseTriple(text: string, option: string): [number, number, number] {
  const n = text.split(',').map((s) => Number(s.trim()));
  if (n.length !== 3 || n.some((x) => !Number.isFinite(x))) usage(`--${option}: three numbers r,g,b, got ${JSON.stringify(text)}`, option);
  return n as [number, number, number];
}

/** --meta FILE first (a JSON object with any of the meta fields), then the options over it. */
async function metaFrom(values: Record<string, unknown>, name: string): Promise<ModelMeta> {
  let meta: Partial<ModelMeta> = {};
  const file = values['meta'] as string | undefined;
  if (file) {
    try {
      meta = JSON.parse(await readFile(file, 'utf8')) as Partial<ModelMeta>;
    } catch (cause) {
      usage(`--meta: cannot read ${file} as JSON (${(cause as Error).message})`, 'meta');
    }
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) usage(`--meta: ${file} must hold a JSON object`, 'meta');
  }
  const version = (values['version'] as string | undefined) ?? meta.version;
  if (!version) usage('--version: required (e.g. --version 2025.01.31)', 'version');
  const inputSize = values['input-size'] as string | undefined;
  if (inputSize !== undefined && !/^\d{1,5}$/.test(inputSize)) usage(`--input-size: a whole number, got ${JSON.stringify(inputSize)}`, 'inputSize');
  const mean = values['mean'] as string | undefined;
  const std = values['std'] as string | undefined;
  const keep = <K extends keyof ModelMeta>(k: K) => (meta[k] === undefined ? {} : { [k]: meta[k] });
  return {
    ...keep('inputSize'),
    ...keep('layout'),
    ...keep('decoder'),
    ...keep('classes'),
    ...keep('normalisation'),
    name,
    version,
    ...(inputSize !== undefined ? { inputSize: Number(inputSize) } : {}),
    ...(values['layout'] ? { layout: values['layout'] as ModelEntry['layout'] } : {}),
    ...(values['decoder'] ? { decoder: values['decoder'] as ModelEntry['decoder'] } : {}),
    ...(values['classes'] ? { classes: parseClasses(values['classes'] as string) } : {}),
    ...(mean || std
      ? {
          normalisation: {
            mean: mean ? parseTriple(mean, 'mean') : (meta.normalisation?.mean ?? [0, 0, 0]),
            std: std ? parseTriple(std, 'std') : (meta.normalisation?.std ?? [255, 255, 255]),
          },
        }
      : {}),
  };
}

function showEntry(io: CommandIO, e: ModelEntry): void {
  const classes = Object.entries(e.classes).map(([id, c]) => `${id}=${c}`).join(',');
  io.out(`${e.name} ${e.version}: ${e.bytes} bytes, sm3 ${e.sm3}`);
  io.out(`  input ${e.inputSize} ${e.layout}, decoder ${e.decoder}, classes ${classes}, mean ${e.normalisation.mean.join(',')} std ${e.normalisation.std.join(',')}`);
}

async function registry(config: () => Promise<{ dataDir: string }>): Promise<ModelRegistry> {
  return new ModelRegistry((await config()).dataDir);
}

export const modelCommands: Command<RelayConfig>[] = [
  {
    name: 'models publish',
    summary: 'sign a new model manifest with this ONNX file added (or replacing the model of that name)',
    usage: '<file.onnx> --name <name> --version <v> [--input-size N] [--decoder centernet|boxes] [--layout nchw|nhwc] [--classes 0=person,2=vehicle] [--mean r,g,b --std r,g,b] [--meta FILE]',
    options: {
      ...CONFIG_OPTION,
      name: { type: 'string' },
      version: { type: 'string' },
      'input-size': { type: 'string' },
      decoder: { type: 'string' },
      layout: { type: 'string' },
      classes: { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      meta: { type: 'string' },
    },
    help: [
      '  --name NAME         what edges ask for (edge.models.name), letters, digits, . _ -',
      '  --version V         unique per name; edges install any version that differs from theirs',
      `  --input-size N      the square input size (default 512)`,
      `  --decoder D         ${MODEL_DECODERS.join(' | ')} (default centernet)`,
      `  --layout L          ${MODEL_LAYOUTS.join(' | ')} (default nchw)`,
      '  --classes MAP       model class id = person | vehicle (default 0=person,2=vehicle,5=vehicle,7=vehicle)',
      '  --mean, --std       input = (pixel 0…255 − mean) / std per channel (default 0,0,0 and 255,255,255)',
      '  --meta FILE         a JSON object with any of name, version, inputSize, layout, decoder, classes,',
      '                      normalisation; the options above override it',
      '',
      `Edges poll ${MODEL_PATHS.manifest} (any mine account's token) and verify it with \`eseal models key\`.`,
    ],
    async run({ positionals, values, config, io }) {
      const [file, ...extra] = positionals;
      if (!file || extra.length) usage('usage: eseal models publish <file.onnx> --name <name> --version <v>');
      const name = values['name'] as string | undefined;
      if (!name) usage('--name: required (e.g. --name default)', 'name');
      const reg = await registry(config);
      const { entry, manifest } = await reg.publish(file, await metaFrom(values, name));
      io.out(`published; manifest issued ${manifest.issuedAt} lists ${manifest.models.length} model(s)`);
      showEntry(io, entry);
    },
  },
  {
    name: 'models ls',
    summary: 'list the models of the signed manifest',
    usage: '[--config FILE]',
    options: CONFIG_OPTION,
    async run({ config, io }) {
      const manifest = await (await registry(config)).manifest();
      if (!manifest) {
        io.out('no model published yet (eseal models publish)');
        return;
      }
      io.out(`manifest issued ${manifest.issuedAt} by ${manifest.publisher}, signed by ${manifest.signature.publicKey.slice(0, 18)}…`);
      for (const e of manifest.models) showEntry(io, e);
    },
  },
  {
    name: 'models key',
    summary: "print the province's model-signing public key, for edges' edge.models.publicKey",
    usage: '[--config FILE]',
    options: CONFIG_OPTION,
    async run({ config, io }) {
      io.out(await (await registry(config)).publicKey());
    },
  },
  {
    name: 'models rm',
    summary: 'sign a new manifest without the named model (edges keep the copy they have)',
    usage: '<name>',
    options: CONFIG_OPTION,
    async run({ positionals, config, io }) {
      const [name, ...extra] = positionals;
      if (!name || extra.length) usage('usage: eseal models rm <name>');
      const manifest = await (await registry(config)).remove(name);
      io.out(`removed ${name}; the manifest lists ${manifest.models.length} model(s)`);
    },
  },
];
