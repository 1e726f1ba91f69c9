// Running a command to its end from the repository root, its stdout and stderr collected together:
// what the image builds, the node scripts and the container tests share.
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface CommandResult {
  readonly code: number;
  readonly output: string;
}

/** Never throws on a non-zero exit: the caller reads `code`. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, output }));
  });
}

/** Throws with the tail of the output when the command fails. */
export async function mustRun(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await run(command, args, env);
  if (result.code !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} exited ${result.code}:\n${result.output.slice(-6000)}`);
  return result.output;
}
