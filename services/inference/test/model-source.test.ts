import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, statSync, realpathSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@freechat/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInferenceConfig } from '../src/config.js';
import { readModelFiles } from '../src/engine/model-files.js';
import { selectHubFiles } from '../src/hub-files.js';
import { buildModelDir } from '../src/model-builder/index.js';
import { BUILT_IN_MODEL_ID, planModelSource, resolveModel, type ModelPlan } from '../src/model-source.js';

const logger = createLogger({ service: 'inference-test', level: 'silent' });
const REPO = 'test-org/Tiny-ONNX';
const SHA = 'a'.repeat(40);

function listFilesRecursive(root: string, dir = ''): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFilesRecursive(root, path.posix.join(dir, e.name)) : [path.posix.join(dir, e.name)],
  );
}

interface FakeHub {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * Serves a model directory in the URL layout @huggingface/hub 2.x requests:
 * revision info, paginated recursive tree (Link rel="next"), paths-info, and resolve with a
 * `Range: bytes=0-0` probe (206 + Content-Range + ETag) followed by a full GET.
 */
async function startFakeHub(modelDir: string, extraFiles: Record<string, string> = {}): Promise<FakeHub> {
  const contents = new Map<string, Buffer>();
  for (const f of listFilesRecursive(modelDir)) contents.set(f, readFileSync(path.join(modelDir, f)));
  for (const [f, text] of Object.entries(extraFiles)) contents.set(f, Buffer.from(text));
  const entry = (p: string) => {
    const body = contents.get(p)!;
    const oid = createHash('sha1').update(body).digest('hex');
    const lfs = p.includes('.onnx') ? { oid: createHash('sha256').update(body).digest('hex'), size: body.length, pointerSize: 130 } : undefined;
    return { type: 'file', path: p, size: body.length, oid, ...(lfs ? { lfs } : {}) };
  };
  const requests: string[] = [];
  const repoApi = `/api/models/${REPO}`;
  const handle = async (req: IncomingMessage, res: ServerResponse, base: string) => {
    const url = new URL(req.url!, base);
    requests.push(`${req.method} ${url.pathname}${req.headers.range ? ` [${req.headers.range}]` : ''}`);
    const json = (value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
    };
    if (req.method === 'GET' && url.pathname === `${repoApi}/revision/main`) {
      return json({ _id: 'fake', id: REPO, sha: SHA, private: false, gated: false, downloads: 0, likes: 0, lastModified: '2025-01-01T00:00:00Z' });
    }
    if (req.method === 'GET' && url.pathname === `${repoApi}/tree/${SHA}`) {
      const all = [...contents.keys()].sort();
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const pageSize = 3;
      const next = start + pageSize < all.length ? new URL(url) : undefined;
      next?.searchParams.set('cursor', String(start + pageSize));
      return json(all.slice(start, start + pageSize).map(entry), next ? { link: `<${next.href}>; rel="next"` } : {});
    }
    if (req.method === 'POST' && url.pathname === `${repoApi}/paths-info/${SHA}`) {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const { paths } = JSON.parse(body) as { paths: string[] };
      return json(
        paths.filter((p) => contents.has(p)).map((p) => ({ ...entry(p), lastCommit: { id: SHA, title: 'c', date: '2025-01-01T00:00:00Z' } })),
      );
    }
    const resolvePrefix = `/${REPO}/resolve/${SHA}/`;
    if (req.method === 'GET' && url.pathname.startsWith(resolvePrefix)) {
      const body = contents.get(decodeURIComponent(url.pathname.slice(resolvePrefix.length)));
      if (!body) return res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
      const etag = `"${entry(url.pathname.slice(resolvePrefix.length)).oid}"`;
      if (req.headers.range === 'bytes=0-0') {
        return res
          .writeHead(206, { etag, 'content-range': `bytes 0-0/${body.length}`, 'x-repo-commit': SHA, 'content-length': '1' })
          .end(body.subarray(0, 1));
      }
      return res.writeHead(200, { etag, 'x-repo-commit': SHA, 'content-length': String(body.length) }).end(body);
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `not faked: ${req.method} ${url.pathname}` }));
  };
  const server: Server = createServer((req, res) => {
    handle(req, res, `http://${req.headers.host}`).catch((e: unknown) => res.writeHead(500).end(String(e)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function refusedEndpoint(): Promise<string> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function hubPlan(endpoint: string, cacheDir: string, variant = 'model'): ModelPlan {
  return { kind: 'hub', repo: REPO, endpoint, cacheDir, variant, revision: 'main', timeoutMs: 60_000, builtInDir: path.join(cacheDir, 'built-in', 'tiny') };
}

describe('planModelSource', () => {
  const base = loadInferenceConfig({ env: { FREECHAT_MODEL_CACHE: '/cache' } }).model;

  it('prefers FREECHAT_MODEL_DIR over everything', () => {
    const model = loadInferenceConfig({ env: { FREECHAT_MODEL_DIR: '/models/q', FREECHAT_MODEL: 'tiny' } }).model;
    expect(planModelSource(model)).toEqual({ kind: 'directory', dir: '/models/q', variant: 'model' });
  });

  it('forces the built-in model with FREECHAT_MODEL=tiny', () => {
    expect(planModelSource({ ...base, choice: 'tiny' })).toEqual({ kind: 'built-in', preset: 'tiny', dir: '/cache/built-in/tiny' });
  });

  it('downloads the configured repo by default and a named repo when asked', () => {
    expect(planModelSource(base)).toMatchObject({
      kind: 'hub',
      repo: 'onnx-community/Qwen3-0.6B-ONNX',
      endpoint: 'https://huggingface.co',
      cacheDir: '/cache',
      variant: 'model',
    });
    expect(planModelSource({ ...base, choice: 'someone/Other-ONNX' })).toMatchObject({ kind: 'hub', repo: 'someone/Other-ONNX', builtInDir: undefined });
    expect(planModelSource(base)).toMatchObject({ builtInDir: '/cache/built-in/tiny', revision: 'main' });
  });

  it('fetches the revision FREECHAT_MODEL_REVISION pins', () => {
    const model = loadInferenceConfig({ env: { FREECHAT_MODEL_REVISION: '4a1b2c3' } }).model;
    expect(planModelSource(model)).toMatchObject({ kind: 'hub', revision: '4a1b2c3' });
  });

  it('reads HF_ENDPOINT and derives the cache from XDG_CACHE_HOME', () => {
    const model = loadInferenceConfig({ env: { HF_ENDPOINT: 'http://mirror.local', XDG_CACHE_HOME: '/xdg' } }).model;
    expect(planModelSource(model)).toMatchObject({ endpoint: 'http://mirror.local', cacheDir: '/xdg/freechat/models' });
  });
});

describe('selectHubFiles', () => {
  const repo = [
    'README.md', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json',
    'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1', 'onnx/model_q4.onnx', 'onnx/model_q4.onnx_data',
  ];

  it('takes the variant graph with all its external data and nothing of other variants', () => {
    expect(selectHubFiles(repo, 'model')).toEqual([
      'config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json',
      'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1',
    ]);
    expect(selectHubFiles(repo, 'model_q4').slice(-2)).toEqual(['onnx/model_q4.onnx', 'onnx/model_q4.onnx_data']);
  });

  it('names what is missing and which variants exist', () => {
    expect(() => selectHubFiles(repo, 'model_fp16')).toThrow(/onnx\/model_fp16\.onnx.*model, model_q4/);
  });
});

describe('resolveModel', () => {
  let modelDir: string;
  let hub: FakeHub;

  beforeAll(async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'freechat-hub-src-'));
    modelDir = (await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'tiny') })).dir;
    hub = await startFakeHub(modelDir, { 'README.md': '# tiny', 'onnx/model_q4.onnx': 'not wanted' });
  });
  afterAll(() => hub?.close());

  it('downloads the model into the hub cache layout, and the files load', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'freechat-cache-'));
    const resolved = await resolveModel(hubPlan(hub.url, cacheDir), { logger });

    expect(resolved).toEqual({
      dir: path.join(cacheDir, 'models--test-org--Tiny-ONNX', 'snapshots', SHA),
      source: 'hub',
      id: REPO,
      variant: 'model',
    });
    for (const file of listFilesRecursive(modelDir)) {
      expect(readFileSync(path.join(resolved.dir, file)).equals(readFileSync(path.join(modelDir, file))), file).toBe(true);
    }
    expect(statSync(realpathSync(path.join(resolved.dir, 'onnx/model.onnx'))).isFile()).toBe(true);
    expect(readFileSync(path.join(cacheDir, 'models--test-org--Tiny-ONNX', 'refs', 'main'), 'utf8')).toBe(SHA);
    expect(hub.requests.filter((r) => r.includes('model_q4') || r.includes('README'))).toEqual([]);
    expect(hub.requests.filter((r) => r.includes('/tree/')).length).toBeGreaterThan(1);
    const files = await readModelFiles(resolved.dir);
    expect(files.builtIn).toBe(true);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(files.onnxPath);
    expect(session.outputNames[0]).toBe('logits');
    await session.release();
  });

  it('starts from the cached copy when the hub is unreachable later', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'freechat-cache-'));
    const first = await resolveModel(hubPlan(hub.url, cacheDir), { logger });
    const offline = await resolveModel(hubPlan(await refusedEndpoint(), cacheDir), { logger });
    expect(offline).toEqual(first);
  });

  it('fails instead of serving the built-in model when a named repo cannot be had', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'freechat-cache-'));
    const plan = { ...hubPlan(await refusedEndpoint(), cacheDir), builtInDir: undefined };
    await expect(resolveModel(plan, { logger })).rejects.toThrow();
  });

  it('falls back to the built-in model, loudly, when the endpoint refuses connections', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'freechat-cache-'));
    const lines: string[] = [];
    const capture = createLogger({ service: 'inference-test', level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const resolved = await resolveModel(hubPlan(await refusedEndpoint(), cacheDir), { logger: capture });
    expect(resolved).toEqual({ dir: path.join(cacheDir, 'built-in', 'tiny'), source: 'built-in', id: BUILT_IN_MODEL_ID, variant: 'model' });
    expect((await readModelFiles(resolved.dir)).builtIn).toBe(true);
    const warning = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).find((l) => /UNTRAINED/.test(l.msg));
    expect(warning?.level).toBe('warn');
    expect(warning?.msg).toContain('FREECHAT_MODEL_DIR');
  });
});
