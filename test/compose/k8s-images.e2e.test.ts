// The local images scripts/containers/k8s-images.sh builds for the operator's managed dependencies on
// a registry-less Kubernetes node, run the way operator/src/plan/dependencies.ts and pod-security.ts
// run them: as the image's uid and gid (postgres 999, redis 999, consul 100, rocketmq 3000), every
// capability dropped, no privilege escalation, the operator's exact command/args/env, and the data
// directory a fresh volume owned as a pod's fsGroup leaves it (root:GID, g+rwx, setgid). Then each
// container contract the operator relies on: PostgreSQL's password over TCP and pg_isready, Redis'
// ping and an append-only key outliving its container, Consul electing itself and registering a
// service, RocketMQ's name server + broker with its proxy and the init Job's mqadmin commands.
// Every container, volume and network is removed afterwards, failed or not. Skipped, saying why,
// only where no Docker engine can start.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { ensureEngine, run, stopEngine } from './stack.js';

const root = path.resolve(import.meta.dirname, '../..');
const engine = await ensureEngine();
if (!engine.available) console.warn(`k8s images test skipped: ${engine.reason}`);

const prefix = `freechat-k8simg-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
const created = { containers: new Set<string>(), volumes: new Set<string>(), networks: new Set<string>() };
let images: Record<'postgres' | 'redis' | 'consul' | 'rocketmq', string>;
let network: string;
let tmp: string;

/** `docker ARGS…` to its end: exit code, stdout alone, and stdout + stderr. */
function dockerRun(...args: string[]): Promise<{ code: number; stdout: string; output: string }> {
  return new Promise((resolve) => {
    execFile('docker', args, { cwd: root, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, output: stdout + stderr }));
  });
}

/** A TCP connection to HOST:PORT opens (kubelet's tcpSocket probe, from the node). */
function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** `docker ARGS…`'s stdout, trimmed (stderr carries the engine's warnings, e.g. "IPv4 forwarding is disabled"); throws on failure. */
function docker(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { cwd: root, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`docker ${args.join(' ')} failed (${error.code}):\n${(stdout + stderr).slice(-4000)}`));
      else resolve(stdout.trim());
    });
  });
}

/** A fresh named volume, owned as kubelet leaves a volume for fsGroup GID: root:GID, mode 2775. */
async function fsGroupVolume(name: string, gid: number): Promise<string> {
  const volume = `${prefix}-${name}`;
  created.volumes.add(volume);
  await docker('volume', 'create', volume);
  await docker('run', '--rm', '--network', 'none', '--user', '0:0', '-v', `${volume}:/v`, 'freechat-fixture/debian:bookworm', 'sh', '-c', `chown 0:${gid} /v && chmod 2775 /v`);
  return volume;
}

/** `docker run -d` as the operator's pod security context would (runAsUser = runAsGroup = fsGroup = uid). */
async function runAs(name: string, uid: number, options: string[], image: string, args: string[] = []): Promise<string> {
  const container = `${prefix}-${name}`;
  created.containers.add(container);
  await docker('run', '-d', '--name', container, '--network', network, '--user', `${uid}:${uid}`, '--group-add', String(uid),
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', ...options, image, ...args);
  return container;
}

async function remove(container: string): Promise<void> {
  await run('docker', ['rm', '-f', container]);
  created.containers.delete(container);
}

async function logs(container: string): Promise<string> {
  return (await run('docker', ['logs', '--tail', '60', container])).output;
}

const ip = async (container: string): Promise<string> => docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container);

describe.skipIf(!engine.available)('k8s-images.sh: the managed dependencies as the operator runs them (real engine)', () => {
  beforeAll(async () => {
    const built = await run(path.join(root, 'scripts/containers/k8s-images.sh'), []);
    if (built.code !== 0) throw new Error(`k8s-images.sh exited ${built.code}:\n${built.output.slice(-6000)}`);
    const tag = (name: string) => built.output.split('\n').find((line) => line.startsWith(`freechat-local/${name}:`))!;
    images = { postgres: tag('postgres'), redis: tag('redis'), consul: tag('consul'), rocketmq: tag('rocketmq') };
    tmp = await mkdtemp(path.join(os.tmpdir(), 'freechat-k8simg-'));
    network = `${prefix}-net`;
    created.networks.add(network);
    await docker('network', 'create', network);
  }, 20 * 60_000);

  afterAll(async () => {
    try {
      for (const container of created.containers) await run('docker', ['rm', '-f', '-v', container]);
      for (const volume of created.volumes) await run('docker', ['volume', 'rm', '-f', volume]);
      for (const net of created.networks) await run('docker', ['network', 'rm', net]);
      if (tmp) await rm(tmp, { recursive: true, force: true });
      const left = await run('docker', ['ps', '-aq', '--filter', `name=${prefix}`]);
      expect(left.output.trim(), 'containers left behind').toBe('');
    } finally {
      if (engine.available && engine.startedHere) await stopEngine();
    }
  }, 5 * 60_000);

  it('names the images honestly and runs them as the uids the operator sets, never as root', async () => {
    expect(images).toEqual({
      postgres: 'freechat-local/postgres:15',
      redis: 'freechat-local/redis:7.0',
      consul: expect.stringMatching(/^freechat-local\/consul:\d+\.\d+\.\d+$/),
      rocketmq: expect.stringMatching(/^freechat-local\/rocketmq:\d+\.\d+\.\d+$/),
    });
    const uids = { postgres: 999, redis: 999, consul: 100, rocketmq: 3000 } as const;
    for (const [name, uid] of Object.entries(uids)) {
      const [inspected] = JSON.parse(await docker('image', 'inspect', images[name as keyof typeof uids])) as [{ Config: { User: string; Labels: Record<string, string> } }];
      expect(inspected.Config.User, name).toBe(`${uid}:${uid}`);
      expect(inspected.Config.Labels['org.opencontainers.image.description'], name).toMatch(/^local image for the Kubernetes operator/);
      // The uid has a name in /etc/passwd (initdb and the JVM look it up) and a home.
      const who = await docker('run', '--rm', '--network', 'none', '--entrypoint', 'sh', images[name as keyof typeof uids], '-c', 'id -u; id -g; getent passwd "$(id -u)" | cut -d: -f1,6');
      expect(who.split('\n').slice(0, 2), name).toEqual([String(uid), String(uid)]);
      expect(who.split('\n')[2], name).toMatch(/^\w+:\//);
    }
  }, 120_000);

  it('postgres: initialises PGDATA in a fresh fsGroup volume, takes the password over TCP, refuses a wrong one, keeps data', async () => {
    const volume = await fsGroupVolume('pg', 999);
    const options = ['-e', 'POSTGRES_USER=freechat', '-e', 'POSTGRES_DB=freechat', '-e', 'POSTGRES_PASSWORD=s3cret-pw',
      '-e', 'PGDATA=/var/lib/postgresql/data/pgdata', '-v', `${volume}:/var/lib/postgresql/data`];
    let server = await runAs('postgres', 999, options, images.postgres);
    const ready = () => eventually('pg_isready', async () => {
      const probe = await run('docker', ['exec', server, 'pg_isready', '-U', 'freechat', '-d', 'freechat', '-h', '127.0.0.1']);
      if (probe.code === 0) return probe.output;
      throw new Error(`${probe.output} ${await logs(server)}`);
    }, { timeoutMs: 90_000, intervalMs: 500 });
    expect(await ready()).toContain('accepting connections');

    // A client in another container, over TCP by the server's name, with the password (scram).
    const psql = (password: string, sql: string) => dockerRun('run', '--rm', '--network', network, '--user', '999:999', '--cap-drop', 'ALL',
      '-e', `PGPASSWORD=${password}`, images.postgres, 'psql', '-h', server, '-U', 'freechat', '-d', 'freechat', '-tAc', sql);
    const ok = await psql('s3cret-pw', "CREATE TABLE kept(v text); INSERT INTO kept VALUES ('survives'); SELECT current_user || ' ' || current_database()");
    expect(ok.code, ok.output).toBe(0);
    expect(ok.output).toContain('freechat freechat');
    const wrong = await psql('wrong-pw', 'SELECT 1');
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toContain('password authentication failed for user "freechat"');
    const method = await docker('exec', server, 'sh', '-c', 'stat -c "%A %u" "$PGDATA"; grep -E "^host +all +all +all" "$PGDATA/pg_hba.conf"; id -u');
    expect(method).toMatch(/^drwx------ 999\b/);
    expect(method).toContain('scram-sha-256');

    // A new pod on the same volume: no second initdb, the row is there.
    await remove(server);
    server = await runAs('postgres', 999, options, images.postgres);
    await ready();
    const again = await psql('s3cret-pw', 'SELECT v FROM kept');
    expect(again.stdout.trim(), again.output).toBe('survives');
  }, 5 * 60_000);

  it('redis: answers PONG to the readiness probe, and an append-only key survives a new container', async () => {
    const volume = await fsGroupVolume('redis', 999);
    const start = () => runAs('redis', 999, ['-v', `${volume}:/data`], images.redis, ['--appendonly', 'yes', '--dir', '/data']);
    let server = await start();
    const ping = () => eventually('redis-cli ping', async () => {
      const probe = await run('docker', ['exec', server, 'redis-cli', 'ping']);
      if (probe.code === 0 && probe.output.trim() === 'PONG') return probe.output.trim();
      throw new Error(`${probe.output} ${await logs(server)}`);
    }, { timeoutMs: 30_000 });
    expect(await ping()).toBe('PONG');
    expect(await docker('exec', server, 'redis-cli', 'SET', 'k8s:key', 'kept')).toBe('OK');
    // From another container on the network (protected mode off, as the official image).
    const remote = await docker('run', '--rm', '--network', network, '--user', '999:999', images.redis, 'redis-cli', '-h', server, 'GET', 'k8s:key');
    expect(remote).toBe('kept');
    expect(await docker('exec', server, 'redis-cli', 'CONFIG', 'GET', 'appendonly')).toContain('yes');
    expect(await docker('exec', server, 'sh', '-c', 'ls /data/appendonlydir')).toMatch(/appendonly\.aof/);

    await docker('stop', server);
    await remove(server);
    server = await start();
    await ping();
    expect(await docker('exec', server, 'redis-cli', 'GET', 'k8s:key')).toBe('kept');
  }, 2 * 60_000);

  it('consul: a single server elects itself leader and a service registers', async () => {
    const volume = await fsGroupVolume('consul', 100);
    const server = await runAs('consul', 100, ['-v', `${volume}:/consul/data`], images.consul,
      ['agent', '-server', '-bootstrap-expect=1', '-client=0.0.0.0', '-bind=0.0.0.0', '-data-dir=/consul/data', '-log-level=warn']);
    const url = `http://${await ip(server)}:8500`;
    // The readiness probe: kubelet's HTTP GET from the node to the pod's address.
    const leader = await eventually('consul leader', async () => {
      const body = (await (await fetch(`${url}/v1/status/leader`)).json()) as string;
      if (body) return body;
      throw new Error(`no leader yet ${await logs(server)}`);
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(leader).toMatch(/^\d+\.\d+\.\d+\.\d+:8300$/);
    const registered = await fetch(`${url}/v1/agent/service/register`, {
      method: 'PUT',
      body: JSON.stringify({ ID: 'chat-1', Name: 'chat', Address: '10.0.0.7', Port: 50051, Tags: ['grpc'] }),
    });
    expect(registered.status, await registered.text()).toBe(200);
    const catalog = await eventually('chat in the catalog', async () => {
      const entries = (await (await fetch(`${url}/v1/catalog/service/chat`)).json()) as { ServiceID: string; ServicePort: number }[];
      return entries.length > 0 ? entries : undefined;
    });
    expect(catalog.map((e) => [e.ServiceID, e.ServicePort])).toEqual([['chat-1', 50051]]);
    // Raft and the catalog went to the volume, written as uid 100.
    expect(await docker('exec', server, 'sh', '-c', 'stat -c "%u %n" /consul/data/node-id /consul/data/raft')).toBe('100 /consul/data/node-id\n100 /consul/data/raft');
  }, 2 * 60_000);

  it('rocketmq: name server, broker with its proxy, and the init Job creating the FIFO topic and the orderly group', async () => {
    const namesrv = await runAs('rocketmq-namesrv', 3000,
      ['-v', `${await fsGroupVolume('rocketmq-logs', 3000)}:/home/rocketmq/logs`, '-e', 'JAVA_OPT_EXT=-Xms128m -Xmx256m', '--entrypoint', 'sh'],
      images.rocketmq, ['mqnamesrv']);
    const brokerName = `${prefix}-rocketmq-broker`;
    // The operator's broker.conf (a ConfigMap mounted read-only at /etc/rocketmq), with this broker's name.
    const conf = path.join(tmp, 'rocketmq');
    await rm(conf, { recursive: true, force: true });
    await mkdir(conf);
    await writeFile(path.join(conf, 'broker.conf'), [
      'brokerClusterName=DefaultCluster', 'brokerName=broker-a', 'brokerId=0', `brokerIP1=${brokerName}`,
      'storePathRootDir=/home/rocketmq/store', 'storePathCommitLog=/home/rocketmq/store/commitlog',
      'mappedFileSizeCommitLog=67108864', 'mappedFileSizeConsumeQueue=300000', 'diskMaxUsedSpaceRatio=95',
      'autoCreateTopicEnable=false', 'autoCreateSubscriptionGroup=false', ''].join('\n'));
    await chmod(conf, 0o755);
    await chmod(path.join(conf, 'broker.conf'), 0o644);
    const broker = await runAs('rocketmq-broker', 3000,
      ['-v', `${await fsGroupVolume('rocketmq-store', 3000)}:/home/rocketmq/store`, '-v', `${conf}:/etc/rocketmq:ro`,
        '-e', 'JAVA_OPT_EXT=-Xms256m -Xmx512m', '--entrypoint', 'sh'],
      images.rocketmq, ['mqbroker', '-n', `${namesrv}:9876`, '--enable-proxy', '-c', '/etc/rocketmq/broker.conf']);
    expect(broker).toBe(brokerName);

    // The init Job's script, retried as its backoff would until the broker accepts admin commands.
    // mqadmin prints a failed command's exception and still exits 0: success is read from its output.
    const script = [
      `sh mqadmin updateTopic -n ${namesrv}:9876 -b ${broker}:10911 -t freechat-events -r 4 -w 4 -a +message.type=FIFO`,
      `sh mqadmin updateSubGroup -n ${namesrv}:9876 -b ${broker}:10911 -g freechat-chat -o true`,
    ].join(' && ');
    const init = await eventually('the init Job succeeding', async () => {
      const job = await run('docker', ['run', '--rm', '--name', `${prefix}-rocketmq-init`, '--network', network, '--user', '3000:3000', '--cap-drop', 'ALL',
        '--security-opt', 'no-new-privileges', '-e', 'JAVA_OPT_EXT=-Xms64m -Xmx128m', '--entrypoint', 'sh', images.rocketmq, '-c', script]);
      if (job.code === 0 && /create topic to .*:10911 success/.test(job.output) && /create subscription group to .*:10911 success/.test(job.output)) return job.output;
      throw new Error(`${job.output.slice(-1500)}\nbroker: ${await logs(broker)}`);
    }, { timeoutMs: 4 * 60_000, intervalMs: 3000 });
    expect(init).toMatch(/create topic to .*:10911 success/);
    expect(init).toContain('+message.type=FIFO');
    expect(init).toMatch(/create subscription group to .*:10911 success/);
    expect(init).toMatch(/consumeMessageOrderly=true/);

    // The proxy's gRPC port (the broker's readiness probe) listens, and the topic is known by route.
    const brokerIp = await ip(broker);
    expect(await tcpOpen(brokerIp, 8081), 'proxy :8081').toBe(true);
    expect(await tcpOpen(await ip(namesrv), 9876), 'name server :9876').toBe(true);
    const route = await docker('exec', namesrv, 'sh', 'mqadmin', 'topicRoute', '-n', '127.0.0.1:9876', '-t', 'freechat-events');
    expect(route).toContain('broker-a');
    // The store went to the volume, written as uid 3000.
    expect(await docker('exec', broker, 'sh', '-c', 'stat -c %u /home/rocketmq/store/commitlog')).toBe('3000');
  }, 8 * 60_000);
});
