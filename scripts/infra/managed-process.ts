// A server process a test suite or `make infra-up` starts: its output goes to a log file, readiness is
// polled, and it is stopped (SIGTERM, then SIGKILL) with its whole process group. Processes started
// for a test die with the test process even when it crashes.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StartProcessOptions {
  /** Names the process in errors. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  /** Outlive this process (`make infra-up`); otherwise it is killed when this process exits. */
  readonly keepAlive?: boolean;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (null after a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const SETPRIV = '/usr/bin/setpriv';
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) killGroup(child.pid, 'SIGKILL');
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function startProcess(options: StartProcessOptions): ManagedProcess {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    // Started for a test: also dies when this process is killed outright (SIGKILL, a crash, a
    // timeout's kill), when no 'exit' hook runs. setpriv (util-linux) sets the parent-death signal
    // and execs the command, so the pid stays the server's.
    const [command, args] =
      !options.keepAlive && existsSync(SETPRIV)
        ? [SETPRIV, ['--pdeathsig', 'SIGTERM', '--', options.command, ...options.args]]
        : [options.command, [...options.args]];
    child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', fd, fd],
      // Its own process group, so stopping it also stops what it forks (the JVMs' helpers).
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  if (options.keepAlive) {
    child.unref();
  } else {
    live.add(child);
    installExitHook();
    void exited.then(() => live.delete(child));
  }
  const pid = child.pid;
  return {
    name: options.name,
    pid,
    logFile: options.logFile,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(pid, 'SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        killGroup(pid, 'SIGKILL');
        await exited;
      }
    },
  };
}

export interface WaitForOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Fail at once, with its log, if this process exits while we wait. */
  readonly process?: ManagedProcess;
}

/** Polls `check` until it returns true; the error names what was awaited and shows the log's tail. */
export async function waitFor(what: string, check: () => Promise<boolean>, options: WaitForOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let exitCode: number | null | undefined;
  void options.process?.exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) throw new Error(`${what}: the process exited (code ${exitCode})${logTail(options.process)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${options.timeoutMs} ms${logTail(options.process)}`);
    await sleep(options.intervalMs ?? 200);
  }
}

export function logTail(proc: ManagedProcess | undefined, lines = 30): string {
  if (!proc) return '';
  try {
    const text = readFileSync(proc.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `\n--- last lines of ${proc.logFile} ---\n${text}`;
  } catch {
    return '';
  }
}

/**
 * Whether a process with this pid exists (signal 0 only asks) and has not already exited: a zombie
 * (exited, not yet reaped, as when the `make infra-up` / `make k8s-up` that started it is gone and
 * pid 1 reaps slowly) counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): signal 0 is all we know
  }
}

/** Stops a process started by an earlier `make infra-up` (by pid file) and waits for it to go. */
export async function stopByPid(pid: number, graceMs = 15_000): Promise<void> {
  const alive = (): boolean => isAlive(pid);
  if (!alive()) return;
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await sleep(100);
  if (alive()) killGroup(pid, 'SIGKILL');
  while (alive()) await sleep(50);
}
