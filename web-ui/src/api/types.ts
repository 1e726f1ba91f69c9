// The gateway's JSON shapes as the UI sees them: derived from openapi.gen.ts, which openapi-typescript
// generates from the gateway's OpenAPI document (`npm run api:types`), itself generated from the
// TypeBox schemas the gateway validates with (services/gateway/src/schemas.ts). Never written by hand.
import type { components, paths } from './openapi.gen';

type Schemas = components['schemas'];

/** The JSON body of an operation's response with `status`. */
export type ResponseJson<Path extends keyof paths, Method extends keyof paths[Path], Status extends number = 200> = paths[Path][Method] extends {
  readonly responses: { readonly [S in Status]: { content: { readonly 'application/json': infer Body } } };
}
  ? Body
  : never;

/** The JSON body an operation accepts. */
export type RequestJson<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends {
  readonly requestBody?: { readonly content: { readonly 'application/json': infer Body } };
}
  ? Body
  : never;

export type ApiErrorJson = Schemas['Error'];
export type User = Schemas['User'];
export type AuthResult = Schemas['AuthResult'];
export type Session = Schemas['Session'];
export type SessionPage = ResponseJson<'/api/sessions', 'get'>;
export type MessageStatus = Schemas['MessageStatus'];
export type FinishReason = Schemas['FinishReason'];
export type Usage = Schemas['Usage'];
export type DailyUsage = Schemas['DailyUsage'];
export type UsageReport = Schemas['UsageReport'];
export type Timings = Schemas['Timings'];
export type ServerMessage = Schemas['Message'];
export type MessagePage = ResponseJson<'/api/sessions/{id}/messages', 'get'>;
export type ModelInfo = Schemas['Model'];
export type ModelList = Schemas['Models'];

/** The `data:` of a run's Server-Sent Events (`run`; `reasoning` and `content`; `done`; `error`). */
export type RunStartedEvent = Schemas['RunStartedEvent'];
export type TextDeltaEvent = Schemas['TextDeltaEvent'];
export type RunDoneEvent = Schemas['RunDoneEvent'];
export type RunErrorEvent = Schemas['RunErrorEvent'];

type SendMessageJson = RequestJson<'/api/sessions/{id}/messages', 'post'>;
export type GenerationParams = NonNullable<SendMessageJson['params']>;
/** What the UI asks of the model with every send and regenerate (it always says both). */
export type GenerationRequest = Required<Pick<SendMessageJson, 'enableThinking' | 'params'>>;

/** GET/PATCH /api/me/settings: the person's settings, the same in every browser. */
export type UserSettings = ResponseJson<'/api/me/settings', 'get'>;
/** What PATCH /api/sessions/:id changes: any of these, the rest stays. */
export type SessionChanges = RequestJson<'/api/sessions/{id}', 'patch'>;
/** One conversation found by GET /api/search: its best match. */
export type SearchResult = ResponseJson<'/api/search', 'get'>['results'][number];
/** A read-only link to a conversation as it was when shared. */
export type ShareLink = ResponseJson<'/api/sessions/{id}/share', 'post', 201>;
/** What a share link shows: the branch as it was, no ids. */
export type SharedConversation = ResponseJson<'/api/shared/{token}', 'get'>;
export type ImportResult = ResponseJson<'/api/import', 'post', 201>;

/** A file to save: its content and the name the server gave it (not JSON: written here). */
export interface Download {
  readonly blob: Blob;
  readonly filename: string;
}
