// Starts the planned processes, waits until each is ready, and stops them in reverse order.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkGrpcHealth } from '@freechat/shared';
import type { ProcessSpec, Readiness } from './plan.js';

export interface RunningProcess {
  readonly spec: ProcessSpec;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

export interface SupervisorOptions {
  /** Per process: how long it may take to become ready (a first model download is slow). */
  readonly readyTimeoutMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  readonly stopGraceMs: number;
  /** Called when a process exits while the stack is supposed to be up. */
  readonly onUnexpectedExit: (name: string, code: number | null) => void;
  readonly log: (message: string) => void;
}

export class Supervisor {
  private readonly running: RunningProcess[] = [];
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  async start(spec: ProcessSpec): Promise<void> {
    const child = spawn(process.execPath, ['--enable-source-maps', spec.entry], {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'inherit', 'inherit'],
      // Its own process group: Ctrl-C reaches only the supervisor, which stops services in order.
      detached: true,
    });
    // Should the supervisor itself die, take the services with it.
    process.once('exit', () => child.exitCode === null && child.kill('SIGKILL'));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    const entry = { spec, child, exited };
    this.running.push(entry);
    void exited.then((code) => {
      if (!this.stopping) this.options.onUnexpectedExit(spec.name, code);
    });
    const deadline = Date.now() + this.options.readyTimeoutMs;
    while (!(await isReady(spec.readiness))) {
      if (child.exitCode !== null) throw new Error(`${spec.name} exited with code ${child.exitCode} before it was ready`);
      if (Date.now() > deadline) throw new Error(`${spec.name} was not ready within ${this.options.readyTimeoutMs} ms`);
      await sleep(250);
    }
    this.options.log(`${spec.name} is ready`);
  }

  /** SIGTERM in reverse start order, each given its grace period, then SIGKILL. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const { spec, child, exited } of [...this.running].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(this.options.stopGraceMs).then(() => true)]);
      if (timedOut) {
        this.options.log(`${spec.name} did not stop within ${this.options.stopGraceMs} ms; killing it`);
        child.kill('SIGKILL');
        await exited;
      }
    }
  }
}

async function isReady(readiness: Readiness): Promise<boolean> {
  if (readiness.kind === 'grpc') return (await checkGrpcHealth(readiness.address, { timeoutMs: 1_000 })) === 'SERVING';
  try {
    return (await fetch(readiness.url, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}
