// The project's own images (services/Dockerfile targets), built the way docker-compose.yml builds
// the services (its x-build: the repository as context, the builder's npm configuration as BuildKit
// secrets, the host's network, VERSION and REVISION), for targets compose does not run (the
// operator) and for clusters without a registry (archives a node imports). Built through
// compose.sh: the Docker CLI here has no buildx, and compose drives the engine's own BuildKit; one
// build for several targets shares their common stages. Base images: base-images.sh.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mustRun } from './run-command.js';

export { mustRun } from './run-command.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPTS = path.join(ROOT, 'scripts/containers');

export const IMAGE_TARGETS = ['gateway', 'auth', 'chat', 'inference', 'operator'] as const;
export type ImageTarget = (typeof IMAGE_TARGETS)[number];

/** The chart's appVersion: the tag the chart's operator and a FreeChat's `spec.images.tag` default to. */
export function chartAppVersion(): string {
  const chart = readFileSync(path.join(ROOT, 'charts/freechat/Chart.yaml'), 'utf8');
  const version = /^appVersion:\s*"?([^"\s]+)"?\s*$/m.exec(chart)?.[1];
  if (!version) throw new Error('charts/freechat/Chart.yaml has no appVersion');
  return version;
}

export interface BuiltImages {
  /** `freechat/<target>:<tag>` by target. */
  readonly images: Readonly<Partial<Record<ImageTarget, string>>>;
  readonly revision: string;
  /** Wall time of the build itself (base images and secrets not counted), in ms. */
  readonly buildMs: number;
}

/** Builds `freechat/<target>:<tag>` for each target (tag: the chart's appVersion unless given). */
export async function buildProjectImages(targets: readonly ImageTarget[], options: { readonly tag?: string } = {}): Promise<BuiltImages> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'freechat-images-'));
  try {
    await mustRun(path.join(SCRIPTS, 'base-images.sh'), []);
    await mustRun(path.join(SCRIPTS, 'npm-secrets.sh'), [path.join(dir, 'secrets')]);
    const revision = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const version = options.tag ?? chartAppVersion();
    const images = Object.fromEntries(targets.map((target) => [target, `freechat/${target}:${version}`]));
    const build = { context: ROOT, dockerfile: 'services/Dockerfile', secrets: ['npmrc', 'npm_ca'], network: 'host', args: { VERSION: version, REVISION: revision } };
    const composeFile = path.join(dir, 'compose.json');
    // JSON is YAML: no quoting to get wrong.
    await writeFile(
      composeFile,
      JSON.stringify({
        name: `freechat-images-${process.pid}`,
        services: Object.fromEntries(targets.map((target) => [target, { image: images[target], build: { ...build, target } }])),
        secrets: { npmrc: { file: path.join(dir, 'secrets/npmrc') }, npm_ca: { file: path.join(dir, 'secrets/npm_ca') } },
      }),
    );
    const began = Date.now();
    await mustRun(path.join(SCRIPTS, 'compose.sh'), ['-f', composeFile, 'build', ...targets]);
    return { images, revision, buildMs: Date.now() - began };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `docker save`s each image to OUTDIR/<name>.tar (for `ctr images import`), only when the image
 * changed since the last save (OUTDIR/<name>.tar.id holds the saved image's id, as k8s-images.sh does).
 */
export async function saveImages(images: Readonly<Record<string, string>>, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const archives: string[] = [];
  for (const [name, image] of Object.entries(images)) {
    const archive = path.join(outDir, `${name}.tar`);
    const id = (await mustRun('docker', ['image', 'inspect', '--format', '{{.Id}}', image])).trim();
    const saved = existsSync(`${archive}.id`) && existsSync(archive) ? readFileSync(`${archive}.id`, 'utf8').trim() : '';
    if (saved !== id) {
      await mustRun('docker', ['save', '-o', `${archive}.partial`, image]);
      await mustRun('mv', [`${archive}.partial`, archive]);
      await writeFile(`${archive}.id`, `${id}\n`);
    }
    archives.push(archive);
  }
  return archives;
}
