// Starts the planned processes, waits until each is ready, restarts one that exits on its own (as
// the restart plan says), and stops them in reverse order.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { checkGrpcHealth } from '@freechat/shared';
import type { ProcessSpec, Readiness } from './plan.js';
import { describeExit, planRestart, type ExitRecord, type RestartPolicy } from './restart-plan.js';

/** services/shared's process-signals: a service with it set shuts down when its IPC channel to us closes. */
const EXIT_WITH_PARENT_ENV = 'FREECHAT_EXIT_WITH_PARENT';

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitRecord>;
}

export interface SupervisorOptions {
  /** Per process: how long it may take to become ready (a first model download is slow). */
  readonly readyTimeoutMs: number;
  /** After SIGTERM, how long before SIGKILL. */
  readonly stopGraceMs: number;
  /** When and how often a process that exits on its own is restarted. */
  readonly restartPolicy: RestartPolicy;
  readonly log: (message: string) => void;
  readonly now?: () => number;
  /** How readiness checks reach gRPC services: with mTLS on, a client certificate from the same CA. */
  readonly grpcCredentials?: ChannelCredentials;
}

/** One planned process over its lifetime: the current child, its exits, a pending restart. */
interface Slot {
  readonly spec: ProcessSpec;
  current: RunningProcess | undefined;
  readonly exits: ExitRecord[];
  restartTimer: NodeJS.Timeout | undefined;
  givenUp: boolean;
}

export class Supervisor {
  private readonly slots: Slot[] = [];
  private stopping = false;
  private readonly now: () => number;

  constructor(private readonly options: SupervisorOptions) {
    this.now = options.now ?? Date.now;
    // Should the supervisor itself exit, take the services with it (SIGKILL of the supervisor is
    // covered by the services: they watch their IPC channel to it).
    process.once('exit', () => {
      for (const { current } of this.slots) if (current && isAlive(current.child)) current.child.kill('SIGKILL');
    });
  }

  /** Starts `spec` and waits until it is ready; throws if it exits first, times out, or its port is taken. */
  async start(spec: ProcessSpec): Promise<void> {
    await assertPortsFree([spec]);
    const slot: Slot = { spec, current: undefined, exits: [], restartTimer: undefined, givenUp: false };
    this.slots.push(slot);
    const running = this.spawn(slot);
    await this.waitReady(spec, running.child);
    this.options.log(`${spec.name} is ready`);
    // Restarts only once it was ready: a service that cannot start at all fails `make run` at once.
    void running.exited.then((exit) => this.onExit(slot, exit));
  }

  /** SIGTERM in reverse start order, each given its grace period, then SIGKILL. No restarts from here on. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
    for (const { spec, current } of [...this.slots].reverse()) {
      if (!current || !isAlive(current.child)) continue;
      current.child.kill('SIGTERM');
      const timedOut = await Promise.race([current.exited.then(() => false), sleep(this.options.stopGraceMs).then(() => true)]);
      if (timedOut) {
        this.options.log(`${spec.name} did not stop within ${this.options.stopGraceMs} ms; killing it`);
        current.child.kill('SIGKILL');
        await current.exited;
      }
    }
  }

  private spawn(slot: Slot): RunningProcess {
    const { spec } = slot;
    const child = spawn(process.execPath, ['--enable-source-maps', spec.entry], {
      env: { ...process.env, ...spec.env, [EXIT_WITH_PARENT_ENV]: '1' },
      // The IPC channel carries no messages: it closes when the supervisor dies, however it dies.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group: Ctrl-C reaches only the supervisor, which stops services in order.
      detached: true,
    });
    const exited = once(child, 'exit').then(([code, signal]) => ({ at: this.now(), code: code as number | null, signal: signal as string | null }));
    slot.current = { child, exited };
    this.options.log(`started ${spec.name} (pid ${child.pid})`);
    return slot.current;
  }

  private onExit(slot: Slot, exit: ExitRecord): void {
    if (this.stopping) return;
    const { spec } = slot;
    slot.exits.push(exit);
    const decision = planRestart(spec.name, slot.exits, exit.at, this.options.restartPolicy);
    if (decision.kind === 'give-up') {
      slot.givenUp = true;
      this.options.log(`giving up on ${decision.reason}`);
      return;
    }
    this.options.log(`${spec.name} exited unexpectedly (${describeExit(exit)}); restart ${decision.attempt} in ${decision.delayMs} ms`);
    slot.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      const running = this.spawn(slot);
      void running.exited.then((next) => this.onExit(slot, next));
      this.waitReady(spec, running.child).then(
        () => this.options.log(`${spec.name} is ready again`),
        () => {}, // its exit is reported by onExit
      );
    }, decision.delayMs);
  }

  /** Polls readiness while `child` lives: an answer from a process that outlived it is never taken for it. */
  private async waitReady(spec: ProcessSpec, child: ChildProcess): Promise<void> {
    const deadline = this.now() + this.options.readyTimeoutMs;
    for (;;) {
      const ready = await isReady(spec.readiness, this.options.grpcCredentials);
      if (!isAlive(child)) throw new Error(`${spec.name} exited (${child.signalCode ?? child.exitCode}) before it was ready`);
      if (ready) return;
      if (this.stopping) throw new Error(`stopping before ${spec.name} was ready`);
      if (this.now() > deadline) throw new Error(`${spec.name} was not ready within ${this.options.readyTimeoutMs} ms`);
      await sleep(250);
    }
  }
}

/**
 * Refuses, naming the process and the address, when a planned port is already taken: whatever
 * answers there is not ours, and readiness must not be read from it.
 */
export async function assertPortsFree(specs: readonly ProcessSpec[]): Promise<void> {
  for (const spec of specs) {
    const { host, port } = listenAddress(spec.readiness);
    const server = createServer();
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen({ host, port, exclusive: true }, () => resolve(undefined));
    });
    if (!error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      continue;
    }
    if (error.code === 'EADDRINUSE') {
      throw new Error(`${host}:${port} (${spec.name}) is already in use by another process; stop it (an earlier make run?) or choose another address`);
    }
    throw new Error(`cannot check ${host}:${port} (${spec.name}): ${error.message}`);
  }
}

function listenAddress(readiness: Readiness): { host: string; port: number } {
  const hostPort = readiness.kind === 'grpc' ? readiness.address : new URL(readiness.url).host;
  const colon = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(hostPort.slice(colon + 1)) };
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function isReady(readiness: Readiness, credentials: ChannelCredentials | undefined): Promise<boolean> {
  if (readiness.kind === 'grpc') return (await checkGrpcHealth(readiness.address, { timeoutMs: 1_000, ...(credentials && { credentials }) })) === 'SERVING';
  try {
    return (await fetch(readiness.url, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}
