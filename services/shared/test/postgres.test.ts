// Embedded PostgreSQL (real binaries) and the migration runner.
import { chmod, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, orderMigrations, runMigrations, startEmbeddedPostgres, type RunningPostgres } from '../src/postgres/index.js';

let root: string;
let pg: RunningPostgres;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'freechat-pg-'));
  // As root, PostgreSQL runs as the postgres user, which must be able to walk down to its data.
  await chmod(root, 0o755);
  pg = await startEmbeddedPostgres({ dataDir: path.join(root, 'db') });
});
afterAll(async () => {
  await pg?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('migrations', () => {
  it('orders files and refuses gaps and bad names', () => {
    const file = (name: string) => ({ name, sql: '' });
    expect(orderMigrations([file('0002_b.sql'), file('0001_a.sql'), file('README.md')]).map((m) => m.name)).toEqual(['a', 'b']);
    expect(() => orderMigrations([file('0001_a.sql'), file('0003_c.sql')])).toThrow(/expected 2/);
    expect(() => orderMigrations([file('1_a.sql')])).toThrow(/NNNN_snake_case/);
  });

  it('applies each migration once, even when two replicas start together, and keeps data across restarts', async () => {
    const dir = path.join(root, 'migrations');
    await mkdir(dir);
    await writeFile(path.join(dir, '0001_notes.sql'), 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);');
    await writeFile(path.join(dir, '0002_seed.sql'), "INSERT INTO notes (body) VALUES ('kept');");
    const a = createPool({ url: pg.url, applicationName: 'a' });
    const b = createPool({ url: pg.url, applicationName: 'b' });
    const [ra, rb] = await Promise.all([runMigrations(a, { schema: 'demo', directory: dir }), runMigrations(b, { schema: 'demo', directory: dir })]);
    expect([...ra, ...rb].sort()).toEqual([1, 2]);
    expect(await runMigrations(a, { schema: 'demo', directory: dir })).toEqual([]);
    await Promise.all([a.end(), b.end()]);

    await pg.stop();
    pg = await startEmbeddedPostgres({ dataDir: path.join(root, 'db') });
    const c = createPool({ url: pg.url, applicationName: 'c' });
    const { rows } = await c.query('SELECT body FROM demo.notes');
    expect(rows).toEqual([{ body: 'kept' }]);
    await c.end();
  });

  it('rolls back a failing migration and names it', async () => {
    const dir = path.join(root, 'broken');
    await mkdir(dir);
    await writeFile(path.join(dir, '0001_ok.sql'), 'CREATE TABLE t (id int);');
    await writeFile(path.join(dir, '0002_bad.sql'), 'CREATE TABLE u (id int); SELECT no_such_function();');
    const pool = createPool({ url: pg.url, applicationName: 'broken' });
    await expect(runMigrations(pool, { schema: 'broken', directory: dir })).rejects.toThrow(/broken\/2_bad/);
    const { rows } = await pool.query("SELECT to_regclass('broken.u') AS u, to_regclass('broken.t') AS t");
    expect(rows[0]).toEqual({ u: null, t: 'broken.t' });
    await pool.end();
  });
});

describe('a password from a file (a mounted secret)', () => {
  it('connects with the file password over a URL without one, and refuses a wrong or missing file by its name', async () => {
    const url = new URL(pg.url);
    const password = decodeURIComponent(url.password);
    url.password = '';
    const file = path.join(root, 'db-password');
    await writeFile(file, `${password}\n`);
    const pool = createPool({ url: url.toString(), passwordFile: file, applicationName: 'secret-file' });
    expect((await pool.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]!.ok).toBe(1);
    await pool.end();

    await writeFile(file, 'not-the-password');
    const wrong = createPool({ url: pg.url, passwordFile: file, applicationName: 'secret-file' });
    await expect(wrong.query('SELECT 1')).rejects.toThrow(/password authentication failed/);
    await wrong.end();

    expect(() => createPool({ url: pg.url, passwordFile: path.join(root, 'absent'), applicationName: 'x' })).toThrow(/absent: ENOENT/);
  });
});
