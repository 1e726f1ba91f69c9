// Downloads one ONNX variant of a Hugging Face hub repository into the hub's standard cache layout
// (`models--owner--name/{blobs,snapshots/<sha>,refs}`), so other HF tools can share the cache.
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { downloadFileToCacheDir, getRepoFolderName, listFiles, modelInfo } from '@huggingface/hub';
import type { Logger } from '@freechat/shared';
import { selectHubFiles } from './hub-files.js';

export interface HubModelRequest {
  readonly repo: string;
  readonly endpoint: string;
  readonly cacheDir: string;
  /** Stem of the graph under onnx/: `model` (fp32), `model_q4`, ... */
  readonly variant: string;
  readonly revision: string;
  /** Deadline for the whole download. */
  readonly timeoutMs: number;
}

export interface DownloadHubModelOptions {
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
}

/** Returns the snapshot directory, which holds `onnx/<variant>.onnx` and its external data. */
export async function downloadHubModel(request: HubModelRequest, options: DownloadHubModelOptions): Promise<string> {
  const { repo, endpoint: hubUrl, cacheDir, variant, revision } = request;
  const fetch = withDeadline(options.fetch ?? globalThis.fetch, AbortSignal.timeout(request.timeoutMs));
  const { sha } = await modelInfo({ name: repo, hubUrl, revision, additionalFields: ['sha'], fetch });
  const repoFiles: string[] = [];
  for await (const entry of listFiles({ repo, revision: sha, recursive: true, hubUrl, fetch })) {
    if (entry.type === 'file') repoFiles.push(entry.path);
  }
  const files = selectHubFiles(repoFiles, variant);
  options.logger.info({ repo, revision, sha, variant, files }, 'downloading model from the hub');
  for (const file of files) {
    // Pinned to the commit, so a file already in the cache is not fetched again.
    await downloadFileToCacheDir({ repo, path: file, revision: sha, hubUrl, cacheDir, fetch });
  }
  const storage = storageFolder(request);
  await mkdir(path.join(storage, 'refs'), { recursive: true });
  await writeFile(path.join(storage, 'refs', revision), sha);
  await writeFile(manifestPath(storage, sha, variant), JSON.stringify({ files }));
  options.logger.info({ repo, sha, variant }, 'model downloaded');
  return path.join(storage, 'snapshots', sha);
}

/** A complete earlier download of the same revision and variant, for starting while offline. */
export async function findCachedHubModel(request: HubModelRequest): Promise<string | undefined> {
  const storage = storageFolder(request);
  try {
    const sha = (await readFile(path.join(storage, 'refs', request.revision), 'utf8')).trim();
    const { files } = JSON.parse(await readFile(manifestPath(storage, sha, request.variant), 'utf8')) as { files: string[] };
    await Promise.all(files.map((f) => access(path.join(storage, 'snapshots', sha, f))));
    return path.join(storage, 'snapshots', sha);
  } catch {
    return undefined;
  }
}

function storageFolder(request: HubModelRequest): string {
  return path.join(request.cacheDir, getRepoFolderName({ type: 'model', name: request.repo }));
}

function manifestPath(storage: string, sha: string, variant: string): string {
  return path.join(storage, 'snapshots', sha, `.freechat-${variant}.json`);
}

function withDeadline(base: typeof fetch, deadline: AbortSignal): typeof fetch {
  return (input, init) =>
    base(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
}
