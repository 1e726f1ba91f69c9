// One image of services/Dockerfile built on its own, the way docker-compose.yml builds the services'
// (its x-build: the repository as context, the npm configuration of whoever builds as BuildKit
// secrets, the host's network, VERSION and REVISION): for a target compose does not run, such as the
// operator. Built through scripts/containers/compose.sh because the Docker CLI here has no buildx
// (`docker build` refuses BuildKit without it) and compose drives the engine's own BuildKit; base
// images as stack.ts has them (scripts/containers/base-images.sh).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from './stack.js';

const root = path.resolve(import.meta.dirname, '../..');
const scripts = path.join(root, 'scripts/containers');

async function mustRun(command: string, args: readonly string[]): Promise<string> {
  const result = await run(command, args);
  if (result.code !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} exited ${result.code}:\n${result.output.slice(-6000)}`);
  return result.output;
}

export interface BuiltImage {
  /** `freechat/<target>:<tag>` */
  readonly image: string;
  readonly revision: string;
  /** Wall time of the build itself (base images and secrets not counted), in ms. */
  readonly buildMs: number;
  /** Removes the tag, and images of ours a rebuild left untagged; build layers stay cached. */
  remove(): Promise<void>;
}

export async function buildImage(target: string, options: { readonly tag?: string } = {}): Promise<BuiltImage> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `freechat-image-${target}-`));
  try {
    await mustRun(path.join(scripts, 'base-images.sh'), []);
    await mustRun(path.join(scripts, 'npm-secrets.sh'), [path.join(dir, 'secrets')]);
    const revision = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const version = options.tag ?? `e2e-${process.pid}`;
    const image = `freechat/${target}:${version}`;
    // JSON is YAML: no quoting to get wrong.
    const composeFile = path.join(dir, 'compose.json');
    await writeFile(
      composeFile,
      JSON.stringify({
        name: `freechat-image-${target}-${process.pid}`,
        services: {
          [target]: {
            image,
            build: {
              context: root,
              dockerfile: 'services/Dockerfile',
              target,
              secrets: ['npmrc', 'npm_ca'],
              network: 'host',
              args: { VERSION: version, REVISION: revision },
            },
          },
        },
        secrets: { npmrc: { file: path.join(dir, 'secrets/npmrc') }, npm_ca: { file: path.join(dir, 'secrets/npm_ca') } },
      }),
    );
    const began = Date.now();
    await mustRun(path.join(scripts, 'compose.sh'), ['-f', composeFile, 'build', target]);
    const buildMs = Date.now() - began;
    return {
      image,
      revision,
      buildMs,
      async remove() {
        await run('docker', ['image', 'rm', image]);
        await run('docker', ['image', 'prune', '--force', '--filter', 'label=org.opencontainers.image.vendor=Free Chat']);
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
