// Reads a whole Server-Sent Events response into its events, as the end-to-end tests check them.

export interface SseEvent {
  readonly event: string;
  readonly data: any;
}

export async function readEvents(response: Response): Promise<SseEvent[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((frame) => /^event:/m.test(frame))
    .map((frame) => ({
      event: /^event: ?(.*)$/m.exec(frame)![1]!,
      data: JSON.parse(/^data: ?(.*)$/m.exec(frame)![1]!),
    }));
}
