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
