#!/usr/bin/env node
// Generates typed TypeScript (ts-proto, grpc-js services) from proto/ with buf: no protoc needed.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const protoDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'proto');
const bin = path.join(protoDir, '..', 'node_modules', '.bin');
const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
execFileSync('buf', ['lint'], { cwd: protoDir, env, stdio: 'inherit' });
execFileSync('buf', ['generate'], { cwd: protoDir, env, stdio: 'inherit' });
