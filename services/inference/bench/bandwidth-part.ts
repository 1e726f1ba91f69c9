// Memory copy bandwidth of this machine, one copier per core, counted as STREAM counts a copy
// (bytes read + bytes written). Decode at batch 1 reads every weight once per token, so
// copy bandwidth / weight bytes bounds single-stream tokens/s from above.
import os from 'node:os';
import { Worker } from 'node:worker_threads';

const copier = `
const { parentPort, workerData } = require('node:worker_threads');
const src = new Float64Array(workerData.bytes / 8).fill(1);
const dst = new Float64Array(workerData.bytes / 8);
dst.set(src);
parentPort.postMessage('ready');
parentPort.once('message', () => {
  const t0 = performance.now();
  for (let i = 0; i < workerData.repeats; i++) dst.set(src);
  parentPort.postMessage(performance.now() - t0);
});
`;

export async function measureCopyBandwidth(opts: { bytesPerWorker?: number; repeats?: number } = {}): Promise<{ gbPerSecond: number; workers: number }> {
  const bytes = opts.bytesPerWorker ?? 256 * 2 ** 20;
  const repeats = opts.repeats ?? 20;
  const workers = Math.max(1, os.availableParallelism());
  const pool = Array.from({ length: workers }, () => new Worker(copier, { eval: true, workerData: { bytes, repeats } }));
  await Promise.all(pool.map((w) => new Promise((resolve) => w.once('message', resolve))));
  const started = performance.now();
  const times = await Promise.all(
    pool.map((w) => {
      const result = new Promise<number>((resolve) => w.once('message', resolve));
      w.postMessage('go');
      return result;
    }),
  );
  const wallMs = Math.max(performance.now() - started, ...times);
  await Promise.all(pool.map((w) => w.terminate()));
  return { gbPerSecond: (2 * bytes * repeats * workers) / (wallMs / 1000) / 1e9, workers };
}
