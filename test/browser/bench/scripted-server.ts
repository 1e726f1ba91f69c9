// The benchmark's fixture HTTP server: it sits in front of the real gateway (which serves the built
// UI and the real API) and answers only POST /api/sessions/:id/messages itself, with a scripted
// stream in the real event shape (`run`, one `content` per token, `done`), paced like a fast model.
// The tiny model's 4,096-token context cannot produce the 20,000-token answer the benchmark needs.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedServerOptions {
  /** Where everything else goes: the real gateway. */
  readonly upstream: string;
  readonly tokens: readonly string[];
  readonly tokensPerSecond: number;
}

export interface ScriptedServer {
  readonly url: string;
  /** For the streams started after the call. */
  setTokensPerSecond(rate: number): void;
  /** Resolves when the last scripted stream has written its `done` event. */
  lastStreamDone(): Promise<void>;
  close(): Promise<void>;
}

const MESSAGES_PATH = /^\/api\/sessions\/[0-9a-f-]{36}\/messages$/;
const TICK_MS = 10;

export async function startScriptedServer(options: ScriptedServerOptions): Promise<ScriptedServer> {
  const upstream = new URL(options.upstream);
  let done: Promise<void> = Promise.resolve();
  let tokensPerSecond = options.tokensPerSecond;

  const server = http.createServer((request, response) => {
    if (request.method === 'POST' && MESSAGES_PATH.test(request.url ?? '')) {
      request.resume();
      done = stream(response, options.tokens, tokensPerSecond);
      return;
    }
    const proxied = http.request(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: { ...request.headers, host: upstream.host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    proxied.on('error', () => response.destroy());
    request.pipe(proxied);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setTokensPerSecond: (rate) => {
      tokensPerSecond = rate;
    },
    lastStreamDone: () => done,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function stream(response: http.ServerResponse, tokens: readonly string[], tokensPerSecond: number): Promise<void> {
  const runId = randomUUID();
  const assistantMessageId = randomUUID();
  let seq = 0;
  const frame = (type: string, data: unknown): string => `id: ${runId}:${++seq}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  response.write(frame('run', { runId, userMessageId: randomUUID(), assistantMessageId }));

  const perTick = (tokensPerSecond * TICK_MS) / 1000;
  const started = Date.now();
  let sent = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      // Paced against the clock, so a late tick catches up instead of slowing the stream down.
      const due = Math.min(tokens.length, Math.floor(((Date.now() - started) / TICK_MS) * perTick));
      let chunk = '';
      for (; sent < due; sent++) chunk += frame('content', { delta: tokens[sent] });
      if (chunk) response.write(chunk);
      if (sent >= tokens.length) {
        clearInterval(timer);
        response.end(frame('done', { finishReason: 'length', usage: { promptTokens: 12, completionTokens: sent }, messageId: assistantMessageId }));
        resolve();
      }
    }, TICK_MS);
    response.on('close', () => {
      clearInterval(timer);
      resolve();
    });
  });
}
