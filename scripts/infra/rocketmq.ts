// A real RocketMQ 5 on loopback: the name server, and the proxy in local mode (the broker runs inside
// it), every port chosen free, all state under one directory. Topics and consumer groups are created
// before any client connects: a client that asks for a missing topic makes the proxy cache the miss
// for ~20 s, and a SimpleConsumer of a missing group never finishes starting.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@freechat/shared';
import { startProcess, waitFor, type ManagedProcess } from './managed-process.js';
import { INFRA_SCRIPTS } from './paths.js';

const run = promisify(execFile);

export interface RocketMQTopic {
  readonly name: string;
  /** FIFO: messages of one message group are delivered in order (to an orderly group). */
  readonly messageType: 'FIFO' | 'NORMAL';
}

export interface RocketMQGroup {
  readonly name: string;
  /** Consume one message group's messages one at a time, in order (needed for FIFO topics). */
  readonly orderly: boolean;
}

export interface StartRocketMQOptions {
  /** Configuration, store, logs and the servers' home directories. */
  readonly dataDir: string;
  readonly topics: readonly RocketMQTopic[];
  readonly groups: readonly RocketMQGroup[];
  /** Outlive this process (`make infra-up`). */
  readonly keepAlive?: boolean;
}

export interface RocketMQServer {
  /** `127.0.0.1:PORT`: the proxy's gRPC endpoint, what clients connect to. */
  readonly endpoints: string;
  /** `127.0.0.1:PORT` of the name server (admin tools). */
  readonly namesrvAddress: string;
  readonly namesrv: ManagedProcess;
  readonly proxy: ManagedProcess;
  /** Stops the proxy (and its broker); the store stays, so a restart keeps every message. */
  stopProxy(): Promise<void>;
  /** Starts the proxy again on the same ports and store, resolving once it serves. */
  startProxy(): Promise<void>;
  stop(): Promise<void>;
}

/** What Free Chat needs: chat's events topic (FIFO per session) and its orderly consumer group. */
export const FREECHAT_ROCKETMQ = {
  topics: [{ name: 'freechat-events', messageType: 'FIFO' }],
  groups: [{ name: 'freechat-chat', orderly: true }],
} as const satisfies Pick<StartRocketMQOptions, 'topics' | 'groups'>;

const CLUSTER = 'DefaultCluster';
const READY_LINE = 'rocketmq-proxy startup successfully';
// JVM cold start on a busy machine has been seen at 40 s; leave room.
const PROXY_START_TIMEOUT_MS = 120_000;

/** Fetches the RocketMQ jars if needed (Maven Central, cached by version); returns their directory. */
export function ensureRocketMQ(): string {
  return execFileSync(path.join(INFRA_SCRIPTS, 'ensure-rocketmq.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/**
 * The broker refuses every write ("service not available now ... the broker's disk is full") once
 * its disk is 90% used (its diskSpaceWarningLevelRatio, a JVM-wide default), whatever the store's
 * own limits: publishes then fail with a message that names no path. Said up front instead.
 */
export const BROKER_DISK_FULL_RATIO = 0.9;

/**
 * Why a broker with its store on this disk would refuse writes, or undefined when there is room.
 * Used is counted as the broker (and df) count it: used / (used + what an unprivileged writer may
 * still use), so blocks reserved for root count as neither.
 */
export function diskRoomProblem(disk: { readonly usedBytes: number; readonly availableBytes: number }, dir: string): string | undefined {
  const used = disk.usedBytes / (disk.usedBytes + disk.availableBytes);
  if (used < BROKER_DISK_FULL_RATIO - 0.02) return undefined;
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
  return `the disk holding ${dir} is ${Math.round(used * 100)}% used (${gib(disk.availableBytes)} GiB free): RocketMQ's broker refuses every write from ${BROKER_DISK_FULL_RATIO * 100}% used; free some space first`;
}

export async function startRocketMQ(options: StartRocketMQOptions): Promise<RocketMQServer> {
  const lib = ensureRocketMQ();
  const dir = path.resolve(options.dataDir);
  mkdirSync(path.join(dir, 'home'), { recursive: true });
  const fs = statfsSync(dir);
  const problem = diskRoomProblem({ usedBytes: (fs.blocks - fs.bfree) * fs.bsize, availableBytes: fs.bavail * fs.bsize }, dir);
  if (problem) throw new Error(problem);
  const namesrvPort = await freePort();
  const brokerPort = await freeBrokerPort();
  const grpcPort = await freePort();
  const remotingPort = await freePort();
  const namesrvAddress = `127.0.0.1:${namesrvPort}`;

  const files = {
    namesrv: path.join(dir, 'namesrv.conf'),
    broker: path.join(dir, 'broker.conf'),
    proxy: path.join(dir, 'rmq-proxy.json'),
  };
  writeFileSync(files.namesrv, `listenPort=${namesrvPort}\nbindAddress=127.0.0.1\n`);
  writeFileSync(
    files.broker,
    [
      `brokerClusterName=${CLUSTER}`,
      'brokerName=broker-a',
      'brokerId=0',
      'brokerIP1=127.0.0.1',
      'bindAddress=127.0.0.1',
      `namesrvAddr=${namesrvAddress}`,
      `listenPort=${brokerPort}`,
      `storePathRootDir=${path.join(dir, 'store')}`,
      `storePathCommitLog=${path.join(dir, 'store', 'commitlog')}`,
      // Small mapped files: the defaults (1 GB commit log) are absurd for a test broker.
      'mappedFileSizeCommitLog=67108864',
      'mappedFileSizeConsumeQueue=300000',
      'diskMaxUsedSpaceRatio=95',
      // Topics and groups are created explicitly, never by a typo.
      'autoCreateTopicEnable=false',
      'autoCreateSubscriptionGroup=false',
      '',
    ].join('\n'),
  );
  writeFileSync(
    files.proxy,
    JSON.stringify({ rocketMQClusterName: CLUSTER, namesrvAddr: namesrvAddress, grpcServerPort: grpcPort, remotingListenPort: remotingPort }),
  );

  const env = { ...process.env, ROCKETMQ_HOME: path.join(dir, 'home') };
  const jvm = (heap: string): string[] => [
    heap,
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '--add-opens=java.base/java.lang=ALL-UNNAMED',
    '--add-opens=java.base/java.nio=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
    '--add-exports=java.base/sun.nio.ch=ALL-UNNAMED',
    '--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED',
    // The servers write their logs (and the admin tool its state) under user.home.
    `-Duser.home=${path.join(dir, 'userhome')}`,
    '-cp',
    path.join(lib, '*'),
  ];
  const keepAlive = options.keepAlive !== undefined && { keepAlive: options.keepAlive };

  const namesrv = startProcess({
    name: 'rocketmq-namesrv',
    command: 'java',
    args: [...jvm('-Xmx256m'), 'org.apache.rocketmq.namesrv.NamesrvStartup', '-c', files.namesrv],
    env,
    cwd: dir,
    logFile: path.join(dir, 'namesrv.log'),
    ...keepAlive,
  });
  const launchProxy = async (): Promise<ManagedProcess> => {
    const logFile = path.join(dir, 'proxy.log');
    // The log is appended across restarts: only what this start writes counts.
    const from = fileSize(logFile);
    const proc = startProcess({
      name: 'rocketmq-proxy',
      command: 'java',
      args: [
        ...jvm('-Xmx512m'),
        '-XX:MaxDirectMemorySize=512m',
        'org.apache.rocketmq.proxy.ProxyStartup',
        '-pm',
        'local',
        '-bc',
        files.broker,
        '-pc',
        files.proxy,
        '-n',
        namesrvAddress,
      ],
      env,
      cwd: dir,
      logFile,
      ...keepAlive,
    });
    await waitFor('rocketmq proxy', async () => readFrom(logFile, from).includes(READY_LINE), {
      timeoutMs: PROXY_START_TIMEOUT_MS,
      intervalMs: 250,
      process: proc,
    });
    return proc;
  };

  /** Every topic has a route at the name server: clients can use it (the broker has registered). */
  const routable = async (proc: ManagedProcess): Promise<void> => {
    for (const topic of options.topics) {
      await waitFor(`rocketmq route of ${topic.name}`, async () => (await namesrvRequest(namesrvPort, GET_ROUTEINFO_BY_TOPIC, { topic: topic.name })).code === 0, {
        timeoutMs: 60_000,
        intervalMs: 500,
        process: proc,
      });
    }
  };

  let proxy: ManagedProcess | undefined;
  try {
    await waitFor(`rocketmq name server on ${namesrvAddress}`, () => listening(namesrvPort), { timeoutMs: 60_000, process: namesrv });
    proxy = await launchProxy();
    // The broker registers with the name server ~10 s after it starts; a topic created before that
    // is refused there ("register broker failed") and stays unroutable until the next registration.
    await waitFor('rocketmq broker registered', async () => (await namesrvRequest(namesrvPort, GET_BROKER_CLUSTER_INFO)).body.includes('broker-a'), {
      timeoutMs: 60_000,
      intervalMs: 500,
      process: proxy,
    });
    const brokerAddress = `127.0.0.1:${brokerPort}`;
    await createResources({ env, jvm: jvm('-Xmx128m'), dir, namesrvAddress, brokerAddress, topics: options.topics, groups: options.groups });
    await routable(proxy);
  } catch (error) {
    await proxy?.stop();
    await namesrv.stop();
    throw error;
  }

  // The JVMs take 10 s and more to honour SIGTERM; the store is memory-mapped, so SIGKILL after a
  // short grace loses nothing a restart needs.
  let current: ManagedProcess = proxy;
  return {
    endpoints: `127.0.0.1:${grpcPort}`,
    namesrvAddress,
    namesrv,
    get proxy() {
      return current;
    },
    stopProxy: () => current.stop(5_000),
    async startProxy() {
      await current.stop(5_000);
      current = await launchProxy();
      // The name server drops the old broker's route when its connection closes; clients get a
      // route again with the restarted broker's first registration (~10 s after it starts).
      await routable(current);
    },
    async stop() {
      await current.stop(5_000);
      await namesrv.stop(5_000);
    },
  };
}

/**
 * One admin JVM per topic and per group, all at once. Not the batch commands (updateTopicList):
 * they store the topics but leave them out of the name server until the broker's next periodic
 * registration (30 s), while updateTopic registers at once. Addressed to the broker itself: right
 * the cluster name is only known to the name server through the broker's registration.
 */
async function createResources(input: {
  env: NodeJS.ProcessEnv;
  jvm: string[];
  dir: string;
  namesrvAddress: string;
  brokerAddress: string;
  topics: readonly RocketMQTopic[];
  groups: readonly RocketMQGroup[];
}): Promise<void> {
  const { jvm, env, dir, namesrvAddress, brokerAddress } = input;
  const admin = async (args: string[]): Promise<void> => {
    const command = [...jvm, 'org.apache.rocketmq.tools.command.MQAdminStartup', args[0]!, '-n', namesrvAddress, '-b', brokerAddress, ...args.slice(1)];
    const { stdout, stderr } = await run('java', command, { env, cwd: dir, timeout: 120_000 });
    if (!/success/i.test(stdout)) throw new Error(`rocketmq ${args.join(' ')} failed:\n${stdout}\n${stderr}`);
  };
  await Promise.all([
    ...input.topics.map((t) => admin(['updateTopic', '-t', t.name, '-r', '4', '-w', '4', '-a', `+message.type=${t.messageType}`])),
    ...input.groups.map((g) => admin(['updateSubGroup', '-g', g.name, '-o', String(g.orderly)])),
  ]);
}

/**
 * The broker also listens on listenPort - 2 (its "fast" port) and listenPort + 1 (HA, on every
 * interface): a port whose neighbours are free too.
 */
async function freeBrokerPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port < 1026 || port > 65534) continue;
    if ((await canBind(port - 2)) && (await canBind(port + 1))) return port;
  }
  throw new Error('no free port block for the RocketMQ broker');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    // The HA port binds every interface: probe there.
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve(true)));
  });
}

const GET_ROUTEINFO_BY_TOPIC = 105;
const GET_BROKER_CLUSTER_INFO = 106;

/**
 * One request in RocketMQ's remoting protocol (JSON headers) to the name server: enough to ask
 * whether the broker and the topics are registered without starting an admin JVM each time.
 * Frame: total length, header length (serialisation type 0 = JSON in the high byte), header, body.
 */
function namesrvRequest(port: number, code: number, extFields: Record<string, string> = {}): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const header = Buffer.from(JSON.stringify({ code, extFields, flag: 0, language: 'JAVA', opaque: 1, serializeTypeCurrentRPC: 'JSON', version: 0 }));
    const frame = Buffer.alloc(8);
    frame.writeInt32BE(4 + header.length, 0);
    frame.writeInt32BE(header.length, 4);
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(3_000);
    let data = Buffer.alloc(0);
    socket.once('connect', () => socket.write(Buffer.concat([frame, header])));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 4 || data.length < 4 + data.readInt32BE(0)) return;
      socket.destroy();
      const headerLength = data.readInt32BE(4) & 0xffffff;
      const response = JSON.parse(data.subarray(8, 8 + headerLength).toString('utf8')) as { code: number };
      resolve({ code: response.code, body: data.subarray(8 + headerLength, 4 + data.readInt32BE(0)).toString('utf8') });
    });
    socket.once('error', reject);
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('name server did not answer'));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}
