// Conversations for API tests, made the way a person makes them: a question, its answer, and
// optionally the question answered again (a second branch).
import { jsonRequest, readSse, type TestUser } from './http.js';

/** Short answers: the tests look at the tree, not the text. */
export const SHORT = { maxNewTokens: 12, temperature: 1 } as const;

export interface Turn {
  readonly userMessageId: string;
  readonly assistantMessageId: string;
  readonly content: string;
}

async function ended(baseUrl: string, path: string, user: TestUser, body: unknown): Promise<Turn> {
  const result = await readSse(baseUrl, path, { method: 'POST', token: user.accessToken, body, timeoutMs: 60_000 });
  if (result.status !== 200) throw new Error(`${path}: ${result.status} ${result.comments.join(' ')}`);
  const started = result.events.find((e) => e.event === 'run')!.data;
  const done = result.events.at(-1)!;
  if (done.event !== 'done') throw new Error(`${path}: the run ended with ${done.event} ${JSON.stringify(done.data)}`);
  const content = result.events.filter((e) => e.event === 'content').map((e) => e.data.delta).join('');
  return { userMessageId: started.userMessageId, assistantMessageId: started.assistantMessageId, content };
}

export async function createSession(baseUrl: string, user: TestUser, title: string): Promise<string> {
  const created = await jsonRequest(baseUrl, '/api/sessions', { method: 'POST', token: user.accessToken, body: { title } });
  if (created.status !== 201) throw new Error(`create session: ${created.status}`);
  return created.body.id as string;
}

export const sendMessage = (baseUrl: string, user: TestUser, sessionId: string, content: string, seed = 1): Promise<Turn> =>
  ended(baseUrl, `/api/sessions/${sessionId}/messages`, user, { content, params: { ...SHORT, seed } });

export const regenerate = (baseUrl: string, user: TestUser, sessionId: string, seed = 2): Promise<Turn> =>
  ended(baseUrl, `/api/sessions/${sessionId}/regenerate`, user, { params: { ...SHORT, seed } });
