// The envelope every domain event travels in, whichever bus carries it. Events of one session are
// ordered (the session id is the message group); consumers are idempotent by `id`.
export interface DomainEvent {
  /** A UUID, unique per event: consumers skip one they have already applied. */
  readonly id: string;
  /** e.g. `session.created`, `run.completed`. */
  readonly type: string;
  readonly sessionId: string;
  readonly userId: string;
  /** ISO 8601, when the change it describes was committed. */
  readonly occurredAt: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

export function encodeEvent(event: DomainEvent): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

/** Pure: bytes off the wire → an event, or MalformedEventError naming what is wrong. */
export function decodeEvent(body: Buffer | string): DomainEvent {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    throw new MalformedEventError('not JSON');
  }
  if (typeof value !== 'object' || value === null) throw new MalformedEventError('not an object');
  const v = value as Record<string, unknown>;
  for (const key of ['id', 'type', 'sessionId', 'userId', 'occurredAt'] as const) {
    if (typeof v[key] !== 'string' || v[key] === '') throw new MalformedEventError(`${key} missing`);
  }
  if (typeof v['payload'] !== 'object' || v['payload'] === null || Array.isArray(v['payload'])) throw new MalformedEventError('payload missing');
  return {
    id: v['id'] as string,
    type: v['type'] as string,
    sessionId: v['sessionId'] as string,
    userId: v['userId'] as string,
    occurredAt: v['occurredAt'] as string,
    payload: v['payload'] as Record<string, unknown>,
  };
}
