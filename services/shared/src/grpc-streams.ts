// Server-streaming helpers shared by every service that streams.
import { once } from 'node:events';
import type { ServerWritableStream } from '@grpc/grpc-js';

/** Resolves when the transport takes more after `write` returned false, or when the client goes away. */
export async function drained(call: ServerWritableStream<unknown, unknown>): Promise<void> {
  const controller = new AbortController();
  await Promise.race([
    once(call, 'drain', { signal: controller.signal }),
    once(call, 'cancelled', { signal: controller.signal }),
    once(call, 'close', { signal: controller.signal }),
  ]).finally(() => controller.abort());
}

/**
 * AttachRun's initial metadata: chat sends `freechat-attach: live` as soon as it knows the reader is
 * attached to a run that may still produce events (and nothing when it will end the stream at once),
 * so the gateway opens its event stream without guessing from a timer.
 */
export const ATTACH_STATE_KEY = 'freechat-attach';
export const ATTACH_LIVE = 'live';
