// Free Chat on a real single-node Kubernetes, the user's whole story with nothing simulated: the
// project's images built and imported (no registry), `helm install` of the chart, the sample
// FreeChat applied, a person chatting through `kubectl port-forward` (API and Chromium), inference
// scaled and one of its pods killed mid-answer, a config change rolled out under a chatting client,
// the PostgreSQL pod deleted, and uninstalling leaving nothing behind. Step times and the pods'
// memory go to docs/benchmarks/cluster.md. Runs from `make test-k8s-node` (root), as part of `make test`.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jsonRequest, readSse, registerUser, type SseEventRecord, type TestUser } from '../../services/gateway/test/support/http.js';
import { REPO_ROOT } from '../../scripts/infra/paths.js';
import { startNode, type K8sNode } from '../../scripts/k8s/node.js';
import { prepareNodeImages } from '../../scripts/k8s/node-images.js';
import { answerFinished, answers, launchBrowser, newPage, questions, send, setMaxTokens, signUp, SCREENSHOT_DIR, screenshot } from '../browser/support/app.js';
import { eventually } from '../support/eventually.js';
import { portForward, type PortForward } from './port-forward.js';

const enabled = process.env['FREECHAT_K8S_NODE_TEST'] === '1' && process.getuid?.() === 0;
if (process.env['FREECHAT_K8S_NODE_TEST'] === '1' && !enabled) console.warn('Free Chat on a real node: skipped, it needs root');
const NS = 'freechat';
const SYSTEM_NS = 'freechat-system';
const COMPONENTS = ['gateway', 'auth', 'chat', 'inference'] as const;
const SAMPLE = path.join(REPO_ROOT, 'k8s/samples/local-node.yaml');
const DATA_DIR = process.env['FREECHAT_DATA_DIR'] || path.join(REPO_ROOT, '.data');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Pod {
  metadata: { name: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string }[]; deletionTimestamp?: string };
  status: { phase: string; podIP?: string; conditions?: { type: string; status: string }[] };
}
const isReady = (pod: Pod): boolean => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const contentOf = (events: readonly SseEventRecord[]): string =>
  events.filter((e) => e.event === 'content').map((e) => e.data.delta as string).join('');

describe.skipIf(!enabled)('Free Chat on a real Kubernetes node', () => {
  let work = '';
  let node: K8sNode | undefined;
  let failed = false;
  const times: [string, string][] = [];
  const findings: string[] = [];
  const time = async <T>(step: string, action: () => Promise<T> | T): Promise<T> => {
    const began = Date.now();
    const result = await action();
    times.push([step, `${((Date.now() - began) / 1000).toFixed(1)} s`]);
    return result;
  };
  const kubectl = (...args: string[]): string => node!.kubectlRun(args);
  const json = <T>(...args: string[]): T => JSON.parse(kubectl(...args, '-o', 'json')) as T;
  /** The port the operator gave the gateway's Service. */
  const gatewayServicePort = (): number => Number(kubectl('get', 'service', '-n', NS, 'freechat-gateway', '-o', 'jsonpath={.spec.ports[0].port}'));
  const pods = (selector: string): Pod[] => json<{ items: Pod[] }>('get', 'pods', '-n', NS, '-l', selector).items;
  const running = (component: string): Pod[] =>
    pods(`app.kubernetes.io/component=${component}`).filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
  /** The chat schema's rows, read in the PostgreSQL pod itself. */
  const storedMessages = (sessionId: string): { role: string; status: string; content: string }[] => {
    const sql = `SELECT coalesce(json_agg(json_build_object('role', role, 'status', status, 'content', content) ORDER BY created_at), '[]') FROM chat.messages WHERE session_id = '${sessionId}'`;
    return JSON.parse(kubectl('exec', '-n', NS, 'freechat-postgres-0', '--', 'psql', '-U', 'freechat', '-d', 'freechat', '-Atc', sql));
  };
  const metric = async (pod: Pod, name: string): Promise<number> => {
    const text = await (await fetch(`http://${pod.status.podIP}:9464/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith(name))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  };

  // What the user of steps 3 to 6 wrote, to find again after the database pod's restart.
  let gateway: PortForward | undefined;
  let user: TestUser;
  /** Every conversation of the story (the database's content is compared across its restart); the user's own. */
  const conversations: string[] = [];
  const usersConversations: string[] = [];
  const chat = async (base: string, who: TestUser, sessionId: string, content: string, maxNewTokens = 12) =>
    readSse(base, `/api/sessions/${sessionId}/messages`, { method: 'POST', token: who.accessToken, body: { content, params: { maxNewTokens, temperature: 0 } }, timeoutMs: 120_000 });
  const newConversation = async (base: string, who: TestUser, title: string): Promise<string> => {
    const created = await jsonRequest(base, '/api/sessions', { method: 'POST', token: who.accessToken, body: { title } });
    expect(created.status).toBe(201);
    conversations.push(created.body.id);
    if (who === user) usersConversations.push(created.body.id);
    return created.body.id as string;
  };

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'freechat-on-node-'));
    const log = (m: string): void => void process.stderr.write(`[freechat-on-node] ${m}\n`);
    // Cold, this builds every image (minutes); warm, BuildKit and the archives' ids make it seconds.
    const images = await time('images: build (BuildKit cache) and save', () => prepareNodeImages(path.join(DATA_DIR, 'k8s-node-images'), log));
    node = await time('node start (control plane, kubelet, CoreDNS)', () => startNode({ stateDir: path.join(work, 'node'), log }));
    await time(`image import (${images.images.length} images)`, () => node!.importImages(images.archives));
  }, 60 * 60_000);

  beforeEach(({ onTestFailed }) => onTestFailed(() => void (failed = true)));

  afterAll(async () => {
    gateway?.close();
    try {
      if (node && failed) {
        // What the cluster looked like, for a failure's post-mortem.
        for (const args of [['get', 'fc,pods,deploy,sts,jobs', '-A', '-o', 'wide'], ['describe', 'fc', '-n', NS], ['logs', '-n', SYSTEM_NS, 'deploy/freechat-operator', '--tail=40']]) {
          try {
            console.log(`$ kubectl ${args.join(' ')}\n${kubectl(...args)}`);
          } catch (error) {
            console.log(String(error).slice(0, 1000));
          }
        }
      }
    } finally {
      const problems = node ? await node.stop() : [];
      if (work) rmSync(work, { recursive: true, force: true });
      if (problems.length) console.warn(`node teardown left: ${problems.join('; ')}`);
    }
  }, 5 * 60_000);

  it('1. helm install: the operator pod is Ready', async () => {
    await time('1. helm install → operator Ready', () =>
      execFileSync(node!.helm, ['--kubeconfig', node!.kubeconfig, 'install', 'freechat', path.join(REPO_ROOT, 'charts/freechat'), '-n', SYSTEM_NS, '--create-namespace', '--wait', '--timeout', '300s'], { stdio: 'pipe' }),
    );
    const [operator] = json<{ items: (Pod & { spec: { containers: { image: string }[] } })[] }>('get', 'pods', '-n', SYSTEM_NS, '-l', 'app.kubernetes.io/component=operator').items;
    expect(operator?.status.phase).toBe('Running');
    expect(isReady(operator!)).toBe(true);
    expect(operator!.spec.containers[0]!.image).toBe('freechat/operator:0.1.0');
  });

  it('2. kubectl apply the sample: the FreeChat turns Ready, every pod Running and Ready, every service healthy in Consul', async () => {
    kubectl('create', 'namespace', NS);
    await time('2. kubectl apply → FreeChat Ready', () => {
      kubectl('apply', '-n', NS, '-f', SAMPLE);
      kubectl('wait', '-n', NS, 'fc/freechat', '--for=condition=Ready', '--timeout=600s');
    });
    const all = json<{ items: Pod[] }>('get', 'pods', '-n', NS).items;
    const jobPods = all.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'Job'));
    expect(jobPods.map((p) => p.status.phase)).toEqual(jobPods.map(() => 'Succeeded'));
    const servers = all.filter((p) => !jobPods.includes(p));
    expect(servers.filter((p) => p.status.phase !== 'Running' || !isReady(p)).map((p) => p.metadata.name)).toEqual([]);
    // Two of each service but inference (the sample's defaults), five dependency StatefulSets.
    expect(servers).toHaveLength(2 + 2 + 2 + 1 + 5);

    const [consul] = pods('app.kubernetes.io/component=consul');
    for (const component of COMPONENTS) {
      const desired = component === 'inference' ? 1 : 2;
      const passing = await eventually(`${desired} ${component} passing in Consul`, async () => {
        const instances = (await (await fetch(`http://${consul!.status.podIP}:8500/v1/health/service/freechat-${NS}-freechat-${component}?passing=true`)).json()) as unknown[];
        return instances.length === desired ? instances : undefined;
      });
      expect(passing).toHaveLength(desired);
    }
    // At rest: what each pod uses, as the kubelet reports it (working set).
    await sleep(10_000);
    memory = podMemory(node!, kubectl);
  });
  let memory: { pod: string; mb: number }[] = [];

  it('3. through kubectl port-forward: register, log in, chat over SSE from the inference pod, stored in PostgreSQL; the UI in Chromium', async () => {
    const port = gatewayServicePort();
    gateway = await portForward(node!, 'service/freechat-gateway', port, NS);
    const [inference] = running('inference');
    const servedBefore = await metric(inference!, 'freechat_inference_requests_finished_total');

    user = await registerUser(gateway.url, 'cluster');
    const login = await jsonRequest(gateway.url, '/api/auth/login', { method: 'POST', body: { username: user.username, password: user.password } });
    expect(login.status).toBe(200);
    user.accessToken = login.body.accessToken;
    const sessionId = await newConversation(gateway.url, user, 'From the cluster');
    const { status, headers, events } = await time('3. first answer streamed through port-forward', () => chat(gateway!.url, user, sessionId, 'Hello from a real pod'));
    expect(status).toBe(200);
    expect(headers.get('content-type')).toContain('text/event-stream');
    expect(events[0]!.event).toBe('run');
    expect(events.at(-1)!.event).toBe('done');
    const answer = contentOf(events);
    expect(answer.length).toBeGreaterThan(0);
    expect(storedMessages(sessionId)).toEqual([
      { role: 'user', status: 'complete', content: 'Hello from a real pod' },
      { role: 'assistant', status: 'complete', content: answer },
    ]);
    expect(await metric(inference!, 'freechat_inference_requests_finished_total')).toBeGreaterThan(servedBefore);

    const browser = await launchBrowser();
    try {
      const page = await newPage(browser);
      await signUp(page, gateway.url);
      // A short answer: the question and the whole answer on one screen for the screenshot.
      await setMaxTokens(page, 40);
      await send(page, 'Hello from Chromium through the cluster');
      await answerFinished(page);
      expect(await questions(page).first().innerText()).toContain('Hello from Chromium through the cluster');
      expect((await answers(page).first().innerText()).trim().length).toBeGreaterThan(0);
      await screenshot(page, 'k8s-node-chat');
      mkdirSync(path.join(REPO_ROOT, 'docs/benchmarks'), { recursive: true });
      copyFileSync(path.join(SCREENSHOT_DIR, 'k8s-node-chat.png'), path.join(REPO_ROOT, 'docs/benchmarks/cluster-chat.png'));
    } finally {
      await browser.close();
    }
  });

  it('4. kubectl scale: a second inference pod serves requests through Consul; killing one mid-answer ends the stream clearly and keeps the partial answer', async () => {
    await time('4. kubectl scale → second inference pod Ready', async () => {
      kubectl('scale', '-n', NS, 'fc/freechat', '--replicas=2');
      await eventually('2 inference pods Ready', async () => (running('inference').filter(isReady).length === 2 ? true : undefined), { timeoutMs: 300_000 });
    });
    const inference = running('inference');
    const served = async (): Promise<number[]> => Promise.all(inference.map((p) => metric(p, 'freechat_inference_requests_finished_total')));
    const before = await served();
    const sessionId = await newConversation(gateway!.url, user, 'Two inference pods');
    // Chat balances by load over the instances Consul lists: sequential runs alternate.
    await eventually('both inference pods answered', async () => {
      const { events } = await chat(gateway!.url, user, sessionId, 'Which pod are you?', 4);
      expect(events.at(-1)!.event).toBe('done');
      const now = await served();
      return now.every((count, i) => count > before[i]!) ? now : undefined;
    }, { timeoutMs: 120_000 });

    const longId = await newConversation(gateway!.url, user, 'Cut short');
    let victim: string | undefined;
    const killed = readSse(gateway!.url, `/api/sessions/${longId}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Talk for as long as you can', params: { maxNewTokens: 2048, temperature: 1 } },
      timeoutMs: 120_000,
      until: (event, events) => {
        if (!victim && events.filter((e) => e.event === 'content').length === 5) {
          victim = 'pending';
          void (async () => {
            for (const pod of inference) if ((await metric(pod, 'freechat_inference_requests_running')) > 0) victim = pod.metadata.name;
            // SIGTERM, and SIGKILL a second later: the answer cannot finish in the drain.
            kubectl('delete', 'pod', '-n', NS, victim, '--grace-period=1', '--wait=false');
          })();
        }
        return false;
      },
    });
    const { events } = await killed;
    expect(victim).toMatch(/^freechat-inference-/);
    const end = events.at(-1)!;
    expect(end.event).toBe('error');
    expect(end.data.code).toMatch(/^inference_(unavailable|error)$/);
    const partial = contentOf(events);
    expect(partial.length).toBeGreaterThan(0);
    const stored = storedMessages(longId);
    expect(stored[1]).toEqual({ role: 'assistant', status: 'error', content: partial });
    findings.push(`Step 4: the inference pod killed mid-answer ended the stream with \`error\` (${end.data.code}) after ${events.filter((e) => e.event === 'content').length} content events; those ${partial.length} characters are stored (status error).`);
    const replaced = await eventually('the Deployment replaced the killed pod', async () => {
      const ready = running('inference').filter(isReady);
      return ready.length === 2 && ready.every((p) => p.metadata.name !== victim) ? ready : undefined;
    }, { timeoutMs: 300_000 });
    expect(replaced).toHaveLength(2);
  });

  it('5. a config change rolls every service while a client in the cluster keeps chatting, and no request fails', async () => {
    // The client runs in a pod and calls the gateway Service by its DNS name, through kube-proxy,
    // as in-cluster clients and an ingress do (a port-forward is pinned to one pod and ends with it).
    const results = (): ClientLine[] =>
      kubectl('logs', '-n', NS, 'rolling-client')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as ClientLine);
    const answered = (lines: readonly ClientLine[]): number => lines.filter((l) => l.status === 200 && l.last === 'done').length;
    const rounds = (lines: readonly ClientLine[]): ClientLine[] => lines.filter((l) => !l.sessions && l.resumed === undefined);
    const hashes = (): Record<string, string> =>
      Object.fromEntries(COMPONENTS.map((c) => [c, kubectl('get', 'deploy', '-n', NS, `freechat-${c}`, '-o', 'jsonpath={.spec.template.metadata.annotations.freechat\\.dev/config-hash}')]));
    const before = hashes();
    let after: Record<string, string> = {};
    let lines: ClientLine[] = [];
    let resumed = 0;
    node!.kubectlRun(['apply', '-n', NS, '-f', '-'], JSON.stringify(rollingClient()));
    try {
      const ready = await eventually('the client chatting', async () => (answered(results()) >= 2 ? results() : undefined), { timeoutMs: 120_000 });
      conversations.push(...ready.find((l) => l.sessions)!.sessions!);
      await time('5. config change → every service rolled (a client chatting)', async () => {
        kubectl('patch', 'fc', 'freechat', '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { observability: { logLevel: 'debug' } } }));
        after = await eventually('every pod template changed', async () => {
          const now = hashes();
          return COMPONENTS.every((c) => now[c] !== before[c]) ? now : undefined;
        });
        for (const component of COMPONENTS) kubectl('rollout', 'status', '-n', NS, `deploy/freechat-${component}`, '--timeout=600s');
        kubectl('wait', '-n', NS, 'fc/freechat', '--for=condition=Ready', '--timeout=300s');
      });
      // A few more answers from the new pods alone, then the client stops.
      const settled = answered(results());
      await eventually('answers from the new pods', async () => (answered(results()) >= settled + 3 ? true : undefined), { timeoutMs: 60_000 });
      lines = rounds(results());
      resumed = results().filter((l) => l.resumed !== undefined).length;
    } finally {
      kubectl('delete', 'pod', '-n', NS, 'rolling-client', '--grace-period=0', '--wait=false');
    }
    const failures = lines.filter((l) => l.status !== 200 || l.last !== 'done' || l.listed !== 200);
    expect(failures).toEqual([]);
    expect(answered(lines)).toBeGreaterThan(5);
    findings.push(`Step 5: the client in the cluster got ${answered(lines)} answers and as many conversation lists, before, during and after every Deployment rolled: none failed (${resumed} stream${resumed === 1 ? '' : 's'} resumed after a gateway ended it for shutdown, as the web UI does).`);
    for (const component of COMPONENTS) {
      expect(kubectl('get', 'configmap', '-n', NS, `freechat-${component}-config`, '-o', 'jsonpath={.data.FREECHAT_LOG_LEVEL}')).toBe('debug');
      // Every pod left runs the new configuration.
      expect(running(component).map((p) => p.metadata.annotations?.['freechat.dev/config-hash'])).toEqual(running(component).map(() => after[component]));
    }
  });

  it('6. the PostgreSQL pod deleted comes back from its volume with every conversation intact', async () => {
    // The gateway pods of step 3's forward are gone (step 5 replaced them): a new forward.
    gateway?.close();
    gateway = await portForward(node!, 'service/freechat-gateway', gatewayServicePort(), NS);
    const base = gateway.url;
    const before = Object.fromEntries(conversations.map((id) => [id, storedMessages(id)]));
    expect(Object.values(before).every((messages) => messages.length > 0)).toBe(true);
    const [old] = pods('app.kubernetes.io/component=postgres');
    await time('6. PostgreSQL pod deleted → back and Ready', async () => {
      kubectl('delete', 'pod', '-n', NS, 'freechat-postgres-0', '--wait=true');
      await eventually('a new PostgreSQL pod Ready', async () => {
        const [now] = pods('app.kubernetes.io/component=postgres');
        return now && now.metadata.uid !== old!.metadata.uid && isReady(now) ? now : undefined;
      }, { timeoutMs: 300_000 });
    });
    const after = Object.fromEntries(conversations.map((id) => [id, storedMessages(id)]));
    expect(after).toEqual(before);
    // And the services found the database again. While it was away, auth and chat reported
    // NOT_SERVING (their database watch) and Consul took them out: requests in that window get a
    // clear 503, as a person retrying would see, until Consul's next health check passes them.
    const listed = await time('6. … → logging in and listing conversations work again', async () => {
      // Every 3 s at most: logins are limited to 20 a minute per client address.
      const login = await eventually('logging in again', async () => {
        const response = await jsonRequest(base, '/api/auth/login', { method: 'POST', body: { username: user.username, password: user.password } });
        if (response.status !== 200) throw new Error(`login ${response.status} ${JSON.stringify(response.body)}`);
        return response;
      }, { timeoutMs: 60_000, intervalMs: 3_000 });
      user.accessToken = login.body.accessToken;
      return eventually('listing conversations again', async () => {
        const response = await jsonRequest(base, '/api/sessions', { token: user.accessToken });
        if (response.status !== 200) throw new Error(`list ${response.status} ${JSON.stringify(response.body)}`);
        return response;
      }, { timeoutMs: 60_000, intervalMs: 500 });
    });
    expect(listed.body.sessions.map((s: { id: string }) => s.id).sort()).toEqual([...usersConversations].sort());
    const { events } = await chat(base, user, usersConversations[0]!, 'Still there?');
    expect(events.at(-1)!.event).toBe('done');
    expect(storedMessages(usersConversations[0]!)).toHaveLength(before[usersConversations[0]!]!.length + 2);
  });

  it('7. deleting the FreeChat and helm uninstall leave no pods, services or stray objects', async () => {
    gateway?.close();
    gateway = undefined;
    await time('7. delete FreeChat + helm uninstall → nothing left', async () => {
      kubectl('delete', 'fc', 'freechat', '-n', NS, '--wait=true', '--timeout=300s');
      execFileSync(node!.helm, ['--kubeconfig', node!.kubeconfig, 'uninstall', 'freechat', '-n', SYSTEM_NS, '--wait', '--timeout', '300s'], { stdio: 'pipe' });
      await eventually('no pods left', async () => (kubectl('get', 'pods', '-n', NS, '-o', 'name') + kubectl('get', 'pods', '-n', SYSTEM_NS, '-o', 'name') === '' ? true : undefined), { timeoutMs: 300_000 });
    });
    const KINDS = 'deploy,sts,rs,svc,endpoints,cm,secret,job,pdb,hpa,networkpolicy,ingress,role,rolebinding,sa,lease';
    const left = (namespace: string): string[] =>
      kubectl('get', KINDS, '-n', namespace, '-o', 'name')
        .split('\n')
        .filter((line) => line && !['configmap/kube-root-ca.crt', 'serviceaccount/default'].includes(line));
    await eventually('the garbage collector finished', async () => (left(NS).length + left(SYSTEM_NS).length === 0 ? true : undefined), { timeoutMs: 120_000 }).catch(() => undefined);
    expect(left(NS)).toEqual([]);
    expect(left(SYSTEM_NS)).toEqual([]);
    expect(kubectl('get', 'clusterrole,clusterrolebinding', '-o', 'name').split('\n').filter((n) => n.includes('freechat'))).toEqual([]);
    // Kept on purpose, and said so in the README: the data volumes (a deleted FreeChat must not
    // take the conversations with it) and the CRD (helm never deletes CRDs).
    const claims = kubectl('get', 'pvc', '-n', NS, '-o', 'name').split('\n').filter(Boolean);
    expect(claims.sort()).toEqual(['consul', 'postgres', 'redis', 'rocketmq-broker', 'rocketmq-namesrv'].map((p) => `persistentvolumeclaim/data-freechat-${p}-0`));
    kubectl('delete', 'pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=freechat', '--wait=true');
    expect(kubectl('get', 'pvc', '-n', NS, '-o', 'name')).toBe('');
    expect(kubectl('get', 'fc', '-A', '-o', 'name')).toBe('');
    writeBenchmark(times, memory, findings);
  });
});

interface ClientLine {
  readonly i?: number;
  readonly status?: number;
  readonly last?: string;
  readonly listed?: number;
  readonly error?: string;
  readonly sessions?: string[];
  readonly resumed?: number;
}

/**
 * A pod that chats through the gateway Service for as long as it runs: two users (the per-user send
 * limit is 20 a minute) taking turns, a short answer and a conversation list every 1.6 s, one JSON
 * line per round (and one per resumed stream). The gateway image has Node.js.
 */
function rollingClient(): Record<string, unknown> {
  const script = `
const base = process.env.GATEWAY, sleep = (ms) => new Promise((r) => setTimeout(r, ms)), log = (o) => console.log(JSON.stringify(o));
const parse = (text) => text.split('\\n\\n').filter((f) => /^event:/m.test(f)).map((f) => ({ id: /^id: ?(.*)$/m.exec(f)?.[1], event: /^event: ?(.*)$/m.exec(f)[1], data: JSON.parse(/^data: ?(.*)$/m.exec(f)[1]) }));
const call = (path, token, body) => fetch(base + path, { method: body ? 'POST' : 'GET', headers: { 'content-type': 'application/json', ...(token && { authorization: 'Bearer ' + token }) }, ...(body && { body: JSON.stringify(body) }) });
(async () => {
  const users = [];
  for (let u = 0; u < 2; u++) {
    const { accessToken } = await (await call('/api/auth/register', undefined, { username: 'rolling_' + Date.now() + '_' + u, password: 'correct horse battery staple' })).json();
    const { id } = await (await call('/api/sessions', accessToken, { title: 'During the rollout' })).json();
    users.push({ token: accessToken, session: id });
  }
  log({ sessions: users.map((u) => u.session) });
  for (let i = 0; ; i++) {
    const began = Date.now(), u = users[i % 2];
    try {
      const sent = await call('/api/sessions/' + u.session + '/messages', u.token, { content: 'Message ' + i + ' during the rollout', params: { maxNewTokens: 6, temperature: 0 } });
      let frames = parse(await sent.text());
      // A gateway shutting down ends its event streams ("shutting down"): like the web UI, resume
      // the run from the last event id, through whichever gateway the Service picks now.
      for (let resumed = 0; resumed < 3 && frames.length && !['done', 'error'].includes(frames.at(-1).event); resumed++) {
        const runId = frames.find((f) => f.event === 'run').data.runId;
        const more = await fetch(base + '/api/runs/' + runId + '/events', { headers: { authorization: 'Bearer ' + u.token, 'last-event-id': frames.at(-1).id } });
        frames = [...frames, ...parse(await more.text())];
        log({ i, resumed: resumed + 1 });
      }
      const last = frames.at(-1)?.event;
      const listed = await call('/api/sessions', u.token);
      await listed.text();
      log({ i, status: sent.status, last, listed: listed.status, ms: Date.now() - began });
    } catch (error) {
      log({ i, error: String(error.cause ?? error) });
    }
    await sleep(Math.max(0, 1600 - (Date.now() - began)));
  }
})().catch((error) => { log({ error: String(error) }); process.exit(1); });`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'rolling-client', namespace: NS },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'client',
          image: 'freechat/gateway:0.1.0',
          imagePullPolicy: 'Never',
          command: ['node', '-e', script],
          env: [{ name: 'GATEWAY', value: `http://freechat-gateway.${NS}.svc` }],
          // The image's user is `node` (uid 1000): a name the kubelet cannot check for runAsNonRoot.
          securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
}

/** Each pod's working set at rest, from the kubelet's summary API, in MB. */
function podMemory(node: K8sNode, kubectl: (...args: string[]) => string): { pod: string; mb: number }[] {
  const summary = JSON.parse(kubectl('get', '--raw', `/api/v1/nodes/${node.nodeName}/proxy/stats/summary`)) as {
    pods: { podRef: { name: string; namespace: string }; memory?: { workingSetBytes?: number } }[];
  };
  return summary.pods
    .filter((p) => p.podRef.namespace === NS || p.podRef.namespace === SYSTEM_NS)
    .map((p) => ({ pod: p.podRef.name, mb: Math.round((p.memory?.workingSetBytes ?? 0) / 2 ** 20) }))
    .sort((a, b) => a.pod.localeCompare(b.pod));
}

function writeBenchmark(times: readonly [string, string][], memory: readonly { pod: string; mb: number }[], findings: readonly string[]): void {
  const total = memory.reduce((sum, p) => sum + p.mb, 0);
  const text = `# Free Chat on a real single-node Kubernetes

Written by \`make test-k8s-node\` (test/k8s-node/freechat.e2e.test.ts) on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores:
the chart installed with helm, k8s/samples/local-node.yaml applied, the story of issue 12 run
through real pods (kubelet, containerd, CNI bridge, kube-proxy, CoreDNS; scripts/k8s/node.ts).

| step | time |
| --- | --- |
${times.map(([step, took]) => `| ${step} | ${took} |`).join('\n')}

${findings.join('\n')}

Memory at rest, once the FreeChat is Ready (working set per pod, from the kubelet's summary API):
${total} MB in all.

| pod | MB |
| --- | --- |
${memory.map((p) => `| ${p.pod} | ${p.mb} |`).join('\n')}

The UI served from the cluster, through \`kubectl port-forward\` (step 3): cluster-chat.png.
`;
  writeFileSync(path.join(REPO_ROOT, 'docs/benchmarks/cluster.md'), text);
}
